"""Small dialogs: choosing a file, a folder, a camera or stream, and the one error box.

Errors are shown in a single non-modal message box (a second error replaces the
first one's text rather than stacking boxes) and in the status bar, so the
window stays usable behind it, and tests can read it without blocking.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

from PyQt5.QtCore import QObject, Qt
from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from .shortcuts import SHORTCUTS_HELP


class CameraDialog(QDialog):
    """Asks for a camera index, a /dev/video device or a stream URL (rtsp://, http://, ...)."""

    def __init__(self, last: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open camera or stream")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Camera index (0, 1, …) or stream URL (rtsp://…, http://…):"))
        self.choice = QComboBox()
        self.choice.setEditable(True)
        devices = sorted(glob.glob("/dev/video*"))
        indices = [re.sub(r"\D", "", d) for d in devices] or ["0"]
        self.choice.addItems(([last] if last and last not in indices else []) + indices)
        self.choice.lineEdit().setPlaceholderText("0  or  rtsp://user:pass@host:554/stream")
        self.choice.setMinimumWidth(380)
        layout.addWidget(self.choice)
        found = ", ".join(devices) if devices else "no /dev/video* devices found"
        hint = QLabel(f"Cameras here: {found}")
        hint.setObjectName("caption")
        layout.addWidget(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def spec(self) -> str:
        return self.choice.currentText().strip()


class ErrorReporter(QObject):
    """Shows an error as one non-modal message box and a status bar message; keeps the last for tests."""

    STATUS_MS = 12000

    def __init__(self, parent: QWidget, status_bar: QStatusBar):
        super().__init__(parent)
        self._parent = parent
        self._status = status_bar
        self.box: QMessageBox | None = None
        self.last: tuple[str, str] | None = None
        self.count = 0

    def report(self, title: str, message: str) -> None:
        self.last = (title, message)
        self.count += 1
        self._status.showMessage(f"⚠ {title}: {message}", self.STATUS_MS)
        if self.box is None:
            self.box = QMessageBox(QMessageBox.Warning, "Problem", "", QMessageBox.Ok, self._parent)
            self.box.setWindowModality(Qt.NonModal)
        self.box.setText(title)
        self.box.setInformativeText(message)
        self.box.show()
        self.box.raise_()

    def dismiss(self) -> None:
        if self.box is not None:
            self.box.hide()


class OpenDialogs:
    """The File menu's questions; each returns the path chosen, or "" when cancelled. Sources open where the last
    source was chosen."""

    def __init__(self, parent: QWidget, start_dir: str):
        self._parent = parent
        self.last_dir = start_dir

    def video_or_image(self, suffixes) -> str:
        patterns = " ".join(f"*{s}" for s in suffixes)
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open a video or an image", self.last_dir,
                                              f"Videos and images ({patterns});;All files (*)")
        if path:
            self.last_dir = str(Path(path).parent)
        return path

    def image_folder(self) -> str:
        path = QFileDialog.getExistingDirectory(self._parent, "Open a folder of images", self.last_dir)
        if path:
            self.last_dir = path
        return path

    def camera(self, last: str = "") -> str:
        dialog = CameraDialog(last, self._parent)
        return dialog.spec() if dialog.exec_() else ""

    def weights(self, current) -> str:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open weights", str(Path(str(current)).parent),
                                              "Weights (*.pt *.onnx *.engine);;All files (*)")
        return path

    def calibration(self, start_dir: str) -> str:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open a camera calibration", start_dir,
                                              "Calibrations (*.txt *.yaml *.yml);;All files (*)")
        return path

    def calibration_folder(self, start_dir: str) -> str:
        return QFileDialog.getExistingDirectory(self._parent, "Open a folder of KITTI calib files", start_dir)


def show_shortcuts(parent: QWidget) -> None:
    """The keyboard shortcuts (F1), in a box that leaves the window usable."""
    box = QMessageBox(QMessageBox.NoIcon, "Keyboard shortcuts", SHORTCUTS_HELP, QMessageBox.Close, parent)
    box.setWindowModality(Qt.NonModal)
    box.show()
