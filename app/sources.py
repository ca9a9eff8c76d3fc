"""Frame sources: one way to open anything OpenCV opens.

    source = open_source("0")                       # camera index (live)
    source = open_source("rtsp://host/stream")      # network stream (live)
    source = open_source("clip.mp4")                # video file (replay)
    source = open_source("frames/") / ("frames/*.png")   # image folder or glob (replay)
    source = open_source("clip.mp4", realtime=True) # a file played at its FPS, as if it were a camera (live)

    source.info            # SourceInfo: kind, name, width, height, fps, frame_count, live
    frame = source.read()  # app.frames.Frame, or None at the end of a replay source
    source.seek(120)       # replay sources only: the next read returns frame 120
    source.close()

A live source that stops delivering is re-opened with a doubling back-off for
`retry_s` seconds, then `SourceLostError` is raised. A missing path, a file
OpenCV cannot decode, an empty folder and a camera that cannot be opened each
raise one error naming the thing (FileNotFoundError, ValueError, SourceError).

Sources are not thread-safe: one thread reads (the pipeline's capture thread);
`interrupt()` may be called from any thread to cut a back-off or pacing wait short.
"""

from __future__ import annotations

import glob
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import BadInputError, InputNotFoundError, UserError

from .frames import Frame, load_runtime_config

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt")
_HINT = "give a camera index such as 0, a video file, an image folder or glob, or an rtsp/http URL"


class SourceError(UserError, OSError):
    """A camera or stream cannot be opened or read."""


class SourceLostError(SourceError):
    """A live source stopped delivering frames and did not come back in time."""


@dataclass(frozen=True)
class SourceInfo:
    """What a source delivers.

    kind: "camera", "stream", "video" or "images".
    live: True for cameras and streams (and files played with realtime=True):
        frames arrive on their own clock and stale ones may be dropped; False for
        replay sources (every frame, in order, seekable).
    fps: nominal frames per second, None when unknown.
    frame_count: frames in a file or folder, None for live sources or when unknown.
    """

    kind: str
    name: str
    width: int
    height: int
    fps: float | None
    frame_count: int | None
    live: bool

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.width, self.height

    @property
    def seekable(self) -> bool:
        return self.kind in ("video", "images")

    def describe(self) -> str:
        fps = f" @ {self.fps:g} fps" if self.fps else ""
        count = f", {self.frame_count} frames" if self.frame_count else ""
        mode = "live: drops stale frames" if self.live else "replay: every frame, in order"
        return f"{self.kind} {self.name} {self.width}x{self.height}{fps}{count} ({mode})"


class Source:
    """Base of all sources: read() frames until None; seek() where supported.

    Every source is an app.contracts.Source; the replay ones (info.seekable) also a SeekableSource.
    """

    info: SourceInfo

    def __init__(self):
        self._interrupt = threading.Event()
        self._next_index = 0
        self.state = "ok"  # "ok", "retrying" (live source reconnecting), "lost", "closed"
        self.reconnects = 0

    @property
    def position(self) -> int:
        """Index of the frame the next read() returns."""
        return self._next_index

    def read(self) -> Frame | None:
        raise NotImplementedError

    def seek(self, index: int) -> None:
        raise ValueError(f"{self.info.kind} {self.info.name} is live and cannot seek")

    def interrupt(self) -> None:
        """Cut any wait in read() short (called by the pipeline when it stops); read() then returns None."""
        self._interrupt.set()

    def close(self) -> None:
        self.state = "closed"

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _clean_fps(fps: float) -> float | None:
    """OpenCV reports 0, NaN or absurd values when a container does not know its FPS."""
    return float(fps) if fps and math.isfinite(fps) and 0 < fps <= 1000 else None


class VideoFileSource(Source):
    """A video file: replay (seekable), or paced at its FPS as a live source when realtime=True."""

    def __init__(self, path: str | Path, realtime: bool = False, fps: float | None = None):
        super().__init__()
        self.path = Path(path)
        if not self.path.is_file():
            raise InputNotFoundError(f"video file not found: {self.path} ({_HINT})")
        self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        first = None
        if self._cap.isOpened():
            ok, first = self._cap.read()
            first = first if ok else None
        if first is None:
            self._cap.release()
            raise BadInputError(f"cannot decode video file {self.path}: OpenCV/FFmpeg reads no frame from it "
                                "(corrupt, truncated, not a video, or an unsupported codec)")
        self._pending: np.ndarray | None = first
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        nominal = fps or _clean_fps(self._cap.get(cv2.CAP_PROP_FPS))
        self.info = SourceInfo("video", self.path.name, first.shape[1], first.shape[0], nominal,
                               count if count > 0 else None, live=realtime)
        self._realtime = realtime
        self._pace_start: float | None = None
        self._pace_first = 0

    def read(self) -> Frame | None:
        if self._interrupt.is_set():
            return None
        t0 = time.perf_counter()
        if self._pending is not None:
            image, self._pending = self._pending, None
        else:
            ok, image = self._cap.read()
            if not ok:
                return None
        index = self._next_index
        self._next_index += 1
        fps = self.info.fps
        if self._realtime and fps:
            if self._pace_start is None:
                self._pace_start, self._pace_first = t0, index
            due = self._pace_start + (index - self._pace_first) / fps
            if due > time.perf_counter() and self._interrupt.wait(due - time.perf_counter()):
                return None
        timestamp = index / fps if fps else self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1e3
        if self._realtime:
            timestamp = time.time()
        return Frame(index, time.perf_counter(), image, timestamp)

    def seek(self, index: int) -> None:
        count = self.info.frame_count
        index = max(0, int(index))
        if count:
            index = min(index, count - 1)
        self._pending = None
        if not self._cap.set(cv2.CAP_PROP_POS_FRAMES, index):
            raise BadInputError(f"cannot seek {self.path} to frame {index}")
        self._next_index = index
        self._pace_start = None

    def close(self) -> None:
        self._cap.release()
        super().close()


