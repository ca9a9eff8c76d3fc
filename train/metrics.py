"""Validation metrics accumulated over a split: road IoU / MaxF and detection mAP.

Detection matching and AP come from ultralytics (the same numbers its
validators report); the road scores follow the KITTI devkit's threshold sweep
(8-bit confidence, thresholds k/255, counts summed over the split).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from ultralytics.engine.validator import BaseValidator
from ultralytics.utils.metrics import ap_per_class, box_iou, smooth

from .kitti_road_eval import confidence_histograms, scores_from_histograms, to_confidence_bytes

IOU_THRESHOLDS = torch.linspace(0.5, 0.95, 10)
# KITTI's object benchmark scores its "moderate" level on boxes at least 25 px tall in its 375-px-high frames;
# CamVid's are 360 px high. Most of the far, tiny CamVid boxes (many of them fragments of a car cut by a pole:
# the boxes are derived from masks) fall under it, so the figure at this height says how near objects fare.
KITTI_MODERATE_MIN_HEIGHT = 25


class RoadScore:
    """Summed 8-bit confidence histograms of positive and negative valid pixels (the devkit's counting)."""

    def __init__(self):
        self.histograms = np.zeros((2, 256), dtype=np.int64)  # row 0 negatives, row 1 positives

    def update(self, prob: np.ndarray, target: np.ndarray) -> None:
        """prob (H, W) in [0, 1]; target (H, W) uint8 1 = road, 0 = not road, 255 = void."""
        self.histograms += confidence_histograms(to_confidence_bytes(prob), target == 1, target != 255)

    @property
    def empty(self) -> bool:
        return self.histograms[1].sum() == 0

    def compute(self) -> dict:
        scores = scores_from_histograms(self.histograms, "road validation").to_dict()
        # IoU at the deployed threshold 0.5 (byte >= 128), the figure segmentation papers report
        neg, pos = self.histograms
        tp, fn, fp = pos[128:].sum(), pos[:128].sum(), neg[128:].sum()
        scores["IoU"] = float(tp / max(tp + fp + fn, 1))
        return scores


class DetectionScore:
    """Per-class AP50 and mAP50-95 over a split, with ultralytics' matching and AP."""

    def __init__(self, class_names: list[str], min_height: float = 0.0):
        """min_height > 0 scores only objects at least that many pixels tall, the way KITTI's object benchmark
        leaves out boxes under 25 px (its "moderate" level) and COCO scores an area range: a shorter ground-truth
        box is ignored, and so is a prediction that matches no kept box but is shorter or matches an ignored one
        (neither a hit nor a false positive)."""
        self.class_names = list(class_names)
        self.min_height = float(min_height)
        self.stats = {"tp": [], "conf": [], "pred_cls": [], "target_cls": []}
        self._matcher = SimpleNamespace(iouv=IOU_THRESHOLDS)

    def update(self, pred: np.ndarray, gt_boxes: np.ndarray, gt_classes: np.ndarray) -> None:
        """pred (N, 6) x1,y1,x2,y2,score,class; gt_boxes (M, 4) xyxy; gt_classes (M,) — same pixel frame."""
        pred = torch.as_tensor(pred, dtype=torch.float32).reshape(-1, 6)
        gt = torch.as_tensor(gt_boxes, dtype=torch.float32).reshape(-1, 4)
        gcls = torch.as_tensor(gt_classes, dtype=torch.float32).reshape(-1)
        # one IoU matrix serves both the short-box rule and the matching
        iou = box_iou(gt, pred[:, :4]) if len(pred) and len(gt) else torch.zeros((len(gt), len(pred)))
        if self.min_height > 0:
            tall, kept = self._scored_boxes(pred, gt, gcls, iou)
            pred, gt, gcls, iou = pred[kept], gt[tall], gcls[tall], iou[tall][:, kept]
        tp = np.zeros((len(pred), len(IOU_THRESHOLDS)), dtype=bool)
        if len(pred) and len(gt):
            # match_predictions only reads self.iouv: reuse it rather than copy it
            tp = BaseValidator.match_predictions(self._matcher, pred[:, 5], gcls, iou).numpy()
        self.stats["tp"].append(tp)
        self.stats["conf"].append(pred[:, 4].numpy())
        self.stats["pred_cls"].append(pred[:, 5].numpy())
        self.stats["target_cls"].append(gcls.numpy())

    def _scored_boxes(self, pred: torch.Tensor, gt: torch.Tensor, gcls: torch.Tensor, iou: torch.Tensor):
        """(tall, kept): the ground-truth boxes and predictions a min_height score keeps (see __init__)."""
        tall = (gt[:, 3] - gt[:, 1]) >= self.min_height
        # (M, N): prediction n overlaps ground-truth box m of its own class at IoU >= 0.5
        hit = (iou >= 0.5) & (pred[:, 5][None, :] == gcls[:, None])
        hits_tall, hits_short = hit[tall].any(0), hit[~tall].any(0)
        ignored = ~hits_tall & (((pred[:, 3] - pred[:, 1]) < self.min_height) | hits_short)
        return tall, ~ignored

    def compute(self) -> dict:
        stats = {k: np.concatenate(v, 0) if v else np.zeros(0) for k, v in self.stats.items()}
        nc = len(self.class_names)
        best_conf = None
        per_class = {n: {"AP50": 0.0, "AP50-95": 0.0, "instances": int((stats["target_cls"] == i).sum())}
                     for i, n in enumerate(self.class_names)}
        if len(stats["tp"]) and len(stats["target_cls"]):
            out = ap_per_class(stats["tp"].reshape(-1, len(IOU_THRESHOLDS)), stats["conf"], stats["pred_cls"],
                               stats["target_cls"], names=dict(enumerate(self.class_names)))
            p, r, ap, classes, f1_curve, confs = out[2], out[3], out[5], out[6], out[9], out[10]
            # the same smoothed peak at which ap_per_class reads P and R off
            best_conf = float(confs[smooth(f1_curve.mean(0), 0.1).argmax()])
            for j, c in enumerate(classes.astype(int)):
                if c < nc:
                    # this class's own F1 peak: a per-class deployment threshold (configs/runtime.yaml class_conf)
                    f1 = smooth(f1_curve[j], 0.1)
                    per_class[self.class_names[c]].update(AP50=float(ap[j, 0]), **{"AP50-95": float(ap[j].mean())},
                                                          P=float(p[j]), R=float(r[j]),
                                                          F1=float(f1.max()), F1_conf=float(confs[f1.argmax()]))
        present = [v for v in per_class.values() if v["instances"] > 0]
        return {
            "F1_conf": best_conf,  # the score threshold of best mean F1 over classes (a deployment default)
            "mAP50": float(np.mean([v["AP50"] for v in present])) if present else 0.0,
            "mAP50-95": float(np.mean([v["AP50-95"] for v in present])) if present else 0.0,
            "per_class": per_class,
            **({"min_height": self.min_height} if self.min_height > 0 else {}),
        }
