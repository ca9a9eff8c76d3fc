#!/usr/bin/env python3
"""Road-mask stability on video: frame-to-frame IoU of the road mask, without and with smoothing.

    python -m benchmarks.road_mask_stability                       # the bundled clip and ../shared/data/video/*
    python -m benchmarks.road_mask_stability --camvid-root ../shared/data/camvid --json out/stability.json

The network runs once per frame; each variant of nets.road_stability.RoadStabilizer
(settings of configs/runtime.yaml road_smoothing, parts switched off) filters the same
stride-4 road map, and the mask the overlay draws (probability >= 0.5 at the frame's
size) is compared with the previous frame's:
  f2f IoU   mean (and 5th percentile) IoU of consecutive masks: 1 = no flicker. The
            camera moves, so a perfect mask does not reach 1 either; compare variants.
  ms        median time of the filter per frame (the cost added to post-processing)
  ego lane  on the Udacity clips (1280x720, one camera), the share of a polygon drawn by eye inside the
            ego lane, between its lines and above the bonnet, that the drawn mask covers (mean over frames,
            and the worst frame): holes in the lane ahead, which f2f IoU does not see when they persist
With --camvid-root, the CamVid val frames (one drive, 15 frames a second, in file
order) are also scored against their labels: road IoU per variant, so a steadier mask
that is less right shows.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.report import write_json_report

ROOT = Path(__file__).resolve().parent.parent
# Inside the ego lane in every frame of these clips (checked by eye on frames 0-37 of test_video and 0-75 of the
# sample clip: between the yellow line and the dashed white one, above the bonnet), so every pixel is road.
# x, y in 1280x720 frame pixels.
UDACITY_EGO_LANE = [(600, 500), (760, 500), (1000, 660), (360, 660)]
EGO_LANE_POLYGONS = {"test_video.mp4": UDACITY_EGO_LANE, "sample_clip.mp4": UDACITY_EGO_LANE,
                     "project_video_cut.mp4": UDACITY_EGO_LANE}


def polygon_mask(polygon, shape) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.array(polygon, np.int32)], 1)
    return mask.astype(bool)


def variants(cfg: dict) -> dict:
    from nets.road_stability import RoadStabilizer

    cfg = {k: v for k, v in cfg.items() if k != "enabled"}
    return {"none": None,
            "holes": lambda: RoadStabilizer(**{**cfg, "temporal": False}),
            "ema": lambda: RoadStabilizer(**{**cfg, "fill_holes": False}),
            "holes+ema": lambda: RoadStabilizer(**cfg)}


def raw_outputs(predictor, frames):
    """(stride-4 road map, boxes in network pixels, letterbox) per frame: the network runs once."""
    from nets.postprocess import detections_from_output
    from nets.preprocess import to_input_tensor

    for image in frames:
        batch, (lb,) = to_input_tensor([image], predictor.input_size, predictor.exposure)
        det, road = predictor.backend.infer(batch)
        yield road[0], detections_from_output(det, predictor.conf, predictor.iou)[0], lb, image


def score_stream(predictor, frames, cfg, labels=None, ego_lane=None) -> dict:
    """Per variant: f2f IoU of the drawn masks, filter ms, road IoU against `labels` (list, or None) and the
    covered share of the `ego_lane` polygon (or None)."""
    from nets.postprocess import road_to_original

    makers = variants(cfg)
    filters = {k: (m() if m else None) for k, m in makers.items()}
    prev = {k: None for k in makers}
    ious, ms = {k: [] for k in makers}, {k: [] for k in makers}
    counts = {k: np.zeros(3, np.int64) for k in makers}  # tp, fp, fn against labels
    lane_cover = {k: [] for k in makers}
    lane = None
    for n, (road, boxes, lb, _image) in enumerate(raw_outputs(predictor, frames)):
        for k, f in filters.items():
            t0 = time.perf_counter()
            smoothed = road if f is None else f(road, boxes, predictor.input_size)
            ms[k].append((time.perf_counter() - t0) * 1e3)
            mask = road_to_original(smoothed, lb)[0] >= 0.5
            if prev[k] is not None:
                inter, union = np.logical_and(mask, prev[k]).sum(), np.logical_or(mask, prev[k]).sum()
                ious[k].append(inter / union if union else 1.0)
            prev[k] = mask
            if ego_lane is not None:
                if lane is None:
                    lane = polygon_mask(ego_lane, mask.shape)
                lane_cover[k].append(float((mask & lane).sum() / lane.sum()))
            if labels is not None:
                gt = labels[n]
                valid = gt != 255
                counts[k] += [(mask & (gt == 1) & valid).sum(), (mask & (gt == 0) & valid).sum(),
                              (~mask & (gt == 1) & valid).sum()]
    out = {}
    for k in makers:
        v = np.array(ious[k])
        out[k] = {"f2f_iou_mean": round(float(v.mean()), 4), "f2f_iou_p5": round(float(np.percentile(v, 5)), 4),
                  "ms_median": round(float(np.median(ms[k])), 3)}
        if lane_cover[k]:
            out[k]["ego_lane_mean"] = round(float(np.mean(lane_cover[k])), 4)
            out[k]["ego_lane_min"] = round(float(np.min(lane_cover[k])), 4)
        if labels is not None:
            tp, fp, fn = counts[k]
            out[k]["road_iou"] = round(float(tp / max(tp + fp + fn, 1)), 4)
    return out


def video_frames(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    while True:
        ok, image = cap.read()
        if not ok:
            break
        yield image
    cap.release()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--backend", default="onnxruntime")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--clips", nargs="*",
                    help="videos (default: assets/sample_clip.mp4 and ../shared/data/video/*.mp4)")
    ap.add_argument("--camvid-root", type=Path, help="also score the CamVid val frames in order against their labels")
    ap.add_argument("--ema-alpha", type=float, help="over road_smoothing.ema_alpha of configs/runtime.yaml")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from app.frames import Thresholds, load_runtime_config
    from nets.predictor import load_predictor

    config = load_runtime_config()
    cfg = dict(config.get("road_smoothing") or {})
    if args.ema_alpha is not None:
        cfg["ema_alpha"] = args.ema_alpha
    th = Thresholds.from_config(config)
    predictor = load_predictor(args.weights, backend=args.backend, conf=th.conf, iou=th.iou, precision=args.precision)
    print(f"{predictor.description}; road_smoothing {cfg}")
    clips = args.clips
    if clips is None:
        clips = [str(ROOT / "assets/sample_clip.mp4")] + sorted(glob.glob(str(ROOT.parent / "shared/data/video/*.mp4")))
    report = {"model": predictor.description, "road_smoothing": cfg, "clips": {}}
    for clip in clips:
        report["clips"][clip] = r = score_stream(predictor, video_frames(clip), cfg,
                                                 ego_lane=EGO_LANE_POLYGONS.get(Path(clip).name))
        print(f"{Path(clip).name}:")
        for k, v in r.items():
            lane = (f"  ego lane {v['ego_lane_mean']:.4f} (worst {v['ego_lane_min']:.3f})"
                    if "ego_lane_mean" in v else "")
            print(f"  {k:<10} f2f IoU mean {v['f2f_iou_mean']:.4f}  p5 {v['f2f_iou_p5']:.4f}  "
                  f"filter {v['ms_median']:.2f} ms{lane}")
    if args.camvid_root:
        from train.datasets.base import read_class_ids

        images = sorted((args.camvid_root / "val").glob("*.png"))
        import cv2

        labels = []
        for p in images:
            ids = read_class_ids(args.camvid_root / "valannot" / p.name)
            labels.append(np.where(ids == 11, 255, (ids == 3).astype(np.uint8)))
        r = score_stream(predictor, (cv2.imread(str(p)) for p in images), cfg, labels)
        report["camvid_val_in_order"] = r
        print(f"CamVid val in order ({len(images)} frames):")
        for k, v in r.items():
            print(f"  {k:<10} road IoU {v['road_iou']:.4f}  f2f IoU mean {v['f2f_iou_mean']:.4f}  "
                  f"p5 {v['f2f_iou_p5']:.4f}  filter {v['ms_median']:.2f} ms")
    if args.json:
        write_json_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
