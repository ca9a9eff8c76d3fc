"""The one result type every backend produces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Perception:
    """What the network saw in one frame, in the frame's own pixels.

    road_probs: (C, H, W) float32 in [0, 1] at the original image size; channel
        0 is the drivable road, further channels follow `road_classes` (e.g. lane).
    boxes: (N, 6) float32 rows `x1, y1, x2, y2, score, class` in original pixels,
        sorted by score, after NMS.
    timings: milliseconds per step: "pre", "infer", "post".
    """

    road_probs: np.ndarray
    boxes: np.ndarray
    class_names: list[str]
    road_classes: list[str] = field(default_factory=lambda: ["road"])
    timings: dict[str, float] = field(default_factory=dict)
    backend: str = ""

    @property
    def road(self) -> np.ndarray:
        """(H, W) probability of drivable road."""
        return self.road_probs[0]

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the frame this result belongs to: the one size convention of the code, OpenCV's
        (app.frames.Frame.size, calib's image_size, cv2.resize's dsize). Array shapes stay (..., H, W)."""
        return self.road_probs.shape[2], self.road_probs.shape[1]

    def road_mask(self, threshold: float = 0.5) -> np.ndarray:
        return self.road >= threshold

    def boxes_of(self, class_name: str) -> np.ndarray:
        return self.boxes[self.boxes[:, 5] == self.class_names.index(class_name)]

    def to_json(self) -> dict:
        """Detections as plain data (the road map is too big for a JSON line; save it as a PNG)."""
        return {
            "boxes": [
                {"xyxy": [round(float(v), 1) for v in b[:4]], "score": round(float(b[4]), 4),
                 "class": self.class_names[int(b[5])]}
                for b in self.boxes
            ],
            "road_fraction": round(float(self.road_mask().mean()), 4) if self.road_probs.size else 0.0,
            "timings_ms": {k: round(v, 2) for k, v in self.timings.items()},
            "backend": self.backend,
        }
