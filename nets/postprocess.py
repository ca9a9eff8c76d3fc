"""Post-processing shared by every backend: NMS, and mapping back to the original frame.

Backends return raw network outputs as numpy arrays:
  det  (B, 4 + nc, A) float32 — box centre/size in network pixels, sigmoid class scores
  road (B, C, h, w)   float32 — road probabilities on a grid over the network input
                      (the stride-4 grid, h = H/4; older exports: the input size)
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision  # noqa: F401  (imported so ultralytics' NMS uses torchvision's fast kernel)
from ultralytics.utils.nms import non_max_suppression
from ultralytics.utils.ops import scale_boxes

from .preprocess import Letterbox


def detections_from_output(det: np.ndarray, conf: float, iou: float, max_det: int = 300,
                           agnostic: bool = False) -> list[np.ndarray]:
    """(B, 4+nc, A) raw detections → per image (N, 6) `x1,y1,x2,y2,score,class` in network pixels."""
    preds = non_max_suppression(torch.from_numpy(np.ascontiguousarray(det, dtype=np.float32)), conf_thres=conf,
                                iou_thres=iou, agnostic=agnostic, max_det=max_det)
    return [p.numpy() for p in preds]


def apply_class_conf(boxes: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Keep the (N, 6) boxes whose score reaches their own class's threshold (`thresholds[class]`)."""
    if len(boxes) == 0:
        return boxes
    return boxes[boxes[:, 4] >= thresholds[boxes[:, 5].astype(np.int64)]]


def boxes_to_original(boxes: np.ndarray, letterbox: Letterbox) -> np.ndarray:
    """Map (N, 6) network-pixel boxes back through the letterbox to original pixels (clipped)."""
    if len(boxes) == 0:
        return np.zeros((0, 6), dtype=np.float32)
    out = boxes.astype(np.float32, copy=True)
    scale_boxes(letterbox.dst_shape, out[:, :4], letterbox.src_shape, ratio_pad=letterbox.ratio_pad)
    return out


def road_to_original(road: np.ndarray, letterbox: Letterbox) -> np.ndarray:
    """(C, h, w) probabilities on the network grid (stride 4 or 1) → (C, h0, w0) at the original frame size."""
    return letterbox.unpad_map(np.ascontiguousarray(road, dtype=np.float32))
