"""Training recipes (configs/train/*.yaml): every key known, every value of the right kind.

A misspelt key used to be ignored in silence (`optimiser: {name: sgd}` trained with
AdamW); now it is an error that names the file, the key and the key it probably meant.
"""

from __future__ import annotations

from pathlib import Path

from core.config import NUMBER, ConfigError, Either, Open, load_yaml, unknown_key_message, validate

from .losses import LOSS_WEIGHTS

_DATA = (str, dict)  # the path of a data YAML, or a data config inline

RECIPE_SCHEMA = {
    "model": str,                              # model YAML
    "init_weights": (str, type(None)),         # fine-tune from these weights
    "freeze": list,                            # parts that do not train (FREEZABLE), e.g. [encoder, road]
    "data": {"train": _DATA, "val": (*_DATA, type(None))},
    "augment": dict,                           # over the data config's augment (train.augment checks its keys)
    "imgsz": list,                             # training input [height, width]
    "epochs": int,
    "batch": int,
    "val_batch": int,
    "workers": int,
    "optimizer": {"name": str, "lr": NUMBER, "weight_decay": NUMBER, "momentum": NUMBER},
    "schedule": {"name": str, "warmup_epochs": NUMBER, "final_lr_ratio": NUMBER, "power": NUMBER},
    "ema": Either(type(None), bool, {"decay": NUMBER, "tau": NUMBER}),  # null/false: no EMA
    "loss": {**{name: NUMBER for name in LOSS_WEIGHTS}, "class_weights": Open(NUMBER)},  # class_weights: {name: weight}
    "sampler": {"repeat_threshold": NUMBER, "power": NUMBER},  # class-balanced sampling (train.balance)
    "distill": {"teachers": Either(str, list), "road": NUMBER, "cls": NUMBER},  # soft targets (train.distill)
    "holdout_sequences": Either(str, list),    # drives left out of training, the best epoch selected on them
    "grad_clip": NUMBER,
    "amp": bool,
    "seed": int,
    "deterministic": bool,
    "val": {"every": int, "conf": NUMBER, "iou": NUMBER, "fitness": {"road_maxf": NUMBER, "map50": NUMBER}},
    "out_dir": str,
}
REQUIRED = ("model", "data", "epochs", "batch", "imgsz")
OPTIMIZERS = ("adamw", "sgd")
# PerceptionNet's parts, as its attributes are named: a fine-tune may keep some of them as they are
FREEZABLE = ("encoder", "neck", "road", "detect")
SCHEDULES = ("cosine", "poly")


def load_train_config(path: str | Path, **overrides) -> dict:
    """A recipe YAML, checked, with command-line overrides (None: not given) applied."""
    cfg = load_yaml(path)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    validate_recipe(cfg, str(path))
    cfg["_source"] = str(path)
    if cfg.get("holdout_sequences"):  # leave these drives out of training, select the best epoch on them
        from .sequences import holdout_recipe

        cfg = holdout_recipe(cfg, cfg["holdout_sequences"])
    return cfg


def validate_recipe(cfg: dict, source: str) -> dict:
    validate(cfg, RECIPE_SCHEMA, source)
    for key in REQUIRED:
        if key not in cfg:
            raise ConfigError(f"training config {source} lacks '{key}'; see configs/train/camvid_n.yaml")
    if "train" not in cfg["data"]:
        raise ConfigError(f"{source}: 'data' needs 'train' (a data YAML), and optionally 'val'")
    imgsz = cfg["imgsz"]
    if len(imgsz) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 and v % 32 == 0
                                  for v in imgsz):
        raise ConfigError(f"{source}: imgsz must be [height, width], positive multiples of 32; got {imgsz!r}")
    for key in ("epochs", "batch"):
        if cfg[key] < 1:
            raise ConfigError(f"{source}: {key} must be at least 1, got {cfg[key]}")
    freeze = cfg.get("freeze", [])
    for part in freeze:
        if part not in FREEZABLE:
            raise ConfigError(unknown_key_message(str(part), FREEZABLE, f"{source}: freeze"))
    if set(FREEZABLE) <= set(freeze):
        raise ConfigError(f"{source}: freeze lists every part of the network ({', '.join(FREEZABLE)}): "
                          "nothing would train")
    _choice(cfg.get("optimizer", {}).get("name", "adamw").lower(), OPTIMIZERS, source, "optimizer.name")
    _choice(cfg.get("schedule", {}).get("name", "cosine"), SCHEDULES, source, "schedule.name")
    return cfg


def _choice(value, allowed, source: str, where: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{source}: {where} {value!r} is not one of {', '.join(allowed)}")


__all__ = ["RECIPE_SCHEMA", "load_train_config", "validate_recipe"]
