"""Which source plays: opening sources off the GUI thread, starting the session that plays them, retiring old ones.

Opening a source is slow (a camera, a stream, a long video's index), so it runs on a worker thread and the video
on screen plays on until the new source is ready. Only the newest open request takes effect: each carries a
token, and an older one that finishes later closes its source. A source opened before the model is ready waits
(`pending`) and starts when the model arrives. A replaced session is retired: told to stop at once, and the new
session starts once the old pipelines' threads are out of the predictor they share with it.

Qt-free: slow calls go through the injected `run` (default background.run_in_background: a worker thread, the
outcome on the GUI thread); the window hears what happened through a SessionListener.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class SessionListener(Protocol):
    """What the window does when the lifecycle moves; every call comes on the GUI thread."""

    def source_opened(self, spec: str, source) -> None:
        """A source is open (it plays now, or once the model is there)."""

    def source_waiting(self, source, preview) -> None:
        """It opened before the model: it waits; preview is its first image (None for a live source)."""

    def source_failed(self, spec: str, error: BaseException) -> None:
        """The newest open request failed (the session on screen, if any, plays on)."""

    def session_failed(self, spec: str, error: BaseException) -> None:
        """The source opened but no session could be made for it (its source is closed)."""

    def session_began(self, session) -> None:
        """A session is made and not started yet: connect the display now, so its first frame is seen."""

    def session_retired(self, saved) -> None:
        """A session was replaced; saved: its recording's (path, frames), or None."""

    def state_changed(self) -> None:
        """The session playing changed state (started)."""


def background_runner():
    """run_in_background (Qt: imported only when no other runner is given)."""
    from .background import run_in_background

    return run_in_background


def first_image(source):
    """The first image of a file or folder, read ahead so it shows while the model loads (the source is wound
    back); None for a live source (its frames are not kept) or a source that cannot wind back."""
    if source.info.live or not source.info.seekable:
        return None
    try:
        frame = source.read()
        source.seek(0)
    except Exception:  # noqa: BLE001 - a preview only: the pipeline reports a source that cannot be read
        return None
    return frame.image if frame is not None else None


@dataclass(frozen=True)
class PendingSource:
    spec: str
    source: object
    paused: bool


class SessionManager:
    """open_source(spec) → an opened source (runs on a worker thread); make_session(spec, source) → a session that
    is not started (a ViewerSession); model_ready() → whether a predictor is loaded; run and parent: how slow calls
    run (run_in_background's signature; default: it) and the QObject whose deletion cancels their outcome."""

    def __init__(self, open_source: Callable[[str], object], make_session: Callable[[str, object], object],
                 listener: SessionListener, *, model_ready: Callable[[], bool], run=None, parent=None):
        self._open_source, self._make_session, self._listener = open_source, make_session, listener
        self._model_ready, self._run, self._parent = model_ready, run or background_runner(), parent
        self.session = None  # the session on screen
        self.retiring: list = []  # stopped sessions whose threads are still winding down
        self.pending: PendingSource | None = None  # opened before the model was ready
        self.closed = False
        self._open_token = 0  # only the newest open request may take effect
        self._start_token = 0  # only the newest session start may take effect

    def open(self, spec: str, paused: bool = False) -> None:
        """Open `spec` on a worker thread; it replaces the session on screen once open (paused: on its first
        frame)."""
        self._open_token += 1
        token = self._open_token

        def open_and_preview():
            source = self._open_source(spec)
            # decoded here, off the GUI thread; shown while the model loads (4-6 s of imports on 2 cores)
            return source, first_image(source) if not self._model_ready() else None

        self._run(open_and_preview, on_done=lambda opened: self._opened(token, spec, *opened, paused),
                  on_failed=lambda e: self._failed(token, spec, e), name="open-source", parent=self._parent)

    def _opened(self, token: int, spec: str, source, preview, paused: bool) -> None:
        if token != self._open_token or self.closed:
            source.close()  # a newer request replaced this one
            return
        self._listener.source_opened(spec, source)
        if not self._model_ready():  # the model is still loading (or failed): play once it is there
            if self.pending is not None:
                self.pending.source.close()
            self.pending = PendingSource(spec, source, paused)
            self._listener.source_waiting(source, preview)
            return
        self.replace(spec, source, paused)

    def _failed(self, token: int, spec: str, error: BaseException) -> None:
        if token != self._open_token or self.closed:
            return
        self._listener.source_failed(spec, error)

    def start_pending(self) -> None:
        """The model is ready: play the source that waited for it, if one did."""
        pending, self.pending = self.pending, None
        if pending is not None:
            self.replace(pending.spec, pending.source, pending.paused)

    def replace(self, spec: str, source, paused: bool) -> None:
        """Retire the session on screen and start one for `source`."""
        old, self.session = self.session, None
        if old is not None:
            self._retire(old)
        self._start_token += 1
        token, winding_down = self._start_token, list(self.retiring)
        if not winding_down:
            self._begin(spec, source, paused)
            return

        # the old pipelines' threads may be inside a predictor call: start the new one once they are out
        def join_all():
            for session in winding_down:
                session.join()

        def start(_=None):
            for session in winding_down:
                if session in self.retiring:
                    self.retiring.remove(session)
            if token != self._start_token or self.closed or not self._model_ready():
                source.close()  # another source was opened meanwhile, or the window closed
                return
            self._begin(spec, source, paused)

        self._run(join_all, on_done=start, on_failed=start, name="join-old-session", parent=self._parent)

    def _retire(self, session) -> None:
        saved = session.close()
        self.retiring.append(session)
        self._listener.session_retired(saved)

    def _begin(self, spec: str, source, paused: bool) -> None:
        try:
            session = self._make_session(spec, source)
        except Exception as e:  # noqa: BLE001 - e.g. a bad runtime config: report, stay usable
            source.close()
            self._listener.session_failed(spec, e)
            return
        self.session = session
        self._listener.session_began(session)
        session.start(paused=paused)
        self._listener.state_changed()

    def close(self):
        """Stop every pipeline and wait for their threads (recordings are finished and flushed); close a source
        that waited for the model. The recording (path, frames) of the session on screen, or None."""
        self.closed = True
        sessions = list(self.retiring)
        saved = None
        if self.session is not None:
            saved = self.session.close()
            sessions.append(self.session)
        for session in sessions:
            session.join()
        self.session = None
        self.retiring.clear()
        if self.pending is not None:
            self.pending.source.close()
            self.pending = None
        return saved
