"""TensorRT engines: build one from an ONNX file (TensorRT 11 Python API) and cache it.

TensorRT 11 networks are always strongly typed: every tensor has the type the
ONNX file gives it, and the FP16/INT8 builder flags and calibrators no longer
exist. So one build path serves all three precisions: the fp32 ONNX, the
mixed-precision fp16 ONNX and the int8 Q/DQ ONNX (nets.deploy.precision) each
compile to an engine of that precision.

An engine only runs on the TensorRT version and GPU model that built it, so the
cache key is sha256(ONNX bytes) + TensorRT version + GPU name. The model config
(classes, input size) is written beside the engine as JSON, so an engine file
alone is enough to open a backend.

Nothing here imports tensorrt or pycuda at module level: the rest of the
application runs without them, and `require_tensorrt_runtime()` says exactly
which part is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from core.atomic import atomic_write_text
from core.errors import BadInputError, InputNotFoundError

from ..backends.base import BackendUnavailableError
from ..backends.onnxruntime_backend import METADATA_KEY

INSTALL_HINT = ("on a machine with an NVIDIA GPU and driver, install it with: make tensorrt "
                "(pip install -r requirements-tensorrt.txt)")
ENGINE_CACHE_ENV = "ROADPERCEPTION_ENGINE_CACHE"  # overrides the default cache folder
DEFAULT_CACHE_DIR = Path("~/.cache/roadperception/engines")
DEFAULT_WORKSPACE_GIB = 2.0  # scratch memory TensorRT may use for tactics; this net needs far less


# ----------------------------------------------------------------------------- pure helpers (CPU-tested)

def engine_cache_key(onnx: bytes | str | Path, trt_version: str, gpu_name: str) -> str:
    """sha256 hex over (sha256 of the ONNX bytes, TensorRT version, GPU name).

    `onnx` is the file's bytes or its path. The GPU name is compared without
    surrounding spaces or case, as drivers report it inconsistently.
    """
    data = onnx if isinstance(onnx, (bytes, bytearray)) else Path(onnx).read_bytes()
    h = hashlib.sha256()
    for part in (hashlib.sha256(data).hexdigest(), str(trt_version).strip(), " ".join(str(gpu_name).split()).lower()):
        h.update(part.encode())
        h.update(b"\0")  # separator: ("ab", "c") and ("a", "bc") must differ
    return h.hexdigest()


def default_cache_dir() -> Path:
    return Path(os.environ.get(ENGINE_CACHE_ENV) or DEFAULT_CACHE_DIR).expanduser()


def cached_engine_path(onnx_path: str | Path, key: str, cache_dir: str | Path | None = None) -> Path:
    """<cache>/<onnx stem>.<key[:16]>.engine; 64 bits of the key are plenty to tell local builds apart."""
    return Path(cache_dir or default_cache_dir()).expanduser() / f"{Path(onnx_path).stem}.{key[:16]}.engine"


def sidecar_path(engine_path: str | Path) -> Path:
    """The JSON written beside an engine: model config, precision, provenance."""
    return Path(engine_path).with_suffix(".json")


def asymmetric_quantizers(model) -> list[str]:
    """Q/DQ nodes whose zero point is not 0: TensorRT accepts only symmetric quantization."""
    from onnx import numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    bad = []
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and len(node.input) > 2 and node.input[2]:
            zp = inits.get(node.input[2])
            if zp is not None and numpy_helper.to_array(zp).any():
                bad.append(node.name)
    return bad


def onnx_engine_metadata(onnx_path: str | Path) -> dict:
    """The model config and precision an ONNX file carries (checked before spending minutes on a build)."""
    import onnx

    model = onnx.load(str(onnx_path))
    meta = {p.key: p.value for p in model.metadata_props}
    if METADATA_KEY not in meta:
        raise BadInputError(f"{onnx_path} carries no '{METADATA_KEY}' metadata: export it with `run.py export`")
    bad = asymmetric_quantizers(model)
    if bad:
        raise BadInputError(f"{onnx_path} has {len(bad)} Q/DQ nodes with non-zero zero points (e.g. {bad[0]}); "
                            "TensorRT needs symmetric int8: re-export with `run.py export --precision int8`")
    return {"config": json.loads(meta[METADATA_KEY]), "precision": meta.get("precision", "fp32"),
            "converter": meta.get("converter", "")}


# ----------------------------------------------------------------------------- runtime checks

def _probe_tensorrt():
    """(tensorrt module, None) or (None, what is missing)."""
    try:
        import tensorrt as trt
    except ImportError as e:
        return None, f"TensorRT (import tensorrt failed: {e})"
    return trt, None


def _probe_cuda():
    """(pycuda.driver, None) when pycuda imports and CUDA sees a GPU, else (None, what is missing)."""
    try:
        import pycuda.driver as cuda
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] == "pycuda":
            return None, "pycuda (not installed)"
        return None, f"pycuda cannot import ({e})"
    except ImportError as e:  # pycuda is installed but libcuda.so is not: no NVIDIA driver
        return None, f"an NVIDIA GPU driver (pycuda cannot load libcuda: {e})"
    try:
        cuda.init()
        count = cuda.Device.count()
    except Exception as e:  # pycuda._driver.Error: CUDA_ERROR_NO_DEVICE, driver too old, ...
        return None, f"a usable NVIDIA GPU (CUDA initialisation failed: {e})"
    if count == 0:
        return None, "an NVIDIA GPU (CUDA reports 0 devices)"
    return cuda, None


def require_tensorrt_runtime():
    """(tensorrt, pycuda.driver) when both import and a GPU is present.

    Otherwise one BackendUnavailableError naming every missing part (TensorRT,
    pycuda, the GPU/driver) and how to install the first two.
    """
    trt, trt_missing = _probe_tensorrt()
    cuda, cuda_missing = _probe_cuda()
    missing = [m for m in (trt_missing, cuda_missing) if m]
    if missing:
        raise BackendUnavailableError(f"the TensorRT backend cannot run here: missing {'; '.join(missing)}; "
                                      f"{INSTALL_HINT}")
    return trt, cuda


def gpu_name(cuda, device: int = 0) -> str:
    return cuda.Device(device).name()


# ----------------------------------------------------------------------------- build

def _network_flags(trt) -> int:
    # TensorRT 11: strongly typed is the only mode and the flag is deprecated (ignored).
    # TensorRT 10: ask for it, or the fp16/int8 file's types would be only hints.
    if int(trt.__version__.split(".")[0]) >= 11:
        return 0
    return 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)


def _make_progress_monitor(trt, stream=sys.stderr):
    """Prints the builder's top-level phases with their step counts (a build takes minutes)."""

    class Progress(trt.IProgressMonitor):
        def __init__(self):
            trt.IProgressMonitor.__init__(self)
            self._t0 = time.perf_counter()

        def phase_start(self, phase_name, parent_phase, num_steps):
            if parent_phase is None:  # nested phases are too chatty
                print(f"[trt {time.perf_counter() - self._t0:6.1f}s] {phase_name} ({num_steps} steps)", file=stream,
                      flush=True)

        def step_complete(self, phase_name, step):
            return True  # False would cancel the build

        def phase_finish(self, phase_name):
            pass

    return Progress()


