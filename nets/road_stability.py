"""Steadier road masks on video: small enclosed holes filled, the probability smoothed over time.

Runs on the network's stride-4 road map (96x160 at 384x640), before the map is
warped to the frame, so it costs a fraction of a millisecond. Per frame the
road mask flickers: shadows, lane paint and glare punch holes in the ego lane
that move from frame to frame. Two cheap remedies, each switchable in
configs/runtime.yaml (`road_smoothing:`):

- hole filling: a non-road region (probability < 0.5) that road encloses (it
  touches no border of the map) and is smaller than `max_hole_frac` of the map
  is raised to `fill_prob`, unless a detected box covers any of it (a car on the
  road is an enclosed non-road region too, and must stay one).
- temporal smoothing: an exponential moving average of the probability,
  `state = alpha * new + (1 - alpha) * state`. It starts afresh at a seek (the
  pipeline calls `reset()`) and at a scene cut, seen as a mean absolute change
  of more than `scene_cut` between the new map and the state.

The filter keeps state: one per stream, frames in order. Single-image scoring
(run.py eval) does not use it.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.errors import UserError


class RoadStabilizer:
    def __init__(self, ema_alpha: float = 0.5, fill_holes: bool = True, max_hole_frac: float = 0.01,
                 fill_prob: float = 0.75, scene_cut: float = 0.2, temporal: bool = True):
        for name, value in (("ema_alpha", ema_alpha), ("max_hole_frac", max_hole_frac), ("fill_prob", fill_prob),
                            ("scene_cut", scene_cut)):
            if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
                raise UserError(f"road_smoothing.{name} must be a number in [0, 1], got {value!r}")
        if ema_alpha <= 0:
            raise UserError("road_smoothing.ema_alpha must be over 0 (1 = no smoothing)")
        self.ema_alpha, self.fill_holes, self.temporal = float(ema_alpha), bool(fill_holes), bool(temporal)
        self.max_hole_frac, self.fill_prob, self.scene_cut = float(max_hole_frac), float(fill_prob), float(scene_cut)
        self._state: np.ndarray | None = None
        self.resets = 0  # scene cuts and seeks seen (for tests and the benchmark)

    @classmethod
    def from_config(cls, cfg: dict | None) -> RoadStabilizer | None:
        """The filter of a runtime config's `road_smoothing:` block; None when it is off or absent."""
        cfg = dict(cfg or {})
        if not cfg.pop("enabled", False):
            return None
        unknown = sorted(set(cfg) - {"ema_alpha", "fill_holes", "max_hole_frac", "fill_prob", "scene_cut", "temporal"})
        if unknown:
            raise UserError(f"road_smoothing: unknown keys {unknown}; see configs/runtime.yaml")
        return cls(**cfg)

    def reset(self) -> None:
        """Forget the past frames (a seek, a new source)."""
        if self._state is not None:
            self.resets += 1
        self._state = None

    def __call__(self, road: np.ndarray, boxes: np.ndarray | None = None, input_size=None) -> np.ndarray:
        """road (C, h, w) probabilities on the network grid; boxes (N, 6) in network pixels of `input_size`
        (h, w) protect the regions they cover from hole filling. Returns the steadier map (a new array)."""
        road = np.asarray(road, dtype=np.float32)
        out = road.copy()
        if self.fill_holes:
            keep_out = self._box_mask(road.shape[1:], boxes, input_size)
            for c in range(out.shape[0]):
                fill_enclosed_holes(out[c], self.max_hole_frac, self.fill_prob, keep_out)
        if not self.temporal:
            return out
        if self._state is None or self._state.shape != out.shape or \
                float(np.abs(out - self._state).mean()) > self.scene_cut:
            if self._state is not None:
                self.resets += 1
            self._state = out
            return out.copy()
        self._state = self.ema_alpha * out + (1.0 - self.ema_alpha) * self._state
        return self._state.copy()

    @staticmethod
    def _box_mask(shape, boxes, input_size) -> np.ndarray | None:
        if boxes is None or len(boxes) == 0 or input_size is None:
            return None
        h, w = shape
        sy, sx = h / input_size[0], w / input_size[1]
        mask = np.zeros((h, w), bool)
        for x1, y1, x2, y2 in np.asarray(boxes)[:, :4]:
            mask[max(int(y1 * sy), 0):int(np.ceil(y2 * sy)), max(int(x1 * sx), 0):int(np.ceil(x2 * sx))] = True
        return mask


def fill_enclosed_holes(prob: np.ndarray, max_frac: float, fill_prob: float,
                        keep_out: np.ndarray | None = None) -> int:
    """In place: raise the enclosed non-road regions (p < 0.5, touching no border, at most `max_frac` of the
    map, not overlapping `keep_out`) of one (h, w) map to at least `fill_prob`. Returns how many it filled."""
    not_road = (prob < 0.5).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(not_road, connectivity=4)
    h, w = prob.shape
    x, y, bw, bh, area = (stats[:, i] for i in range(5))
    enclosed = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h) & (area <= max_frac * h * w)
    enclosed[0] = False  # label 0 is the road itself
    if keep_out is not None and enclosed.any():
        enclosed[np.unique(labels[keep_out])] = False
    if not enclosed.any():
        return 0
    holes = enclosed[labels]
    np.maximum(prob, fill_prob, out=prob, where=holes)
    return int(enclosed.sum())
