"""Command line of the KITTI Road benchmark: the kitti-road part of `eval`, and `submit-kitti`.

    python run.py eval --dataset kitti-road --root DATA_ROAD [--weights W | --predictions DIR]
                       [--split training] [--json FILE] [--plots DIR] [--save-predictions DIR] [--backend auto]
    python run.py submit-kitti --root DATA_ROAD [--weights W] --out DIR

`eval` is shared with other datasets, so this module gives its own options and its
part of the handler (`kitti_eval_options`, `run_kitti_road_eval`) rather than the
subcommand. The top level stays light: the evaluator, OpenCV and the model load
inside the handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import BadInputError

VIEW_CHOICES = {"both": ("bev", "perspective"), "bev": ("bev",), "perspective": ("perspective",)}


def kitti_eval_options() -> argparse.ArgumentParser:
    """The options only `eval --dataset kitti-road` reads, as an argparse parent parser (add_help=False).

    The options every dataset shares (--root, --split, --json, the model's) are `eval`'s own
    (train.cli, nets.cli_options); run_kitti_road_eval reads them from the same namespace.
    """
    parser = argparse.ArgumentParser(add_help=False)
    p = parser.add_argument_group("kitti-road")  # its own help section, after eval's options
    p.add_argument("--predictions", type=Path,
                   help="kitti-road: score existing 8-bit grey confidence maps named like the masks, without a model")
    p.add_argument("--plots", type=Path, help="write precision-recall plots (PNG) into this folder")
    p.add_argument("--save-predictions", type=Path,
                   help="kitti-road: write the model's perspective confidence maps (8-bit PNG, named like the masks)")
    p.add_argument("--views", choices=sorted(VIEW_CHOICES), default="both",
                   help="kitti-road: score the benchmark's BEV, the perspective view, or both (default); "
                        "perspective alone needs no calib files")
    return parser


def _load_predictor(args: argparse.Namespace):
    from nets.cli_options import apply_exposure_option
    from nets.predictor import load_predictor

    predictor = load_predictor(weights=getattr(args, "weights", None), backend=getattr(args, "backend", None) or "auto",
                               precision=getattr(args, "precision", None) or "auto")
    apply_exposure_option(predictor, args)
    reason = getattr(predictor, "choice_reason", "")
    if reason:
        print(f"backend: {reason}")
    return predictor


def _close(predictor) -> None:
    close = getattr(predictor, "close", None)
    if close is not None:
        close()


def run_kitti_road_eval(args: argparse.Namespace, predictor=None) -> int:
    """Handler of `eval --dataset kitti-road`; `predictor` replaces loading one from --weights (tests, the app)."""
    from train import kitti_road_eval as kre

    root = getattr(args, "root", None)
    if root is None:
        raise BadInputError("eval --dataset kitti-road needs --root DATA_ROAD "
                            "(the folder holding training/ and testing/)")
    predictions = getattr(args, "predictions", None)
    save_to = getattr(args, "save_predictions", None)
    if predictions is not None and getattr(args, "weights", None) is not None:
        raise BadInputError("give either --weights (run a model) or --predictions (score saved maps), not both")
    if predictions is not None and save_to is not None:
        raise BadInputError("--save-predictions needs a model run; with --predictions the maps are already saved")
    split = getattr(args, "split", None) or "training"
    views = VIEW_CHOICES[getattr(args, "views", None) or "both"]
    if save_to is not None:  # maps are named like the ground-truth masks: never into the dataset
        from core.output_paths import refuse_unsafe_outputs

        refuse_unsafe_outputs(folders={"--save-predictions": save_to}, inputs={"the dataset": root})

    if predictions is not None:
        report = kre.score_prediction_folder(root, predictions, split=split, views=views)
    else:
        own_predictor = predictor is None
        predictor = _load_predictor(args) if own_predictor else predictor
        try:
            report = kre.evaluate_predictor(root, predictor, split=split, views=views, save_predictions=save_to)
        finally:
            if own_predictor:
                _close(predictor)
        if save_to is not None:
            print(f"predictions: {save_to}")

    print(report.format_table())
    if getattr(args, "json", None) is not None:
        print(f"json: {kre.write_json(report, args.json)}")
    if getattr(args, "plots", None) is not None:
        for path in kre.plot_precision_recall(report, args.plots):
            print(f"plot: {path}")
    return 0


def cmd_submit_kitti(args: argparse.Namespace, predictor=None) -> int:
    """Handler of `submit-kitti`: BEV confidence maps of the testing split and their zip."""
    from train import kitti_road_eval as kre

    own_predictor = predictor is None
    predictor = _load_predictor(args) if own_predictor else predictor
    try:
        archive = kre.write_submission(args.root, predictor, args.out)
    finally:
        if own_predictor:
            _close(predictor)
    print(f"submission: {archive} (BEV maps in {args.out})")
    return 0


def add_kitti_commands(subparsers) -> None:
    """Add `submit-kitti`; the kitti-road part of `eval` is its parent parser kitti_eval_options()."""
    from nets.cli_options import backend_options, weights_options

    p = subparsers.add_parser("submit-kitti", help="write KITTI Road benchmark submission files (BEV PNGs + zip)",
                              parents=[weights_options(), backend_options()],
                              description="Run the model over the KITTI Road testing split and write BEV confidence "
                                          "maps in the benchmark's naming and size, and a zip to upload.")
    p.add_argument("--root", type=Path, required=True, help="KITTI Road data_road folder (holding testing/)")
    p.add_argument("--out", type=Path, required=True, help="output folder for the BEV PNGs and the zip")
    p.set_defaults(func=cmd_submit_kitti)
