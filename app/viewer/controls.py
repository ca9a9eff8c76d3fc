"""The side panel's controls: the model (weights, backend switch), the thresholds and the overlay layers.

Widgets only: the panel emits what the user asked for and the window applies it.
Slider drags are debounced (settings.control_debounce_ms) so a drag re-runs one
frame when it rests, not one per pixel moved.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..frames import Thresholds
from ..overlay import OverlayLayers

LAYER_LABELS = {"road": "Road", "boxes": "Boxes", "labels": "Labels", "distance": "Distance", "hud": "HUD"}
LAYER_TIPS = {"road": "the drivable-road layer", "boxes": "detection boxes", "labels": "class and score on boxes",
              "distance": "road distance of vehicles (needs a calibration)", "hud": "FPS / latency line on the frame"}


class ThresholdSlider(QWidget):
    """A labelled 0.00-1.00 slider. valueChanged(float) on every move."""

    valueChanged = pyqtSignal(float)

    def __init__(self, caption: str, tip: str, value: float, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(0)
        self.caption = QLabel(caption)
        self.readout = QLabel()
        self.readout.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.readout.setObjectName("readout")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setPageStep(5)
        self.slider.setFocusPolicy(Qt.NoFocus)  # arrow keys belong to frame stepping
        self.setToolTip(tip)
        layout.addWidget(self.caption, 0, 0)
        layout.addWidget(self.readout, 0, 1)
        layout.addWidget(self.slider, 1, 0, 1, 2)
        self.slider.valueChanged.connect(self._moved)
        self.set_value(value)

    def value(self) -> float:
        return self.slider.value() / 100.0

    def set_value(self, value: float) -> None:
        self.slider.setValue(int(round(value * 100)))
        self.readout.setText(f"{self.value():.2f}")

    def _moved(self, _: int) -> None:
        self.readout.setText(f"{self.value():.2f}")
        self.valueChanged.emit(self.value())


class ControlsPanel(QWidget):
    open_requested = pyqtSignal(str)  # "file", "folder" or "camera"
    backend_requested = pyqtSignal(str)  # the user picked another backend
    open_weights_requested = pyqtSignal()
    thresholds_changed = pyqtSignal(object)  # Thresholds, after the debounce
    layers_changed = pyqtSignal(object)  # OverlayLayers, at once

    def __init__(self, thresholds: Thresholds, layers: OverlayLayers, debounce_ms: int = 60,
                 parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self._source_group())
        layout.addWidget(self._model_group())
        layout.addWidget(self._thresholds_group(thresholds, debounce_ms))
        layout.addWidget(self._layers_group(layers))

    # --- source -----------------------------------------------------------------------------------------------------
    def _source_group(self) -> QGroupBox:
        box = QGroupBox("Source")
        column = QVBoxLayout(box)
        column.setSpacing(3)
        self.source_name = QLabel("none")
        self.source_name.setObjectName("title")
        self.source_details = QLabel("")
        self.source_details.setObjectName("caption")
        self.source_details.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for kind, text, tip in (("file", "Video…", "a video file or an image (Ctrl+O)"),
                                ("folder", "Folder…", "a folder of images (Ctrl+Shift+O)"),
                                ("camera", "Camera…", "a camera index or a stream URL (Ctrl+Shift+C)")):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.NoFocus)
            button.clicked.connect(lambda _=False, k=kind: self.open_requested.emit(k))
            buttons.addWidget(button)
        column.addWidget(self.source_name)
        column.addWidget(self.source_details)
        column.addLayout(buttons)
        return box

    def show_source(self, info) -> None:
        """An app.sources.SourceInfo (None: no source)."""
        if info is None:
            self.source_name.setText("none")
            self.source_details.setText("")
            return
        self.source_name.setText(info.name)
        self.source_name.setToolTip(info.describe())
        parts = [info.kind, f"{info.width}×{info.height}"]
        if info.fps:
            parts.append(f"{info.fps:g} fps")
        if info.frame_count:
            parts.append(f"{info.frame_count} frames")
        mode = "live: stale frames dropped" if info.live else "replay: every frame, in order"
        self.source_details.setText(" · ".join(parts) + "\n" + mode)

    # --- model ------------------------------------------------------------------------------------------------------
    def _model_group(self) -> QGroupBox:
        box = QGroupBox("Model")
        grid = QGridLayout(box)
        grid.setVerticalSpacing(4)
        self.weights = QLabel("–")
        self.weights.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.weights.setObjectName("title")
        self.weights.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # never wider than the panel
        open_weights = QPushButton("Open…")
        open_weights.setToolTip("load another weights file (.pt, .onnx, .engine)")
        open_weights.setFocusPolicy(Qt.NoFocus)
        open_weights.clicked.connect(self.open_weights_requested)
        self.backend = QComboBox()
        self.backend.setFocusPolicy(Qt.NoFocus)
        self.backend.setToolTip("inference engine; switching builds the new one in the background, "
                                "the video keeps playing meanwhile")
        self.backend.currentIndexChanged.connect(self._backend_picked)
        self.model_status = QLabel("")
        self.model_status.setObjectName("caption")
        self.model_status.setWordWrap(True)
        # the file on a row of its own: "perception_n.int8cpu.onnx · int8" has no space to wrap at, and beside
        # the caption it widened the side panel past the window's edge
        grid.addWidget(QLabel("Runs"), 0, 0)
        grid.addWidget(open_weights, 0, 2)
        grid.addWidget(self.weights, 1, 0, 1, 3)
        grid.addWidget(QLabel("Backend"), 2, 0)
        grid.addWidget(self.backend, 2, 1, 1, 2)
        grid.addWidget(self.model_status, 3, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        self._setting_backends = False
        return box

    def show_model(self, weights: Path | str, backends: list[str], current: str | None, status: str = "",
                   precision: str = "", description: str = "") -> None:
        """The file that runs (with its precision), the backends offered (current selected; None: not loaded)
        and a status line."""
        path = Path(weights)
        self.weights.setText(f"{path.name} · {precision}" if precision else path.name)
        self.weights.setToolTip("\n".join(t for t in (str(path.resolve()), description) if t))
        self._setting_backends = True
        try:
            self.backend.clear()
            names = list(backends)
            if current and current not in names:
                names.insert(0, current)
            self.backend.addItems(names)
            if current:
                self.backend.setCurrentText(current)
            else:
                self.backend.setCurrentIndex(-1)
            self.backend.setEnabled(len(names) > 1)
        finally:
            self._setting_backends = False
        self.set_model_status(status)

    def set_model_status(self, text: str, tip: str | None = None) -> None:
        """One short line. tip None: `text` is a reason such as "auto chose onnxruntime (why...)": the line is
        its head, the whole text the tooltip."""
        self.model_status.setText(text.split(" (", 1)[0] if tip is None else text)
        self.model_status.setToolTip(text if tip is None else tip)

    def _backend_picked(self, index: int) -> None:
        if not self._setting_backends and index >= 0:
            self.backend_requested.emit(self.backend.itemText(index))

    # --- thresholds -------------------------------------------------------------------------------------------------
    def _thresholds_group(self, thresholds: Thresholds, debounce_ms: int) -> QGroupBox:
        box = QGroupBox("Thresholds")
        column = QVBoxLayout(box)
        column.setSpacing(6)
        self.conf = ThresholdSlider("Detection confidence", "boxes scoring below this are not shown",
                                    thresholds.conf)
        self.iou = ThresholdSlider("NMS IoU", "overlapping boxes of a class above this IoU are merged",
                                   thresholds.iou)
        self.road = ThresholdSlider("Road probability", "pixels at or above this probability are drawn as road",
                                    thresholds.road)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._emit_thresholds)
        for slider in (self.conf, self.iou, self.road):
            column.addWidget(slider)
            slider.valueChanged.connect(lambda _: self._debounce.start())
        return box

    def thresholds(self) -> Thresholds:
        return Thresholds(conf=self.conf.value(), iou=self.iou.value(), road=self.road.value())

    def _emit_thresholds(self) -> None:
        self.thresholds_changed.emit(self.thresholds())

    # --- layers -----------------------------------------------------------------------------------------------------
    def _layers_group(self, layers: OverlayLayers) -> QGroupBox:
        box = QGroupBox("Layers")
        grid = QGridLayout(box)
        grid.setVerticalSpacing(4)
        self.layer_boxes: dict[str, QCheckBox] = {}
        for i, f in enumerate(fields(OverlayLayers)):
            check = QCheckBox(LAYER_LABELS.get(f.name, f.name))
            check.setToolTip(LAYER_TIPS.get(f.name, ""))
            check.setChecked(getattr(layers, f.name))
            check.setFocusPolicy(Qt.NoFocus)
            check.toggled.connect(lambda _: self.layers_changed.emit(self.layers()))
            grid.addWidget(check, i // 3, i % 3)
            self.layer_boxes[f.name] = check
        return box

    def layers(self) -> OverlayLayers:
        return OverlayLayers(**{name: box.isChecked() for name, box in self.layer_boxes.items()})

    def toggle_layer(self, name: str) -> None:
        self.layer_boxes[name].toggle()

    def set_distance_available(self, available: bool) -> None:
        """Distances need a calibration: say so on the check box rather than hiding it."""
        box = self.layer_boxes["distance"]
        box.setEnabled(available)
        box.setToolTip(LAYER_TIPS["distance"] if available else
                       "needs a calibration: File ▸ Open calibration… (KITTI calib .txt or camera .yaml)")
