"""Sinks of the output stage: annotated video, road-mask PNGs, JSON lines of detections.

A sink has `write(result: FrameResult)` and `close()` (app.contracts.Sink); the pipeline calls both
from its output thread only (close once, also after an error, so files are
always flushed and complete up to the last frame written).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

from core.atomic import commit, discard, fresh_partial_path, partial_path, sweep_stale_partials
from core.errors import BadInputError, OutputError
from core.output_paths import refuse_suffix

from .frames import FrameResult, load_runtime_config


class VideoWriter:
    """Every frame's overlay (or the raw frame) to a video at the source's FPS (codec from configs/runtime.yaml)."""

    def __init__(self, path: str | Path, fps: float | None = None, codec: str | None = None,
                 config: dict | None = None):
        cfg = (config or load_runtime_config())["writers"]
        self.path = Path(path)
        self.fps = float(fps or cfg["default_fps"])
        self.codec = codec or cfg["video_codec"]
        if len(self.codec) != 4:
            raise BadInputError(f"video codec must be a four-character code such as mp4v, got {self.codec!r}")
        refuse_suffix("video", self.path, cfg["video_suffixes"], "video")
        self.frames_written = 0
        self.size: tuple[int, int] | None = None
        self._writer: cv2.VideoWriter | None = None
        # written under a temporary name beside the target, renamed on close once read back: a crash, a
        # signal or a full disk never leaves an unplayable file under the final name or replaces an old one
        self._tmp = fresh_partial_path(self.path)
        self.stall_frames = max(1, int(cfg["stall_check_frames"]))
        self._last_size = -1
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _open(self, size: tuple[int, int]) -> None:
        self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*self.codec), self.fps, size)
        if not self._writer.isOpened():
            self._writer = None
            raise OutputError(f"cannot write video {self.path} with codec {self.codec!r} at {size[0]}x{size[1]} "
                              "(check the folder is writable and the codec suits the extension, e.g. mp4v for .mp4)")
        self.size = size

    def write_image(self, image: np.ndarray) -> None:
        size = (image.shape[1], image.shape[0])
        if self._writer is None:
            self._open(size)
        if size != self.size:  # frames of an image folder may differ in size; a video cannot
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        self._writer.write(image)
        self.frames_written += 1
        if self.frames_written % self.stall_frames == 0:
            self._check_growing()

    def _check_growing(self) -> None:
        """cv2.VideoWriter.write reports nothing: on a full disk FFmpeg drops every frame silently. A file that
        has not grown over `stall_frames` frames on a file system with (almost) no space left is not being
        written: fail now, not hours later at close. (Growth alone is no proof: FFmpeg buffers 32 KiB, which
        a static scene at a low resolution may not fill in `stall_frames` frames.)"""
        try:
            size = os.path.getsize(self._tmp)
        except OSError:
            size = -1
        if size <= self._last_size and _free_bytes(self._tmp.parent) < FULL_DISK_BYTES:
            raise OutputError(f"cannot write video {self.path}: the file stopped growing at {max(size, 0)} bytes "
                          f"after {self.frames_written} frames (disk full?)")
        self._last_size = size

    def write(self, result: FrameResult) -> None:
        self.write_image(result.image)

    def close(self) -> None:
        """Finish the file, read it back, and move it into place; OSError naming it when frames are missing.

        frames_written becomes the number of frames the finished file really holds.
        """
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        given, readable = self.frames_written, readable_frames(self._tmp)
        self.frames_written = readable
        if readable == given:
            commit(self._tmp, self.path)
            return
        if readable > 0:  # keep what plays: the run still fails, with the counts
            commit(self._tmp, self.path)
            raise OutputError(f"video {self.path} is incomplete: {given} frames were given to the writer but only "
                          f"{readable} can be read back (disk full?); the first {readable} frames are kept")
        discard(self._tmp)
        raise OutputError(f"cannot write video {self.path}: {given} frames were given to the writer and none can be "
                      "read back (disk full or the folder not writable?); nothing was kept")


FULL_DISK_BYTES = 1 << 20  # less than this left on the file system: "full" for the stall check


def _free_bytes(folder: Path) -> int:
    try:
        st = os.statvfs(folder)
    except OSError:
        return 0
    return st.f_bavail * st.f_frsize


def readable_frames(path: str | Path) -> int:
    """Frames a finished video file holds as OpenCV reads it back (0 when it cannot be opened)."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            return 0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if count <= 0:
            return 0
        # the container's count comes from its index; the last frame decoding proves the data is there too
        if count > 1:
            cap.set(cv2.CAP_PROP_POS_FRAMES, count - 1)
        ok, _ = cap.read()
        return count if ok else 0
    finally:
        cap.release()


