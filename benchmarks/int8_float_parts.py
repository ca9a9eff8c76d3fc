#!/usr/bin/env python3
"""Which part of the network, left float in the INT8 file, brings INT8's road mask back to FP32's?

    python -m benchmarks.int8_float_parts                     # shipped weights, the 11 KITTI frames
    python -m benchmarks.int8_float_parts --frames ../shared/data/camvid/val --target tensorrt --json out/parts.json

For each part (a set of nodes found by name prefix in the FP32 ONNX file, on top of what
nets.deploy.precision always keeps float) an INT8 file is written, calibrated as `run.py export`
does (the bundled clip, 64 frames, minmax), and its road mask (the Predictor's, at the deployed
threshold, no smoothing) is compared with the FP32 file's on every frame:
  pooled   summed intersections / summed unions over the frames
  worst    the lowest per-frame IoU
  ms       Predictor time per frame (pre + infer + post) on one frame, median of --runs: noisy,
           compare parts within one run
"none" is every conv quantized, the stem's first conv included (the files written before
2026-12-03); "stem" keeps that conv float, as the export now does. The accuracy figures are
deterministic for a given CPU; the INT8 CPU kernels' rounding differs between CPUs with and
without VNNI.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import write_json_report
from nets.config import PROJECT_ROOT  # importing nets also makes ultralytics offline

DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_FRAMES = DATA / "kitti_road" / "training" / "image_2"
# name prefixes of PerceptionNet's ONNX nodes (nets/model.py module names)
PARTS = {
    "none": (),
    "stem": ("/encoder/stem/",),
    "stage2": ("/encoder/stage2/",),
    "stage3": ("/encoder/stage3/",),
    "stage4": ("/encoder/stage4/",),
    "stage5": ("/encoder/stage5/",),
    "neck": ("/neck/",),
    "road_decoder": ("/road/",),
}


def frame_agreement(ref_masks: list[np.ndarray], masks: list[np.ndarray]) -> dict:
    """Pooled and worst per-frame IoU of two lists of boolean masks."""
    inter = np.array([(a & b).sum() for a, b in zip(ref_masks, masks, strict=True)], dtype=float)
    union = np.array([(a | b).sum() for a, b in zip(ref_masks, masks, strict=True)], dtype=float)
    per = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return {"pooled": float(inter.sum() / max(union.sum(), 1)), "worst": float(per.min()),
            "per_frame": [round(float(v), 4) for v in per]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", type=Path, default=PROJECT_ROOT / "weights" / "perception_n.onnx", help="FP32 ONNX file")
    ap.add_argument("--frames", type=Path, default=DEFAULT_FRAMES, help="video or image folder to compare on")
    ap.add_argument("--max-frames", type=int, default=64)
    ap.add_argument("--calib-source", type=Path, default=None, help="default: the bundled clip, as run.py export")
    ap.add_argument("--target", choices=("cpu", "tensorrt"), default="cpu")
    ap.add_argument("--parts", nargs="+", choices=sorted(PARTS), default=list(PARTS))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from nets.config import SAMPLE_CLIP, default_thresholds
    from nets.deploy import precision as prec
    from nets.deploy.calibration_frames import calibration_batches, read_calibration_frames
    from nets.predictor import load_predictor

    threshold = default_thresholds()["road"]
    fp32 = prec.load_fp32_source(args.onnx)
    names = [n.name for n in fp32.graph.node]
    calib = args.calib_source or SAMPLE_CLIP
    batches = list(calibration_batches(read_calibration_frames(calib, prec.CALIB_FRAMES), prec.model_input_size(fp32)))
    frames = read_calibration_frames(args.frames, args.max_frames)
    ref = load_predictor(args.onnx, backend="onnxruntime")
    ref_masks = [ref(f).road_mask(threshold) for f in frames]

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.parts:
            float_nodes = [n for n in names if n.startswith(PARTS[part])]
            out = prec.quantize_int8_from_batches(fp32, Path(tmp) / f"{part}.onnx", batches, target=args.target,
                                                  exclude=float_nodes, first_conv_float=False)
            predictor = load_predictor(out, backend="onnxruntime")
            row = frame_agreement(ref_masks, [predictor(f).road_mask(threshold) for f in frames])
            for _ in range(3):
                predictor(frames[0])
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                predictor(frames[0])
                times.append((time.perf_counter() - t0) * 1e3)
            row.update(float_nodes=len(float_nodes), ms=float(np.median(times)))
            rows[part] = row
            print(f"{part:<13} float nodes {len(float_nodes):>3}  pooled {row['pooled']:.4f}  "
                  f"worst {row['worst']:.3f}  {row['ms']:.1f} ms", flush=True)
    report = {"onnx": str(args.onnx), "frames": str(args.frames), "n_frames": len(frames), "target": args.target,
              "calibration": f"{Path(calib).name}, {len(batches)} frames, minmax", "road_threshold": threshold,
              "parts": rows}
    if args.json:
        write_json_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
