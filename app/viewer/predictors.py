"""Which backends can run a weights file, and building a warmed-up predictor for one of them.

The viewer offers a backend switch only among backends that can plausibly run
here: the file a backend needs exists beside the weights (perception_n.pt ↔
perception_n.onnx) and its package is installed. Building is slow (a session or
an engine is created, then warmed up), so the window calls `build` on a worker thread.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

BACKEND_ORDER = ("tensorrt", "onnxruntime", "torch")  # nets.predictor's auto order
BACKEND_PACKAGES = {"tensorrt": ("tensorrt", "pycuda"), "onnxruntime": ("onnxruntime",), "torch": ("torch",)}


def _installed(*packages: str) -> bool:
    return all(importlib.util.find_spec(p) is not None for p in packages)


def running_file(predictor) -> tuple[Path | None, str]:
    """(the file the predictor's engine runs, its precision): the INT8 CPU sibling a .pt runs as, the .pt that
    torch runs for an .onnx, ... — what is running, not what was asked for. (None, "") when it cannot tell."""
    backend = getattr(predictor, "backend", None)
    # ONNX Runtime and TensorRT know their file; torch's checkpoint is the one build() handed it
    path = getattr(backend, "path", None) or getattr(predictor, "weights_file", None)
    precision = getattr(backend, "precision", None) or getattr(predictor, "precision", None)
    if precision is None and getattr(backend, "name", "") == "torch":
        precision = "fp32"  # the checkpoint runs as stored (FP16 storage is loaded into FP32)
    return (Path(path) if path else None), str(precision or "")


class PredictorProvider:
    """Predictors for one weights file (.pt, .onnx or .engine; default nets.config.DEFAULT_WEIGHTS)."""

    def __init__(self, weights: str | Path | None = None, device: str | None = None, precision: str = "auto"):
        from nets.config import DEFAULT_WEIGHTS

        self.weights = Path(weights) if weights else DEFAULT_WEIGHTS
        self.device = device
        self.precision = precision

    def file_for(self, backend: str) -> Path:
        """The file to hand load_predictor for `backend`: the checkpoint for torch; for the others
        the weights as given (a .pt finds its ONNX sibling of the right precision there)."""
        w = self.weights
        if backend == "torch":
            return w.with_suffix(".pt")
        if w.suffix == ".engine" and backend != "tensorrt":
            return w.with_suffix(".onnx")
        return w

    def backends(self) -> list[str]:
        """The backends that can run this weights file here, in nets.predictor's auto order."""
        w = self.weights
        found = []
        for name in BACKEND_ORDER:
            if not _installed(*BACKEND_PACKAGES[name]):
                continue
            if name == "torch":
                ok = w.with_suffix(".pt").is_file()
            elif w.suffix == ".engine":
                ok = name == "tensorrt" and w.is_file()
            else:
                ok = w.with_suffix(".onnx").is_file()
            if ok:
                found.append(name)
        return found

    def build(self, backend: str = "auto", conf: float | None = None, iou: float | None = None, warmup: bool = True):
        """A loaded (and warmed-up) predictor (slow: call it off the GUI thread). Raises what load_predictor raises.

        warmup=False: the first frames pay for it instead (the first model of a window: nothing plays yet that
        a slow first frame could stall, and the first picture comes sooner)."""
        import nets  # noqa: F401  (offline ultralytics before anything imports it)
        from nets.predictor import load_predictor

        weights = self.weights if backend == "auto" else self.file_for(backend)
        try:
            predictor = load_predictor(weights, backend=backend, device=self.device, conf=conf, iou=iou,
                                       precision=self.precision)
        except Exception as e:  # noqa: BLE001 - re-raised, named after the file the user opened
            predictor = self._torch_instead(backend, conf, iou, e)
            weights = self.weights
        predictor.weights_file = Path(weights)
        if not warmup:
            return predictor
        try:
            predictor.warmup()
        except BaseException:
            predictor.close()
            raise
        return predictor

    def _torch_instead(self, backend: str, conf: float, iou: float, error: Exception):
        """auto on a .pt opens the ONNX file beside it first; when that file is broken, run the .pt itself with
        torch (and say so) rather than report an error about a file the user never chose."""
        from core.errors import UserError
        from nets.backends.base import BackendUnavailableError
        from nets.predictor import load_predictor

        w = self.weights
        if backend != "auto" or w.suffix != ".pt" or isinstance(error, (BackendUnavailableError, OSError)) \
                or "torch" not in self.backends():
            if isinstance(error, UserError) or w.name in str(error):
                raise error
            raise UserError(f"cannot load {w.name} with {backend}: {error}") from error
        try:
            predictor = load_predictor(w, backend="torch", device=self.device, conf=conf, iou=iou)
        except Exception as torch_error:  # noqa: BLE001
            raise UserError(f"cannot load {w.name}: {torch_error} (the ONNX file beside it failed too: {error})") \
                from torch_error
        predictor.choice_reason = f"the ONNX file beside {w.name} failed ({error}); running {w.name} with torch"
        return predictor

    def with_weights(self, weights: str | Path) -> PredictorProvider:
        """A provider for another weights file on the same device."""
        return PredictorProvider(weights, self.device, self.precision)
