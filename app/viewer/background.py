"""Slow calls (opening a source, loading a model) on a worker thread, their outcome back on the GUI thread.

    run_in_background(lambda: open_source(spec), on_done=self._opened, on_failed=self._report, parent=self)

on_done(value) / on_failed(exception) run on the GUI thread (a queued signal into
an object that lives there). A task whose parent was deleted meanwhile (the
window closed) delivers nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PyQt5.QtCore import QObject, Qt, pyqtSignal

_running: set[BackgroundTask] = set()  # keeps a task's Python object alive until its outcome is delivered
_running_lock = threading.Lock()


class BackgroundTask(QObject):
    _finished = pyqtSignal(bool, object)  # (succeeded, value or exception), from the worker thread

    def __init__(self, fn: Callable[[], object], on_done: Callable[[object], None],
                 on_failed: Callable[[BaseException], None], name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._fn, self._on_done, self._on_failed = fn, on_done, on_failed
        self._finished.connect(self._deliver, Qt.QueuedConnection)
        self.thread = threading.Thread(target=self._work, name=f"viewer-{name}", daemon=True)

    def _work(self) -> None:
        try:
            outcome = (True, self._fn())
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the GUI to be shown
            outcome = (False, e)
        try:
            self._finished.emit(*outcome)
        except RuntimeError:  # the parent (window) and this object were deleted: nobody to tell
            _forget(self)

    def _deliver(self, ok: bool, value) -> None:
        _forget(self)
        (self._on_done if ok else self._on_failed)(value)


def _forget(task: BackgroundTask) -> None:
    with _running_lock:
        _running.discard(task)


def run_in_background(fn: Callable[[], object], on_done: Callable[[object], None],
                      on_failed: Callable[[BaseException], None], name: str = "task",
                      parent: QObject | None = None) -> BackgroundTask:
    task = BackgroundTask(fn, on_done, on_failed, name, parent)
    with _running_lock:
        _running.add(task)
    task.thread.start()
    return task


def tasks_running() -> int:
    """Tasks started and not yet delivered (tests wait for 0)."""
    with _running_lock:
        return len(_running)
