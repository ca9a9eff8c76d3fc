"""Evaluate any backend on a labelled dataset at the frames' own resolution.

Road: IoU at 0.5 and the KITTI-style threshold sweep (MaxF, its threshold,
precision and recall there) over valid pixels, counts summed over the split.
Detection: AP50 per class and mAP50 / mAP50-95 with ultralytics' matching.
"""

from __future__ import annotations

import time

import numpy as np
from tqdm import tqdm

from core.errors import BadInputError

from .metrics import KITTI_MODERATE_MIN_HEIGHT, DetectionScore, RoadScore

# the predictor settings every scored evaluation uses (run.py eval and the benchmarks that report like it):
# AP needs the whole ranked list, so boxes down to a score of 0.001, after NMS at IoU 0.6 (ultralytics' val)
SCORING_CONF, SCORING_IOU = 0.001, 0.6


def evaluate_dataset(predictor, dataset, show_progress: bool = True) -> dict:
    """Run `predictor` (nets.predictor.Predictor or alike) over `dataset` (train.datasets, unaugmented)."""
    if len(dataset) == 0:
        raise BadInputError(f"{getattr(dataset, 'name', 'dataset')} has no frames to evaluate")
    road, det = RoadScore(), DetectionScore(predictor.class_names)
    # the same boxes scored on objects at least KITTI-moderate tall (train.metrics)
    det_tall = DetectionScore(predictor.class_names, min_height=KITTI_MODERATE_MIN_HEIGHT)
    has_det = False
    infer_ms = []
    for i in tqdm(range(len(dataset)), desc="evaluate", unit="frame", disable=not show_progress):
        sample = dataset.load(i)
        t0 = time.perf_counter()
        result = predictor(sample.image)
        infer_ms.append((time.perf_counter() - t0) * 1e3)
        if sample.road is not None:
            road.update(result.road, sample.road[0])
        if sample.boxes is not None:
            has_det = True
            det.update(result.boxes, sample.boxes, sample.classes)
            det_tall.update(result.boxes, sample.boxes, sample.classes)
    return {
        "frames": len(dataset),
        "backend": predictor.backend_name,
        "boxes_derived_from_masks": bool(getattr(dataset, "boxes_are_derived", False)),
        "road": None if road.empty else road.compute(),
        "det": det.compute() if has_det else None,
        "det_tall": det_tall.compute() if has_det else None,
        "ms_per_frame": float(np.median(infer_ms)),
    }


def format_report(report: dict, title: str) -> str:
    lines = [f"{title}: {report['frames']} frames, backend {report['backend']}, "
             f"median {report['ms_per_frame']:.1f} ms/frame (pre+infer+post)"]
    r = report.get("road")
    if r:
        lines.append(f"  road   IoU@0.5 {r['IoU']:.4f}   MaxF {r['MaxF']:.4f} @ {r['BestThresh']:.3f}   "
                     f"PRE {r['PRE']:.4f}  REC {r['REC']:.4f}  AP {r['AP']:.4f}")
    d = report.get("det")
    if d:
        derived = "  (boxes derived from masks: approximate)" if report.get("boxes_derived_from_masks") else ""
        f1 = f"   best F1 at conf {d['F1_conf']:.2f}" if d.get("F1_conf") is not None else ""
        lines.append(f"  detect mAP50 {d['mAP50']:.4f}   mAP50-95 {d['mAP50-95']:.4f}{f1}{derived}")
        for name, c in d["per_class"].items():
            f1 = f"  best F1 {c['F1']:.3f} at conf {c['F1_conf']:.2f}" if "F1_conf" in c else ""
            lines.append(f"    {name:<11} AP50 {c['AP50']:.4f}  AP50-95 {c['AP50-95']:.4f}  "
                         f"({c['instances']} boxes){f1}")
    t = report.get("det_tall")
    if t:
        per_class = "  ".join(f"{name} {c['AP50']:.4f} ({c['instances']})" for name, c in t["per_class"].items())
        lines.append(f"  objects >= {t['min_height']:g} px tall (KITTI moderate height): mAP50 {t['mAP50']:.4f}   "
                     f"AP50 {per_class}")
    return "\n".join(lines)
