"""Sources: video files, image folders and globs, cameras and streams; seeking, reconnecting, clear errors."""

from __future__ import annotations

import itertools
import threading
import time

import cv2
import numpy as np
import pytest

from app.sources import LiveSource, SourceError, SourceLostError, open_source
from stand_ins import H, W, read_stamp, stamped_image, write_stamped_video


def test_video_file_reports_its_properties_reads_in_order_and_seeks(tmp_path):
    clip = write_stamped_video(tmp_path / "clip.mp4", 30, fps=20)
    with open_source(str(clip)) as source:
        info = source.info
        assert (info.kind, info.width, info.height, info.fps, info.frame_count, info.live) == \
            ("video", W, H, 20.0, 30, False)
        assert info.seekable and "30 frames" in info.describe()
        frames = list(source)
    assert [f.index for f in frames] == list(range(30))
    assert [read_stamp(f.image) for f in frames] == list(range(30))
    assert frames[10].timestamp == pytest.approx(0.5)
    assert all(b.t_capture >= a.t_capture for a, b in itertools.pairwise(frames))

    with open_source(clip) as source:
        source.seek(17)
        frame = source.read()
        assert frame.index == 17 and read_stamp(frame.image) == 17
        source.seek(3)
        assert [read_stamp(source.read().image) for _ in range(3)] == [3, 4, 5]
        source.seek(1000)  # clamped to the last frame
        assert read_stamp(source.read().image) == 29 and source.read() is None


def test_video_file_played_in_real_time_is_a_paced_live_source(tmp_path):
    clip = write_stamped_video(tmp_path / "clip.mp4", 10, fps=50)
    with open_source(clip, realtime=True) as source:
        assert source.info.live
        t0 = time.perf_counter()
        for _ in range(6):
            source.read()
        assert time.perf_counter() - t0 >= 5 / 50 - 0.005  # frames come no faster than the clip's FPS


def test_image_folder_and_glob_in_natural_order(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (1, 2, 10, 3):
        cv2.imwrite(str(folder / f"frame{i}.png"), stamped_image(i))
    (folder / "notes.txt").write_text("not an image")
    with open_source(folder) as source:
        assert (source.info.kind, source.info.frame_count, source.info.live, source.info.size) == \
            ("images", 4, False, (W, H))
        assert source.info.fps == 10.0  # configs/runtime.yaml image_fps
        assert [read_stamp(f.image) for f in source] == [1, 2, 3, 10]
        source.seek(2)
        assert read_stamp(source.read().image) == 3
    with open_source(str(folder / "frame1*.png")) as source:
        assert [read_stamp(f.image) for f in source] == [1, 10]
    with open_source(folder / "frame3.png") as source:  # one image is a one-frame folder
        assert source.info.frame_count == 1


def test_bad_sources_give_one_clear_error_naming_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="source not found: .*missing.mp4.*camera index"):
        open_source(tmp_path / "missing.mp4")

    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(ValueError, match=f"cannot decode video file {corrupt}"):
        open_source(corrupt)

    text = tmp_path / "notes.avi"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.avi"):
        open_source(text)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"image folder {empty} holds no images"):
        open_source(empty)
    with pytest.raises(ValueError, match="image glob .* holds no images"):
        open_source(str(tmp_path / "*.png"))

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "0001.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read image .*0001.png"):
        open_source(broken)


def test_missing_camera_index_gives_a_clear_message():
    with pytest.raises(SourceError, match=r"camera 97 cannot be opened .*(cameras here|no camera devices)"):
        open_source("97")
    with pytest.raises(SourceError, match="camera 98"):
        open_source("/dev/video98")


class FlakyCapture:
    """A cv2.VideoCapture stand-in delivering `frames` frames, then failing every read."""

    def __init__(self, frames: int, opened: bool = True):
        self.frames, self.opened = frames, opened

    def isOpened(self):
        return self.opened

    def read(self):
        if self.frames > 0:
            self.frames -= 1
            return True, np.zeros((H, W, 3), np.uint8)
        return False, None

    def get(self, prop):
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self):
        pass


def test_live_source_reconnects_with_back_off():
    captures = iter([FlakyCapture(2), FlakyCapture(0, opened=False), FlakyCapture(0), FlakyCapture(3)])
    source = LiveSource("camera", "0", lambda: next(captures), retry_s=5.0, backoff_s=(0.01, 0.05))
    assert source.info.live and source.info.fps == 30.0 and source.info.frame_count is None
    assert not source.info.seekable
    frames = [source.read() for _ in range(5)]  # 2 frames, a dead read, two failed re-opens, then 3 frames
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert source.reconnects == 1 and source.state == "ok"
    with pytest.raises(ValueError, match="live"):
        source.seek(0)


def test_live_source_that_never_comes_back_is_reported_lost():
    opens = []

    def opener():  # opens fine every time, but only the first connection ever delivers a frame
        opens.append(1)
        return FlakyCapture(1 if len(opens) == 1 else 0)

    source = LiveSource("stream", "rtsp://cam", opener, retry_s=0.25, backoff_s=(0.02, 0.08))
    assert source.read() is not None
    t0 = time.perf_counter()
    with pytest.raises(SourceLostError, match=r"stream rtsp://cam stopped delivering frames .* within 0.25 s"):
        source.read()
    assert 0.25 <= time.perf_counter() - t0 < 2.0
    assert source.state == "lost" and len(opens) >= 3


def test_interrupt_cuts_a_reconnect_wait_short():
    source = LiveSource("camera", "0", lambda: FlakyCapture(1), retry_s=30.0, backoff_s=(5.0, 5.0))
    source.read()
    threading.Timer(0.1, source.interrupt).start()
    t0 = time.perf_counter()
    assert source.read() is None
    assert time.perf_counter() - t0 < 1.0