def build_engine(onnx_path: str | Path, engine_path: str | Path, workspace_gib: float = DEFAULT_WORKSPACE_GIB,
                 verbose: bool = False) -> Path:
    """Parse `onnx_path`, build a serialized engine and write it (and its JSON sidecar) to `engine_path`."""
    trt, cuda = require_tensorrt_runtime()
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    if not onnx_path.is_file():
        raise InputNotFoundError(f"ONNX file not found: {onnx_path} (write it with `run.py export --format onnx`)")
    info = onnx_engine_metadata(onnx_path)
    logger = trt.Logger(trt.Logger.INFO if verbose else trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(_network_flags(trt))
    parser = trt.OnnxParser(network, logger)
    # parse_from_file (not parse(bytes)) so external-data weights beside the file are found
    if not parser.parse_from_file(str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise BadInputError(f"TensorRT cannot parse {onnx_path}: " + " | ".join(errors[:5]))
    for i in range(network.num_inputs):  # this project's engines are fixed-shape: no optimization profile
        shape = tuple(network.get_input(i).shape)
        if any(d < 0 for d in shape):
            raise BadInputError(f"{onnx_path} input {network.get_input(i).name} has a dynamic shape {shape}; "
                                "export with a fixed --imgsz")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gib * (1 << 30)))
    # TF32 (on by default) rounds fp32 conv inputs to 10-bit mantissas; an "fp32" engine is
    # the parity reference, so it computes in real fp32. fp16/int8 files say their own types.
    tf32 = info["precision"] != "fp32"
    if not tf32 and hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)
    monitor = _make_progress_monitor(trt)  # must outlive the build
    config.progress_monitor = monitor
    t0 = time.perf_counter()
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path}; see the TensorRT log above")
    engine_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = engine_path.with_name(engine_path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(serialized)  # IHostMemory supports the buffer protocol
    tmp.replace(engine_path)
    sidecar = {
        METADATA_KEY: info["config"], "precision": info["precision"], "converter": info["converter"],
        "onnx": str(onnx_path.resolve()), "onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "tensorrt": trt.__version__, "gpu": gpu_name(cuda), "build_seconds": round(time.perf_counter() - t0, 1),
        "workspace_gib": workspace_gib, "tf32": tf32,
    }
    atomic_write_text(sidecar_path(engine_path), json.dumps(sidecar, indent=2))
    return engine_path


def ensure_engine(onnx_path: str | Path, cache_dir: str | Path | None = None, rebuild: bool = False,
                  workspace_gib: float = DEFAULT_WORKSPACE_GIB, verbose: bool = False) -> Path:
    """The cached engine for `onnx_path` on this GPU and TensorRT version, built first when missing."""
    trt, cuda = require_tensorrt_runtime()
    onnx_path = Path(onnx_path)
    if not onnx_path.is_file():
        raise InputNotFoundError(f"ONNX file not found: {onnx_path} (write it with `run.py export --format onnx`)")
    key = engine_cache_key(onnx_path, trt.__version__, gpu_name(cuda))
    path = cached_engine_path(onnx_path, key, cache_dir)
    if rebuild or not (path.is_file() and sidecar_path(path).is_file()):
        print(f"building TensorRT {trt.__version__} engine for {onnx_path.name} on {gpu_name(cuda)} "
              f"(cached as {path})", file=sys.stderr, flush=True)
        build_engine(onnx_path, path, workspace_gib=workspace_gib, verbose=verbose)
    return path
