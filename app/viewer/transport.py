"""The transport bar under the video: play/pause, step, seek slider, position, speed, record, screenshot."""

from __future__ import annotations

from PyQt5.QtCore import QPointF, QRectF, QSize, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF
from PyQt5.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QStyle, QStyleOptionSlider, QToolButton, QWidget

ICON_SIZE = QSize(20, 20)


def painted_icon(kind: str, color: QColor = QColor(225, 228, 235), size: int = 20) -> QIcon:
    """Transport icons drawn here: the style's media icons are blank on desktops without an icon theme.

    kind: play, pause, next, previous, record.
    """
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(Qt.NoPen)
    p.setBrush(color)
    s = size
    if kind == "play":
        p.drawPolygon(QPolygonF([QPointF(0.28 * s, 0.18 * s), QPointF(0.82 * s, 0.5 * s), QPointF(0.28 * s, 0.82 * s)]))
    elif kind == "pause":
        p.drawRect(QRectF(0.25 * s, 0.2 * s, 0.17 * s, 0.6 * s))
        p.drawRect(QRectF(0.58 * s, 0.2 * s, 0.17 * s, 0.6 * s))
    elif kind in ("next", "previous"):
        if kind == "previous":  # mirror the "next" icon
            p.translate(s, 0)
            p.scale(-1, 1)
        p.drawPolygon(QPolygonF([QPointF(0.22 * s, 0.22 * s), QPointF(0.64 * s, 0.5 * s), QPointF(0.22 * s, 0.78 * s)]))
        p.drawRect(QRectF(0.66 * s, 0.22 * s, 0.12 * s, 0.56 * s))
    elif kind == "record":
        p.drawEllipse(QRectF(0.2 * s, 0.2 * s, 0.6 * s, 0.6 * s))
    else:
        raise ValueError(f"unknown icon {kind!r}")
    p.end()
    return QIcon(pixmap)


class SeekSlider(QSlider):
    """A slider whose track jumps to the frame clicked (a plain QSlider moves one page towards it), then drags."""

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton and self.isEnabled():
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            handle = self.style().subControlRect(QStyle.CC_Slider, option, QStyle.SC_SliderHandle, self)
            if not handle.contains(event.pos()):
                groove = self.style().subControlRect(QStyle.CC_Slider, option, QStyle.SC_SliderGroove, self)
                span = max(1, groove.width() - handle.width())
                x = event.pos().x() - groove.x() - handle.width() // 2
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span,
                                                             option.upsideDown))
        super().mousePressEvent(event)  # on the handle now: a drag goes on from the click


def speed_text(speed: float) -> str:
    return "max" if speed == 0 else f"{speed:g}×"


def next_speed(speeds, current: float, direction: int) -> float | None:
    """The speed one step faster (direction > 0) or slower than `current` among `speeds` (0: as fast as possible,
    faster than any, and where faster stays); None where there is none (slower than the slowest; faster without 0)."""
    paced = sorted(s for s in speeds if s > 0)
    current = current if current > 0 else float("inf")
    if direction > 0:
        faster = [s for s in paced if s > current]
        return faster[0] if faster else (0.0 if 0.0 in speeds else None)
    slower = [s for s in paced if s < current]
    return slower[-1] if slower else None


def timecode(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:05.2f}"


