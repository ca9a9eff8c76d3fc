"""The bird's-eye view panel: the road layer on a metric grid, objects as footprints with their distances.

Paints a BirdsEyeFrame (app/viewer/birdseye.py, made on the pipeline's output
thread). The grid lines, footprints and labels are drawn by Qt at the panel's
size, so they stay sharp however the panel is scaled.
"""

from __future__ import annotations

import math

from PyQt5.QtCore import QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PyQt5.QtWidgets import QSizePolicy, QWidget

from .birdseye import BirdsEyeFrame, Footprint
from .images import ImageView
from .video_view import fit_rect

GRID_STEP_Z_M = 10.0  # a labelled line every 10 m ahead
GRID_STEP_X_M = 5.0  # a faint line every 5 m sideways
MARGIN = (34, 8, 8, 22)  # left (distance labels), top, right, bottom (camera marker)


class BirdsEyePanel(QWidget):
    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._frame: BirdsEyeFrame | None = None
        self._view: ImageView | None = None
        self._placeholder = placeholder
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
        self.setMinimumSize(160, 240)

    def sizeHint(self) -> QSize:
        return QSize(280, 560)

    def set_frame(self, frame: BirdsEyeFrame) -> None:
        self._frame = frame
        self._view = ImageView(frame.image)
        self.update()

    @property
    def frame(self) -> BirdsEyeFrame | None:
        return self._frame

    def clear(self, placeholder: str | None = None) -> None:
        self._frame = self._view = None
        if placeholder is not None:
            self._placeholder = placeholder
        self.update()

    # --- geometry ---------------------------------------------------------------------------------------------------
    def grid_rect(self) -> QRectF:
        if self._frame is None:
            return QRectF()
        left, top, right, bottom = MARGIN
        area = QRectF(self.rect()).adjusted(left, top, -right, -bottom)
        rows, cols = self._frame.grid.shape
        return fit_rect(cols, rows, area)

    def to_widget(self, x_m: float, z_m: float) -> QPointF:
        """Widget position of the road point (X, Z)."""
        g, r = self._frame.grid, self.grid_rect()
        return QPointF(r.left() + (x_m - g.x_min) / (g.x_max - g.x_min) * r.width(),
                       r.top() + (g.z_max - z_m) / (g.z_max - g.z_min) * r.height())

    # --- painting ---------------------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(18, 18, 20))
        if self._frame is None:
            painter.setPen(QColor(140, 140, 150))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignCenter | Qt.TextWordWrap,
                             self._placeholder)
            return
        target = self.grid_rect()
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        painter.drawImage(target, self._view.qimage)
        painter.setRenderHint(QPainter.Antialiasing)
        self._paint_grid(painter, target)
        painter.save()
        painter.setClipRect(target)
        labels: list[QRectF] = []  # placed so far, nearest first: a farther label moves rather than covers one
        for footprint in sorted(self._frame.footprints, key=lambda f: f.distance_m):
            self._paint_footprint(painter, footprint, labels)
        painter.restore()
        self._paint_camera(painter, target)

    def _paint_grid(self, painter: QPainter, target: QRectF) -> None:
        g = self._frame.grid
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        faint = QPen(QColor(255, 255, 255, 40), 1, Qt.DotLine)
        painter.setPen(faint)
        x = math.ceil(g.x_min / GRID_STEP_X_M) * GRID_STEP_X_M
        while x <= g.x_max:
            if abs(x) > 1e-6:
                a, b = self.to_widget(x, g.z_min), self.to_widget(x, g.z_max)
                painter.drawLine(a, b)
            x += GRID_STEP_X_M
        painter.setPen(QPen(QColor(255, 255, 255, 70), 1, Qt.DashLine))  # straight ahead of the camera
        painter.drawLine(self.to_widget(0.0, g.z_min), self.to_widget(0.0, g.z_max))
        z = math.ceil(g.z_min / GRID_STEP_Z_M) * GRID_STEP_Z_M
        while z <= g.z_max:
            p = self.to_widget(g.x_min, z)
            painter.setPen(QPen(QColor(255, 255, 255, 55), 1))
            painter.drawLine(p, self.to_widget(g.x_max, z))
            painter.setPen(QColor(170, 170, 180))
            painter.drawText(QRectF(0, p.y() - 8, target.left() - 4, 16), Qt.AlignRight | Qt.AlignVCenter,
                             f"{z:g} m")
            z += GRID_STEP_Z_M
        painter.setPen(QPen(QColor(255, 255, 255, 90), 1))
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(target)

    def _paint_footprint(self, painter: QPainter, f: Footprint, placed: list[QRectF]) -> None:
        near_left = self.to_widget(f.x_m - f.width_m / 2, f.z_m)
        far_right = self.to_widget(f.x_m + f.width_m / 2, f.z_m + f.length_m)
        box = QRectF(near_left, far_right).normalized()
        if box.width() < 4:  # keep a distant pedestrian visible
            box.adjust(-(4 - box.width()) / 2, 0, (4 - box.width()) / 2, 0)
        b, g, r = f.color_bgr
        painter.setPen(QPen(QColor(r, g, b), 1.5))
        painter.setBrush(QColor(r, g, b, 150))
        painter.drawRoundedRect(box, 2, 2)
        if self._frame.show_distance:
            text = f"{f.distance_m:.1f} m"
            font = QFont(self.font())
            font.setBold(True)
            painter.setFont(font)
            metrics = painter.fontMetrics()
            tw, th = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
            label = QRectF(box.right() + 4, box.bottom() - th, tw, th)
            grid = self.grid_rect()
            if label.right() > grid.right():  # no room on the right: put it on the left
                label.moveRight(box.left() - 4)
            label.moveLeft(max(grid.left(), min(label.left(), grid.right() - tw)))
            label.moveTop(max(grid.top(), min(label.top(), grid.bottom() - th)))
            for _ in range(len(placed)):  # step up (farther) past the labels it would cover
                hit = next((other for other in placed if other.intersects(label)), None)
                if hit is None:
                    break
                label.moveBottom(hit.top() - 2)
            placed.append(label)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(label, 3, 3)
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(label, Qt.AlignCenter, text)

    def _paint_camera(self, painter: QPainter, target: QRectF) -> None:
        """The ego camera's heading, under the grid's near edge (the grid starts z_min metres ahead)."""
        cx, y = target.center().x(), target.bottom() + 4
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(230, 230, 235))
        painter.drawPolygon(QPolygonF([QPointF(cx, y), QPointF(cx - 7, y + 12), QPointF(cx + 7, y + 12)]))
        painter.setPen(QColor(150, 150, 160))
        painter.drawText(QRectF(cx + 12, y - 2, target.right() - cx - 12, 16), Qt.AlignLeft | Qt.AlignVCenter,
                         "camera")
        z_min = self._frame.grid.z_min  # the grid starts this far ahead of the camera: label its near edge
        painter.drawText(QRectF(0, target.bottom() - 8, target.left() - 4, 16), Qt.AlignRight | Qt.AlignVCenter,
                         f"{z_min:g} m")
