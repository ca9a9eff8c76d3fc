"""The viewer's outputs: PNGs of the frame on screen and recordings of the overlaid stream, named after the source.

The recording itself is each session's RecordingSink (recording.py, on the pipeline's output thread); this module
names the files, picks the codec, writes the screenshots and says what happened. Paths in messages are absolute,
so they say where a file went wherever the viewer was started. Qt-free: the window passes in how to show a status
message, report an error and show the record controls on or off.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .codecs import CODEC_NAMES, recording_codec


def file_stem(spec: str, kind: str) -> str:
    """A file-name-safe stem for recordings and screenshots of a source."""
    stem = Path(spec).stem if kind in ("video", "images") else f"{kind}{spec if kind == 'camera' else ''}"
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "source"


def _probe_codecs(codecs) -> None:
    try:
        recording_codec(codecs)  # fills codecs.can_write's cache
    except OSError:
        pass  # no codec writes here: said when the user records


class Outputs:
    """output_dir: where files go unless a path is given; codecs: the recording codecs to try, in order.
    status(text, ms): a status-bar message; report(title, message): an error; show_recording(on): the record
    button, menu item and label."""

    def __init__(self, output_dir, codecs, *, status: Callable[[str, int], None],
                 report: Callable[[str, str], None], show_recording: Callable[[bool], None]):
        self.output_dir, self.codecs = output_dir, tuple(codecs)
        self._status, self._report, self._show_recording = status, report, show_recording
        # the codec probe takes a child process per codec (0.3-0.5 s each): run it now in the background, so
        # the first click on Record does not freeze the window for it
        threading.Thread(target=_probe_codecs, args=(self.codecs,), name="codec-probe", daemon=True).start()

    def path_for(self, session, suffix: str) -> Path:
        """output_dir/<source stem><suffix> (stem "viewer" without a session), absolute."""
        stem = file_stem(session.spec, session.info.kind) if session is not None else "viewer"
        return (Path(self.output_dir) / f"{stem}{suffix}").resolve()

    def save_screenshot(self, image, index: int, session, path=None) -> Path | None:
        """`image` (frame `index` of `session`; None: nothing on screen yet) as a PNG at `path` (default: numbered
        as the position counter counts, frame 1 of N, not from 0); its path, or None."""
        import cv2

        if image is None:
            self._status("nothing to save yet", 4000)
            return None
        path = Path(path) if path else self.path_for(session, f"_frame{index + 1:06d}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), image):
            self._report("Cannot save the screenshot", f"cannot write {path} (is the folder writable?)")
            return None
        self._status(f"saved {path.resolve()}", 6000)
        return path

    def set_recording(self, session, on: bool, path=None) -> Path | None:
        """Start recording `session`'s overlaid stream from the frame on screen (to `path`, default: stamped with
        the time), or stop it; the file's path (None: not recording)."""
        if not on:
            saved = session.recorder.stop() if session is not None else None
            self.recording_saved(saved)
            return saved[0] if saved else None
        if session is None:
            self._status("open a source first, then record", 4000)
            self._show_recording(False)
            return None
        if session.recorder.recording:
            return session.recorder.path
        path = Path(path) if path else self.path_for(session, f"_{time.strftime('%Y%m%d-%H%M%S')}.mp4")
        try:
            codec, note = recording_codec(self.codecs, path.suffix or ".mp4")
            started = session.recorder.start(path, codec)
        except OSError as e:
            self._report("Cannot record", str(e))
            self._show_recording(False)
            return None
        self._show_recording(True)
        self._status(f"recording to {Path(started).resolve()} ({note or CODEC_NAMES.get(codec, codec)})", 8000)
        return started

    def recording_saved(self, saved) -> None:
        """A recording ended (stopped, or its session replaced): saved is its (path, frames), or None."""
        if saved is not None:
            path, frames = saved
            self._status(f"saved {Path(path).resolve()} ({frames} frames)", 8000)
        self._show_recording(False)

    def poll(self, session) -> int | None:
        """On the figures' timer: a recording whose writes failed is reported and shown stopped; the frames the
        recording has written so far, or None when not recording."""
        recorder = session.recorder
        if recorder.error:
            error, recorder.error = recorder.error, None
            self._show_recording(False)
            self._report("Recording stopped", error)
            return None
        return recorder.frames_written if recorder.recording else None
