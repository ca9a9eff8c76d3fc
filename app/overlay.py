"""Drawing a Perception on its frame: road layer, boxes with class and score, vehicle distance, HUD.

    renderer = OverlayRenderer(distance=camera)       # camera: anything with distance_m(u, v) -> float | None
    image = renderer.render(frame_bgr, perception, road_threshold=0.5, hud="24.8 FPS | 41 ms | onnxruntime")
    renderer.layers = renderer.layers.replace(road=False)   # toggles; takes effect on the next render

Colours, opacity and text sizes come from configs/runtime.yaml (`overlay:`).
Per frame cost is a few vectorised cv2 calls (one blend and one masked copy for
the road, a rectangle and a text per box): a few ms on one CPU core (docs/results/README.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np

from core.config import ConfigError
from nets.result import Perception

from .frames import load_runtime_config

FONT = cv2.FONT_HERSHEY_SIMPLEX
_PALETTE = [(255, 144, 30), (60, 20, 220), (0, 200, 255), (180, 105, 255), (0, 255, 127), (255, 0, 255)]


class DistanceEstimator(Protocol):
    """The road-plane distance (m) to the road point seen at image pixel (u, v); None where undefined
    (at or above the horizon)."""

    def distance_m(self, u: float, v: float) -> float | None:
        ...


@dataclass(frozen=True)
class OverlayLayers:
    """Which layers are drawn."""

    road: bool = True
    boxes: bool = True
    labels: bool = True  # class and score text on boxes
    distance: bool = True  # needs a distance estimator
    hud: bool = True

    def replace(self, **changes) -> OverlayLayers:
        return replace(self, **changes)


BGR = tuple[int, int, int]


def _bgr(value, key: str) -> BGR:
    if not (isinstance(value, (list, tuple)) and len(value) == 3 and all(0 <= int(v) <= 255 for v in value)):
        raise ConfigError(f"overlay colour {key} must be [B, G, R] with values 0-255, got {value!r}")
    return tuple(int(v) for v in value)


@dataclass(frozen=True)
class OverlayStyle:
    """Colours, opacity and text sizes. No field has a default: they come from configs/runtime.yaml
    (`from_config`), their one home; change a few with dataclasses.replace(OverlayStyle.from_config(), ...)."""

    road_color: BGR
    road_alpha: float
    class_colors: tuple[tuple[str, BGR], ...]  # empty: a palette colour per class id
    default_color: BGR
    box_thickness: int
    font_scale: float
    distance_classes: tuple[str, ...]
    hud_font_scale: float
    hud_color: BGR
    hud_background: BGR
    hud_background_alpha: float

    @classmethod
    def from_config(cls, config: dict | None = None) -> OverlayStyle:
        # every key is read from the merged runtime config: configs/runtime.yaml is the one home of the defaults
        o = (config or load_runtime_config())["overlay"]
        hud = o["hud"]
        alpha = float(o["road_alpha"])
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"overlay road_alpha must be in [0, 1], got {alpha}")
        return cls(
            road_color=_bgr(o["road_color"], "road_color"),
            road_alpha=alpha,
            class_colors=tuple((str(k), _bgr(v, f"class_colors.{k}")) for k, v in o["class_colors"].items()),
            default_color=_bgr(o["default_color"], "default_color"),
            box_thickness=int(o["box_thickness"]),
            font_scale=float(o["font_scale"]),
            distance_classes=tuple(o["distance_classes"]),
            hud_font_scale=float(hud["font_scale"]),
            hud_color=_bgr(hud["color"], "hud.color"),
            hud_background=_bgr(hud["background"], "hud.background"),
            hud_background_alpha=float(hud["background_alpha"]),
        )

    def color_of(self, class_name: str, class_id: int) -> BGR:
        for name, color in self.class_colors:
            if name == class_name:
                return color
        return _PALETTE[class_id % len(_PALETTE)] if not self.class_colors else self.default_color


def layers_from_config(config: dict | None = None) -> OverlayLayers:
    layers = (config or load_runtime_config())["overlay"]["layers"]
    return OverlayLayers(**{k: bool(v) for k, v in layers.items()})


class OverlayRenderer:
    """Draws perceptions on frames. `layers` and `distance` may be replaced between frames from any thread."""

    def __init__(self, style: OverlayStyle | None = None, layers: OverlayLayers | None = None,
                 distance: DistanceEstimator | None = None, config: dict | None = None):
        config = config or load_runtime_config()
        self.style = style or OverlayStyle.from_config(config)
        self.layers = layers or layers_from_config(config)
        self.distance = distance
        self.warning_color = _bgr(config["warning"]["color"], "warning.color")
        self._tint: tuple[np.ndarray, BGR] | None = None

    # --- the whole overlay ---------------------------------------------------------------------------------------
    def render(self, image: np.ndarray, perception: Perception, road_threshold: float = 0.5,
               hud: str | None = None, layers: OverlayLayers | None = None, text: bool = True,
               tracks=None) -> np.ndarray:
        """A new image: `image` (BGR uint8, not modified) with the enabled layers drawn.

        text=False draws the shapes only (road, box outlines): a display that scales the image draws the box
        labels and the HUD itself afterwards, at a size that stays readable (the viewer).
        tracks: an app.tracking.TrackFrame: ids, trails, smoothed distances and the warning (app/track_overlay.py)
        are drawn, and the boxes carry no distance of their own.
        """
        layers = layers or self.layers
        out = image.copy()
        if layers.road and perception.road_probs.size:
            self.draw_road(out, perception.road, road_threshold)
        if layers.boxes and len(perception.boxes):
            self.draw_boxes(out, perception, labels=layers.labels and text,
                            distance=self.distance if layers.distance and text and tracks is None else None)
        if tracks is not None:
            from .track_overlay import draw_tracks

            if not layers.boxes:  # boxes off: only warnings stay visible
                tracks = replace(tracks, tracks=[t for t in tracks.tracks if t.warning])
            draw_tracks(out, tracks, self.style, self.warning_color, distance=layers.distance)
        if layers.hud and hud and text:
            self.draw_hud(out, hud)
        return out

    # --- layers (draw in place) ----------------------------------------------------------------------------------
    def road_mask(self, road: np.ndarray, threshold: float, shape: tuple[int, int]) -> np.ndarray:
        """uint8 (H, W) 1 where road probability ≥ threshold, at `shape` (resized when the map has another size)."""
        if road.shape != shape:
            road = cv2.resize(road, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        return (road >= threshold).view(np.uint8)

    def draw_road(self, out: np.ndarray, road: np.ndarray, threshold: float) -> None:
        """Tint the pixels whose road probability is ≥ threshold; every other pixel stays as it was."""
        mask = self.road_mask(road, threshold, out.shape[:2])
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            return
        top, bottom = int(rows[0]), int(rows[-1]) + 1  # blend only the rows that hold road (usually the lower half)
        color = self.style.road_color
        if self._tint is None or self._tint[0].shape != out.shape or self._tint[1] != color:
            # cached: filling a frame-sized image costs more than the blend itself
            self._tint = (np.full(out.shape, color, np.uint8), color)
        a = self.style.road_alpha
        band = out[top:bottom]
        blended = cv2.addWeighted(band, 1.0 - a, self._tint[0][top:bottom], a, 0.0)
        cv2.copyTo(blended, mask[top:bottom], band)

    def _text_scale(self, out: np.ndarray, base: float) -> float:
        return base * max(0.6, out.shape[0] / 720)

    def box_labels(self, perception: Perception, labels: bool = True,
                   distance: DistanceEstimator | None = None) -> list[str]:
        """The text drawn on each box: "car 0.87 12.4 m" (class, score, road distance where known)."""
        texts = []
        names = perception.class_names
        for x1, _y1, x2, y2, score, cls in perception.boxes:
            cls = int(cls)
            name = names[cls] if 0 <= cls < len(names) else str(cls)
            parts = [f"{name} {score:.2f}"] if labels else []
            if distance is not None and name in self.style.distance_classes:
                d = distance.distance_m(float((x1 + x2) / 2), float(y2))
                if d is not None and math.isfinite(d):
                    parts.append(f"{d:.1f} m")
            texts.append(" ".join(parts))
        return texts

    def box_label_items(self, perception: Perception, labels: bool = True,
                        distance: DistanceEstimator | None = None) -> list[tuple[tuple[float, float, float, float],
                                                                                 str, BGR]]:
        """((x1, y1, x2, y2), text, BGR colour) of each box: what draw_labels draws, for a display that draws
        the text itself (empty texts included, so items line up with the boxes)."""
        items = []
        names = perception.class_names
        texts = self.box_labels(perception, labels, distance)
        for (x1, y1, x2, y2, _, cls), text in zip(perception.boxes, texts, strict=True):
            cls = int(cls)
            name = names[cls] if 0 <= cls < len(names) else str(cls)
            items.append(((float(x1), float(y1), float(x2), float(y2)), text, self.style.color_of(name, cls)))
        return items

    def draw_boxes(self, out: np.ndarray, perception: Perception, labels: bool = True,
                   distance: DistanceEstimator | None = None) -> None:
        h, w = out.shape[:2]
        thick = max(1, int(round(self.style.box_thickness * max(1.0, h / 720))))
        items = self.box_label_items(perception, labels, distance)
        for (x1, y1, x2, y2), _, color in items:
            p1 = (int(max(0, min(w - 1, x1))), int(max(0, min(h - 1, y1))))
            p2 = (int(max(0, min(w - 1, x2))), int(max(0, min(h - 1, y2))))
            cv2.rectangle(out, p1, p2, color, thick, cv2.LINE_AA)
        self.draw_labels(out, items)

    def draw_labels(self, out: np.ndarray, items) -> None:
        """The text of box_label_items on filled tags at each box's top left corner, in place."""
        h, w = out.shape[:2]
        scale = self._text_scale(out, self.style.font_scale)
        for (x1, y1, _, _), text, color in items:
            if not text:
                continue
            p1 = (int(max(0, min(w - 1, x1))), int(max(0, min(h - 1, y1))))
            (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
            ty = p1[1] - 3 if p1[1] - th - base - 3 >= 0 else p1[1] + th + 3
            cv2.rectangle(out, (p1[0], ty - th - 2), (p1[0] + tw + 2, ty + base), color, -1)
            cv2.putText(out, text, (p1[0] + 1, ty), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)

    def draw_hud(self, out: np.ndarray, text: str) -> None:
        """One line of text on a translucent bar at the top left."""
        s = self.style
        scale = self._text_scale(out, s.hud_font_scale)
        (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
        pad = 6
        x2, y2 = min(out.shape[1], tw + 2 * pad), min(out.shape[0], th + base + 2 * pad)
        roi = out[:y2, :x2]
        bar = np.empty_like(roi)
        bar[:] = s.hud_background
        cv2.addWeighted(roi, 1.0 - s.hud_background_alpha, bar, s.hud_background_alpha, 0.0, dst=roi)
        cv2.putText(out, text, (pad, pad + th), FONT, scale, s.hud_color, 1, cv2.LINE_AA)


class GroundDistance:
    """A DistanceEstimator over anything with `ground_distance(u, v)` returning metres or NaN.

    E.g. calib's road-plane homography for the frame size:
    `GroundDistance(load_camera_geometry(path).homography_for((width, height)))`.
    """

    def __init__(self, homography):
        self.homography = homography

    def distance_m(self, u: float, v: float) -> float | None:
        d = float(np.asarray(self.homography.ground_distance(u, v)))
        return d if math.isfinite(d) else None
