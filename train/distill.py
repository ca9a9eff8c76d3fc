"""Knowledge distillation: the averaged road probabilities and class scores of trained teachers as soft targets.

A recipe's `distill:` section (issue 11, item 3):

    distill:
      teachers: [runs/a/last.pt, runs/b/last.pt]   # weights of the student's classes, any scale; averaged
      road: 1.0      # weight of BCE(student road logits, mean teacher road probability), over every pixel
      cls: 0.5       # weight of BCE(student class logits, mean teacher class scores), over every anchor

The teachers see the same augmented batch as the student, in eval mode and without gradients. Their road
probabilities (stride 4) are resized to the student's full-size logits; their class scores come per anchor,
in the anchor order the student's raw Detect output uses (both heads have strides 8, 16 and 32). Boxes are
not distilled: the hard labels teach them. Where there is no label (void pixels) the teachers still give
a target.

The class term is summed over anchors and divided by the teachers' summed scores (a soft count of
objects), the normalisation ultralytics' own class loss uses with its target scores, so `cls` is on the
scale of `loss.cls`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from core.config import ConfigError, check_keys

DISTILL_KEYS = ("teachers", "road", "cls")


class Distiller(nn.Module):
    """Soft-target losses from frozen teachers; forward(student_out, images) → (weighted sum, log terms)."""

    def __init__(self, teachers: list[nn.Module], road: float = 1.0, cls: float = 0.5):
        super().__init__()
        if not teachers:
            raise ConfigError("distill: 'teachers' needs at least one weights file")
        self.teachers = nn.ModuleList(teachers).eval().requires_grad_(False)
        self.w_road, self.w_cls = float(road), float(cls)

    def train(self, mode: bool = True) -> Distiller:
        return super().train(False)  # teachers stay in eval mode (BatchNorm running statistics) whatever the caller

    @torch.no_grad()
    def soft_targets(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(road probability (B, 1, h/4, w/4), class scores (B, nc, anchors)), averaged over the teachers."""
        road, scores = 0.0, 0.0
        for teacher in self.teachers:
            det, road_prob = teacher(images)  # eval forward: decoded (B, 4 + nc, A) with sigmoid scores
            road = road + road_prob.float()
            scores = scores + det[:, 4:].float()
        n = len(self.teachers)
        return road / n, scores / n

    def forward(self, out: dict, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        road_t, scores_t = self.soft_targets(images)
        student_road = out["road"].float()
        road_t = F.interpolate(road_t, size=student_road.shape[2:], mode="bilinear", align_corners=False)
        kd_road = F.binary_cross_entropy_with_logits(student_road, road_t.clamp(0, 1))
        student_scores = out["det"]["scores"].float()
        if student_scores.shape != scores_t.shape:
            raise ConfigError(f"distill: the teachers' class scores {tuple(scores_t.shape)} do not line up with the "
                              f"student's {tuple(student_scores.shape)}: teachers need the student's classes and "
                              "strides 8, 16, 32")
        kd_cls = (F.binary_cross_entropy_with_logits(student_scores, scores_t, reduction="sum")
                  / scores_t.sum().clamp(min=1.0))
        total = self.w_road * kd_road + self.w_cls * kd_cls
        return total, {"kd_road": float(kd_road.detach()), "kd_cls": float(kd_cls.detach())}


def build_distiller(section: dict | None, student_config: dict, device, resolve=Path) -> Distiller | None:
    """The Distiller a recipe's `distill:` section asks for (None: no section). Teachers load as untrusted
    files (nets.weights.load_model) and must detect the student's classes in the same order."""
    if not section:
        return None
    from nets.weights import load_model

    check_keys(section, DISTILL_KEYS, "training config: distill")
    paths = section.get("teachers")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise ConfigError("training config: distill needs 'teachers', a list of weights files")
    teachers = []
    for path in paths:
        teacher = load_model(resolve(path))
        for key in ("classes", "road_classes"):
            if list(teacher.cfg[key]) != list(student_config[key]):
                raise ConfigError(f"distill: teacher {path} has {key} {list(teacher.cfg[key])}, the student "
                                  f"{list(student_config[key])}: a teacher must have the student's, in order")
        teachers.append(teacher.to(device))
    distiller = Distiller(teachers, road=section.get("road", 1.0), cls=section.get("cls", 0.5))
    distiller.sources = [str(p) for p in paths]  # for the run's log
    return distiller
