"""Is an ONNX file beside a .pt really exported from it?

`auto` runs a .pt through its ONNX sibling without reading the .pt; a sibling left
over from older weights (or a .pt replaced or damaged since the export) would then
run weights nobody asked for, silently. The export writes the digest of the
weights into the ONNX metadata (nets.weights.weights_digest); here it is compared
with the digest of the .pt. Reading and hashing the .pt costs ~0.06 s and is safe
(weights_only loading), and a damaged .pt is then reported instead of being hidden.
The result is cached per (file, size, mtime) pair, so a viewer that reopens the
predictor does not hash again.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..weights import WEIGHTS_DIGEST_KEY, checkpoint_digest


def sibling_is_stale(weights: Path, onnx_path: Path, metadata: dict | None = None) -> str:
    """Why `onnx_path` cannot be trusted to hold the weights of `weights`, or "" when it does.

    metadata: the ONNX file's metadata when the caller has it (an ONNX Runtime session), which
    saves importing the onnx library (~0.7 s).
    """
    recorded = None if metadata is None else metadata.get(WEIGHTS_DIGEST_KEY, "")
    return _check(*_stamp(weights), *_stamp(onnx_path), recorded)


def _stamp(path: Path) -> tuple[str, int, int]:
    st = Path(path).stat()
    return str(Path(path).resolve()), st.st_size, st.st_mtime_ns


@lru_cache(maxsize=16)
def _check(weights: str, _w_size: int, _w_mtime: int, onnx_path: str, _o_size: int, _o_mtime: int,
           recorded: str | None) -> str:
    if recorded is None:
        recorded = read_onnx_metadata(Path(onnx_path)).get(WEIGHTS_DIGEST_KEY)
    if not recorded:
        return "it carries no weights digest (exported by an older version), so it cannot be matched to the .pt"
    if recorded != checkpoint_digest(weights):  # a damaged .pt raises WeightsError here, naming it
        return "it was exported from other weights (the .pt changed after the export: the file is stale)"
    return ""


def read_onnx_metadata(path: Path) -> dict[str, str]:
    """The metadata_props of an ONNX file, without its weights (the onnx library; ONNX Runtime if it is absent)."""
    try:
        import onnx
    except ImportError:
        import onnxruntime as ort

        return dict(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                    .get_modelmeta().custom_metadata_map)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # a damaged ONNX file: the backend that opens it reports it in full
        return {}
    return {p.key: p.value for p in model.metadata_props}
