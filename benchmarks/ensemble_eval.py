#!/usr/bin/env python3
"""Several models averaged, scored on CamVid drives: how good a set of distillation teachers is together.

    python -m benchmarks.ensemble_eval --sequences 0016E5 --weights a.onnx b.onnx c.onnx --json out.json

Each frame goes through every model (ONNX Runtime, the same pre-processing); their outputs are averaged
before the shared post-processing: road probabilities pixel by pixel, and per anchor the decoded boxes
and class scores (the models share the anchor grid). The report is `run.py eval`'s. Three n models cost
three times one, so an average is a teacher (train/distill.py), not something to deploy.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.report import write_json_report
from nets.backends.base import Backend


class AveragedBackend(Backend):
    """The mean of several backends' outputs; they must share input size and classes."""

    name = "average"

    def __init__(self, backends: list[Backend]):
        first = backends[0]
        for b in backends[1:]:
            if (b.input_size, b.class_names, b.road_classes) != (first.input_size, first.class_names,
                                                                  first.road_classes):
                raise ValueError(f"{b.description} differs from {first.description} in input size or classes")
        self.backends = backends
        self.input_size, self.class_names, self.road_classes = first.input_size, first.class_names, first.road_classes
        self.description = "average of " + ", ".join(b.description for b in backends)

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        outputs = [b.infer(batch) for b in self.backends]
        return np.mean([o[0] for o in outputs], axis=0), np.mean([o[1] for o in outputs], axis=0)

    def close(self) -> None:
        for b in self.backends:
            b.close()


def main(argv=None) -> int:
    from nets.cli_options import apply_exposure_option, exposure_options
    from nets.predictor import Predictor, load_predictor
    from train.camvid_eval import evaluate_camvid
    from train.evaluate import SCORING_CONF, SCORING_IOU, format_report

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[exposure_options()])
    p.add_argument("--weights", nargs="+", required=True, help="ONNX files (or .pt with ONNX siblings)")
    p.add_argument("--root", default="../shared/data/camvid")
    p.add_argument("--split", default="train,val")
    p.add_argument("--sequences", required=True, help="the held-out drive(s), e.g. 0016E5")
    p.add_argument("--json", help="write the report here")
    args = p.parse_args(argv)

    singles = [load_predictor(w, backend="onnxruntime", conf=SCORING_CONF, iou=SCORING_IOU) for w in args.weights]
    predictor = Predictor(AveragedBackend([s.backend for s in singles]), conf=SCORING_CONF, iou=SCORING_IOU)
    apply_exposure_option(predictor, args)
    try:
        report = evaluate_camvid(predictor, "configs/data/camvid.yaml", root=args.root, split=args.split,
                                 sequences=args.sequences)
    finally:
        predictor.close()
    report.update(weights=list(args.weights), exposure=args.exposure)
    print(format_report(report, "average of " + str(len(args.weights))))
    if args.json:
        write_json_report(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
