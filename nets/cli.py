"""Subcommands of the network package: info, export (its work: nets.deploy.export)."""

from __future__ import annotations

import argparse
import json


def add_commands(sub: argparse._SubParsersAction) -> None:
    from .deploy.precision import CALIB_FRAMES  # numpy only: no ONNX or torch import for a parser

    p = sub.add_parser("info", help="parameters and GFLOPs of a model config or weights file")
    p.add_argument("--config", help="model YAML (default configs/model/perception_n.yaml)")
    p.add_argument("--weights", help="a .pt checkpoint instead of a config")
    p.add_argument("--imgsz", type=int, nargs=2, metavar=("H", "W"), help="input size (default: the config's)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("export", help="export weights to ONNX (fp32/fp16/int8) or a TensorRT engine")
    p.add_argument("--weights", help="checkpoint .pt (default weights/perception_n.pt)")
    p.add_argument("--format", choices=("onnx", "engine"), default="onnx")
    p.add_argument("--precision", choices=("fp32", "fp16", "int8"), default="fp32")
    p.add_argument("--imgsz", type=int, nargs=2, metavar=("H", "W"), help="fixed input size (default: the model's)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--out", help="output path (default: beside the weights, e.g. perception_n.int8.onnx)")
    p.add_argument("--calib-source", help="video file or image folder of real frames for INT8 calibration")
    p.add_argument("--calib-frames", type=int, default=CALIB_FRAMES,
                   help=f"frames used for INT8 calibration (default {CALIB_FRAMES})")
    p.add_argument("--int8-target", choices=("tensorrt", "cpu"), default="tensorrt",
                   help="int8 for TensorRT (symmetric, perception_n.int8.onnx) or for ONNX Runtime on a CPU "
                        "(asymmetric uint8 activations, faster there; perception_n.int8cpu.onnx)")
    p.add_argument("--calib-method", choices=("minmax", "percentile"), default="minmax",
                   help="INT8 activation range estimator (default minmax)")
    p.add_argument("--fp16-converter", choices=("auto", "modelopt", "onnxruntime"), default="auto",
                   help="FP16 conversion: ModelOpt AutoCast when installed (auto), else onnxruntime's float16")
    p.add_argument("--cache-dir", help="TensorRT engine cache (default ~/.cache/roadperception/engines, "
                                       "or $ROADPERCEPTION_ENGINE_CACHE)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the TensorRT engine even when cached")
    p.set_defaults(func=cmd_export)


def _model_from_args(args):
    from .config import load_model_config
    from .model import PerceptionNet
    from .weights import load_model

    if getattr(args, "weights", None):
        return load_model(args.weights)
    return PerceptionNet(load_model_config(args.config))


def cmd_info(args) -> int:
    from .info import describe

    model = _model_from_args(args)
    info = describe(model, tuple(args.imgsz) if args.imgsz else None)
    h, w = info["input_size"]
    print(f"{info['name']} (scale {info['scale']}): {info['params'] / 1e6:.2f} M parameters "
          f"({info['params_inference'] / 1e6:.2f} M at inference), {info['gflops']:.2f} GFLOPs at {h}x{w} (HxW)")
    print(f"classes: {', '.join(info['classes'])}; road channels: {', '.join(info['road_classes'])}")
    if args.json:
        from core.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(info, indent=2))
    return 0


def cmd_export(args) -> int:
    """ONNX at fp32/fp16/int8 beside the weights, or a cached TensorRT engine built from the matching ONNX."""
    from .deploy.export import export_weights

    export_weights(args.weights, format=args.format, precision=args.precision, imgsz=args.imgsz, opset=args.opset,
                   out=args.out, calib_source=args.calib_source, calib_frames=args.calib_frames,
                   int8_target=args.int8_target, calib_method=args.calib_method, fp16_converter=args.fp16_converter,
                   cache_dir=args.cache_dir, rebuild=args.rebuild)
    return 0
