"""Real frames for INT8 calibration: N frames spread evenly over a video or an image folder.

Calibration ranges are only as good as the frames they are measured on, so the
frames come from real footage and go through exactly the inference
pre-processing (`nets.preprocess.to_input_tensor`: letterbox, the runtime config's exposure
normalisation, RGB, [0, 1]).
Spreading them over the whole source (rather than the first N) covers the
lighting and scene changes of a clip. Everything here is plain numpy/OpenCV so it
is tested without TensorRT or a GPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from core.errors import BadInputError, InputNotFoundError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def spread_indices(total: int, n: int) -> list[int]:
    """`n` indices spread evenly over range(total), first and last included; all of them when total <= n."""
    if total <= 0 or n <= 0:
        return []
    if n >= total:
        return list(range(total))
    if n == 1:
        return [total // 2]
    # round((total-1) * i / (n-1)) is strictly increasing when n <= total, so no duplicates
    return [round((total - 1) * i / (n - 1)) for i in range(n)]


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_calibration_frames(source: str | Path, n: int) -> list[np.ndarray]:
    """Read up to `n` BGR uint8 frames spread over a video file or an image folder.

    Raises FileNotFoundError for a missing path and ValueError for a source that
    yields no frame (not a video OpenCV can decode, an empty folder, unreadable images).
    """
    if n <= 0:
        raise BadInputError(f"the number of calibration frames must be positive, got {n}")
    path = Path(source)
    if not path.exists():
        raise InputNotFoundError(f"calibration source not found: {path} (give a video file or a folder of images "
                                 "with --calib-source)")
    frames = _read_folder(path, n) if path.is_dir() else _read_video(path, n)
    if not frames:
        raise BadInputError(f"calibration source {path} gave no frames")
    return frames


def _read_folder(folder: Path, n: int) -> list[np.ndarray]:
    import cv2

    images = list_images(folder)
    if not images:
        raise BadInputError(f"calibration folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    frames = []
    for i in spread_indices(len(images), n):
        im = cv2.imread(str(images[i]), cv2.IMREAD_COLOR)
        if im is None:
            raise BadInputError(f"cannot read calibration image {images[i]}: not an image OpenCV can decode")
        frames.append(im)
    return frames


def _read_video(path: Path, n: int) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise BadInputError(f"cannot open calibration video {path}: not a video OpenCV can decode "
                                "(give a video file or a folder of images)")
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if total <= 0:  # some containers do not store a frame count: count by decoding
            total = _count_frames(cap)
            cap.release()
            cap = cv2.VideoCapture(str(path))
        wanted = set(spread_indices(total, n))
        frames = []
        # grab() every frame and decode only the wanted ones: seeking with
        # CAP_PROP_POS_FRAMES is inexact on many codecs (it lands on key frames)
        for index in range(total):
            if not cap.grab():
                break  # the container over-reported its length; keep what was read
            if index in wanted:
                ok, frame = cap.retrieve()
                if ok and frame is not None:
                    frames.append(frame)
        if not frames:
            raise BadInputError(f"calibration video {path} has no decodable frames")
        return frames
    finally:
        cap.release()


def _count_frames(cap) -> int:
    count = 0
    while cap.grab():
        count += 1
    return count


def calibration_batches(frames: list[np.ndarray], input_size: tuple[int, int]) -> Iterator[np.ndarray]:
    """One (1, 3, H, W) float32 batch per frame, pre-processed exactly as at inference.

    Batch size 1 because the exported ONNX has a fixed batch of 1. The exposure normalisation of
    configs/runtime.yaml applies, as a Predictor's does, so the ranges are those of the inputs it feeds.
    """
    from ..config import default_exposure
    from ..preprocess import to_input_tensor

    exposure = default_exposure()
    for frame in frames:
        batch, _ = to_input_tensor([frame], tuple(input_size), exposure)
        yield batch
