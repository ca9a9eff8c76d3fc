"""ReplayControl (app/replay.py): the pause/step/seek/re-run state machine with known answers, on its own.

The gates that wait (admit while paused, next_read at the end) run in a helper thread; they are released by a
command and their answer is checked, never how long they took.
"""

from __future__ import annotations

import threading

import numpy as np

from app.frames import Frame
from app.replay import ReplayControl

IMAGE = np.zeros((2, 2, 3), np.uint8)


def frame(index: int, epoch: int = 0) -> Frame:
    return Frame(index, 0.0, IMAGE, epoch=epoch)


class Gate:
    """Runs a gate call in a thread, so a test can see it wait and then see what it answered."""

    def __init__(self, fn, *args):
        self.answer = "waiting"
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True)
        self._thread.start()

    def _run(self, fn, *args):
        self.answer = fn(*args)

    def waiting(self) -> bool:
        self._thread.join(0.3)
        return self._thread.is_alive()

    def result(self):
        self._thread.join(5.0)
        assert not self._thread.is_alive(), "the gate did not let go"
        return self.answer


def control(live: bool = False):
    stop = threading.Event()
    return ReplayControl(live, stop.is_set, poll_s=0.02), stop


def test_running_replay_admits_every_frame_in_order_and_reads_on():
    replay, _ = control()
    seeks = []
    assert replay.next_read(seeks.append) == 0 and seeks == []
    assert replay.admit(frame(0)) and replay.admit(frame(1))
    assert not replay.paused and not replay.stepped and not replay.ended and replay.last_delivered is None
    replay.delivered(1)
    assert replay.last_delivered == 1


def test_pause_holds_the_next_frame_until_a_step_or_resume():
    replay, _ = control()
    replay.pause()
    held = Gate(replay.admit, frame(0))
    assert held.waiting()
    replay.step(2)  # two frames through, each marked as stepped
    assert held.result() is True and replay.stepped
    assert replay.admit(frame(1)) is True
    third = Gate(replay.admit, frame(2))
    assert third.waiting()  # the step budget is spent
    replay.resume()
    assert third.result() is True and not replay.stepped and not replay.paused


def test_pause_drops_any_step_budget_left_and_step_accumulates():
    replay, stop = control()
    replay.step(2)
    replay.step(1)  # 3 in all
    assert all(replay.admit(frame(i)) for i in range(3))
    replay.step(5)
    replay.pause()  # budget back to 0
    held = Gate(replay.admit, frame(3))
    assert held.waiting()
    stop.set()  # stopping lets every gate go, with a no
    assert held.result() is False


def test_seek_makes_frames_in_flight_stale_and_the_capture_stage_seeks_once():
    replay, _ = control()
    replay.seek(5)
    assert replay.epoch == 1 and replay.seek_pending
    assert replay.stale(frame(3, epoch=0)) and not replay.stale(frame(5, epoch=1))
    assert replay.admit(frame(3, epoch=0)) is False  # read before the seek: never delivered
    seeks = []
    assert replay.next_read(seeks.append) == 1 and seeks == [5]
    assert replay.next_read(seeks.append) == 1 and seeks == [5]  # done once
    assert not replay.seek_pending
    replay.seek(-3)
    replay.next_read(seeks.append)
    assert seeks == [5, 0]


def test_seek_while_paused_shows_exactly_that_frame():
    replay, _ = control()
    replay.pause()
    replay.seek(20)
    assert replay.paused and replay.admit(frame(20, epoch=1)) is True and replay.stepped
    held = Gate(replay.admit, frame(21, epoch=1))
    assert held.waiting()
    replay.resume()
    assert held.result() is True


def test_rerun_reads_again_from_the_next_frame_to_deliver_only_when_something_is_in_flight():
    replay, _ = control()
    assert replay.admit(frame(7))
    assert replay.rerun(in_flight=0) is False and replay.epoch == 0 and not replay.seek_pending
    assert replay.rerun(in_flight=2) is True and replay.epoch == 1
    assert replay.stale(frame(8, epoch=0))
    seeks = []
    assert replay.next_read(seeks.append) == 1 and seeks == [8]
    replay.seek(3)
    assert replay.rerun(in_flight=0) is True  # a seek is pending: it is kept, the epoch moves on
    assert replay.epoch == 3 and replay.next_read(seeks.append) == 3 and seeks == [8, 3]


def test_the_end_of_a_replay_waits_for_a_seek():
    replay, stop = control()
    replay.mark_ended()
    assert replay.ended
    seeks = []
    read = Gate(replay.next_read, seeks.append)
    assert read.waiting()
    replay.seek(0)
    assert read.result() is None  # a seek arrived: look again, which carries it out
    assert replay.next_read(seeks.append) == 1 and seeks == [0] and not replay.ended
    replay.mark_ended()
    waiting = Gate(replay.next_read, seeks.append)
    assert waiting.waiting()
    stop.set()
    assert waiting.result() is None and seeks == [0]


def test_live_pause_gates_the_capture_stage_and_never_holds_the_output():
    replay, _ = control(live=True)
    assert replay.forward_live()
    replay.pause()
    assert [replay.forward_live() for _ in range(2)] == [False, False]  # read and dropped: the device keeps going
    replay.step(2)
    assert [replay.forward_live() for _ in range(3)] == [True, True, False]
    assert replay.admit(frame(9)) is True and replay.stepped  # the output stage never waits when live
    replay.resume()
    assert replay.forward_live() and replay.admit(frame(10)) and not replay.stepped
