"""TensorRT backend: runs a serialized engine with pycuda buffers and a CUDA stream.

    backend = TensorRTBackend.from_onnx("weights/perception_n.int8.onnx")   # build or load from the cache
    backend = TensorRTBackend.from_engine(path_to_engine)                   # model config from its JSON sidecar
    det, road = backend.infer(batch)                                        # numpy float32, like every backend

The I/O-tensor API of TensorRT 10/11: every input and output is found by name
(`num_io_tensors`, `get_tensor_name/mode/shape/dtype`), gets a page-locked host
buffer and a device buffer of its own dtype, and its device address is bound
once with `set_tensor_address`; each call copies in, `execute_async_v3` on our
stream, copies out and synchronizes. The engines are fixed-shape (batch 1), so
a larger batch runs frame by frame.

tensorrt and pycuda are imported inside functions only: importing this module
never needs them, and opening a backend without them raises
BackendUnavailableError naming what is missing. Buffer planning and input
checks are plain functions, tested on machines without a GPU.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import BadInputError

from .base import Backend, BackendUnavailableError
from .onnxruntime_backend import METADATA_KEY

REQUIRED_OUTPUTS = ("det", "road")


@dataclass(frozen=True)
class IOBuffer:
    """One engine I/O tensor as buffers are allocated for it."""

    name: str
    mode: str  # "input" or "output"
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int


def plan_io_buffers(tensor_specs) -> list[IOBuffer]:
    """(name, mode, shape, dtype) per engine I/O tensor → the buffers to allocate, in engine order.

    mode is "input"/"output" (or a bool: True for input). Rejects dynamic
    dimensions (these engines are built fixed-shape, so a -1 means a foreign
    engine), duplicate names, a count other than one input, and missing
    det/road outputs.
    """
    plan, names = [], set()
    for name, mode, shape, dtype in tensor_specs:
        mode = ("input" if mode else "output") if isinstance(mode, bool) else str(mode).lower()
        if mode not in ("input", "output"):
            raise BadInputError(f"tensor {name!r}: mode must be 'input' or 'output', got {mode!r}")
        shape = tuple(int(d) for d in shape)
        if not shape or any(d <= 0 for d in shape):
            raise BadInputError(f"tensor {name!r} has shape {shape}: this backend runs fixed-shape engines only "
                                "(rebuild with `run.py export --format engine`)")
        if name in names:
            raise BadInputError(f"engine has two I/O tensors named {name!r}")
        names.add(name)
        dtype = np.dtype(dtype)
        plan.append(IOBuffer(name, mode, shape, dtype, math.prod(shape) * dtype.itemsize))
    inputs = [b for b in plan if b.mode == "input"]
    if len(inputs) != 1:
        raise BadInputError(f"a perception engine has one input; this one has {[b.name for b in inputs]}")
    missing = [n for n in REQUIRED_OUTPUTS if n not in {b.name for b in plan if b.mode == "output"}]
    if missing:
        raise BadInputError(f"engine lacks the outputs {missing}; a perception engine has 'det' and 'road'")
    return plan


def prepare_input(batch: np.ndarray, spec: IOBuffer) -> np.ndarray:
    """One (1,3,H,W) frame as a C-contiguous array of the engine input's dtype; clear error on a wrong shape."""
    if batch.shape != spec.shape:
        raise ValueError(f"engine input {spec.name!r} is {spec.shape}, got a batch of {batch.shape} "
                         "(pre-process with nets.preprocess.to_input_tensor at the engine's input size)")
    return np.ascontiguousarray(batch, dtype=spec.dtype)


def check_input_size(plan: list[IOBuffer], input_size: tuple[int, int], engine_path) -> None:
    """The engine's input must be (1, 3, H, W) at the input size its sidecar config declares."""
    spec = next(b for b in plan if b.mode == "input")
    expected = (1, 3, *input_size)
    if spec.shape != expected:
        raise BadInputError(f"engine {engine_path} takes {spec.shape} but its config says input {expected}; "
                            "the engine and its JSON do not belong together: "
                            "rebuild with `run.py export --format engine`")


def read_sidecar(engine_path: Path) -> dict:
    from ..deploy.engine import sidecar_path

    path = sidecar_path(engine_path)
    if not path.is_file():
        raise BadInputError(f"engine {engine_path} has no {path.name} beside it (model config, precision); rebuild it "
                            "with `run.py export --format engine`")
    meta = json.loads(path.read_text())
    if METADATA_KEY not in meta:
        raise BadInputError(f"{path} lacks the '{METADATA_KEY}' model config; rebuild the engine")
    return meta


