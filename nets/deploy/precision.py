"""Reduced-precision ONNX files: FP16 (mixed precision) and INT8 (explicit Q/DQ quantization).

TensorRT 11 networks are strongly typed: the FP16/INT8 builder flags and the
INT8 calibrators are gone, and every tensor's type is the one the ONNX file
says. So precision is decided here, in the ONNX file, and the engine build
(nets.deploy.engine) only compiles what it is given. The same files run in ONNX
Runtime on the CPU, which is how their accuracy is measured without a GPU
(benchmarks/precision_accuracy.py, tests/test_deploy.py).

What stays FP32 in both: the "output tail", i.e. every node between the last
weighted layer (Conv) and a graph output. For this network that is the road
head's Sigmoid and the detection head's box decode
(Reshape/Concat/Slice, anchor arithmetic, stride Mul, score Sigmoid). Why:
 * the box decode adds anchor centres and multiplies by the stride (up to 32),
   so a half-precision ulp at 600 px (0.5 px) or an int8 step is a visible box error;
 * road probabilities are thresholded and swept for MaxF; fp16/int8 steps near
   0.5 move pixels across the threshold (and the post-processing interpolates
   this stride-4 map up to every frame pixel);
 * these nodes are a tiny share of the FLOPs, so keeping them FP32 costs nothing.
The tail is found from the graph structure (`output_tail_nodes`), not from node
names, so it follows the architecture when the head changes. Also keeping the
heads' last 1x1 convs in FP32 changed nothing measurable (docs/results/README.md),
because the error is accumulated in the backbone; so only the tail is kept, and
`keep_fp32` / `exclude` take more by name if the trained model's measurement
(benchmarks/precision_accuracy.py) asks for it. INT8 also keeps the stem's first
conv float (found from the graph input, `input_weighted_nodes`): quantized, it
was the largest single source of INT8's road error on KITTI frames.

FP16 converter: NVIDIA ModelOpt AutoCast (`modelopt.onnx.autocast`) when it is
importable, else ONNX Runtime's `onnxruntime.transformers.float16` (ships in
the onnxruntime wheel). ModelOpt is not a dependency: `nvidia-modelopt[onnx]`
0.47 pins onnx~=1.21 and onnxruntime-gpu~=1.24 (conflicting with this project's
onnx 1.23 / onnxruntime 1.31 CPU wheel) and pulls cupy-cuda12x and polygraphy,
so it is heavy and does not install cleanly on a CPU machine. Both converters
keep the graph's inputs and outputs float32 and insert the Casts themselves;
which one ran is written into the file's metadata (`converter`).

INT8: ONNX Runtime's post-training static quantization in QDQ format, calibrated
on real frames pre-processed exactly as at inference. TensorRT's explicit
quantization wants: symmetric int8 (zero point 0) for activations and weights,
per-channel weight scales on the output-channel axis, float weights behind a
Q→DQ pair (TensorRT quantizes the weights itself at build time), float biases
(TensorRT rejects an int32 DequantizeLinear on a Conv bias) and Q/DQ on the
inputs of convs only, not on their outputs (TensorRT fuses the next Q into the
conv; and the heads' last convs hand float values to the float tail).
A second target, "cpu", makes the file ONNX Runtime's CPU kernels run fastest
(asymmetric uint8 activations, 7-bit weights); TensorRT rejects it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from core.errors import BadInputError, InputNotFoundError, MissingDependencyError

from ..backends.onnxruntime_backend import METADATA_KEY

# ops whose outputs are the network's learned features; the tail starts after them
WEIGHTED_OPS = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm"})

FP16_CONVERTERS = ("auto", "modelopt", "onnxruntime")
# No "entropy": quantize_static gives its entropy calibrator 128 histogram bins for
# 128 quantized bins and offers no option to change that, so it returns the min/max range.
CALIBRATION_METHODS = ("minmax", "percentile")
CALIB_FRAMES = 64  # frames of the calibration source INT8 ranges are measured on (run.py export --calib-frames)
INT8_TARGETS = ("tensorrt", "cpu")

# Ops given Q/DQ inputs. Conv is where the FLOPs are; Add/Concat/MaxPool/Resize
# carry int8 between convs so TensorRT need not dequantize around them.
INT8_OP_TYPES = ("Conv", "Add", "Concat", "MaxPool", "Resize", "GlobalAveragePool", "Mul")


# ----------------------------------------------------------------------------- graph helpers

def output_tail_nodes(model) -> list[str]:
    """Names of the nodes between the last weighted layer and each graph output.

    Walks backwards from every graph output and stops at Conv/MatMul/Gemm
    outputs, graph inputs and initializers. For PerceptionNet: the road sigmoid
    and the detection box decode.
    """
    producer = {out: node for node in model.graph.node for out in node.output}
    tail, seen = [], set()
    stack = [o.name for o in model.graph.output]
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op_type in WEIGHTED_OPS:
            continue
        tail.append(node.name)
        stack.extend(i for i in node.input if i)
    return tail


def last_weighted_nodes(model) -> list[str]:
    """The Conv/Gemm nodes that feed the output tail directly (the heads' final 1x1 convs)."""
    tail = set(output_tail_nodes(model))
    producer = {out: node for node in model.graph.node for out in node.output}
    found = []
    for node in model.graph.node:
        if node.name not in tail:
            continue
        for i in node.input:
            p = producer.get(i)
            if p is not None and p.op_type in WEIGHTED_OPS and p.name not in found:
                found.append(p.name)
    return found


def input_weighted_nodes(model) -> list[str]:
    """The Conv/Gemm nodes that read a graph input directly (the encoder stem's first conv)."""
    inputs = {i.name for i in model.graph.input}
    return [n.name for n in model.graph.node if n.op_type in WEIGHTED_OPS and any(i in inputs for i in n.input)]


def _name_unnamed_nodes(model) -> None:
    """Give every node a unique name: the block lists and Q/DQ exclusion work by name."""
    used = {n.name for n in model.graph.node if n.name}
    for i, node in enumerate(model.graph.node):
        if not node.name:
            name = f"{node.op_type}_{i}"
            while name in used:
                name += "_"
            node.name = name
            used.add(name)


def topological_sort(model) -> None:
    """Reorder the nodes so each comes after the producers of its inputs (stable otherwise).

    onnxruntime's float16 converter appends the input Casts at the end of the
    node list; ONNX (onnx.checker) and TensorRT's parser need producers first.
    """
    available = {i.name for i in model.graph.input} | {t.name for t in model.graph.initializer} | {""}
    pending = list(model.graph.node)
    ordered = []
    while pending:
        rest = []
        for node in pending:
            if all(i in available for i in node.input):
                ordered.append(node)
                available.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            missing = sorted({i for n in rest for i in n.input if i not in available})[:3]
            raise ValueError(f"ONNX graph has a cycle or dangling inputs (e.g. {missing}); cannot sort it")
        pending = rest
    new_nodes = [type(n)() for n in ordered]
    for dst, src in zip(new_nodes, ordered, strict=True):
        dst.CopyFrom(src)
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)


