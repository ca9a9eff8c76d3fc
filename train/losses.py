"""Multi-task loss: road BCE (+ Dice) with void masked, and ultralytics' detection loss.

A sample may carry a road mask, boxes, or both. The road loss ignores pixels
marked 255 (void, or the whole image when the sample has no road label); the
detection loss is computed only over the images that have box labels, so a
road-only image never teaches the detector that it contains no cars.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
import torch.nn as nn
import torch.nn.functional as F
from ultralytics.utils.loss import v8DetectionLoss

from core.errors import UserError
from nets.model import PerceptionNet

IGNORE = 255

# the terms a recipe's `loss:` section may weight, and their defaults (box/cls/dfl: ultralytics' YOLOv8 gains)
LOSS_WEIGHTS = {"road": 1.0, "road_aux": 0.4, "dice": 0.5, "det": 1.0, "box": 7.5, "cls": 0.5, "dfl": 1.5}


class _DetectLossView:
    """The three attributes v8DetectionLoss reads from an ultralytics model, taken from ours."""

    def __init__(self, net: PerceptionNet, box: float, cls: float, dfl: float, class_weights=None):
        self.args = SimpleNamespace(box=box, cls=cls, dfl=dfl)
        self.model = [net.detect]
        self._net = net
        self.class_weights = class_weights  # (nc,) factors on each class's score loss, or None

    def parameters(self):
        return self._net.parameters()


def road_loss(logits: torch.Tensor, target: torch.Tensor, dice_weight: float = 0.0) -> torch.Tensor:
    """Per-pixel sigmoid BCE over valid pixels (target 0/1; 255 ignored), optionally + soft Dice."""
    valid = target != IGNORE
    n_valid = valid.sum()
    if n_valid == 0:
        return logits.sum() * 0.0  # keeps the graph (DDP needs every parameter to get a gradient)
    t = target.float().clamp(max=1.0)
    bce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
    loss = (bce * valid).sum() / n_valid
    if dice_weight > 0:
        p = logits.sigmoid() * valid
        t = t * valid
        dims = (0, 2, 3)
        dice = 1 - (2 * (p * t).sum(dims) + 1) / (p.sum(dims) + t.sum(dims) + 1)
        loss = loss + dice_weight * dice.mean()
    return loss


def _select_images(preds: dict, targets: dict, keep: torch.Tensor) -> tuple[dict, dict]:
    """Keep only the images `keep` (bool, B) of raw Detect outputs and renumber their targets."""
    idx = keep.nonzero(as_tuple=True)[0]
    sub_preds = {"boxes": preds["boxes"][idx], "scores": preds["scores"][idx],
                 "feats": [f[idx] for f in preds["feats"]]}
    renumber = torch.cumsum(keep.long(), 0) - 1  # old image index -> new image index
    img = targets["batch_idx"].long()
    rows = keep[img]
    return sub_preds, {"batch_idx": renumber[img[rows]].float(), "cls": targets["cls"][rows],
                       "bboxes": targets["bboxes"][rows]}


def class_weight_vector(weights: dict | None, class_names: list[str]) -> torch.Tensor | None:
    """A recipe's `loss: {class_weights: {pedestrian: 1.5}}` → (nc,) factors on the class-score loss
    (ultralytics' v8DetectionLoss multiplies its per-class BCE by them); unnamed classes get 1."""
    if not weights:
        return None
    unknown = sorted(set(weights) - set(class_names))
    if unknown:
        raise UserError(f"training recipe: loss.class_weights names {unknown}, not classes of the model "
                         f"{class_names}")
    if any(not isinstance(v, (int, float)) or v <= 0 for v in weights.values()):
        raise UserError(f"training recipe: loss.class_weights must be positive numbers, got {weights}")
    return torch.tensor([float(weights.get(n, 1.0)) for n in class_names])


class MultiTaskLoss(nn.Module):
    """Weighted sum of road and detection losses; returns (total, dict of detached terms)."""

    def __init__(self, net: PerceptionNet, weights: dict):
        super().__init__()
        weights = dict(weights or {})
        class_weights = class_weight_vector(weights.pop("class_weights", None), list(net.cfg["classes"]))
        self.w = {**LOSS_WEIGHTS, **weights}
        self.det_loss = v8DetectionLoss(_DetectLossView(net, self.w["box"], self.w["cls"], self.w["dfl"],
                                                        class_weights))
        self.det_names = self.det_loss.loss_names  # box_loss, cls_loss, dfl_loss (l1_loss when reg_max == 1)

    def forward(self, out: dict, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        device = out["road"].device
        terms = {}
        road_t = batch["road"].to(device)
        terms["road"] = road_loss(out["road"], road_t, self.w["dice"]) * self.w["road"]
        if out.get("road_aux") is not None:
            terms["road_aux"] = road_loss(out["road_aux"], road_t) * self.w["road_aux"]
        has_boxes = batch["has_boxes"].to(device)
        if has_boxes.any():
            targets = {k: batch[k].to(device) for k in ("batch_idx", "cls", "bboxes")}
            preds, targets = _select_images(out["det"], targets, has_boxes)
            det_sum, det_items = self.det_loss(preds, targets)
            # v8DetectionLoss returns the sum times the batch size; per image keeps the LR independent of batch size
            det = det_sum.sum() / has_boxes.sum()
            terms.update({k: v.item() for k, v in det_items.items()})
        else:
            det = sum(v.sum() for v in out["det"].values() if torch.is_tensor(v)) * 0.0
        total = terms["road"] + terms.get("road_aux", 0.0) + self.w["det"] * det
        log = {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in terms.items()}
        log["det"] = float(det.detach())
        log["total"] = float(total.detach())
        return total, log