class TensorRTBackend(Backend):
    name = "tensorrt"

    def __init__(self, engine_path: str | Path, meta: dict, device: int = 0):
        self._closed = True  # until fully open: close()/__del__ then have nothing to undo
        trt, cuda = _runtime()
        self._cuda = cuda
        self._lock = threading.Lock()  # one stream, one set of buffers: one inference at a time
        self.path = Path(engine_path)
        self.config = meta[METADATA_KEY]
        self.precision = meta.get("precision", "fp32")
        self.class_names = list(self.config["classes"])
        self.road_classes = list(self.config["road_classes"])
        self.input_size = tuple(int(v) for v in self.config["input_size"])
        self._host, self._device = {}, {}
        # The primary context is the one the CUDA runtime (and PyTorch) use too; it
        # is made current around each call because the app infers on its own thread.
        self._ctx = cuda.Device(device).retain_primary_context()
        self._ctx.push()
        try:
            self._logger = trt.Logger(trt.Logger.WARNING)
            self._runtime = trt.Runtime(self._logger)
            self.engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
            if self.engine is None:
                raise BadInputError(f"TensorRT {trt.__version__} cannot load {self.path}: it was built by another "
                                    "TensorRT version or for another GPU; rebuild with `run.py export --format engine`")
            self.context = self.engine.create_execution_context()
            self.plan = plan_io_buffers(self._engine_specs(trt))
            check_input_size(self.plan, self.input_size, self.path)
            for b in self.plan:
                self._host[b.name] = cuda.pagelocked_empty(b.shape, b.dtype)
                self._device[b.name] = cuda.mem_alloc(b.nbytes)
                self.context.set_tensor_address(b.name, int(self._device[b.name]))
            self._stream = cuda.Stream()
            self.gpu = cuda.Device(device).name()
        except BaseException:
            self._release()
            cuda.Context.pop()
            self._ctx.detach()
            raise
        cuda.Context.pop()
        self._closed = False
        self._input = next(b for b in self.plan if b.mode == "input")
        self.description = (f"TensorRT {trt.__version__} on {self.gpu}, {self.path.name}, {self.precision}, "
                            f"input {self.input_size[0]}x{self.input_size[1]}")

    # ------------------------------------------------------------------ opening

    @classmethod
    def from_engine(cls, path: str | Path, device: int = 0) -> TensorRTBackend:
        _runtime()  # first: on a machine without TensorRT/pycuda/GPU that is the message that matters
        path = Path(path)
        if not path.is_file():
            raise BackendUnavailableError(f"TensorRT engine not found: {path} (build one with "
                                          "`run.py export --format engine`)")
        return cls(path, read_sidecar(path), device)

    @classmethod
    def from_onnx(cls, onnx_path: str | Path, cache_dir: str | Path | None = None,
                  device: int = 0) -> TensorRTBackend:
        """Open the cached engine for this ONNX file, building it first if this GPU/TensorRT has none."""
        from ..deploy.engine import ensure_engine

        _runtime()
        onnx_path = Path(onnx_path)
        if not onnx_path.is_file():
            raise BackendUnavailableError(f"ONNX file not found: {onnx_path} (write it with `run.py export`)")
        return cls.from_engine(ensure_engine(onnx_path, cache_dir), device)

    def _engine_specs(self, trt):
        for i in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(i)
            mode = "input" if self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT else "output"
            yield name, mode, tuple(self.engine.get_tensor_shape(name)), trt.nptype(self.engine.get_tensor_dtype(name))

    # ------------------------------------------------------------------ running

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._closed:
            raise RuntimeError("this TensorRT backend was closed")
        if batch.ndim != 4:
            raise ValueError(f"expected a (B, 3, H, W) batch, got shape {batch.shape}")
        outs = [self._infer_one(batch[i:i + 1]) for i in range(batch.shape[0])]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])

    def _infer_one(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cuda = self._cuda
        x = prepare_input(frame, self._input)
        with self._lock:
            self._ctx.push()
            try:
                np.copyto(self._host[self._input.name], x)
                cuda.memcpy_htod_async(self._device[self._input.name], self._host[self._input.name], self._stream)
                if not self.context.execute_async_v3(self._stream.handle):
                    raise RuntimeError(f"TensorRT failed to run {self.path.name} (execute_async_v3 returned False)")
                for b in self.plan:
                    if b.mode == "output":
                        cuda.memcpy_dtoh_async(self._host[b.name], self._device[b.name], self._stream)
                self._stream.synchronize()
                # copy out: the page-locked buffers are overwritten by the next call
                return (self._host["det"].astype(np.float32, copy=True),
                        self._host["road"].astype(np.float32, copy=True))
            finally:
                cuda.Context.pop()

    def close(self) -> None:
        """Free device and page-locked memory and the engine; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._ctx.push()
        try:
            self._release()
        finally:
            self._cuda.Context.pop()
            self._ctx.detach()

    def _release(self) -> None:
        for mem in self._device.values():
            mem.free()
        self._device, self._host = {}, {}
        # execution context before engine before runtime: the order TensorRT needs
        for attr in ("_stream", "context", "engine", "_runtime"):
            if hasattr(self, attr):
                delattr(self, attr)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass  # interpreter shutdown: CUDA may be gone already


def _runtime():
    from ..deploy.engine import require_tensorrt_runtime

    return require_tensorrt_runtime()