def drop_duplicate_nodes(model) -> int:
    """Remove nodes that repeat an earlier node exactly (same op, inputs, outputs, attributes).

    onnxruntime's float16 converter inserts one Cast per blocked consumer of a
    tensor, all writing the same output name, which breaks SSA form. Identical
    duplicates are redundant, so dropping them is exact; a clash between
    different nodes is an error.
    """
    first: dict[str, object] = {}
    keep, dropped = [], 0
    for node in model.graph.node:
        clash = [first[o] for o in node.output if o in first]
        if clash:
            if any(not _same_computation(c, node) for c in clash):
                raise ValueError(f"ONNX graph writes tensor {node.output[0]!r} from two different nodes")
            dropped += 1
            continue
        for o in node.output:
            first[o] = node
        keep.append(node)
    if dropped:
        copies = [type(n)() for n in keep]
        for dst, src in zip(copies, keep, strict=True):
            dst.CopyFrom(src)
        del model.graph.node[:]
        model.graph.node.extend(copies)
    return dropped


def _same_computation(a, b) -> bool:
    """Same op on the same inputs to the same outputs with the same attributes (names may differ)."""
    return (a.op_type == b.op_type and a.domain == b.domain and list(a.input) == list(b.input)
            and list(a.output) == list(b.output)
            and [x.SerializeToString() for x in a.attribute] == [x.SerializeToString() for x in b.attribute])


