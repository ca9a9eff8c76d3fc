"""Recording the overlaid stream from the GUI: a pipeline sink that writes while recording is on.

The sink runs on the pipeline's output thread like any writer, so encoding costs
the GUI nothing and a replay records every frame (lossless). `start()` and
`stop()` come from the GUI thread; one lock orders them with the writes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..frames import FrameResult
from ..writers import VideoWriter


class RecordingSink:
    """Writes each delivered frame's overlay to a video between start() and stop().

    A recording begins with the frame delivered last (the one on screen), then every
    frame after it, so a recording started on a paused first frame holds the whole clip.
    A write that fails ends the recording and keeps the error in `error` for the GUI to
    report; the pipeline itself goes on (a full disk must not stop the perception).
    """

    def __init__(self, fps: float | None, config: dict | None = None, compose=None):
        """compose(result) → the image to write (default: the result's overlay): the viewer adds its text."""
        self.fps = fps
        self.config = config
        self.compose = compose or (lambda result: result.image)
        self._lock = threading.Lock()
        self._writer: VideoWriter | None = None
        self._last: FrameResult | None = None
        self.error: str | None = None

    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def path(self) -> Path | None:
        writer = self._writer
        return writer.path if writer is not None else None

    @property
    def frames_written(self) -> int:
        writer = self._writer
        return writer.frames_written if writer is not None else 0

    def start(self, path: str | Path, codec: str | None = None) -> Path:
        """Start writing to `path` (its folder is created) with `codec` (default: the config's). OSError when it
        cannot be written."""
        with self._lock:
            if self._writer is not None:
                raise RuntimeError(f"already recording to {self._writer.path}")
            writer = VideoWriter(path, self.fps, codec=codec, config=self.config)
            if self._last is not None:
                # opens the file now, so a bad path fails here, in the GUI
                writer.write_image(self.compose(self._last))
            self._writer, self.error = writer, None
            return writer.path

    def stop(self) -> tuple[Path, int] | None:
        """Finish the file; (path, frames written), or None when not recording."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is None:
            return None
        try:
            writer.close()
        except OSError as e:  # an incomplete file (disk full): the GUI reports it; frames_written says what plays
            self.error = str(e)
        return writer.path, writer.frames_written

    # --- sink interface (output thread) ----------------------------------------------------------------------------
    def write(self, result: FrameResult) -> None:
        with self._lock:
            self._last = result
            if self._writer is None:
                return
            try:
                self._writer.write_image(self.compose(result))
            except Exception as e:  # noqa: BLE001 - reported by the GUI, the stream goes on
                self.error = f"recording to {self._writer.path} stopped: {e}"
                writer, self._writer = self._writer, None
                try:
                    writer.close()
                except OSError:  # finishing what was written failed too; the error above says why
                    pass

    def close(self) -> None:
        self.stop()
