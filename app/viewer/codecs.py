"""Which codec recordings use: the first of the preferred four-character codes this OpenCV build can write.

H.264 (avc1) plays everywhere (browsers, chat apps, phones) at a third of mp4v's size,
but the pip OpenCV wheels ship FFmpeg without an H.264 encoder, so it is tried once
on a tiny file and the next choice (mp4v) is used where it fails, and the window says so.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import numpy as np

CODEC_NAMES = {"avc1": "H.264", "h264": "H.264", "H264": "H.264", "X264": "H.264", "hev1": "H.265",
               "mp4v": "MPEG-4 Part 2", "MJPG": "Motion JPEG", "XVID": "Xvid"}


@cache
def can_write(codec: str, suffix: str = ".mp4") -> bool:
    """Can OpenCV open a writer with `codec` for a `suffix` file here and write a frame? (Probed once.)"""
    import cv2

    with tempfile.TemporaryDirectory(prefix="codec-probe-") as folder:
        path = Path(folder) / f"probe{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 25.0, (64, 48))
        try:
            if not writer.isOpened():
                return False
            writer.write(np.zeros((48, 64, 3), np.uint8))
        finally:
            writer.release()
        return path.is_file() and path.stat().st_size > 0


def recording_codec(preferred: tuple[str, ...], suffix: str = ".mp4") -> tuple[str, str]:
    """(codec, note): the first codec of `preferred` this build writes; the note says why not the first."""
    for codec in preferred:
        if can_write(codec, suffix):
            if codec == preferred[0]:
                return codec, ""
            first = CODEC_NAMES.get(preferred[0], preferred[0])
            return codec, f"{CODEC_NAMES.get(codec, codec)} ({codec}): this OpenCV build cannot write {first}"
    raise OSError(f"this OpenCV build can write none of the codecs {', '.join(preferred)} to {suffix} files; "
                  f"set viewer: recording_codecs in the runtime config")
