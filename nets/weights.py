"""Checkpoint files: what a .pt holds, and loading it with clear errors.

A checkpoint is a dict with at least `model_config` (the resolved model YAML)
and `model` (a state dict; the EMA weights when training used EMA). Training
checkpoints add optimizer, scheduler, epoch and metrics; `load_model` needs
only the first two, so a trimmed release file and a training checkpoint both load.

A .pt file is a pickle, and unpickling can run any code its author wrote into it.
Every checkpoint is therefore read with `torch.load(weights_only=True)`, which
rebuilds only tensors, dicts, lists, tuples, numbers and strings, and refuses
anything else; checkpoints are written in that form (train.engine keeps RNG
states as tensors and lists for the same reason).
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import torch

from core.errors import UserError

from .config import ConfigError, validate_model_config
from .model import PerceptionNet

# ONNX metadata key of the weights digest of the .pt an ONNX file was exported from (see weights_digest)
WEIGHTS_DIGEST_KEY = "weights_sha256"


class WeightsError(UserError, ValueError):
    """A weights file is missing, unreadable, unsafe, or belongs to another architecture."""


def load_checkpoint_file(path: str | Path, map_location="cpu"):
    """torch.load restricted to plain data (weights_only=True); WeightsError naming the file otherwise."""
    path = Path(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        # torch's message explains weights_only at length; the line that names the refused object is the one to show
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        first = next((ln for ln in lines if "GLOBAL" in ln or "Unsupported" in ln), lines[-1] if lines else "")
        first = first.split(". Please use")[0]  # torch goes on to explain how to allow it: not advice to give here
        raise WeightsError(f"refused to load {path}: it holds objects other than tensors, numbers, strings, lists "
                           f"and dicts, and unpickling those could run code ({first}). Nothing in it was run. "
                           "Use a checkpoint written by `run.py train` or the bundled weights/perception_n.pt; "
                           "if you trust this file, convert it to a plain state dict yourself") from e
    except Exception as e:  # zip, torch and truncated-file errors all mean the same thing to the user
        raise WeightsError(f"cannot read weights file {path}: {e}") from e


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path} (train one with `run.py train`, "
                           "or use the bundled weights/perception_n.pt)")
    ckpt = load_checkpoint_file(path)
    if not isinstance(ckpt, dict) or "model" not in ckpt or "model_config" not in ckpt:
        raise WeightsError(f"{path} is not a perception checkpoint (expected keys 'model' and 'model_config'; "
                           "ultralytics YOLO .pt files are not compatible)")
    if not isinstance(ckpt["model_config"], dict):
        raise WeightsError(f"{path}: its 'model_config' is {type(ckpt['model_config']).__name__}, not the model "
                           "settings mapping a perception checkpoint carries; the file is damaged or was not "
                           "written by `run.py train`")
    if not isinstance(ckpt["model"], dict) or not all(torch.is_tensor(v) for v in ckpt["model"].values()):
        raise WeightsError(f"{path}: its 'model' entry is not a state dict (a mapping of tensor names to tensors)")
    return ckpt


def weights_digest(state: dict) -> str:
    """SHA-256 of a state dict's tensors as a model loads them (floats as float32; the training-only aux head
    left out), so a .pt stored in FP16 and the model exported from it give the same digest."""
    digest = hashlib.sha256()
    for name in sorted(k for k in state if not k.startswith("road.aux.")):
        tensor = state[name].detach().cpu()
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
            tensor = tensor.float()
        array = tensor.contiguous().numpy()
        if tensor.is_floating_point():
            array = array.astype(np.float32)  # numpy's cast: torch's first fp16 → fp32 cast costs ~0.2 s
        digest.update(f"{name}|{array.dtype}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def checkpoint_digest(path: str | Path) -> str:
    """weights_digest of the weights in a checkpoint file (reads it: a damaged file is a WeightsError)."""
    return weights_digest(read_checkpoint(path)["model"])


def load_model(path: str | Path, expect_config: dict | None = None) -> PerceptionNet:
    """Build the network a checkpoint describes and load its weights (eval mode, CPU)."""
    ckpt = read_checkpoint(path)
    try:
        cfg = validate_model_config(ckpt["model_config"], source=f"{path} (embedded config)")
    except ConfigError as e:
        raise WeightsError(str(e)) from e
    if expect_config is not None:
        check_same_architecture(cfg, expect_config, path)
    model = PerceptionNet(cfg)
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in ckpt["model"].items()}
    expected = model.state_dict()
    # the auxiliary road head is training-only: a release file may drop it
    missing = [k for k in expected if k not in state and not k.startswith("road.aux.")]
    unexpected = [k for k in state if k not in expected]
    mismatched = [k for k, v in state.items() if k in expected and expected[k].shape != v.shape]
    if missing or unexpected or mismatched:
        raise WeightsError(f"weights in {path} do not fit the architecture they declare ({len(missing)} missing, "
                           f"{len(unexpected)} unexpected, {len(mismatched)} mis-shaped tensors; e.g. "
                           f"{(missing or unexpected or mismatched)[:3]})")
    model.load_state_dict(state, strict=False)
    return model.eval()


ARCH_KEYS = ("scale", "classes", "road_classes", "encoder", "road_decoder", "detect", "activation")


def check_same_architecture(found: dict, expected: dict, path) -> None:
    diffs = [k for k in ARCH_KEYS if found.get(k) != expected.get(k)]
    if diffs:
        detail = ", ".join(f"{k}: {found.get(k)!r} (file) vs {expected.get(k)!r} (config)" for k in diffs)
        raise WeightsError(f"weights {path} are for another architecture than the config asks: {detail}")


def atomic_save(obj, path: str | Path) -> Path:
    """torch.save through a temporary file and a rename: a crash mid-write never leaves a truncated file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)
    return path


def save_checkpoint(path: str | Path, model: PerceptionNet, **extra) -> Path:
    """A minimal checkpoint (config + weights + anything extra) for a model in memory."""
    return atomic_save({"model_config": model.cfg, "model": model.state_dict(), **extra}, path)


RELEASE_KEYS = ("model_config", "model", "epoch", "metrics", "train_config", "date")


def release_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Strip a training checkpoint to what inference needs (no optimizer, no raw weights, no aux head), in FP16.

    FP16 storage halves the file; weights are cast back to FP32 when loaded, and the
    rounding (relative 5e-4) is far below what changes a prediction.
    """
    ckpt = read_checkpoint(src)
    out = {k: ckpt[k] for k in RELEASE_KEYS if k in ckpt}
    out["model"] = {k: (v.half() if v.is_floating_point() else v) for k, v in ckpt["model"].items()
                    if not k.startswith("road.aux.")}
    return atomic_save(out, dst)
