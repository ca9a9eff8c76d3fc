"""Command-line options about the model and its backends, defined once for every command that takes them.

Each function returns a fresh argparse parent parser (add_help=False) to pass as
`sub.add_parser(..., parents=[...])`: `view`, `infer`, `bench` (app) and `eval`,
`submit-kitti` (train) share --weights, --backend, --precision, --device and the
thresholds here, so a flag means, defaults and reads the same everywhere. Here in
nets because app and train both may import nets (never each other). Light on
purpose: no torch, no numpy, so `run.py --help` stays instant.
"""

from __future__ import annotations

import argparse

from .backends import BACKENDS
from .config import PRECISIONS

WEIGHTS_HELP = "weights .pt/.onnx/.engine (default weights/perception_n.pt)"
BACKEND_HELP = "inference engine (auto: TensorRT, else ONNX Runtime, else PyTorch)"
PRECISION_HELP = ("which exported file a .pt runs as: auto = the INT8 CPU file (.int8cpu.onnx) for ONNX Runtime on "
                  "a CPU when it exists, else fp32; an .onnx/.engine file runs as it is")
DEVICE_HELP = "e.g. cpu or cuda:0 (default: the backend's choice)"


# help sections: argparse merges the groups of the same title that several parents bring into one
MODEL_GROUP = "model"
THRESHOLD_GROUP = "thresholds"


def _parent(title: str) -> tuple[argparse.ArgumentParser, argparse._ArgumentGroup]:
    """A parent parser and its one titled group: a command's help lists its own options first, then these."""
    parser = argparse.ArgumentParser(add_help=False)
    return parser, parser.add_argument_group(title)


def weights_options() -> argparse.ArgumentParser:
    """--weights: the file to run (None: nets.config.DEFAULT_WEIGHTS, resolved by load_predictor)."""
    parser, p = _parent(MODEL_GROUP)
    p.add_argument("--weights", help=WEIGHTS_HELP)
    return parser


def backend_options(help: str = BACKEND_HELP) -> argparse.ArgumentParser:
    """--backend, one of nets.backends.BACKENDS (default auto); `help` for a command that says more."""
    parser, p = _parent(MODEL_GROUP)
    p.add_argument("--backend", choices=BACKENDS, default="auto", help=help)
    return parser


def precision_options() -> argparse.ArgumentParser:
    """--precision: which exported sibling of a .pt runs (nets.predictor.resolve_precision)."""
    parser, p = _parent(MODEL_GROUP)
    p.add_argument("--precision", choices=PRECISIONS, default="auto", help=PRECISION_HELP)
    return parser


def device_options() -> argparse.ArgumentParser:
    """--device: None lets the backend choose."""
    parser, p = _parent(MODEL_GROUP)
    p.add_argument("--device", help=DEVICE_HELP)
    return parser


def exposure_options() -> argparse.ArgumentParser:
    """--exposure on|off: scoring commands (eval, the KITTI perspective benchmark) run the input exposure
    normalisation of configs/runtime.yaml as deployed, or switch it off to score frames as they come."""
    parser, p = _parent(MODEL_GROUP)
    p.add_argument("--exposure", choices=("on", "off"), default="on",
                   help="input brightness normalisation of configs/runtime.yaml `exposure`, as deployed "
                        "(default on); off scores the frames as they are")
    return parser


def apply_exposure_option(predictor, args: argparse.Namespace) -> None:
    """--exposure off: the predictor scores frames as they come. A command without the option (submit-kitti)
    keeps the normalisation as deployed."""
    if getattr(args, "exposure", "on") == "off":
        predictor.exposure = None


def predictor_options(backend_help: str = BACKEND_HELP, device: bool = True) -> argparse.ArgumentParser:
    """--weights, --backend, --precision and (device=True) --device: what nets.predictor.load_predictor takes."""
    parents = [weights_options(), backend_options(backend_help), precision_options()]
    return argparse.ArgumentParser(add_help=False, parents=parents + ([device_options()] if device else []))


def threshold_options() -> argparse.ArgumentParser:
    """--conf, --iou, --road-threshold; None keeps configs/runtime.yaml's (app.frames.Thresholds)."""
    parser, p = _parent(THRESHOLD_GROUP)
    p.add_argument("--conf", type=float, help="detection score threshold (default configs/runtime.yaml)")
    p.add_argument("--iou", type=float, help="NMS IoU threshold")
    p.add_argument("--road-threshold", type=float,
                   help="road probability from which a pixel is road (default configs/runtime.yaml)")
    return parser
