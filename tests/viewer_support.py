"""The viewer tests' stand-ins and waits: a provider of stand-in predictors, and helpers that play a clip and wait
for the window's state. The `clip` and `make_window` fixtures that use them are in conftest.py."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stand_ins import StandIn

if TYPE_CHECKING:  # the viewer needs PyQt5; these helpers do not
    from app.viewer.main_window import MainWindow

N = 16  # frames of the test clip
KITTI_CALIB = Path(__file__).parent / "fixtures" / "kitti_road_calib" / "um_000051.txt"  # frames 1242x375
WAIT_MS = 20000  # generous: the machine is shared and loaded


class BoxStandIn(StandIn):
    """StandIn with given boxes (x1, y1, x2, y2, score, class) instead of its one box in the corner."""

    def __init__(self, boxes, **kwargs):
        super().__init__(**kwargs)
        self.boxes = np.asarray(boxes, np.float32)

    def __call__(self, image):
        perception = super().__call__(image)
        perception.boxes = self.boxes.copy()
        return perception


class StandInProvider:
    """What the window asks of a PredictorProvider, building stand-ins; `broken` backends fail to build."""

    def __init__(self, backends=("first", "second"), road: float = 0.6, boxes=None, broken=(), sleep: float = 0.0):
        self.weights = Path("stand-in.pt")
        self._backends, self.road, self.boxes, self.broken = list(backends), road, boxes, set(broken)
        self.sleep = sleep
        self.built: list[StandIn] = []
        self.build_threads: list[str] = []

    def backends(self) -> list[str]:
        return list(self._backends)

    def build(self, backend: str, conf: float, iou: float, warmup: bool = True):
        self.build_threads.append(threading.current_thread().name)
        name = self._backends[0] if backend == "auto" else backend
        if name in self.broken:
            raise ValueError(f"stand-in weights for {name} are corrupt")
        if self.boxes is None:
            predictor = StandIn(name=name, road=self.road, sleep=self.sleep)
        else:
            predictor = BoxStandIn(self.boxes, name=name, road=self.road, sleep=self.sleep)
        predictor.conf, predictor.iou = conf, iou
        self.built.append(predictor)
        return predictor


def play(window: MainWindow, spec, paused: bool = False, backend: str = "auto") -> None:
    window.load_model(backend)
    window.open_source(spec, paused=paused)


def wait_state(qtbot, window: MainWindow, state: str) -> None:
    qtbot.waitUntil(lambda: window.session is not None and window.session.state == state, timeout=WAIT_MS)


def wait_first_frame(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.last_frame is not None, timeout=WAIT_MS)


def next_frame(qtbot, window: MainWindow, change, until=lambda r: True):
    """Do `change`, then wait for a frame displayed after it that satisfies `until`; that frame's result."""
    shown = window.frames_displayed
    change()
    qtbot.waitUntil(lambda: window.frames_displayed > shown and until(window.last_frame.result), timeout=WAIT_MS)
    return window.last_frame.result
