"""The video panel: the newest overlaid frame, scaled to the widget with its aspect ratio kept, and its text (box
labels, the HUD) drawn after scaling, at the widget's font size, so it reads the same at any frame size."""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QPainter
from PyQt5.QtWidgets import QSizePolicy, QWidget

from .annotations import FrameText
from .images import ImageView

TEXT_POINT_SCALE = 1.0  # box labels and the HUD at the window font's size (readable, whatever the frame's size)


def fit_rect(image_w: int, image_h: int, area: QRectF) -> QRectF:
    """The largest rectangle of the image's aspect ratio centred in `area`."""
    scale = min(area.width() / image_w, area.height() / image_h)
    w, h = image_w * scale, image_h * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


class VideoView(QWidget):
    """Paints the frame it was given last; shows `placeholder` text before the first frame.

    set_image() takes the array as it is (no copy: the pipeline never touches a
    delivered frame again) and keeps it referenced for as long as it is shown.
    """

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._view: ImageView | None = None
        self._placeholder = placeholder
        self._badge = ""
        self._text: FrameText | None = None
        self.composer = None  # anything with compose(image, FrameText) → image: current_image() as saved
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(240, 135)
        self.setAttribute(Qt.WA_OpaquePaintEvent)  # every pixel is painted: Qt need not clear first

    def sizeHint(self) -> QSize:
        return QSize(1024, 576)

    def set_image(self, image: np.ndarray, text: FrameText | None = None) -> None:
        self._view = ImageView(image)
        self._text = text
        self.update()

    def current_image(self) -> np.ndarray | None:
        """The frame on screen at the source's resolution: the pipeline's overlay with the text on screen drawn
        into it (what a screenshot saves)."""
        if self._view is None:
            return None
        if self.composer is None or self._text is None:
            return self._view.array
        return self.composer.compose(self._view.array, self._text)

    @property
    def text(self) -> FrameText | None:
        """The labels and HUD drawn over the frame on screen."""
        return self._text

    def clear(self, placeholder: str | None = None) -> None:
        self._view = None
        self._text = None
        if placeholder is not None:
            self._placeholder = placeholder
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def set_badge(self, text: str) -> None:
        """A short state label in the top right corner (e.g. PAUSED), painted by Qt, never into the frame."""
        if text != self._badge:
            self._badge = text
            self.update()

    def image_rect(self) -> QRectF:
        """Where the frame is drawn in widget coordinates (empty before the first frame)."""
        if self._view is None:
            return QRectF()
        return fit_rect(self._view.width, self._view.height, QRectF(self.rect()))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(12, 12, 14))
        if self._view is None:
            painter.setPen(QColor(150, 150, 160))
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.25)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self._placeholder)
            return
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        target = self.image_rect()
        painter.drawImage(target, self._view.qimage)
        painter.setClipRect(target)  # text never spills out of the frame onto the panels around it
        if self._text is not None:
            self._paint_text(painter, target, self._text)
        if self._badge:
            self._paint_badge(painter, target)

    def _paint_badge(self, painter: QPainter, target: QRectF) -> None:
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(self._badge) + 20, metrics.height() + 10
        box = QRectF(target.right() - w - 10, target.top() + 10, w, h)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(box, 5, 5)
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(box, Qt.AlignCenter, self._badge)

    def _text_font(self, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * TEXT_POINT_SCALE)
        font.setBold(bold)
        return font

    def _paint_text(self, painter: QPainter, target: QRectF, text: FrameText) -> None:
        scale = target.width() / self._view.width
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.TextAntialiasing)
        if text.labels:
            painter.setFont(self._text_font(bold=True))
            metrics = painter.fontMetrics()
            h = metrics.height() + 2
            for (x1, y1, _, _), label, (b, g, r) in text.labels:
                x, y = target.x() + x1 * scale, target.y() + y1 * scale
                w = metrics.horizontalAdvance(label) + 8
                top = y - h if y - h >= target.top() else y  # above the box, inside it at the frame's top
                tag = QRectF(min(x, target.right() - w), top, w, h)
                painter.fillRect(tag, QColor(r, g, b))
                painter.setPen(QColor(0, 0, 0))
                painter.drawText(tag, Qt.AlignCenter, label)
        if text.hud:
            painter.setFont(self._text_font())
            metrics = painter.fontMetrics()
            box = QRectF(target.x() + 6, target.y() + 6, metrics.horizontalAdvance(text.hud) + 16,
                         metrics.height() + 8)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, 150))
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(QColor(245, 245, 245))
            painter.drawText(box, Qt.AlignCenter, text.hud)