def read_metadata(model) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def write_metadata(model, base: dict[str, str], updates: dict[str, str]) -> None:
    """Set the metadata to `base` (the fp32 file's: the model config above all) with `updates` applied.

    Converters do not all carry metadata_props over, so it is written from the source.
    """
    values = {**base, **updates}
    del model.metadata_props[:]
    for key, value in values.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)


def load_fp32_source(onnx_path: str | Path):
    """The fp32 perception ONNX file a precision conversion starts from, checked (ours, not yet converted) and
    with every node named (quantization excludes nodes by name)."""
    import onnx

    path = Path(onnx_path)
    if not path.is_file():
        raise InputNotFoundError(f"ONNX file not found: {path} (write it with `run.py export --format onnx`)")
    model = onnx.load(str(path))
    meta = read_metadata(model)
    if METADATA_KEY not in meta:
        raise BadInputError(f"{path} carries no '{METADATA_KEY}' metadata: "
                            "export it with `run.py export --format onnx`")
    if meta.get("precision", "fp32") != "fp32":
        raise BadInputError(f"{path} is already {meta['precision']}; convert the fp32 ONNX file instead")
    _name_unnamed_nodes(model)
    return model


def model_input_size(model) -> tuple[int, int]:
    """(H, W) of the fixed-size image input, from the perception metadata."""
    cfg = json.loads(read_metadata(model)[METADATA_KEY])
    return tuple(int(v) for v in cfg["input_size"])


