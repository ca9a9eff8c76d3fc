"""The viewer's defaults in one place.

A `viewer:` section in configs/runtime.yaml (or in a --runtime-config file) overrides
any of these keys; the names and meanings are those of the fields below.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from core.config import ConfigError, check_keys


def _default_footprints() -> dict[str, tuple[float, float]]:
    # (width, length) in metres drawn on the road plane per class: a box's bottom edge gives the near face
    # of an object, not its length, so the length is a typical one (width is measured from the box)
    return {"car": (1.8, 4.5), "pedestrian": (0.6, 0.6), "cyclist": (0.7, 1.8)}


@dataclass(frozen=True)
class ViewerSettings:
    """speeds: replay speeds offered (multiples of the source's FPS); 0 means as fast as the pipeline runs.
    default_speed: the speed a replay starts at.
    latency_history: end-to-end latencies the graph shows (frames).
    stats_interval_ms: how often the figures, the state and the status bar refresh.
    control_debounce_ms: slider drags are applied after this pause, so a drag re-runs one frame, not fifty.
    output_dir: where recordings and screenshots go.
    window_size: the window's first size (width, height).
    dark_theme: the dark Fusion palette.
    video_suffixes: what the open-file dialog lists besides the runtime config's image suffixes.
    footprint_m: (width, length) of each class on the bird's-eye view.
    bev_dim: brightness of the camera image under the bird's-eye view's road layer (0-1).
    compact_size: below this width the bird's-eye view, below this height the figures panel give way to the video.
    recording_codecs: recordings use the first of these four-character codes OpenCV can write here.
    """

    speeds: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 0.0)
    default_speed: float = 1.0
    latency_history: int = 240
    stats_interval_ms: int = 250
    control_debounce_ms: int = 60
    output_dir: str = "out/viewer"
    window_size: tuple[int, int] = (1600, 900)
    dark_theme: bool = True
    video_suffixes: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
    footprint_m: dict[str, tuple[float, float]] = field(default_factory=_default_footprints)
    bev_dim: float = 0.55
    recording_codecs: tuple[str, ...] = ("avc1", "mp4v")
    compact_size: tuple[int, int] = (1200, 700)

    @classmethod
    def from_config(cls, config: dict | None = None, **overrides) -> ViewerSettings:
        """From the runtime config's `viewer:` section (unknown keys are an error), then `overrides`."""
        section = dict((config or {}).get("viewer") or {})
        section.update(overrides)
        check_keys(section, [f.name for f in fields(cls)], "viewer settings")
        for key in ("speeds", "window_size", "video_suffixes", "recording_codecs", "compact_size"):
            if key in section:
                section[key] = tuple(section[key])
        if "footprint_m" in section:
            section["footprint_m"] = {str(k): (float(v[0]), float(v[1])) for k, v in section["footprint_m"].items()}
        settings = cls(**section)
        if settings.default_speed not in settings.speeds:
            raise ConfigError(f"viewer default_speed {settings.default_speed} is not one of speeds {settings.speeds}")
        if any(s < 0 for s in settings.speeds):
            raise ConfigError(f"viewer speeds must be positive (or 0 for as fast as possible), got {settings.speeds}")
        return settings
