"""The model the viewer runs: building one off the GUI thread, handing it to the playing session, and what the
Model panel and the error box say about it.

Only the newest load request takes effect: each carries a token, and a model that loses the race is closed. A
load that fails keeps the model that runs. A replaced model is closed between two frames by the pipeline that ran
it, or, when no pipeline runs it, once the retiring pipelines (which may still be inside it) have stopped.

Qt-free: slow calls go through the injected `run` (default background.run_in_background); the window hears what
happened through a ModelListener.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .predictors import running_file
from .session_manager import background_runner


class ModelListener(Protocol):
    """What the window shows as a model loads; every call comes on the GUI thread."""

    def model_loading(self, backend: str, provider) -> None:
        """A load started (before the manager's state changes)."""

    def model_loaded(self, predictor, provider) -> None:
        """The predictor runs now (it was handed to the session playing, if any)."""

    def model_failed(self, failure: LoadFailure) -> None:
        """The newest load failed; the model that ran before still runs."""


@dataclass(frozen=True)
class LoadFailure:
    """A failed load, in words: the error box's title and message, the Model panel's line and its tooltip."""

    title: str
    message: str
    status: str
    detail: str


def weights_name(provider) -> str:
    return Path(str(provider.weights)).name


class ModelManager:
    """provider: a PredictorProvider (weights, backends(), build(backend, conf, iou, warmup=...), with_weights());
    sessions: the SessionManager (its session takes a new model; its retiring sessions may still run an old one);
    thresholds() → the Thresholds a new model is built with."""

    def __init__(self, provider, sessions, listener: ModelListener, *, thresholds: Callable[[], object],
                 run=None, parent=None):
        self.provider, self._sessions, self._listener = provider, sessions, listener
        self._thresholds, self._run, self._parent = thresholds, run or background_runner(), parent
        self.predictor = None
        self.superseded: list = []  # predictors a pipeline never took over: closed with the window
        self.closed = False
        self._token = 0  # only the newest load request may take effect

    # --- requests --------------------------------------------------------------------------------------------------
    def load(self, backend: str = "auto", provider=None) -> None:
        """Build a predictor on a worker thread; it replaces the current one between two frames."""
        provider = provider or self.provider
        self._listener.model_loading(backend, provider)
        self._token += 1
        token = self._token
        th = self._thresholds()
        # the window's first model is not warmed up: no video plays yet that its slow first frames could stall
        first = {} if self.predictor is not None or self._sessions.session is not None else {"warmup": False}
        self._run(lambda: provider.build(backend, th.conf, th.iou, **first),
                  on_done=lambda predictor: self._loaded(token, provider, predictor),
                  on_failed=lambda e: self._failed(token, provider, backend, e), name="load-model", parent=self._parent)

    def switch_backend(self, backend: str) -> None:
        """The same weights with another backend (nothing when it already runs that one)."""
        if self.predictor is not None and backend == self.predictor.backend_name:
            return
        self.load(backend)

    def open_weights(self, path) -> None:
        self.load("auto", self.provider.with_weights(path))

    # --- outcomes --------------------------------------------------------------------------------------------------
    def _loaded(self, token: int, provider, predictor) -> None:
        if token != self._token or self.closed:
            predictor.close()  # a newer request replaced this one
            return
        old, self.predictor, self.provider = self.predictor, predictor, provider
        session = self._sessions.session
        if session is not None and not session.done:
            if old is not None and not session.runs(old):
                # the previous switch has not reached the inference thread yet (a paused live source) and the
                # pipeline forgets it now; it may be taking over this very moment, so close it with the window
                self.superseded.append(old)
            session.use_predictor(predictor)  # swapped (and the old one closed) between two frames
        elif old is not None:
            self._close_when_idle(old)
        self._listener.model_loaded(predictor, provider)
        self._sessions.start_pending()

    def _failed(self, token: int, provider, backend: str, error: BaseException) -> None:
        if token != self._token or self.closed:
            return
        self._listener.model_failed(self.failure(provider, backend, error))

    def failure(self, provider, backend: str, error: BaseException) -> LoadFailure:
        """What a failed load of `provider`'s weights with `backend` says, naming the model that keeps running."""
        asked, kept = weights_name(provider), self.running_text()
        other = "choose another backend or " if len(self.backends_offered()) > 1 else ""
        keeps = f"{kept} keeps running; " if kept else ""
        return LoadFailure(title=f"Cannot load the model ({backend}, {asked})",
                           message=f"{error}\n\n{keeps}{other}open weights with File ▸ Open weights…",
                           status=f"could not load {asked} with {backend}; "
                                  + (f"kept {kept}" if kept else "no model loaded"),
                           detail=str(error))

    def _close_when_idle(self, predictor) -> None:
        """Close a replaced predictor once no retiring pipeline can still be inside it."""
        retiring = list(self._sessions.retiring)

        def close():
            for session in retiring:
                session.join()
            predictor.close()

        self._run(close, on_done=lambda _: None, on_failed=lambda _: None, name="close-model", parent=self._parent)

    # --- what runs -------------------------------------------------------------------------------------------------
    def backends_offered(self) -> list[str]:
        try:
            return self.provider.backends()
        except Exception:  # noqa: BLE001 - a listing problem must not hide the model that is loaded
            return []

    def running_text(self) -> str:
        """The file and precision the model on screen runs, e.g. "perception_n.int8cpu.onnx (int8cpu)"."""
        if self.predictor is None:
            return ""
        path, precision = running_file(self.predictor)
        name = path.name if path is not None else weights_name(self.provider)
        return f"{name} ({precision})" if precision else name

    def panel(self) -> dict:
        """The Model panel's fields (ControlsPanel.show_model's arguments but the status line)."""
        predictor = self.predictor
        path, precision = running_file(predictor) if predictor is not None else (None, "")
        return dict(weights=path or self.provider.weights, backends=self.backends_offered(),
                    current=predictor.backend_name if predictor is not None else None, precision=precision,
                    description=getattr(predictor, "description", "") or "")

    def close(self) -> None:
        """Close every predictor this manager holds (after the pipelines that ran them have stopped)."""
        self.closed = True
        for predictor in [*self.superseded, self.predictor]:
            if predictor is not None:
                predictor.close()
        self.superseded.clear()
        self.predictor = None
