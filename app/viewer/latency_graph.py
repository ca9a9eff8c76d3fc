"""A small live graph of the last N end-to-end latencies (a QWidget that paints itself; no plotting library)."""

from __future__ import annotations

import math
from collections import deque

from PyQt5.QtCore import QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QLinearGradient, QPainter, QPainterPath, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ value (a readable top for the axis)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value - 1e-9:
            return step * power
    return 10 * power


class LatencyGraph(QWidget):
    """Latency (ms) of the last `capacity` frames, newest on the right; the axis top follows the largest one.

    budget_ms: a dashed line at the source's frame period: latency above it means a
    live source would drop frames.
    """

    LINE = QColor(90, 170, 255)
    BUDGET = QColor(255, 170, 60)

    def __init__(self, capacity: int = 240, parent: QWidget | None = None):
        super().__init__(parent)
        self.values: deque[float] = deque(maxlen=capacity)
        self.budget_ms: float | None = None
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setMinimumHeight(96)

    def sizeHint(self) -> QSize:
        return QSize(260, 110)

    def add(self, latency_ms: float) -> None:
        if math.isfinite(latency_ms):
            self.values.append(float(latency_ms))
            self.update()

    def clear(self) -> None:
        self.values.clear()
        self.update()

    def set_budget(self, ms: float | None) -> None:
        self.budget_ms = ms
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), QColor(22, 22, 26))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        plot = QRectF(self.rect()).adjusted(34, 8, -6, -6)
        top = nice_ceiling(max([*self.values, self.budget_ms or 0.0, 10.0]))

        def y_of(ms: float) -> float:
            return plot.bottom() - min(ms, top) / top * plot.height()

        for frac in (0.0, 0.5, 1.0):  # axis lines and labels
            y = y_of(top * frac)
            painter.setPen(QPen(QColor(255, 255, 255, 30 if frac else 60), 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(QColor(150, 150, 160))
            painter.drawText(QRectF(0, y - 7, plot.left() - 4, 14), Qt.AlignRight | Qt.AlignVCenter, f"{top * frac:g}")
        if self.budget_ms:
            painter.setPen(QPen(self.BUDGET, 1, Qt.DashLine))
            y = y_of(self.budget_ms)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        if len(self.values) < 2:
            painter.setPen(QColor(120, 120, 130))
            painter.drawText(plot, Qt.AlignCenter, "latency appears while playing")
            return
        dx = plot.width() / (self.values.maxlen - 1)
        x0 = plot.right() - (len(self.values) - 1) * dx
        line = QPainterPath(QPointF(x0, y_of(self.values[0])))
        for i, v in enumerate(self.values):
            line.lineTo(QPointF(x0 + i * dx, y_of(v)))
        area = QPainterPath(line)
        area.lineTo(QPointF(plot.right(), plot.bottom()))
        area.lineTo(QPointF(x0, plot.bottom()))
        area.closeSubpath()
        fill = QLinearGradient(0, plot.top(), 0, plot.bottom())
        fill.setColorAt(0.0, QColor(90, 170, 255, 110))
        fill.setColorAt(1.0, QColor(90, 170, 255, 10))
        painter.fillPath(area, fill)
        painter.setPen(QPen(self.LINE, 1.5))
        painter.drawPath(line)
        painter.setPen(QColor(235, 235, 240))
        painter.drawText(plot.adjusted(0, 0, -4, 0), Qt.AlignRight | Qt.AlignTop, f"{self.values[-1]:.0f} ms")
