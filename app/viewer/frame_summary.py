"""What the network sees in the frame on screen, in words: objects per class, the nearest vehicle, the road share."""

from __future__ import annotations

import math

import numpy as np
from PyQt5.QtWidgets import QGridLayout, QGroupBox, QLabel, QWidget

from ..frames import FrameResult

ROAD_SAMPLE_STEP = 8  # the road share from every 8th pixel each way: the same figure at 1/64 of the work


class FrameSummary(QGroupBox):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("This frame", parent)
        grid = QGridLayout(self)
        grid.setVerticalSpacing(2)
        self.rows: dict[str, QLabel] = {}
        for i, (key, caption) in enumerate((("objects", "Objects"), ("nearest", "Nearest"), ("road", "Road"))):
            label = QLabel(caption)
            label.setObjectName("caption")
            value = QLabel("–")
            value.setWordWrap(True)
            grid.addWidget(label, i, 0)
            grid.addWidget(value, i, 1)
            self.rows[key] = value
        grid.setColumnStretch(1, 1)

    def show_result(self, result: FrameResult, distance=None, distance_classes: tuple[str, ...] = ("car",)) -> None:
        """distance: the overlay's DistanceEstimator (None without a calibration)."""
        p = result.perception
        names = p.class_names
        classes = p.boxes[:, 5].astype(int) if len(p.boxes) else np.empty(0, int)
        counts = [f"{name} {int((classes == i).sum())}" for i, name in enumerate(names)]
        self.rows["objects"].setText(" · ".join(counts) if counts else "–")
        if result.tracks is not None:  # tracking: confirmed, plausible tracks only, smoothed, with TTC and warning
            from ..track_overlay import nearest_text

            self.rows["nearest"].setText(nearest_text(result.tracks))
        else:
            self.rows["nearest"].setText(self._nearest(p, distance, distance_classes))
        if p.road_probs.size:
            share = float((p.road[::ROAD_SAMPLE_STEP, ::ROAD_SAMPLE_STEP] >= result.road_threshold).mean())
            self.rows["road"].setText(f"{share:.0%} of the image at ≥ {result.road_threshold:.2f}")
        else:
            self.rows["road"].setText("–")

    @staticmethod
    def _nearest(p, distance, distance_classes) -> str:
        if distance is None:
            return "needs a calibration"
        best = None
        for x1, _, x2, y2, _, cls in p.boxes:
            cls = int(cls)
            name = p.class_names[cls] if 0 <= cls < len(p.class_names) else str(cls)
            if name not in distance_classes:
                continue
            d = distance.distance_m(float((x1 + x2) / 2), float(y2))
            if d is not None and math.isfinite(d) and (best is None or d < best[0]):
                best = (d, name)
        return f"{best[1]} at {best[0]:.1f} m" if best else "no vehicle on the road"

    def clear(self) -> None:
        for value in self.rows.values():
            value.setText("–")
