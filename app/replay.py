"""Pause, step, seek and re-run: the control state of one pipeline run, and the gates its stages pass.

    control = ReplayControl(live=False, stopped=stop_event.is_set)
    control.pause(); control.step(3); control.seek(120); control.rerun(in_flight=2)   # any thread
    epoch = control.next_read(source.seek)     # capture thread, before each read (None: look again)
    control.admit(frame)                       # output thread, before each delivery (False: drop it)

Commands come from any thread (a GUI) and return at once; the stages consult the state through the
gates, which wait at most `poll_s` before they look at `stopped()` again. One lock covers all of it, so a
frame is either delivered exactly once or re-run, never both.

Seeks and re-runs bump the *epoch*: frames stamped with an older epoch are stale, and every stage drops
them (`stale(frame)`).

Replay (files, folders): pause holds the next frame at the output stage (the display freezes at once,
nothing is lost); step(n) lets n more frames through. Live (cameras, streams): pause keeps the capture
stage reading the device but forwarding nothing; step(n) forwards n more frames.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .frames import Frame


class ReplayControl:
    """Pause/step/seek/re-run state of a pipeline; thread-safe.

    live: the pipeline's policy (pause gates the capture stage when live, the output stage when replaying).
    stopped: true once the pipeline stops; every wait here ends soon after.
    poll_s: the longest a gate waits before it looks at `stopped()` again.
    """

    def __init__(self, live: bool, stopped: Callable[[], bool], poll_s: float = 0.1):
        self.live = live
        self._stopped = stopped
        self._poll_s = poll_s
        self._cond = threading.Condition(threading.Lock())
        self._paused = False
        self._step_budget = 0  # frames still let through while paused
        self._seek_to: int | None = None  # the frame the capture stage reads next, once it looks
        self._epoch = 0
        self._ended = False  # capture reached the end of a replay source and waits (at_end="pause")
        self._next_index = 0  # replay: index of the next frame the output stage will deliver
        self._last_delivered: int | None = None
        self._stepped = False  # the frame being delivered was let through by a step while paused

    # --- state (any thread; plain reads) --------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def ended(self) -> bool:
        """The capture stage is at the end of a replay source, waiting for a seek or stop."""
        return self._ended

    @property
    def seek_pending(self) -> bool:
        return self._seek_to is not None

    @property
    def stepped(self) -> bool:
        """The frame last admitted was let through by a step while paused (counted, but no latency sample)."""
        return self._stepped

    @property
    def last_delivered(self) -> int | None:
        """Index of the last frame delivered (set by the output stage after its sinks ran)."""
        return self._last_delivered

    def stale(self, frame: Frame) -> bool:
        """The frame was read before the latest seek or re-run: drop it."""
        return frame.epoch != self._epoch

    # --- commands (any thread) ------------------------------------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._step_budget = 0
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._step_budget = 0
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """Pause (if running) and let exactly `n` more frames through."""
        with self._cond:
            self._paused = True
            self._step_budget += max(0, int(n))
            self._cond.notify_all()

    def seek(self, index: int) -> None:
        """Continue from frame `index` (negative: 0); frames in flight go stale. While paused, frame `index` is
        shown (one step). The caller checks that the source can seek."""
        with self._cond:
            self._seek_to = self._next_index = max(0, int(index))
            self._epoch += 1
            self._ended = False
            if self._paused:
                self._step_budget = 1
            self._cond.notify_all()

    def rerun(self, in_flight: int) -> bool:
        """Make the `in_flight` frames (read but not yet delivered) stale and read them again from the next
        frame to deliver, so a new threshold or predictor shows on the very next frame. False when there is
        nothing to re-run (nothing in flight and no seek pending)."""
        with self._cond:
            if in_flight <= 0 and self._seek_to is None:
                return False
            if self._seek_to is None:
                self._seek_to = self._next_index
            self._epoch += 1
            self._ended = False
            self._cond.notify_all()
        return True

    def wake(self) -> None:
        """Let every waiting gate look at `stopped()` now."""
        with self._cond:
            self._cond.notify_all()

    # --- gates (the stage threads) --------------------------------------------------------------------------------
    def next_read(self, seek_source: Callable[[int], None]) -> int | None:
        """Capture thread, before each read: carry out a pending seek (`seek_source(index)`, under the lock),
        wait while ended, and return the epoch to stamp the next frame with; None to look again (a seek
        arrived meanwhile, or the pipeline stops)."""
        with self._cond:
            if self._seek_to is not None:
                target, self._seek_to = self._seek_to, None
                seek_source(target)
                self._ended = False
            while self._ended and self._seek_to is None and not self._stopped():
                self._cond.wait(self._poll_s)
            if self._seek_to is not None or self._stopped():
                return None
            return self._epoch

    def mark_ended(self) -> None:
        """Capture thread: the replay source is at its end; next_read() waits for a seek or stop."""
        with self._cond:
            self._ended = True

    def forward_live(self) -> bool:
        """Capture thread, live policy: True to forward the frame just read (running, or a step is left)."""
        if not self._paused:
            return True
        with self._cond:
            if not self._paused:
                return True
            if self._step_budget <= 0:
                return False
            self._step_budget -= 1
            return True

    def admit(self, frame: Frame) -> bool:
        """Output thread, the commit point: False when the frame went stale or the pipeline stops.

        Replay: the pause/step gate (waits while paused with no step left). True records the frame as the
        next delivered."""
        with self._cond:
            if not self.live:
                while self._paused and self._step_budget <= 0:
                    if self._stopped() or self.stale(frame):
                        return False
                    self._cond.wait(self._poll_s)
            if self._stopped() or self.stale(frame):
                return False
            if self._paused and not self.live:
                self._step_budget -= 1
            self._stepped = self._paused
            self._next_index = frame.index + 1
            return True

    def delivered(self, index: int) -> None:
        """Output thread: frame `index` went through the sinks and callbacks (refresh() shows it again)."""
        self._last_delivered = index