class TransportBar(QWidget):
    play_toggled = pyqtSignal()
    step_requested = pyqtSignal()
    step_back_requested = pyqtSignal()
    seek_requested = pyqtSignal(int)  # frame index, after a short debounce while dragging
    speed_changed = pyqtSignal(float)  # 0: as fast as possible
    record_toggled = pyqtSignal(bool)
    screenshot_requested = pyqtSignal()

    def __init__(self, speeds: tuple[float, ...], speed: float, debounce_ms: int = 60, parent: QWidget | None = None):
        super().__init__(parent)
        style = self.style()
        self._icons = {"play": painted_icon("play"), "pause": painted_icon("pause"),
                       "rec": painted_icon("record", QColor(200, 70, 70)),
                       "rec_on": painted_icon("record", QColor(255, 40, 40))}
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.setSpacing(6)

        self.play = self._button(self._icons["play"], "Play / pause (Space)")
        self.play.clicked.connect(self.play_toggled)
        self.step_back = self._button(painted_icon("previous"), "Previous frame (←)")
        self.step_back.clicked.connect(self.step_back_requested)
        self.step = self._button(painted_icon("next"), "Next frame (→)")
        self.step.clicked.connect(self.step_requested)

        self.seek = SeekSlider(Qt.Horizontal)
        self.seek.setFocusPolicy(Qt.NoFocus)
        self.seek.setToolTip("frame position (files and folders)")
        self.seek.valueChanged.connect(self._seek_moved)
        self._seek_debounce = QTimer(self)
        self._seek_debounce.setSingleShot(True)
        self._seek_debounce.setInterval(debounce_ms)
        self._seek_debounce.timeout.connect(lambda: self.seek_requested.emit(self.seek.value()))
        self.position = QLabel("–")
        self.position.setObjectName("readout")
        self.position.setMinimumWidth(150)
        self.position.setAlignment(Qt.AlignCenter)

        self.speed = QComboBox()
        self.speed.setFocusPolicy(Qt.NoFocus)
        self.speed.setToolTip("replay speed (files and folders; every frame is still processed)")
        for value in speeds:
            self.speed.addItem(speed_text(value), value)
        self.speed.setCurrentIndex(max(0, self.speed.findData(speed)))
        self.speed.currentIndexChanged.connect(lambda i: self.speed_changed.emit(float(self.speed.itemData(i))))

        self.record = self._button(self._icons["rec"], "Record the overlaid stream to a video (Ctrl+R)")
        self.record.setCheckable(True)
        self.record.setText("Rec")
        self.record.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.record.toggled.connect(self._record_toggled)
        self.screenshot = self._button(style.standardIcon(QStyle.SP_DialogSaveButton),
                                       "Save the frame on screen as PNG (Ctrl+S)")
        self.screenshot.setText("PNG")
        self.screenshot.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.screenshot.clicked.connect(self.screenshot_requested)

        for w in (self.play, self.step_back, self.step):
            row.addWidget(w)
        row.addWidget(self.seek, 1)
        row.addWidget(self.position)
        row.addWidget(self.speed)
        row.addSpacing(8)
        row.addWidget(self.record)
        row.addWidget(self.screenshot)
        self.set_source(None, None, live=False)

    def _button(self, icon: QIcon, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(icon)
        button.setIconSize(ICON_SIZE)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.NoFocus)  # Space and the arrows are the window's shortcuts
        return button

    # --- state from the window --------------------------------------------------------------------------------------
    def set_source(self, frame_count: int | None, fps: float | None, live: bool) -> None:
        """A new source: the seek slider spans a file or folder; a live source has none (and no speed)."""
        self._count, self._fps = frame_count, fps
        seekable = bool(frame_count) and not live
        self.seek.setEnabled(seekable)
        self.step_back.setEnabled(seekable)
        self.speed.setEnabled(not live)
        self.seek.blockSignals(True)
        self.seek.setRange(0, max(0, (frame_count or 1) - 1))
        self.seek.setValue(0)
        self.seek.blockSignals(False)
        self.position.setText("live" if live else "–")

    def set_position(self, index: int) -> None:
        """The frame on screen (not while the user drags the slider)."""
        if not self.seek.isSliderDown() and not self._seek_debounce.isActive():
            self.seek.blockSignals(True)
            self.seek.setValue(index)
            self.seek.blockSignals(False)
        if self._count:
            time = f" · {timecode(index / self._fps)}" if self._fps else ""
            self.position.setText(f"{index + 1} / {self._count}{time}")
        else:
            self.position.setText(f"frame {index + 1}")

    def set_playing(self, playing: bool) -> None:
        self.play.setIcon(self._icons["pause" if playing else "play"])

    def set_recording(self, recording: bool) -> None:
        self.record.blockSignals(True)
        self.record.setChecked(recording)
        self.record.blockSignals(False)
        self.record.setIcon(self._icons["rec_on" if recording else "rec"])

    def current_speed(self) -> float:
        return float(self.speed.currentData())

    def speeds(self) -> list[float]:
        return [float(self.speed.itemData(i)) for i in range(self.speed.count())]

    def select_speed(self, speed: float) -> None:
        """Pick `speed` in the box (speed_changed follows)."""
        self.speed.setCurrentIndex(self.speed.findData(speed))

    def _seek_moved(self, _: int) -> None:
        self._seek_debounce.start()

    def _record_toggled(self, on: bool) -> None:
        self.record.setIcon(self._icons["rec_on" if on else "rec"])
        self.record_toggled.emit(on)
