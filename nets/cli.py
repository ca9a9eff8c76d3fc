"""Subcommands of the network package: info, export."""

from __future__ import annotations

import argparse
import json

from core.errors import BadInputError


def add_commands(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--calib-frames", type=int, default=64, help="frames used for INT8 calibration")
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
    from pathlib import Path

    from .config import DEFAULT_WEIGHTS

    if args.format == "engine":
        if args.precision == "int8" and args.int8_target == "cpu":
            raise BadInputError("--int8-target cpu makes a file for ONNX Runtime on CPUs; TensorRT needs the "
                                "default symmetric one (drop --int8-target)")
        from .deploy.engine import require_tensorrt_runtime

        require_tensorrt_runtime()  # before minutes of export work: say at once what this machine lacks
    weights = Path(args.weights or DEFAULT_WEIGHTS)
    onnx_out = Path(args.out) if args.out and args.format == "onnx" else None
    onnx_path = _export_onnx_precision(args, weights, onnx_out)
    if args.format == "onnx":
        return 0

    import shutil

    from .deploy.engine import ensure_engine, sidecar_path

    engine = ensure_engine(onnx_path, cache_dir=args.cache_dir, rebuild=args.rebuild)
    print(f"engine: {engine} (from {onnx_path.name}; config in {sidecar_path(engine).name})")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(engine, out)
        shutil.copyfile(sidecar_path(engine), sidecar_path(out))
        print(f"copied to {out} (+ {sidecar_path(out).name})")
    return 0


def _export_onnx_precision(args, weights, out=None):
    """Write (or reuse) the ONNX file of args.precision for `weights`; return its path.

    fp16/int8 are converted from the fp32 ONNX beside the weights, which is
    (re)exported when missing, older than the weights or of another input size.
    For --format engine an existing up-to-date file of that precision is reused.
    """
    from .deploy import precision as prec

    fp32 = weights.with_suffix(".onnx")
    int8_cpu = args.precision == "int8" and args.int8_target == "cpu"
    target = out or prec.sibling_path(fp32, "int8cpu" if int8_cpu else args.precision)
    if args.format == "engine" and _up_to_date(target, weights, args.imgsz):
        print(f"using {target}")
        return target
    if args.precision == "fp32":
        _export_fp32(args, weights, target)
        return target
    if not _up_to_date(fp32, weights, args.imgsz):
        _export_fp32(args, weights, fp32)
    if args.precision == "fp16":
        prec.convert_fp16(fp32, target, converter=args.fp16_converter)
        import onnx

        converter = prec.read_metadata(onnx.load(str(target))).get("converter", "?")
        print(f"wrote {target} (fp16 mixed precision by {converter}; I/O and output tail kept fp32)")
        return target
    calib = args.calib_source
    if not calib:
        from .config import SAMPLE_CLIP

        if not SAMPLE_CLIP.is_file():
            raise BadInputError("INT8 needs real frames to calibrate on: give --calib-source VIDEO_OR_FOLDER")
        calib = SAMPLE_CLIP
        print(f"calibrating on the bundled clip {SAMPLE_CLIP.name} (use --calib-source for footage like yours)")
    prec.quantize_int8(fp32, target, calib, args.calib_frames, method=args.calib_method, target=args.int8_target)
    import onnx

    note = prec.read_metadata(onnx.load(str(target))).get("calibration", "")
    form = "asymmetric uint8 activations for CPUs" if int8_cpu else "symmetric"
    print(f"wrote {target} (int8 Q/DQ: {form}, per-channel weights; calibrated {note})")
    return target


def _export_fp32(args, weights, out):
    from .deploy.onnx_export import export_onnx
    from .weights import load_model

    export_onnx(load_model(weights), out, tuple(args.imgsz) if args.imgsz else None, opset=args.opset)
    print(f"wrote {out} (checked with onnx.checker)")


def _up_to_date(onnx_path, weights, imgsz) -> bool:
    """An ONNX file exists, is newer than the weights and has the asked input size."""
    if not onnx_path.is_file() or not weights.is_file() or onnx_path.stat().st_mtime < weights.stat().st_mtime:
        return False
    if not imgsz:
        return True
    import onnx

    dims = onnx.load(str(onnx_path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    return [d.dim_value for d in dims[2:]] == list(imgsz)
