"""Lossless replay at a chosen speed: a source wrapper that delays reads, never skips frames.

    source = PacedSource(open_source("clip.mp4"), speed=0.5)   # half the clip's FPS
    source.speed = 4.0                                         # any thread; from the next frame on

Pacing the capture (rather than the display) makes a file behave like a camera
running at speed x FPS: when the pipeline keeps up, frames wait in no queue and
the latency figures are the processing latency, as they would be live. The
pipeline still runs its replay policy (blocking queues), so a predictor slower
than the pace slows the replay down and loses nothing.
"""

from __future__ import annotations

import threading
import time

from core.errors import BadInputError


class PacedSource:
    """A replay source read no faster than `speed` times its nominal FPS (speed 0: as fast as possible).

    A read that comes late (the pipeline was slower, or was paused) restarts the
    clock there instead of rushing through the frames it missed, and so does a seek
    or a speed change. Delegates everything else (info, seek, position, state,
    close) to the wrapped source, so the pipeline treats it as that source.
    """

    def __init__(self, source, speed: float = 1.0, fallback_fps: float = 25.0):
        self.inner = source
        self.info = source.info
        self.fps = float(source.info.fps or fallback_fps)
        self._speed = float(speed)
        self._anchor: tuple[float, int] | None = None  # (perf_counter, frame position) the schedule counts from
        self._wake = threading.Event()  # cuts the current wait short (seek, speed change, stop)
        self._stopped = threading.Event()

    # --- speed (any thread) ---------------------------------------------------------------------------------------
    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value < 0:
            raise BadInputError(f"replay speed must be positive (or 0 for as fast as possible), got {value}")
        self._speed = float(value)
        self._anchor = None
        self._wake.set()

    def cut_wait(self) -> None:
        """Let a read waiting for its due time go now (after a seek: its frame is stale anyway)."""
        self._anchor = None
        self._wake.set()

    # --- the source interface (the pipeline's capture thread) ------------------------------------------------------
    @property
    def position(self) -> int:
        return self.inner.position

    @property
    def state(self) -> str:
        return getattr(self.inner, "state", "ok")

    def read(self):
        if self._speed > 0:
            self._wait_until_due()
        if self._stopped.is_set():
            return None
        return self.inner.read()

    def _wait_until_due(self) -> None:
        period = 1.0 / (self.fps * self._speed)
        now = time.perf_counter()
        position = self.inner.position
        anchor = self._anchor
        if anchor is None:
            self._anchor = (now, position)
            return
        due = anchor[0] + (position - anchor[1]) * period
        if now - due > period:
            # late by more than a frame: start the clock again here rather than burst to catch up
            self._anchor = (now, position)
            return
        if due > now:
            self._wake.clear()
            if self._wake.wait(due - now):
                self._anchor = (time.perf_counter(), position) if not self._stopped.is_set() else None

    def seek(self, index: int) -> None:
        self.inner.seek(index)
        self._anchor = None

    def interrupt(self) -> None:
        self._stopped.set()
        self._wake.set()
        self.inner.interrupt()

    def close(self) -> None:
        self.inner.close()
