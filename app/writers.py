"""Sinks of the output stage: annotated video, road-mask PNGs, JSON lines of detections.

A sink has `write(result: FrameResult)` and `close()`; the pipeline calls both
from its output thread only (close once, also after an error, so files are
always flushed and complete up to the last frame written).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

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
            raise ValueError(f"video codec must be a four-character code such as mp4v, got {self.codec!r}")
        self.frames_written = 0
        self.size: tuple[int, int] | None = None
        self._writer: cv2.VideoWriter | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _open(self, size: tuple[int, int]) -> None:
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*self.codec), self.fps, size)
        if not self._writer.isOpened():
            self._writer = None
            raise OSError(f"cannot write video {self.path} with codec {self.codec!r} at {size[0]}x{size[1]} "
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

    def write(self, result: FrameResult) -> None:
        self.write_image(result.image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None


class MaskWriter:
    """Road masks as PNGs named by frame index (000042.png): 255 where road probability ≥ the frame's threshold.

    probabilities=True writes the probability map (0-255) instead, e.g. for a KITTI evaluation.
    """

    def __init__(self, folder: str | Path, probabilities: bool = False, config: dict | None = None):
        cfg = (config or load_runtime_config())["writers"]
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.probabilities = probabilities
        self._params = [cv2.IMWRITE_PNG_COMPRESSION, int(cfg.get("png_compression", 1))]
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
        if not cv2.imwrite(str(path), image, self._params):
            raise OSError(f"cannot write road mask {path}")
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
        try:
            self._file = open(self.path, "w", encoding="utf-8")
        except OSError as e:
            raise OSError(f"cannot write JSON lines file {self.path}: {e.strerror}") from e
        self.frames_written = 0

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
        self._file.write(json.dumps(self.record(result)) + "\n")
        self.frames_written += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    @staticmethod
    def append(path: str | Path, obj: dict) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")
