"""Model configuration: YAML files under configs/model/ resolved into one dict.

The resolved dict is what a checkpoint and an ONNX file carry, so a weights file
always knows the architecture it belongs to.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

from core.config import ConfigError, Open, load_yaml, validate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "configs"
DEFAULT_MODEL_CONFIG = CONFIG_DIR / "model" / "perception_n.yaml"
DEFAULT_WEIGHTS = PROJECT_ROOT / "weights" / "perception_n.pt"
DEFAULT_ONNX = PROJECT_ROOT / "weights" / "perception_n.onnx"
SAMPLE_CLIP = PROJECT_ROOT / "assets" / "sample_clip.mp4"
RUNTIME_CONFIG = CONFIG_DIR / "runtime.yaml"

# What nets.predictor.load_predictor accepts; here, in a module without torch, so the
# command lines can offer them as choices and `run.py --help` stays instant. The backend
# names belong to nets.backends (imported here for the modules that read them from this one).
from .backends import BACKENDS  # noqa: E402, F401

PRECISIONS = ("auto", "fp32", "fp16", "int8", "int8cpu")

# keys every resolved model config has; used to tell a model config from other YAML
_REQUIRED = ("scale", "input_size", "classes", "road_classes", "scales", "encoder", "road_decoder", "detect")


# the activations nets.blocks can build with (its ACTIVATIONS table has these keys)
ACTIVATION_NAMES = ("silu", "relu")

# every key a model YAML may hold; a typo such as `activaton` is an error, not a silent default
MODEL_SCHEMA = {
    "name": str,
    "scale": str,
    "input_size": list,
    "classes": list,
    "road_classes": list,
    "activation": str,
    "scales": Open(list),  # scale name -> [depth multiple, width multiple, max channels]
    "encoder": {"channels": list, "repeats": list},
    "road_decoder": {"aspp_channels": int, "aspp_rates": list, "skip_channels": int, "head_channels": int,
                     "aux_head": bool},
    "detect": {"reg_max": int},
}


def load_model_config(path: str | Path | None = None, **overrides) -> dict:
    """Read a model YAML (default: perception_n) and apply keyword overrides."""
    cfg = load_yaml(path or DEFAULT_MODEL_CONFIG)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return validate_model_config(cfg, source=str(path or DEFAULT_MODEL_CONFIG))


def validate_model_config(cfg: dict, source: str = "model config") -> dict:
    if not isinstance(cfg, dict):
        raise ConfigError(f"{source} must be a mapping of model settings (see configs/model/perception_n.yaml), "
                          f"got {type(cfg).__name__}")
    validate(cfg, MODEL_SCHEMA, source)
    missing = [k for k in _REQUIRED if k not in cfg]
    if missing:
        raise ConfigError(f"{source} lacks the keys {missing}; see configs/model/perception_n.yaml")
    cfg = copy.deepcopy(cfg)
    if cfg["scale"] not in cfg["scales"]:
        raise ConfigError(f"{source}: scale {cfg['scale']!r} is not one of {sorted(cfg['scales'])}")
    try:
        h, w = (int(v) for v in cfg["input_size"])
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: input_size must be [height, width] in pixels, "
                          f"got {cfg['input_size']!r}") from None
    if h % 32 or w % 32 or h <= 0 or w <= 0:
        raise ConfigError(f"{source}: input_size {h}x{w} must be positive multiples of 32 (height, width)")
    cfg["input_size"] = [h, w]
    if cfg.get("activation", "silu") not in ACTIVATION_NAMES:
        raise ConfigError(f"{source}: activation {cfg['activation']!r} is not one of {', '.join(ACTIVATION_NAMES)}")
    if not cfg["classes"] or not cfg["road_classes"]:
        raise ConfigError(f"{source}: 'classes' and 'road_classes' must each name at least one class")
    return cfg


_THRESHOLDS: dict | None = None


def default_thresholds() -> dict:
    """{conf, iou, road}: the `thresholds` of configs/runtime.yaml, the one place these defaults live
    (a Predictor made without thresholds and the app's Thresholds both read them here)."""
    global _THRESHOLDS
    if _THRESHOLDS is None:
        t = load_yaml(RUNTIME_CONFIG).get("thresholds")
        if not isinstance(t, dict) or not {"conf", "iou", "road"} <= set(t):
            raise ConfigError(f"{RUNTIME_CONFIG}: 'thresholds' must give conf, iou and road")
        _THRESHOLDS = {k: float(t[k]) for k in ("conf", "iou", "road")}
    return dict(_THRESHOLDS)


def default_exposure():
    """The `exposure` normaliser of configs/runtime.yaml (nets.preprocess.ExposureNorm), None when disabled:
    what a Predictor starts with; the app installs the one of its merged runtime config."""
    from .preprocess import ExposureNorm

    section = load_yaml(RUNTIME_CONFIG).get("exposure")
    if not isinstance(section, dict) or not {"enabled", "target_mean", "min_gain", "max_gain"} <= set(section):
        raise ConfigError(f"{RUNTIME_CONFIG}: 'exposure' must give enabled, target_mean, min_gain and max_gain")
    return ExposureNorm.from_config(section)


def scaled_channels(cfg: dict) -> list[int]:
    """Encoder widths after the scale's width multiple (rounded to multiples of 8, as ultralytics does)."""
    _, width, max_ch = cfg["scales"][cfg["scale"]]
    return [make_divisible(min(c, max_ch) * width, 8) for c in cfg["encoder"]["channels"]]


def scaled_repeats(cfg: dict) -> list[int]:
    depth = cfg["scales"][cfg["scale"]][0]
    return [max(round(n * depth), 1) for n in cfg["encoder"]["repeats"]]


def make_divisible(x: float, divisor: int) -> int:
    return int(math.ceil(x / divisor) * divisor)
