"""The first frames of a clip, decoded once up front: what a benchmark or a check times or compares."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_first_frames(source: str | Path, n: int) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(source))
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise SystemExit(f"cannot read frames from {source}")
    return frames
