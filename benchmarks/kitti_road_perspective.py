#!/usr/bin/env python3
"""Road scores in the camera's perspective on KITTI Road training frames: footage from another country and
camera that the CamVid-trained model never saw. No calib file needed (the BEV benchmark, `run.py eval
--dataset kitti-road`, needs one per frame); counts are summed over the frames with road masks.

    python -m benchmarks.kitti_road_perspective --root ../shared/data/kitti_road --json out/kitti_persp.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.report import write_json_report


def main(argv=None) -> int:
    from nets.cli_options import apply_exposure_option, exposure_options

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 parents=[exposure_options()])
    ap.add_argument("--root", type=Path, default=Path("../shared/data/kitti_road"))
    ap.add_argument("--weights", default=None)
    ap.add_argument("--precisions", nargs="+", default=["fp32", "int8cpu"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from nets.config import load_yaml
    from nets.predictor import load_predictor
    from train.datasets import build_dataset
    from train.evaluate import SCORING_CONF, SCORING_IOU, evaluate_dataset, format_report

    report = {}
    cfg = {**load_yaml("configs/data/kitti_road.yaml"), "root": str(args.root)}
    ds = None
    for precision in args.precisions:
        predictor = load_predictor(args.weights, backend="onnxruntime", conf=SCORING_CONF, iou=SCORING_IOU,
                                   precision=precision)
        apply_exposure_option(predictor, args)
        if ds is None:  # one weights file: every precision has the same input size and classes
            ds = build_dataset(cfg, "all", predictor.input_size, predictor.road_classes, predictor.class_names,
                               augment=False)
        r = evaluate_dataset(predictor, ds, show_progress=False)
        r.update(precision=precision, model=predictor.description, exposure=args.exposure,
                 frames_scored=[Path(f[0]).name for f in ds.frames])
        print(format_report(r, f"KITTI Road training, perspective ({precision})"))
        report[precision] = r
    if args.json:
        write_json_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
