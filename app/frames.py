"""The data that flows through the runtime, one way: source → Frame → FrameResult → overlay/sinks.

Every time stamp is `time.perf_counter()` seconds (one monotonic clock for all
stages), so differences between stamps are stage latencies.

Also here: the thresholds a pipeline applies (`Thresholds`) and the runtime
configuration (configs/runtime.yaml) every app module reads its defaults from.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.config import ConfigError, schema_from_example, validate
from core.errors import BadInputError, UserError
from nets.config import CONFIG_DIR, default_thresholds, load_yaml
from nets.result import Perception

RUNTIME_CONFIG = CONFIG_DIR / "runtime.yaml"


@dataclass(slots=True)
class Frame:
    """One captured image.

    index: the frame's position in its source: the frame number of a video file or
        image folder (jumps after a seek), a running count for a camera or stream.
    t_capture: perf_counter() when the frame was read.
    image: BGR uint8 (H, W, 3).
    timestamp: media time in seconds for files and folders (position in the clip),
        wall-clock time (time.time()) for live sources.
    epoch: bumped by each seek; stages drop frames of an older epoch.
    """

    index: int
    t_capture: float
    image: np.ndarray
    timestamp: float | None = None
    epoch: int = 0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.image.shape[1], self.image.shape[0]


@dataclass(slots=True)
class FrameResult:
    """A frame after inference (and, in the output stage, with its overlay).

    stamps: perf_counter() times: "read_start", "captured", "infer_start",
        "infer_end", "overlay_start", "overlay_end" and, once sinks and callbacks
        have run, "done".
    road_threshold: the road threshold the overlay and mask writer use for this frame.
    tracks: app.tracking.TrackFrame (track ids, distances, warnings) when the pipeline tracks, else None.
    """

    frame: Frame
    perception: Perception
    overlay: np.ndarray | None = None
    stamps: dict[str, float] = field(default_factory=dict)
    road_threshold: float = 0.5
    tracks: object | None = None

    @property
    def index(self) -> int:
        return self.frame.index

    @property
    def image(self) -> np.ndarray:
        """The overlay when drawn, else the raw frame."""
        return self.overlay if self.overlay is not None else self.frame.image

    def stage_ms(self) -> dict[str, float]:
        """Milliseconds per stage from the stamps present: capture, infer_wait, infer, output_wait, overlay,
        output, end_to_end."""
        s = self.stamps
        spans = {"capture": ("read_start", "captured"), "infer_wait": ("captured", "infer_start"),
                 "infer": ("infer_start", "infer_end"), "output_wait": ("infer_end", "overlay_start"),
                 "overlay": ("overlay_start", "overlay_end"), "output": ("overlay_end", "done"),
                 "end_to_end": ("captured", "done")}
        return {k: (s[b] - s[a]) * 1e3 for k, (a, b) in spans.items() if a in s and b in s}

    @property
    def latency_ms(self) -> float | None:
        """Capture → output (sinks and callbacks done) in ms; None before the output stage finished."""
        return self.stage_ms().get("end_to_end")


@dataclass(frozen=True)
class Thresholds:
    """Detection score, NMS IoU and road probability thresholds, each in [0, 1].

    class_conf: per-class score floors over `conf` ({"car": 0.4}: a car needs max(conf, 0.4));
    None leaves the predictor's as they are (a pipeline fills them in from its config).
    """

    # defaults: configs/runtime.yaml's `thresholds`, their one home
    conf: float = field(default_factory=lambda: default_thresholds()["conf"])
    iou: float = field(default_factory=lambda: default_thresholds()["iou"])
    road: float = field(default_factory=lambda: default_thresholds()["road"])
    # not a live control: equality and hashing are about the three live thresholds
    class_conf: dict | None = field(default=None, compare=False)

    def __post_init__(self):
        for name in ("conf", "iou", "road"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
                raise BadInputError(f"threshold {name} must be a number in [0, 1], got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.class_conf is not None:
            if not isinstance(self.class_conf, dict):
                raise UserError(f"thresholds.class_conf must map class names to scores, got {self.class_conf!r}")
            for name, value in self.class_conf.items():
                if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
                    raise UserError(f"thresholds.class_conf.{name} must be a number in [0, 1], got {value!r}")
            object.__setattr__(self, "class_conf", {str(k): float(v) for k, v in self.class_conf.items()})

    @classmethod
    def from_config(cls, config: dict) -> Thresholds:
        t = config.get("thresholds", {})
        return cls(**{k: t[k] for k in ("conf", "iou", "road") if k in t}, class_conf=dict(t.get("class_conf") or {}))


def _merge(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


_DEFAULTS_CACHE: dict | None = None
# runtime.yaml sections whose keys the user chooses (class names), not fixed setting names
RUNTIME_OPEN_MAPS = ("overlay.class_colors", "viewer.footprint_m")


def load_runtime_config(path: str | Path | None = None) -> dict:
    """configs/runtime.yaml, with the keys of `path` (a partial runtime YAML) laid over it."""
    global _DEFAULTS_CACHE
    if _DEFAULTS_CACHE is None:
        _DEFAULTS_CACHE = load_yaml(RUNTIME_CONFIG)
    config = copy.deepcopy(_DEFAULTS_CACHE)
    if path is not None:
        # runtime.yaml is the reference: a user's file may hold its keys only, with values of the same kind
        update = validate(load_yaml(path), schema_from_example(_DEFAULTS_CACHE, RUNTIME_OPEN_MAPS),
                          f"runtime config {path}")
        config = _merge(config, update)
        try:
            Thresholds.from_config(config)  # a threshold outside [0, 1]: an error now, naming the file
        except ValueError as e:
            raise ConfigError(f"runtime config {path}: {e}") from None
    return config


def runtime_config_with(override: dict) -> dict:
    """configs/runtime.yaml with `override` (a partial runtime config, e.g. {"overlay": {"road_alpha": 0.6}})
    laid over it, checked like a --runtime-config file: for code and tests that change a few keys. Readers of
    the runtime config index it (`config["overlay"]["road_alpha"]`): the YAML is the one home of a default."""
    base = load_runtime_config()
    update = validate(copy.deepcopy(override), schema_from_example(base, RUNTIME_OPEN_MAPS), "runtime config override")
    return _merge(base, update)
