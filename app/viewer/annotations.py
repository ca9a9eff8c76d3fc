"""The text the viewer puts on a frame — box labels (class, score, distance) and the HUD line — kept apart from
the pixels so the video panel draws it *after* scaling the frame, at a size that stays readable.

The pipeline draws the shapes (road layer, box outlines) into the frame at its own
resolution; text drawn there would shrink with the frame (7 px tall for a KITTI frame
in a 1600×900 window). Recordings and screenshots get the same text drawn at the
frame's resolution by `compose` (OpenCV, the overlay's own style), so what is saved
shows what is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..frames import FrameResult
from ..overlay import OverlayRenderer


@dataclass(frozen=True)
class FrameText:
    """labels: ((x1, y1, x2, y2) in frame pixels, text, BGR colour) per labelled box; hud: the HUD line or None."""

    labels: tuple = ()
    hud: str | None = None


class ShapesOnlyRenderer(OverlayRenderer):
    """The session's overlay renderer: the pipeline calls it as any renderer, and it draws no text."""

    def render(self, image, perception, road_threshold: float = 0.5, hud=None, layers=None, text: bool = False,
               tracks=None):
        return super().render(image, perception, road_threshold, hud, layers, text=text, tracks=tracks)


class Annotator:
    """FrameText for a FrameResult, from the renderer's layer toggles (any thread).

    distance_for(result): the frame's DistanceEstimator (None without a calibration for it).
    hud_for(result): the HUD line.
    """

    def __init__(self, renderer: OverlayRenderer, distance_for: Callable[[FrameResult], object],
                 hud_for: Callable[[FrameResult], str]):
        self.renderer = renderer
        self.distance_for = distance_for
        self.hud_for = hud_for

    def annotate(self, result: FrameResult) -> FrameText:
        layers = self.renderer.layers
        labels: tuple = ()
        if layers.boxes and len(result.perception.boxes) and (layers.labels or layers.distance):
            distance = self.distance_for(result) if layers.distance else None
            items = self.renderer.box_label_items(result.perception, layers.labels, distance)
            labels = tuple(item for item in items if item[1])
        return FrameText(labels, self.hud_for(result) if layers.hud else None)

    def compose(self, image: np.ndarray, text: FrameText | None) -> np.ndarray:
        """A copy of `image` with `text` drawn at the image's resolution (recordings, screenshots)."""
        if text is None or (not text.labels and not text.hud):
            return image
        out = image.copy()
        self.renderer.draw_labels(out, text.labels)
        if text.hud:
            self.renderer.draw_hud(out, text.hud)
        return out

    def composed(self, result: FrameResult) -> np.ndarray:
        """The frame's overlay with its text (the recording's frames)."""
        return self.compose(result.image, self.annotate(result))