def _save_checked(model, out_path: Path) -> Path:
    import onnx

    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.checker.check_model(model)
    tmp = out_path.with_name(out_path.name + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(out_path)  # never leave a half-written file where the backend would pick it up
    return out_path


# ----------------------------------------------------------------------------- FP16

def modelopt_available() -> bool:
    try:
        import modelopt.onnx.autocast  # noqa: F401
    except Exception:  # ImportError, or a broken install pulling CUDA libraries
        return False
    return True


def convert_fp16(onnx_path: str | Path, out_path: str | Path, keep_fp32: list[str] | None = None,
                 converter: str = "auto") -> Path:
    """Write a mixed-precision FP16 copy of an fp32 perception ONNX file; I/O stay float32.

    keep_fp32: extra node names to keep in FP32, on top of the output tail.
    converter: "auto" (ModelOpt AutoCast if importable, else ONNX Runtime), "modelopt" or "onnxruntime".
    """
    if converter not in FP16_CONVERTERS:
        raise BadInputError(f"unknown FP16 converter {converter!r}; choose one of {', '.join(FP16_CONVERTERS)}")
    model = load_fp32_source(onnx_path)
    blocked = list(dict.fromkeys(output_tail_nodes(model) + list(keep_fp32 or [])))
    source_meta = read_metadata(model)
    use_modelopt = converter == "modelopt" or (converter == "auto" and modelopt_available())
    if use_modelopt:
        if not modelopt_available():
            raise MissingDependencyError("the FP16 converter 'modelopt' needs NVIDIA ModelOpt: "
                                         "pip install 'nvidia-modelopt[onnx]' (or use --fp16-converter onnxruntime)")
        fp16, name = _fp16_modelopt(model, blocked), "modelopt-autocast"
    else:
        fp16, name = _fp16_onnxruntime(model, blocked), "onnxruntime-float16"
    write_metadata(fp16, source_meta, {"precision": "fp16", "converter": name, "fp32_nodes": str(len(blocked))})
    return _save_checked(fp16, Path(out_path))


def _fp16_onnxruntime(model, blocked: list[str]):
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    # keep_io_types: the backends feed float32 and read float32, as for fp32 files
    fp16 = convert_float_to_float16(model, keep_io_types=True, op_block_list=list(DEFAULT_OP_BLOCK_LIST),
                                    node_block_list=blocked)
    drop_duplicate_nodes(fp16)
    topological_sort(fp16)
    return fp16


def _fp16_modelopt(model, blocked: list[str]):
    import onnx
    from modelopt.onnx.autocast import convert_to_mixed_precision

    with tempfile.TemporaryDirectory() as tmp:  # AutoCast reads a path
        src = os.path.join(tmp, "fp32.onnx")
        onnx.save(model, src)
        return convert_to_mixed_precision(onnx_path=src, low_precision_type="fp16", keep_io_types=True,
                                          nodes_to_exclude=[f"^{re.escape(n)}$" for n in blocked])


# ----------------------------------------------------------------------------- INT8

def make_calibration_reader(batches: list[np.ndarray], input_name: str):
    """An onnxruntime CalibrationDataReader over pre-processed (1,3,H,W) batches."""
    from onnxruntime.quantization import CalibrationDataReader

    class FrameReader(CalibrationDataReader):
        def __init__(self):
            self._items = [{input_name: b} for b in batches]
            self._index = 0

        def get_next(self):
            if self._index >= len(self._items):
                return None
            item = self._items[self._index]
            self._index += 1
            return item

        def rewind(self):
            self._index = 0

        def __len__(self):
            return len(self._items)

    return FrameReader()


def quantize_int8(onnx_path: str | Path, out_path: str | Path, calib_source: str | Path,
                  calib_frames: int = CALIB_FRAMES, method: str = "minmax", exclude: list[str] | None = None,
                  exclude_last_convs: bool = False, target: str = "tensorrt", first_conv_float: bool = True) -> Path:
    """Write an INT8 Q/DQ copy of an fp32 perception ONNX file, calibrated on `calib_frames` real frames.

    exclude: extra node names to leave in float, on top of the output tail.
    exclude_last_convs: also keep the heads' final 1x1 convs (box/score/road logits) float.
    first_conv_float: keep the stem's first conv float (the default; see quantize_int8_from_batches).
    target: "tensorrt" (symmetric int8 activations: what TensorRT accepts, the default) or
        "cpu" (asymmetric uint8 activations, Relu folded into the ranges: what ONNX Runtime's
        CPU kernels run fastest; TensorRT rejects such a file).
    """
    from .calibration_frames import calibration_batches, read_calibration_frames

    model = load_fp32_source(onnx_path)
    frames = read_calibration_frames(calib_source, calib_frames)
    batches = list(calibration_batches(frames, model_input_size(model)))
    return quantize_int8_from_batches(model, out_path, batches, method=method, exclude=exclude,
                                      exclude_last_convs=exclude_last_convs, target=target,
                                      first_conv_float=first_conv_float,
                                      calib_note=f"{Path(calib_source).name}, {len(batches)} frames")


def quantize_int8_from_batches(model, out_path: str | Path, batches: list[np.ndarray], method: str = "minmax",
                               exclude: list[str] | None = None, exclude_last_convs: bool = False,
                               target: str = "tensorrt", calib_note: str = "", first_conv_float: bool = True) -> Path:
    """quantize_int8 on already pre-processed batches (a loaded fp32 ModelProto or a path)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if method not in CALIBRATION_METHODS:
        raise BadInputError(f"unknown calibration method {method!r}; choose one of {', '.join(CALIBRATION_METHODS)}")
    if not batches:
        raise BadInputError("INT8 calibration needs at least one frame")
    if target not in INT8_TARGETS:
        raise BadInputError(f"unknown INT8 target {target!r}; choose one of {', '.join(INT8_TARGETS)}")
    symmetric = target == "tensorrt"
    # With asymmetric uint8, a Q/DQ pair on each Relu output lets ONNX Runtime drop the
    # Relu (its range starts at 0) and fuse whole Conv chains into QLinearConv.
    op_types = list(INT8_OP_TYPES) + ([] if symmetric else ["Relu"])
    if not isinstance(model, onnx.ModelProto):
        model = load_fp32_source(model)
    excluded = output_tail_nodes(model) + list(exclude or [])
    if first_conv_float:
        # The first conv sees the whole image through 3x3x3 = 27 weights per filter, and its error
        # reaches every later layer. Quantized, it is what made the shipped model's road mask on
        # KITTI (other camera, other light than the calibration clip) differ most from FP32:
        # pooled agreement 0.973 → 0.988, worst frame 0.89 → 0.98, with it float and all else int8;
        # keeping whole stages or the road decoder float instead changed nothing but stage 2
        # (docs/results/README.md). It is 1.4 % of the FLOPs (3 input channels).
        excluded += input_weighted_nodes(model)
    if exclude_last_convs or not symmetric:
        # the cpu target quantizes Conv outputs (QLinearConv needs them), which would round
        # the box distances and road logits to int8 right before the float tail
        excluded += last_weighted_nodes(model)
    excluded = list(dict.fromkeys(excluded))
    input_name = model.graph.input[0].name
    calibrate = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile}[method]
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory() as tmp, _quiet_preprocess_hint():
        src, dst = os.path.join(tmp, "fp32.onnx"), os.path.join(tmp, "int8.onnx")
        onnx.save(model, src)
        quantize_static(
            src, dst, make_calibration_reader(batches, input_name),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=op_types,
            per_channel=True,  # one scale per output channel: conv filters differ by orders of magnitude
            # 7-bit weights: x86 CPUs without VNNI (AVX2/AVX-512 only) multiply u8 x s8 pairs
            # into int16 and saturate with full 8-bit weights; TensorRT accumulates in int32
            reduce_range=not symmetric,
            activation_type=QuantType.QInt8 if symmetric else QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=calibrate,
            extra_options={
                "ActivationSymmetric": symmetric,  # TensorRT supports only zero point 0
                "WeightSymmetric": True,
                # TensorRT: float weights behind Q/DQ (it quantizes them at build time) and float
                # biases (its parser rejects an int32 DequantizeLinear). ONNX Runtime's CPU
                # QLinearConv wants int8 weights and int32 biases, so the cpu target stores those.
                "AddQDQPairToWeight": symmetric,
                "QuantizeBias": not symmetric,
                # TensorRT's placement: Q/DQ on the inputs of Convs, none on their outputs (it fuses
                # the next layer's Q into the conv). Above all, the heads' last convs then hand
                # float box distances and road logits to the float tail instead of int8 steps
                # (a step of a 0..30 distance range is ~8 px at stride 32).
                "OpTypesToExcludeOutputQuantization": ["Conv"] if symmetric else [],
                # a percentile calibrator keeps the outliers of a few pixels from stretching the range
                "CalibPercentile": 99.999,
            },
            calibration_providers=["CPUExecutionProvider"],
        )
        quantized = onnx.load(dst)
    meta = {"precision": "int8", "converter": "onnxruntime-quantize_static-qdq", "int8_target": target,
            "calibration": f"{method}; {calib_note or f'{len(batches)} frames'}",
            "fp32_nodes": str(len(excluded))}
    write_metadata(quantized, read_metadata(model), meta)
    return _save_checked(quantized, out_path)


class _quiet_preprocess_hint:
    """Silence quantize_static's "consider pre-processing" hint for the duration of a call.

    The hint is about shape inference and constant folding, which the export
    already did (onnxslim); printed on every export it only confuses.
    """

    class _Filter(logging.Filter):
        def filter(self, record):
            return "pre-processing" not in record.getMessage()

    def __enter__(self):
        self._filter = self._Filter()
        logging.getLogger().addFilter(self._filter)

    def __exit__(self, *exc):
        logging.getLogger().removeFilter(self._filter)


# ----------------------------------------------------------------------------- file names

def sibling_path(fp32_onnx: str | Path, precision: str) -> Path:
    """perception_n.onnx → perception_n.fp16.onnx / perception_n.int8.onnx (what the predictor looks for)."""
    path = Path(fp32_onnx)
    return path if precision == "fp32" else path.with_suffix(f".{precision}.onnx")
