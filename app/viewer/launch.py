"""launch_viewer(): the QApplication, the window, the first source and model, and the event loop."""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys

from ..frames import Thresholds, load_runtime_config
from .settings import ViewerSettings


def build_window(source=None, weights=None, backend: str = "auto", device: str | None = None, precision: str = "auto",
                 calib=None,
                 thresholds: Thresholds | None = None, runtime_config=None, paused: bool = False,
                 settings: ViewerSettings | None = None, provider=None):
    """The main window with its model loading and its source opening (both on worker threads).

    source: what to open (default: the bundled sample clip, looped); calib: a KITTI calib file, a camera
    YAML or a folder of KITTI calib files.
    A QApplication must exist.
    """
    from nets.config import SAMPLE_CLIP

    from .main_window import MainWindow
    from .predictors import PredictorProvider

    config = load_runtime_config(runtime_config)
    window = MainWindow(provider or PredictorProvider(weights, device, precision), settings=settings, config=config,
                        thresholds=thresholds)
    if calib:
        window.open_calibration(calib)
    if source is None:
        window.set_loop(True)  # the bundled clip is 3 s: a demo that stops on END after 3 s shows little
    window.load_model(backend)
    window.open_source(source if source is not None else SAMPLE_CLIP, paused=paused)
    return window


def _avoid_two_llvms() -> None:
    """Keep Mesa's LLVM and Triton's LLVM from meeting in one process.

    With Qt's xcb (or EGL) OpenGL integration, showing a window makes Mesa load the
    system libLLVM; Triton's own LLVM (libtriton, imported by torch._dynamo when the
    PyTorch backend loads torchvision) loaded after it crashes the process. The
    viewer paints with QPainter on raster surfaces and needs no OpenGL, so Qt's GL
    integration is switched off (unless the user chose one), and where Triton is
    installed its library is loaded first, which is the order that works.
    """
    os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
    if importlib.util.find_spec("triton") is not None:
        try:
            importlib.import_module("triton._C.libtriton")
        except Exception:  # noqa: BLE001 - a broken Triton is the PyTorch backend's problem, reported there
            pass


def make_application(settings: ViewerSettings):
    """The QApplication (made once per process), themed."""
    _avoid_two_llvms()
    from PyQt5.QtWidgets import QApplication

    from .theme import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Road perception viewer")
    if settings.dark_theme:
        apply_dark_theme(app)
    return app


def launch_viewer(**kwargs) -> int:
    """Run the viewer until its window closes; the exit code. kwargs: those of build_window."""
    from PyQt5.QtCore import QTimer

    config = load_runtime_config(kwargs.get("runtime_config"))
    settings = kwargs.pop("settings", None) or ViewerSettings.from_config(config)
    app = make_application(settings)
    window = build_window(settings=settings, **kwargs)
    window.show()
    # Ctrl-C in the terminal: Qt's event loop keeps Python from running signal handlers, so wake it
    # regularly and quit cleanly (the window's closeEvent stops the pipeline and finishes recordings)
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer()
    heartbeat.start(200)
    heartbeat.timeout.connect(lambda: None)
    try:
        return app.exec_()
    finally:
        signal.signal(signal.SIGINT, previous)  # the caller's Ctrl-C behaviour again
