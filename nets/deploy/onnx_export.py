"""Export the network to ONNX: fixed input size, opset 17+, the model config in the metadata."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import torch

from core.atomic import atomic_path
from core.errors import BadInputError

from ..backends.onnxruntime_backend import METADATA_KEY
from ..model import PerceptionNet
from ..weights import WEIGHTS_DIGEST_KEY, weights_digest

DEFAULT_OPSET = 17


def export_onnx(model: PerceptionNet, out_path: str | Path, input_size: tuple[int, int] | None = None,
                opset: int = DEFAULT_OPSET, simplify: bool = True) -> Path:
    """Write `out_path` and check it with onnx.checker. Inputs `images` (1,3,H,W) float32; outputs `det`, `road`."""
    import onnx

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(model).eval().float().cpu().set_export_mode(True)
    cfg = copy.deepcopy(model.cfg)
    if input_size is not None:
        cfg["input_size"] = [int(v) for v in input_size]
    h, w = cfg["input_size"]
    if h % 32 or w % 32:
        raise BadInputError(f"input size {h}x{w} must be multiples of 32")
    dummy = torch.zeros(1, 3, h, w)
    # everything goes to a temporary file beside out_path, renamed only once complete with its metadata:
    # a Ctrl-C mid-export used to leave a file without metadata that `infer` then rejected
    with atomic_path(out_path) as tmp:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python values are expected
            torch.onnx.export(model, dummy, str(tmp), opset_version=opset, input_names=["images"],
                              output_names=["det", "road"], dynamo=False, do_constant_folding=True)
        proto = onnx.load(str(tmp))
        if simplify:
            proto = _slim(proto)
        # the digest ties the file to the weights it came from: a .pt's sibling is used only if they match
        meta = {METADATA_KEY: json.dumps(cfg), "precision": "fp32", "stride": "32",
                WEIGHTS_DIGEST_KEY: weights_digest(model.state_dict())}
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, str(tmp))
    return out_path


def _slim(proto):
    """Fold constants and drop no-op nodes with onnxslim (ultralytics' own choice for export)."""
    try:
        import onnxslim
    except ImportError:
        return proto
    return onnxslim.slim(proto)