def _natural_key(path: Path):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


class ImageFolderSource(Source):
    """Images of a folder, a glob pattern or one image file, in natural order (frame2 before frame10)."""

    def __init__(self, spec: str | Path, fps: float, suffixes: tuple[str, ...]):
        super().__init__()
        spec = str(spec)
        path = Path(spec)
        if path.is_dir():
            files = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes]
            where = f"image folder {path}"
        elif path.is_file():
            files, where = [path], f"image {path}"
        else:
            files = [Path(p) for p in glob.glob(spec, recursive=True)]
            files = [p for p in files if p.is_file() and p.suffix.lower() in suffixes]
            where = f"image glob {spec!r}"
        if not files:
            raise BadInputError(f"{where} holds no images ({', '.join(suffixes)})")
        self.files = sorted(files, key=_natural_key)
        first = self._load(0)
        self._pending: np.ndarray | None = first
        name = path.name if path.is_dir() or path.is_file() else spec
        self.info = SourceInfo("images", name, first.shape[1], first.shape[0], fps, len(self.files), live=False)

    def _load(self, i: int) -> np.ndarray:
        image = cv2.imread(str(self.files[i]), cv2.IMREAD_COLOR)
        if image is None:
            raise BadInputError(f"cannot read image {self.files[i]}: not an image OpenCV can decode")
        return image

    def read(self) -> Frame | None:
        if self._interrupt.is_set() or self._next_index >= len(self.files):
            return None
        index = self._next_index
        if self._pending is not None and index == 0:
            image = self._pending
        else:
            image = self._load(index)
        self._pending = None
        self._next_index += 1
        return Frame(index, time.perf_counter(), image, index / self.info.fps if self.info.fps else None)

    def seek(self, index: int) -> None:
        self._next_index = min(max(0, int(index)), len(self.files) - 1)
        self._pending = None


class LiveSource(Source):
    """A camera or stream. `opener()` returns an opened cv2.VideoCapture-like object (read(), get(), release()).

    A read that fails is retried by re-opening, with a back-off doubling from
    backoff_s[0] to backoff_s[1], for retry_s seconds; then SourceLostError.
    """

    def __init__(self, kind: str, name: str, opener: Callable[..., object], retry_s: float = 5.0,
                 backoff_s: tuple[float, float] = (0.1, 1.0), open_error: str = ""):
        super().__init__()
        self.kind, self.name = kind, name
        self._opener = opener
        # an opener that takes a timeout (streams) gets the time left before giving up, so one slow
        # re-open cannot carry the give-up past retry_s
        self._opener_takes_timeout = _takes_an_argument(opener)
        self.retry_s = float(retry_s)
        self.backoff_s = (float(backoff_s[0]), float(backoff_s[1]))
        self._cap = self._open(None)
        first = None
        if self._cap is not None and self._cap.isOpened():
            ok, first = self._cap.read()
            first = first if ok else None
        if first is None:
            if self._cap is not None:
                self._cap.release()
            raise SourceError(open_error or f"{kind} {name} cannot be opened or delivers no frames")
        self._pending: np.ndarray | None = first
        fps = _clean_fps(self._cap.get(cv2.CAP_PROP_FPS))
        self.info = SourceInfo(kind, name, first.shape[1], first.shape[0], fps, None, live=True)
        self.lost_after_s: float | None = None

    def _frame(self, image: np.ndarray) -> Frame:
        index = self._next_index
        self._next_index += 1
        return Frame(index, time.perf_counter(), image, time.time())

    def _open(self, timeout_s: float | None):
        return self._opener(timeout_s) if self._opener_takes_timeout else self._opener()

    def read(self) -> Frame | None:
        if self._interrupt.is_set():
            return None
        if self._pending is not None:
            image, self._pending = self._pending, None
            return self._frame(image)
        t0 = time.perf_counter()
        ok, image = self._cap.read() if self._cap is not None else (False, None)
        if ok and image is not None:
            return self._frame(image)
        return self._reconnect(since=t0)

    def _reconnect(self, since: float | None = None) -> Frame | None:
        """Re-open until a frame comes, for retry_s counted from `since` (the read that failed: a stalled
        stream's read itself takes its read timeout), every open bounded by the time left."""
        self.state = "retrying"
        start = time.perf_counter() if since is None else since
        delay, attempts = self.backoff_s[0], 0
        while True:
            remaining = self.retry_s - (time.perf_counter() - start)
            if remaining <= 0:
                self.state = "lost"
                self.lost_after_s = time.perf_counter() - start
                raise SourceLostError(f"{self.kind} {self.name} stopped delivering frames and did not come back "
                                      f"within {self.retry_s:g} s ({attempts} reconnect attempts); check the "
                                      "cable, the network or whether another program holds it")
            if self._interrupt.wait(min(delay, remaining)):
                return None
            remaining = self.retry_s - (time.perf_counter() - start)
            if remaining <= 0:
                continue
            attempts += 1
            delay = min(delay * 2, self.backoff_s[1])
            try:
                if self._cap is not None:
                    self._cap.release()
                self._cap = self._open(remaining)
                if self._cap is None or not self._cap.isOpened():
                    continue
                ok, image = self._cap.read()
            except cv2.error:
                continue
            if ok and image is not None:
                self.reconnects += 1
                self.state = "ok"
                return self._frame(image)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        super().close()


