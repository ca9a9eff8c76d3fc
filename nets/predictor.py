"""Predictor: frame in, Perception out — pre-processing, a backend, post-processing.

    predictor = load_predictor("weights/perception_n.pt", backend="auto")
    result = predictor(frame_bgr)          # nets.result.Perception
    predictor.conf = 0.4                   # thresholds may change between frames
    predictor.class_conf = {"car": 0.45}   # per-class floors over conf (configs/runtime.yaml class_conf)
    predictor.exposure = None              # input brightness normalisation off (configs/runtime.yaml exposure)

The pre/post-processing is the same code for every backend, so a difference
between backends is a difference between engines, nothing else.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from core.errors import BadInputError, InputNotFoundError, UserError

from .backends.base import Backend, BackendUnavailableError
from .config import BACKENDS, DEFAULT_WEIGHTS, PRECISIONS, default_exposure, default_thresholds
from .postprocess import apply_class_conf, boxes_to_original, detections_from_output, road_to_original
from .preprocess import ExposureNorm, to_input_tensor
from .result import Perception
from .torch_threads import torch_threads


class Predictor:
    """Frame BGR → Perception, with the thresholds (conf, iou, class_conf) and the road-map filter
    (road_filter) a caller may set between frames: all the runtime pipeline needs of a predictor
    (its Predictor, PerClassThresholds and StreamFiltered contracts in app/contracts.py)."""

    def __init__(self, backend: Backend, conf: float | None = None, iou: float | None = None, max_det: int = 100,
                 choice_reason: str = ""):
        """conf, iou: None takes the thresholds of configs/runtime.yaml."""
        defaults = default_thresholds()
        self.backend = backend
        self.conf = defaults["conf"] if conf is None else conf
        self.iou = defaults["iou"] if iou is None else iou
        self.max_det = max_det
        self._class_conf: dict[str, float] = {}
        # optional stateful filter of the stride-4 road map of a video stream (nets.road_stability);
        # None for single images (evaluation)
        self.road_filter = None
        # per-frame input gain toward the training frames' brightness (nets.preprocess.ExposureNorm); None: off
        self.exposure: ExposureNorm | None = default_exposure()
        self.choice_reason = choice_reason or f"{backend.name} requested"

    @property
    def class_conf(self) -> dict[str, float]:
        """Per-class score thresholds: a box of class c is kept when its score reaches
        max(conf, class_conf[c]), so `conf` (the viewer's slider, --conf) still raises every class.
        Empty (the default, and what evaluation uses) applies `conf` alone."""
        return dict(self._class_conf)

    @class_conf.setter
    def class_conf(self, value) -> None:
        value = dict(value or {})
        unknown = sorted(set(value) - set(self.class_names))
        if unknown:
            raise UserError(f"class_conf names classes {unknown} this model does not have; "
                             f"its classes are {self.class_names}")
        self._class_conf = {str(k): float(v) for k, v in value.items()}

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @property
    def description(self) -> str:
        """What runs: the engine, the file (e.g. the INT8 CPU sibling of a .pt) and its precision."""
        return self.backend.description

    @property
    def class_names(self) -> list[str]:
        return self.backend.class_names

    @property
    def road_classes(self) -> list[str]:
        return self.backend.road_classes

    @property
    def input_size(self) -> tuple[int, int]:
        """The network input (height, width), as the tensor is laid out; frame sizes are (width, height)."""
        return self.backend.input_size

    def __call__(self, frame_bgr: np.ndarray) -> Perception:
        return self.predict_batch([frame_bgr])[0]

    def predict_batch(self, frames_bgr: list[np.ndarray]) -> list[Perception]:
        for f in frames_bgr:
            if not isinstance(f, np.ndarray) or f.ndim not in (2, 3) or f.dtype != np.uint8 or f.size == 0:
                raise ValueError("a frame must be a non-empty uint8 image (H, W[, 3]) in BGR order; got "
                                 f"{getattr(f, 'dtype', type(f))} {getattr(f, 'shape', '')}")
        t0 = time.perf_counter()
        batch, letterboxes = to_input_tensor(frames_bgr, self.input_size, self.exposure)
        t1 = time.perf_counter()
        det, road = self.backend.infer(batch)
        t2 = time.perf_counter()
        # Beside another backend torch runs only this post-processing (NMS on a few thousand
        # candidates), which gains nothing from threads, while torch's idle OpenMP workers would
        # spin on the very cores ONNX Runtime and the pipeline threads need (docs/results/README.md).
        # Scoped to this call, so a torch backend and the rest of the process keep their threads.
        with torch_threads(1) if self.backend_name != "torch" else nullcontext():
            per_image = detections_from_output(det, self.conf, self.iou, self.max_det)
        if self._class_conf:
            floors = np.array([max(self.conf, self._class_conf.get(n, 0.0)) for n in self.class_names], np.float32)
            per_image = [apply_class_conf(p, floors) for p in per_image]
        results = []
        for i, lb in enumerate(letterboxes):
            road_i = road[i] if self.road_filter is None else self.road_filter(road[i], per_image[i], self.input_size)
            results.append(Perception(
                road_probs=road_to_original(road_i, lb),
                boxes=boxes_to_original(per_image[i], lb),
                class_names=self.class_names,
                road_classes=self.road_classes,
                backend=self.backend_name,
            ))
        t3 = time.perf_counter()
        n = len(frames_bgr)
        for r in results:  # a batch shares its timings; per frame is the fair figure
            r.timings = {"pre": (t1 - t0) * 1e3 / n, "infer": (t2 - t1) * 1e3 / n, "post": (t3 - t2) * 1e3 / n}
        return results

    def warmup(self) -> None:
        self.backend.warmup()

    def close(self) -> None:
        self.backend.close()


def load_predictor(weights: str | Path | None = None, backend: str = "auto", device: str | None = None,
                   conf: float | None = None, iou: float | None = None, precision: str = "auto") -> Predictor:
    """Open a predictor on a weights file: .pt (PyTorch), .onnx (ONNX Runtime) or .engine (TensorRT).

    backend "auto" tries TensorRT → ONNX Runtime → PyTorch and records why it chose
    the one it did in `predictor.choice_reason`. A .pt file looks for its exported
    siblings (same stem, .onnx; and a cached engine) so `auto` can use them.
    precision picks which sibling ONNX a .pt file runs as (an .onnx or .engine file
    is what it is): "auto" is the INT8 CPU file (.int8cpu.onnx) where ONNX Runtime
    runs on the CPU and that file exists, otherwise fp32. conf, iou: None takes configs/runtime.yaml's.
    """
    if backend not in BACKENDS:
        raise BadInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if precision not in PRECISIONS:
        raise BadInputError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    weights = Path(weights) if weights else DEFAULT_WEIGHTS
    if not weights.exists():
        raise InputNotFoundError(f"weights file not found: {weights}")
    kinds = {".pt": "torch", ".onnx": "onnxruntime", ".engine": "tensorrt"}
    if weights.suffix not in kinds:
        raise BadInputError(f"{weights}: unknown weights type {weights.suffix!r}; expected .pt, .onnx or .engine")

    if backend != "auto":
        return Predictor(_open(backend, weights, device, precision), conf, iou,
                         choice_reason=f"{backend} requested")

    reasons = []
    for candidate in ("tensorrt", "onnxruntime", "torch"):
        try:
            b = _open(candidate, weights, device, precision)
        except BackendUnavailableError as e:
            reasons.append(f"{candidate}: {e}")
            continue
        why = "; ".join(reasons) if reasons else "first choice"
        return Predictor(b, conf, iou, choice_reason=f"auto chose {candidate} ({why})")
    raise BackendUnavailableError("no backend can run " + str(weights) + ": " + "; ".join(reasons))


def resolve_precision(precision: str, weights: Path, on_cpu: bool) -> str:
    """The ONNX precision a .pt file runs as ("auto" resolved; see load_predictor).

    on_cpu: ONNX Runtime will run the file on the CPU (False for TensorRT).
    INT8 is the CPU default because it is the one that is real-time there, at fp32's
    accuracy (docs/results/README.md, benchmarks/precision_accuracy.py). TensorRT keeps fp32
    unless asked: its fp16/int8 files are built on the GPU machine and are not shipped.
    """
    if precision != "auto":
        return precision
    if on_cpu and _sibling_path(weights, "int8cpu").is_file():
        return "int8cpu"
    return "fp32"


def _open(kind: str, weights: Path, device: str | None, precision: str) -> Backend:
    """Open one backend for `weights`, finding the file that backend needs beside it."""
    if kind == "torch":
        if weights.suffix != ".pt":
            raise BackendUnavailableError(f"PyTorch needs a .pt checkpoint, not {weights.name}")
        from .backends.torch_backend import TorchBackend
        from .weights import load_model

        return TorchBackend(load_model(weights), device or "cpu", weights)
    if kind == "onnxruntime":
        from .backends.onnxruntime_backend import OnnxRuntimeBackend, cuda_available

        providers = ["CPUExecutionProvider"] if device == "cpu" else None
        on_cpu = providers is not None or not cuda_available()
        onnx_path = weights if weights.suffix == ".onnx" else _sibling_onnx(
            weights, resolve_precision(precision, weights, on_cpu))
        backend = OnnxRuntimeBackend(onnx_path, providers=providers)
        if weights.suffix == ".pt":
            try:
                _check_sibling(weights, onnx_path, backend.metadata)
            except BaseException:
                backend.close()
                raise
        return backend
    if kind == "tensorrt":
        from .backends.tensorrt_backend import TensorRTBackend

        if weights.suffix == ".engine":
            return TensorRTBackend.from_engine(weights)
        onnx_path = weights if weights.suffix == ".onnx" else _sibling_onnx(
            weights, resolve_precision(precision, weights, on_cpu=False))
        if weights.suffix == ".pt":
            _check_sibling(weights, onnx_path)
        return TensorRTBackend.from_onnx(onnx_path)
    raise ValueError(f"unknown backend {kind!r}")


def _sibling_path(weights: Path, precision: str) -> Path:
    """weights/perception_n.pt → weights/perception_n.onnx (fp32), .fp16.onnx, .int8.onnx or .int8cpu.onnx."""
    from .deploy.precision import sibling_path

    return sibling_path(weights.with_suffix(".onnx"), precision)


def _sibling_onnx(weights: Path, precision: str) -> Path:
    """The sibling ONNX file of `precision`, or a BackendUnavailableError that says how to write it."""
    path = _sibling_path(weights, precision)
    if not path.is_file():
        raise BackendUnavailableError(f"no ONNX file {path.name} beside {weights.name} ({_export_hint(weights, path)})")
    return path


def _check_sibling(weights: Path, path: Path, metadata: dict | None = None) -> None:
    """BackendUnavailableError unless the sibling `path` was exported from the weights in `weights`
    (its recorded digest; see nets.deploy.sibling_check). A damaged .pt is a WeightsError here."""
    from .deploy.sibling_check import sibling_is_stale

    stale = sibling_is_stale(weights, path, metadata)
    if stale:
        raise BackendUnavailableError(f"{path.name} is not an export of {weights.name}: {stale} "
                                      f"(re-{_export_hint(weights, path)})")


def _export_hint(weights: Path, path: Path) -> str:
    precision = next((p for p in ("int8cpu", "int8", "fp16") if path.name.endswith(f".{p}.onnx")), "fp32")
    flag = {"fp32": "", "int8cpu": " --precision int8 --int8-target cpu"}.get(precision, f" --precision {precision}")
    return f"write it with `run.py export --weights {weights} --format onnx{flag}`"
