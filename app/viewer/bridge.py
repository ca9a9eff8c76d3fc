"""Pipeline callbacks → Qt signals on the GUI thread.

The pipeline calls back on its output thread; Qt widgets may only be touched on
the GUI thread. The bridge is a QObject living on the GUI thread: each callback
emits a signal queued into it, and it re-emits `frame`, `error` and `finished`
there.

Newest frame wins: if the GUI is still busy with an earlier frame (a slow paint,
a replay at full speed), a newer frame replaces the one waiting instead of
queueing behind it, so the display never lags behind the pipeline and memory
stays flat. The pipeline itself (and the recording) still sees every frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from PyQt5.QtCore import QObject, Qt, pyqtSignal

from ..frames import FrameResult


@dataclass(frozen=True)
class DisplayFrame:
    """A finished frame for the GUI: the pipeline's result, plus what `prepare` added on the output thread
    (the bird's-eye view), plus when the output thread handed it over."""

    result: FrameResult
    extra: object = None
    t_handed_over: float = 0.0

    @property
    def latency_ms(self) -> float:
        """Capture to done; capture to the hand-over while the output thread has not stamped "done" yet."""
        latency = self.result.latency_ms
        return latency if latency is not None else (self.t_handed_over - self.result.stamps["captured"]) * 1e3


class PipelineBridge(QObject):
    frame = pyqtSignal(object)  # DisplayFrame, the newest one
    error = pyqtSignal(object)  # PipelineError, once per pipeline
    finished = pyqtSignal(object)  # StatsSnapshot, once per pipeline
    warning = pyqtSignal(str)  # `prepare` failed: it is switched off, the frames go on

    _frame_waiting = pyqtSignal()
    _error_from_pipeline = pyqtSignal(object)
    _finished_from_pipeline = pyqtSignal(object)
    _warning_from_pipeline = pyqtSignal(str)

    def __init__(self, prepare: Callable[[FrameResult], object] | None = None, parent: QObject | None = None):
        """prepare(result): optional extra work for each frame, run on the output thread (e.g. the BEV image)."""
        super().__init__(parent)
        self.prepare = prepare
        self._lock = threading.Lock()
        self._latest: DisplayFrame | None = None
        self._pipeline = None
        # the exact callables registered, for remove_callback (it compares identity; each attribute access
        # of a bound method or a signal's emit makes a new object)
        self._callbacks = (self._on_result, self._on_error, self._on_finished)
        self.frames_received = 0  # every frame the pipeline delivered
        self.frames_shown = 0  # frames re-emitted to the GUI (fewer when the GUI was busy)
        self._frame_waiting.connect(self._emit_latest, Qt.QueuedConnection)
        self._error_from_pipeline.connect(self._emit_error, Qt.QueuedConnection)
        self._finished_from_pipeline.connect(self._emit_finished, Qt.QueuedConnection)
        self._warning_from_pipeline.connect(self.warning, Qt.QueuedConnection)

    def attach(self, pipeline) -> None:
        self._pipeline = pipeline
        on_result, on_error, on_finished = self._callbacks
        pipeline.on_result(on_result)
        pipeline.on_error(on_error)
        pipeline.on_finished(on_finished)

    def detach(self) -> None:
        """Stop listening: nothing more is emitted, also not what is already queued."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            for fn in self._callbacks:
                pipeline.remove_callback(fn)
        with self._lock:
            self._latest = None

    @property
    def attached(self) -> bool:
        return self._pipeline is not None

    # --- output thread ---------------------------------------------------------------------------------------------
    def _on_result(self, result: FrameResult) -> None:
        extra = None
        prepare = self.prepare
        if prepare is not None:
            try:
                extra = prepare(result)
            except Exception as e:  # noqa: BLE001 - an extra panel failing must not stop the perception
                self.prepare = None
                self._warning_from_pipeline.emit(f"{type(e).__name__}: {e}")
        item = DisplayFrame(result, extra, time.perf_counter())
        with self._lock:
            waiting = self._latest is not None
            self._latest = item
            self.frames_received += 1
        if not waiting:  # one queued wake-up at a time; it takes whatever is newest when it runs
            self._frame_waiting.emit()

    def _on_error(self, error) -> None:
        self._error_from_pipeline.emit(error)

    def _on_finished(self, summary) -> None:
        self._finished_from_pipeline.emit(summary)

    # --- GUI thread ------------------------------------------------------------------------------------------------
    def _emit_latest(self) -> None:
        with self._lock:
            item, self._latest = self._latest, None
        if item is not None and self._pipeline is not None:
            self.frames_shown += 1
            self.frame.emit(item)

    def _emit_error(self, error) -> None:
        if self._pipeline is not None:
            self.error.emit(error)

    def _emit_finished(self, summary) -> None:
        if self._pipeline is not None:
            self.finished.emit(summary)
