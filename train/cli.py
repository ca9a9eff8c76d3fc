"""Subcommands of the training package: train, eval (camvid, kitti-road), submit-kitti."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nets.cli_options import (
    apply_exposure_option,
    backend_options,
    exposure_options,
    precision_options,
    weights_options,
)

from .cli_kitti import add_kitti_commands, kitti_eval_options

DATASETS = ("camvid", "kitti-road")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the multi-task network (torchrun for several processes)")
    p.add_argument("--config", default="configs/train/camvid_n.yaml", help="training recipe YAML")
    p.add_argument("--resume", action="store_true", help="continue from <out_dir>/last.pt")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--batch", type=int, help="override the recipe's batch size (per process)")
    p.add_argument("--workers", type=int, help="data loader processes per training process")
    p.add_argument("--out-dir", help="override the recipe's out_dir")
    p.add_argument("--exist-ok", action="store_true",
                   help="start a new run in an out_dir that holds one (its best.pt, results.csv are replaced); "
                        "without it that is refused")
    p.add_argument("--init-weights", help="start from these weights (same architecture): fine-tuning; "
                                          "overrides the recipe's init_weights, ignored with --resume")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (torchrun sets the rank's GPU)")
    p.add_argument("--holdout-sequences", metavar="SEQ[,SEQ]",
                   help="leave these driving sequences out: train on the others (of CamVid train+val), pick the "
                        "best epoch on these (e.g. 0001TP); overrides the recipe's holdout_sequences")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="score a model on CamVid (road + boxes) or KITTI Road (BEV benchmark)",
                       parents=[weights_options(), backend_options(), precision_options(), exposure_options(),
                                kitti_eval_options()])
    p.add_argument("--dataset", choices=DATASETS, required=True)
    p.add_argument("--root", type=Path, help="dataset root (camvid: the folder with train/ val/; "
                                             "kitti-road: data_road with training/ testing/)")
    p.add_argument("--split", default=None, help="camvid: train, val or test, or several: train,val (default val); "
                                                 "kitti-road: training (default)")
    p.add_argument("--sequences", metavar="SEQ[,SEQ]", help="camvid: only frames of these driving sequences "
                                                            "(file name prefix, e.g. 0001TP,0006R0)")
    p.add_argument("--exclude-sequences", metavar="SEQ[,SEQ]", help="camvid: leave these driving sequences out")
    p.add_argument("--data-config", default="configs/data/camvid.yaml", help="camvid: dataset config YAML")
    p.add_argument("--json", type=Path, help="write the scores as JSON")
    p.set_defaults(func=cmd_eval)

    add_kitti_commands(sub)


def cmd_train(args) -> int:
    from .engine import TrainingDiverged, load_train_config, train

    cfg = load_train_config(args.config, epochs=args.epochs, batch=args.batch, workers=args.workers,
                            out_dir=args.out_dir, init_weights=args.init_weights,
                            holdout_sequences=args.holdout_sequences)
    try:
        train(cfg, resume=args.resume, device=args.device, exist_ok=args.exist_ok)
    except TrainingDiverged as e:
        print(f"error: training diverged: {e}\nThe last good checkpoint is kept ({cfg.get('out_dir')}/last.pt); "
              "lower optimizer.lr or grad_clip in the recipe and run again with --resume.")
        return 3
    return 0


def cmd_eval(args) -> int:
    if args.dataset == "kitti-road":
        from .cli_kitti import run_kitti_road_eval

        if args.sequences or args.exclude_sequences:
            from core.errors import UserError

            raise UserError("--sequences/--exclude-sequences select CamVid drives; KITTI Road has none "
                            "(drop them, or use --dataset camvid)")

        return run_kitti_road_eval(args)
    return eval_camvid(args)


def eval_camvid(args) -> int:
    """The camvid part of cmd_eval: score, print, and write --json."""
    from nets.predictor import load_predictor

    from .camvid_eval import evaluate_camvid
    from .evaluate import SCORING_CONF, SCORING_IOU, format_report

    predictor = load_predictor(args.weights, backend=args.backend, conf=SCORING_CONF, iou=SCORING_IOU,
                               precision=args.precision)
    apply_exposure_option(predictor, args)
    print(f"backend: {predictor.choice_reason}; exposure normalisation: {describe_exposure(predictor.exposure)}")
    report = evaluate_camvid(predictor, args.data_config, root=args.root, split=args.split, sequences=args.sequences,
                             exclude_sequences=args.exclude_sequences)
    report.update(weights=str(args.weights or "bundled"), precision=args.precision,
                  exposure=describe_exposure(predictor.exposure))
    print(format_report(report, f"CamVid {report['split']}"))
    print(f"  frames per sequence: {report['sequences']}")
    if args.json:
        from core.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def describe_exposure(exposure) -> str:
    """How the scored frames were brightened (nets.preprocess.ExposureNorm or None), for the report."""
    if exposure is None:
        return "off"
    return f"target mean {exposure.target_mean:g}, gain {exposure.min_gain:g}-{exposure.max_gain:g}"