class MaskWriter:
    """Road masks as PNGs named by frame index (000042.png): 255 where road probability ≥ the frame's threshold.

    probabilities=True writes the probability map (0-255) instead, e.g. for a KITTI evaluation.
    """

    def __init__(self, folder: str | Path, probabilities: bool = False, config: dict | None = None):
        cfg = (config or load_runtime_config())["writers"]
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        sweep_stale_partials(self.folder)  # once here: write() names each frame's file without listing the folder
        self.probabilities = probabilities
        self._params = [cv2.IMWRITE_PNG_COMPRESSION, int(cfg["png_compression"])]
        self.frames_written = 0

    def path_for(self, index: int) -> Path:
        return self.folder / f"{index:06d}.png"

    def write(self, result: FrameResult) -> None:
        road = result.perception.road
        if self.probabilities:
            image = np.clip(road * 255.0 + 0.5, 0, 255).astype(np.uint8)
        else:
            image = (road >= result.road_threshold).astype(np.uint8) * 255
        path = self.path_for(result.index)
        tmp = partial_path(path)  # the final name appears only complete
        if not cv2.imwrite(str(tmp), image, self._params):
            discard(tmp)
            raise OutputError(f"cannot write road mask {path} (disk full or the folder not writable?)")
        commit(tmp, path, sync=False)
        self.frames_written += 1

    def close(self) -> None:
        pass


class JsonLinesWriter:
    """One JSON object per frame: {"frame", "timestamp", "boxes", "road_fraction", "road_threshold",
    "timings_ms", "backend", "latency_ms"}, and with tracking
    {"tracks", "events", "collision", "track_ms"} (app.tracking.TrackFrame.to_json).

    `append(obj)` adds a further line (the CLI adds {"summary": ...} after the run).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # lines go to a temporary file beside the target; commit() (or finish()) renames it into place
        self._tmp = fresh_partial_path(self.path)
        try:
            self._file = open(self._tmp, "w", encoding="utf-8")
        except OSError as e:
            raise OutputError(f"cannot write JSON lines file {self.path}: {e.strerror}") from e
        self.frames_written = 0
        self.committed = False

    @staticmethod
    def record(result: FrameResult) -> dict:
        p = result.perception
        line = {"frame": result.index,
                "timestamp": None if result.frame.timestamp is None else round(result.frame.timestamp, 4)}
        line.update(p.to_json())
        if p.road_probs.size:
            line["road_fraction"] = round(float((p.road >= result.road_threshold).mean()), 4)
        line["road_threshold"] = result.road_threshold
        if result.tracks is not None:  # "tracks", "events", "collision", "track_ms" (app/tracking.py)
            line.update(result.tracks.to_json())
        stages = result.stage_ms()
        if "infer" in stages:
            line["latency_ms"] = {k: round(v, 2) for k, v in stages.items()}
        return line

    def write(self, result: FrameResult) -> None:
        self._write_line(self.record(result))
        self.frames_written += 1

    def _write_line(self, obj: dict) -> None:
        try:
            self._file.write(json.dumps(obj) + "\n")
        except OSError as e:
            raise OutputError(f"cannot write JSON lines file {self.path}: {e.strerror}") from e

    def close(self) -> None:
        """Flush the lines (the pipeline's output thread); the file keeps its temporary name until commit()."""
        if not self._file.closed:
            try:
                self._file.close()
            except OSError as e:
                raise OutputError(f"cannot write JSON lines file {self.path}: {e.strerror}") from e

    def discard(self) -> None:
        """Close and remove the temporary file (the run never started); an older file at `path` stays."""
        if not self._file.closed:
            self._file.close()
        discard(self._tmp)

    def commit(self, last_line: dict | None = None) -> Path:
        """Append `last_line` (the run's summary), then move the finished file into place."""
        if self.committed:
            return self.path
        self.close()
        if last_line is not None:
            try:
                with open(self._tmp, "a", encoding="utf-8") as f:
                    f.write(json.dumps(last_line) + "\n")
            except OSError as e:
                raise OutputError(f"cannot write JSON lines file {self.path}: {e.strerror}") from e
        commit(self._tmp, self.path)
        self.committed = True
        return self.path

    @staticmethod
    def append(path: str | Path, obj: dict) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")