def _quiet_open(*args) -> cv2.VideoCapture:
    """cv2.VideoCapture without OpenCV's warnings on stderr (we raise our own clear error instead)."""
    logging = cv2.utils.logging
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        return cv2.VideoCapture(*args)
    finally:
        logging.setLogLevel(level)


def _camera_devices() -> list[str]:
    return sorted(glob.glob("/dev/video*"), key=lambda p: _natural_key(Path(p)))


def _open_camera(index: int, retry_s: float, backoff_s) -> LiveSource:
    devices = _camera_devices()
    found = f"cameras here: {', '.join(devices)}" if devices else "no camera devices found (/dev/video*)"
    return LiveSource("camera", str(index), lambda: _quiet_open(index), retry_s, backoff_s,
                      open_error=f"camera {index} cannot be opened or delivers no frames ({found}; is it "
                                 "connected and not used by another program?)")


def _takes_an_argument(fn) -> bool:
    import inspect

    try:
        return len(inspect.signature(fn).parameters) > 0
    except (TypeError, ValueError):
        return False


def _open_stream(url: str, retry_s: float, backoff_s, timeout_s: float) -> LiveSource:
    # a stalled read counts against retry_s: keep it to half, so a re-open still fits before giving up
    read_ms = int(min(timeout_s, retry_s / 2) * 1000) if retry_s > 0 else int(timeout_s * 1000)

    def opener(left_s: float | None = None):
        # re-opens get the time left before giving up, so the give-up happens when the message says
        open_ms = int(timeout_s * 1000 if left_s is None else max(1.0, min(timeout_s, left_s) * 1000))
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, open_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, min(read_ms, open_ms)]
        return _quiet_open(url, cv2.CAP_FFMPEG, params)

    shown = re.sub(r"//[^@/]*@", "//***@", url)  # never print credentials embedded in a URL
    return LiveSource("stream", shown, opener, retry_s, backoff_s,
                      open_error=f"stream {shown} cannot be opened or delivers no frames within {timeout_s:g} s "
                                 "(check the URL, the network and the credentials)")


def open_source(spec: str | int | Path, *, realtime: bool = False, config: dict | None = None,
                retry_s: float | None = None, fps: float | None = None) -> Source:
    """Open a camera index ("0"), /dev/videoN, a stream URL, a video file, an image folder, glob or image.

    realtime: play a video file at its nominal FPS as a live source (stale frames dropped).
    retry_s: how long a live source that stops delivering is retried (default: configs/runtime.yaml).
    fps: nominal FPS to use instead of the source's (image folders: configs/runtime.yaml image_fps).
    """
    cfg = (config or load_runtime_config())["sources"]
    retry = cfg["camera_retry_s"] if retry_s is None else retry_s
    backoff = tuple(cfg["camera_backoff_s"])
    suffixes = tuple(s.lower() for s in cfg["image_suffixes"])
    text = str(spec).strip()
    if not text:
        raise BadInputError(f"empty source ({_HINT})")
    if isinstance(spec, int) or text.isdigit():
        return _open_camera(int(text), retry, backoff)
    if re.fullmatch(r"/dev/video\d+", text):
        return _open_camera(int(text[len("/dev/video"):]), retry, backoff)
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in STREAM_SCHEMES:
        return _open_stream(text, retry, backoff, float(cfg["stream_timeout_s"]))
    path = Path(text).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix.lower() in suffixes):
        return ImageFolderSource(path, fps or float(cfg["image_fps"]), suffixes)
    if path.is_file():
        return VideoFileSource(path, realtime=realtime, fps=fps)
    if any(c in text for c in "*?["):
        return ImageFolderSource(text, fps or float(cfg["image_fps"]), suffixes)
    raise InputNotFoundError(f"source not found: {text} ({_HINT})")
