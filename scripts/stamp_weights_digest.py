#!/usr/bin/env python3
"""Write the weights digest of a .pt into ONNX files exported from it, changing nothing else.

    python -m scripts.stamp_weights_digest weights/perception_n.pt \
        weights/perception_n.onnx weights/perception_n.int8cpu.onnx

For ONNX files exported before `run.py export` recorded the digest (nets/deploy/onnx_export.py):
re-exporting would change the INT8 calibration and graph details; adding one metadata entry
keeps every node and initializer byte-identical. Before writing, the FP32 file's outputs are
checked against the .pt run in PyTorch on the bundled clip (they must be the same network),
and each other file against the FP32 file's road map; after writing, the graph is compared
byte for byte with the original. Each file is written to a temporary name and renamed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import nets  # noqa: F401  (before ultralytics)
from benchmarks.clips import read_first_frames
from nets.backends.onnxruntime_backend import OnnxRuntimeBackend
from nets.backends.torch_backend import TorchBackend
from nets.config import SAMPLE_CLIP
from nets.predictor import Predictor
from nets.weights import WEIGHTS_DIGEST_KEY, checkpoint_digest, load_model


def sample_frames(n: int = 4) -> list[np.ndarray]:
    return read_first_frames(SAMPLE_CLIP, n)


def graph_bytes(model) -> bytes:
    """The serialized model without its metadata: what must not change."""
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.metadata_props[:]
    return copy.SerializeToString(deterministic=True)


def main() -> int:
    import onnx

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", type=Path)
    ap.add_argument("onnx", type=Path, nargs="+", help="the FP32 export first, then its precision siblings")
    args = ap.parse_args()

    digest = checkpoint_digest(args.weights)
    frames = sample_frames()
    torch_pred = Predictor(TorchBackend(load_model(args.weights), "cpu", args.weights), conf=0.25)
    fp32_road = None
    for i, path in enumerate(args.onnx):
        pred = Predictor(OnnxRuntimeBackend(path, providers=["CPUExecutionProvider"]), conf=0.25)
        ours = [pred(f) for f in frames]
        if i == 0:  # the FP32 file: the same network as the .pt, up to float rounding
            ref = [torch_pred(f) for f in frames]
            road_diff = max(float(np.abs(a.road_probs - b.road_probs).max()) for a, b in zip(ours, ref, strict=True))
            boxes_ok = all(len(a.boxes) == len(b.boxes) and np.allclose(a.boxes, b.boxes, atol=0.5)
                           for a, b in zip(ours, ref, strict=True))
            print(f"{path.name} vs {args.weights.name} in PyTorch: max road prob diff {road_diff:.2e}, "
                  f"boxes {'equal' if boxes_ok else 'DIFFERENT'}")
            if road_diff > 1e-3 or not boxes_ok:
                print(f"error: {path} is not an export of {args.weights}; not stamped", file=sys.stderr)
                return 1
            fp32_road = ours
        else:  # a quantized sibling: agrees with the FP32 file on the road (IoU at 0.5)
            ious = []
            for a, b in zip(ours, fp32_road, strict=True):
                ma, mb = a.road_probs[..., 0] > 0.5, b.road_probs[..., 0] > 0.5
                ious.append((ma & mb).sum() / max((ma | mb).sum(), 1))
            print(f"{path.name} vs the FP32 file: road IoU {min(ious):.4f} (worst of {len(frames)} frames)")
            if min(ious) < 0.95:
                print(f"error: {path} does not agree with {args.onnx[0]}; not stamped", file=sys.stderr)
                return 1
        pred.close()

    for path in args.onnx:
        model = onnx.load(str(path))
        before = graph_bytes(model)
        meta = {p.key: p.value for p in model.metadata_props}
        if meta.get(WEIGHTS_DIGEST_KEY) == digest:
            print(f"{path.name}: already carries the digest")
            continue
        meta[WEIGHTS_DIGEST_KEY] = digest
        del model.metadata_props[:]
        for key, value in meta.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        tmp = path.with_name(path.name + ".tmp")
        onnx.save(model, str(tmp))
        if graph_bytes(onnx.load(str(tmp))) != before:
            tmp.unlink()
            print(f"error: the graph of {path} would change; not stamped", file=sys.stderr)
            return 1
        os.replace(tmp, path)
        print(f"{path.name}: stamped {WEIGHTS_DIGEST_KEY}={digest[:16]}...; graph byte-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
