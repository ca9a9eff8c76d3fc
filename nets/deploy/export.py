"""Export a weights file to its deployed forms (`run.py export`): ONNX at fp32/fp16/int8 beside the weights, or a
cached TensorRT engine built from the matching ONNX.

The steps are in their own modules (onnx_export: the fp32 graph; precision: fp16 and INT8
Q/DQ; engine: the TensorRT build and cache); this one decides which to run for a request,
reuses files that are up to date, and says what it wrote. Plain arguments in, paths out.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import BadInputError

from .onnx_export import DEFAULT_OPSET
from .precision import CALIB_FRAMES


def export_weights(weights: str | Path | None = None, format: str = "onnx", precision: str = "fp32",
                   imgsz: tuple[int, int] | None = None, opset: int = DEFAULT_OPSET, out: str | Path | None = None,
                   calib_source=None, calib_frames: int = CALIB_FRAMES, int8_target: str = "tensorrt",
                   calib_method: str = "minmax", fp16_converter: str = "auto", cache_dir=None,
                   rebuild: bool = False) -> Path:
    """Write (or reuse) the ONNX file of `precision` for `weights` (None: the bundled ones) and, for
    format="engine", the cached TensorRT engine built from it, copied to `out` when given. Returns the ONNX
    path, or the engine's. Each file written is reported on stdout."""
    from nets.config import DEFAULT_WEIGHTS

    if format == "engine":
        if precision == "int8" and int8_target == "cpu":
            raise BadInputError("--int8-target cpu makes a file for ONNX Runtime on CPUs; TensorRT needs the "
                                "default symmetric one (drop --int8-target)")
        from .engine import require_tensorrt_runtime

        require_tensorrt_runtime()  # before minutes of export work: say at once what this machine lacks
    weights = Path(weights or DEFAULT_WEIGHTS)
    onnx_out = Path(out) if out and format == "onnx" else None
    onnx_path = export_onnx_precision(weights, precision, onnx_out, reuse=format == "engine", imgsz=imgsz,
                                      opset=opset, calib_source=calib_source, calib_frames=calib_frames,
                                      int8_target=int8_target, calib_method=calib_method,
                                      fp16_converter=fp16_converter)
    if format == "onnx":
        return onnx_path

    import shutil

    from core.atomic import atomic_path

    from .engine import ensure_engine, sidecar_path

    engine = ensure_engine(onnx_path, cache_dir=cache_dir, rebuild=rebuild)
    print(f"engine: {engine} (from {onnx_path.name}; config in {sidecar_path(engine).name})")
    if out:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        # through temporary names, engine last: a crash leaves the old pair (or none), never a torn engine
        with atomic_path(sidecar_path(out)) as tmp:
            shutil.copyfile(sidecar_path(engine), tmp)
        with atomic_path(out) as tmp:
            shutil.copyfile(engine, tmp)
        print(f"copied to {out} (+ {sidecar_path(out).name})")
        return out
    return engine


def export_onnx_precision(weights: Path, precision: str, out: Path | None = None, reuse: bool = False,
                          imgsz: tuple[int, int] | None = None, opset: int = DEFAULT_OPSET, calib_source=None,
                          calib_frames: int = CALIB_FRAMES, int8_target: str = "tensorrt", calib_method: str = "minmax",
                          fp16_converter: str = "auto") -> Path:
    """Write (or reuse) the ONNX file of `precision` for `weights`; return its path.

    fp16/int8 are converted from the fp32 ONNX beside the weights, which is
    (re)exported when missing, older than the weights or of another input size.
    reuse=True (for an engine build) keeps an existing up-to-date file of that precision.
    out: where to write it (default beside the weights, e.g. perception_n.int8.onnx).
    """
    from . import precision as prec

    fp32 = weights.with_suffix(".onnx")
    int8_cpu = precision == "int8" and int8_target == "cpu"
    target = out or prec.sibling_path(fp32, "int8cpu" if int8_cpu else precision)
    if reuse and onnx_up_to_date(target, weights, imgsz):
        print(f"using {target}")
        return target
    if precision == "fp32":
        export_fp32(weights, target, imgsz, opset)
        return target
    if not onnx_up_to_date(fp32, weights, imgsz):
        export_fp32(weights, fp32, imgsz, opset)
    if precision == "fp16":
        prec.convert_fp16(fp32, target, converter=fp16_converter)
        import onnx

        converter = prec.read_metadata(onnx.load(str(target))).get("converter", "?")
        print(f"wrote {target} (fp16 mixed precision by {converter}; I/O and output tail kept fp32)")
        return target
    calib = calib_source
    if not calib:
        from nets.config import SAMPLE_CLIP

        if not SAMPLE_CLIP.is_file():
            raise BadInputError("INT8 needs real frames to calibrate on: give --calib-source VIDEO_OR_FOLDER")
        calib = SAMPLE_CLIP
        print(f"calibrating on the bundled clip {SAMPLE_CLIP.name} (use --calib-source for footage like yours)")
    prec.quantize_int8(fp32, target, calib, calib_frames, method=calib_method, target=int8_target)
    import onnx

    note = prec.read_metadata(onnx.load(str(target))).get("calibration", "")
    form = "asymmetric uint8 activations for CPUs" if int8_cpu else "symmetric"
    print(f"wrote {target} (int8 Q/DQ: {form}, per-channel weights; calibrated {note})")
    return target


def export_fp32(weights: Path, out: Path, imgsz: tuple[int, int] | None = None, opset: int = DEFAULT_OPSET) -> None:
    """The fp32 ONNX export of the checkpoint `weights`, checked with onnx.checker."""
    from nets.weights import load_model

    from .onnx_export import export_onnx

    export_onnx(load_model(weights), out, tuple(imgsz) if imgsz else None, opset=opset)
    print(f"wrote {out} (checked with onnx.checker)")


def onnx_up_to_date(onnx_path: Path, weights: Path, imgsz=None) -> bool:
    """An ONNX file exists, is newer than the weights and has the asked input size (None: any)."""
    if not onnx_path.is_file() or not weights.is_file() or onnx_path.stat().st_mtime < weights.stat().st_mtime:
        return False
    if not imgsz:
        return True
    import onnx

    dims = onnx.load(str(onnx_path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    return [d.dim_value for d in dims[2:]] == list(imgsz)
