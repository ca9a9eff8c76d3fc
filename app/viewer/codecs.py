"""Which codec recordings use: the first of the preferred four-character codes this OpenCV build can write.

H.264 (avc1) plays everywhere (browsers, chat apps, phones) at a third of mp4v's size,
but the pip OpenCV wheels ship FFmpeg without an H.264 encoder, so it is tried once
on a tiny file (in a child process) and the next choice (mp4v) is used where it fails, and the window says so.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache

CODEC_NAMES = {"avc1": "H.264", "h264": "H.264", "H264": "H.264", "X264": "H.264", "hev1": "H.265",
               "mp4v": "MPEG-4 Part 2", "MJPG": "Motion JPEG", "XVID": "Xvid"}

# The probe runs in a child process: a codec OpenCV's FFmpeg cannot open prints its errors
# ("[h264_v4l2m2m @ 0x...] Could not find a valid device", "[ERROR:0@0.5] ... Failed to initialize
# VideoWriter") straight to the process's stderr from C, where no Python setting reaches them once
# FFmpeg is loaded. In a child they are captured and dropped, and the viewer's terminal stays clean.
_PROBE = """
import pathlib, sys, tempfile
import cv2, numpy as np
codec, suffix = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory(prefix="codec-probe-") as folder:
    path = pathlib.Path(folder) / ("probe" + suffix)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 25.0, (64, 48))
    opened = writer.isOpened()
    if opened:
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    sys.exit(0 if opened and path.is_file() and path.stat().st_size > 0 else 1)
"""
PROBE_TIMEOUT_S = 30.0


@cache
def can_write(codec: str, suffix: str = ".mp4") -> bool:
    """Can OpenCV open a writer with `codec` for a `suffix` file here and write a frame? (Probed once, in a
    child process so that a failing encoder's messages stay out of this terminal.)"""
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE, codec, suffix], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):  # no child process, or an encoder that hangs: not usable
        return False
    return probe.returncode == 0


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
