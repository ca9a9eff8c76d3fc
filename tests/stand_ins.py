"""Stand-ins shared by the app tests: frame-index stamps, a configurable predictor, a fake camera.

Frames carry their index as a binary code of black/white blocks in their pixels, so
the order of a written video is checked from the video itself.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from app.frames import Frame
from app.sources import SourceInfo
from nets.result import Perception

# --- frame stamps: BITS blocks of BLOCK px along the bottom rows, white = 1 ------------------------------------
W, H, BLOCK, BITS = 160, 96, 16, 10


def stamped_image(index: int, width: int = W, height: int = H) -> np.ndarray:
    image = np.full((height, width, 3), 90, np.uint8)
    image[: height // 2] = (60 + 7 * index) % 200  # some content that changes, above the code
    for bit in range(BITS):
        if index >> bit & 1:
            image[height - BLOCK :, bit * BLOCK : (bit + 1) * BLOCK] = 255
        else:
            image[height - BLOCK :, bit * BLOCK : (bit + 1) * BLOCK] = 0
    return image


def read_stamp(image: np.ndarray) -> int:
    h = image.shape[0]
    value = 0
    for bit in range(BITS):
        block = image[h - BLOCK + 4 : h - 4, bit * BLOCK + 4 : (bit + 1) * BLOCK - 4]
        if block.mean() > 127:
            value |= 1 << bit
    return value


def write_stamped_video(path, n: int, fps: float = 25.0, width: int = W, height: int = H):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for i in range(n):
        writer.write(stamped_image(i, width, height))
    writer.release()
    return path


def video_stamps(path) -> list[int]:
    cap = cv2.VideoCapture(str(path))
    stamps = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        stamps.append(read_stamp(image))
    cap.release()
    return stamps


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


class StandIn:
    """Predictor stand-in: sleeps `sleep` s, returns a constant road map and one box whose score is the conf
    in effect (so tests can see which threshold a frame was inferred with); raises on call number `fail_at`."""

    def __init__(self, sleep: float = 0.0, fail_at: int | None = None, road: float = 0.0, name: str = "stand-in"):
        self.sleep, self.fail_at, self.road, self.backend_name = sleep, fail_at, road, name
        self.conf, self.iou = 0.25, 0.5
        self.calls = 0
        self.closed = False
        self.failed_at: float | None = None
        self.threads: set[str] = set()

    def __call__(self, image: np.ndarray) -> Perception:
        self.threads.add(threading.current_thread().name)
        if self.fail_at is not None and self.calls == self.fail_at:
            self.failed_at = time.perf_counter()
            raise RuntimeError("stand-in backend exploded")
        self.calls += 1
        if self.sleep:
            time.sleep(self.sleep)
        h, w = image.shape[:2]
        boxes = np.array([[4, 4, 40, 30, self.conf, 0]], np.float32)
        return Perception(np.full((1, h, w), self.road, np.float32), boxes, ["car", "pedestrian", "cyclist"],
                          timings={"pre": 0.0, "infer": self.sleep * 1e3, "post": 0.0}, backend=self.backend_name)

    def close(self) -> None:
        self.closed = True


class FakeCamera:
    """A live source on its own clock: frame k is exposed at t0 + k·interval (its capture time) and buffered
    until read, like a camera driver's queue; a reader that falls behind gets ever older frames."""

    def __init__(self, n: int, interval: float):
        self.n, self.interval = n, interval
        self.info = SourceInfo("camera", "fake", W, H, 1 / interval, None, live=True)
        self.position = 0
        self.state = "ok"
        self._stop = threading.Event()
        self._t0: float | None = None

    def read(self) -> Frame | None:
        if self.position >= self.n or self._stop.is_set():
            return None
        if self._t0 is None:
            self._t0 = time.perf_counter()
        due = self._t0 + self.position * self.interval
        if due > time.perf_counter() and self._stop.wait(due - time.perf_counter()):
            return None
        frame = Frame(self.position, due, stamped_image(self.position), time.time())
        self.position += 1
        return frame

    def seek(self, index):
        raise ValueError("live")

    def interrupt(self):
        self._stop.set()

    def close(self):
        self.state = "closed"
