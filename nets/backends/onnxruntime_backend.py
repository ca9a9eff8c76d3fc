"""ONNX Runtime backend: runs the exported ONNX (FP32, FP16 or INT8 Q/DQ) on CPU or CUDA."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from core.errors import BadInputError

from .base import Backend, BackendUnavailableError

METADATA_KEY = "perception"  # ONNX metadata_props key holding the model config as JSON


def cuda_available() -> bool:
    """Whether this onnxruntime build offers its CUDA provider (onnxruntime-gpu); False without onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"

    def __init__(self, onnx_path: str | Path, providers: list[str] | None = None, threads: int | None = None,
                 expect_input_size: tuple[int, int] | None = None):
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise BackendUnavailableError("onnxruntime is not installed: pip install onnxruntime") from e
        path = Path(onnx_path)
        if not path.is_file():
            raise BackendUnavailableError(f"ONNX file not found: {path} (write one with `run.py export --format onnx`)")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        available = ort.get_available_providers()
        providers = [p for p in (providers or ["CUDAExecutionProvider", "CPUExecutionProvider"]) if p in available]
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=providers)
        except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
            raise BadInputError(f"ONNX Runtime cannot load {path}: {e}") from e
        meta = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in meta:
            raise BadInputError(f"{path} carries no '{METADATA_KEY}' metadata: it was not exported by `run.py export`")
        self.metadata = dict(meta)
        self.config = json.loads(meta[METADATA_KEY])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.input_size = tuple(int(d) for d in inp.shape[2:])
        if expect_input_size is not None and tuple(expect_input_size) != self.input_size:
            raise BadInputError(f"{path} was exported for input {self.input_size[0]}x{self.input_size[1]} (HxW) but "
                                f"{expect_input_size[0]}x{expect_input_size[1]} was asked for; re-export with "
                                "`run.py export --format onnx --imgsz H W`")
        self.input_dtype = np.float16 if "float16" in inp.type else np.float32
        outputs = {o.name for o in self.session.get_outputs()}
        if not {"det", "road"} <= outputs:
            raise BadInputError(f"{path} has outputs {sorted(outputs)}; a perception model has 'det' and 'road'")
        self.class_names = list(self.config["classes"])
        self.road_classes = list(self.config["road_classes"])
        self.precision = meta.get("precision", "fp32")
        self.path = path
        self.description = (f"ONNX Runtime {ort.__version__} ({self.session.get_providers()[0]}), {path.name}, "
                            f"{self.precision}, {os.cpu_count()} CPUs")

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        det, road = self.session.run(["det", "road"], {self.input_name: batch.astype(self.input_dtype, copy=False)})
        return det.astype(np.float32, copy=False), road.astype(np.float32, copy=False)
