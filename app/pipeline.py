"""The real-time pipeline: capture → inference → output, three threads joined by bounded queues.

    pipeline = Pipeline(open_source("clip.mp4"), load_predictor(...), sinks=[VideoWriter("out.mp4", fps)])
    pipeline.on_result(lambda r: ...)       # each finished FrameResult, called on the output thread
    summary = pipeline.run()                # start, wait, re-raise a stage's error here as PipelineError

or, driven by a GUI (every method below is thread-safe and returns at once):

    pipeline.start()
    pipeline.pause() / resume() / step() / seek(120) / refresh()
    pipeline.set_thresholds(conf=0.4, road=0.6)      # from the next frame on
    pipeline.set_predictor(other_predictor)          # swapped between two frames, on the inference thread
    pipeline.renderer.layers = pipeline.renderer.layers.replace(road=False)
    pipeline.snapshot()                              # live StatsSnapshot
    pipeline.stop(); pipeline.join()

Policies (from the source unless `policy` says otherwise):
- live (cameras, streams): each queue holds `queue_size.live` items and a full
  queue drops its oldest item (counted in the statistics), so the inference thread
  always takes the newest frame and latency never grows.
- replay (files, folders): a full queue blocks the stage before it; every frame
  is processed and delivered, in order, however slow the predictor.

Shutdown: the end of the source, stop(), Ctrl-C in run(), or an exception in any
stage stops all three threads (every wait is at most 0.1 s), closes the sinks
(flushing the writers) and reports the error once: to the on_error listeners
and, from run()/result(), raised in the caller's thread as one PipelineError
whose __cause__ is the original exception.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from core.errors import BadInputError
from nets.preprocess import ExposureNorm

from .contracts import (
    ExposureNormalized,
    PerClassThresholds,
    Predictor,
    Renderer,
    RoadPlaneDistance,
    SeekableSource,
    Sink,
    Source,
    StreamFiltered,
    Tracker,
    require,
)
from .frames import Frame, FrameResult, Thresholds, load_runtime_config
from .replay import ReplayControl
from .stats import PipelineStats, StatsSnapshot

END = object()  # end of stream marker, passed down the queues
POLL_S = 0.1  # the longest any stage waits before it looks at the stop flag again


class PipelineError(RuntimeError):
    """A pipeline stage failed. `stage`, `frame_index` and `cause` (also __cause__) say where and why."""

    def __init__(self, stage: str, cause: BaseException, frame_index: int | None = None):
        where = f" on frame {frame_index}" if frame_index is not None else ""
        super().__init__(f"{stage} stage failed{where}: {type(cause).__name__}: {cause}")
        self.stage, self.cause, self.frame_index = stage, cause, frame_index
        self.__cause__ = cause


class _Channel:
    """A bounded FIFO between two stage threads: blocking put (replay) or drop-oldest put (live)."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise BadInputError(f"queue size must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: deque = deque()
        self._cond = threading.Condition(threading.Lock())

    def put(self, item, drop_oldest: bool, abort: Callable[[], bool]) -> tuple[bool, list]:
        """(True, items dropped to make room) or (False, []) when `abort()` became true while waiting for room."""
        with self._cond:
            dropped = []
            if drop_oldest:
                while len(self._items) >= self.capacity:
                    dropped.append(self._items.popleft())
            else:
                while len(self._items) >= self.capacity:
                    if abort():
                        return False, []
                    self._cond.wait(POLL_S)
            self._items.append(item)
            self._cond.notify_all()
            return True, dropped

    def get(self, abort: Callable[[], bool]):
        """The oldest item, or None when `abort()` is true (checked before each wait)."""
        with self._cond:
            while True:
                if abort():
                    return None
                if self._items:
                    item = self._items.popleft()
                    self._cond.notify_all()
                    return item
                self._cond.wait(POLL_S)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)


ResultCallback = Callable[[FrameResult], None]


def _cannot_seek(index: int) -> None:
    raise AssertionError(f"seek({index}) on a source that is not seekable")  # ReplayControl never asks: a bug


class Pipeline:
    """Capture, inference and output threads around one source, one predictor and its sinks.

    The collaborators' contracts (members, and the thread each is used on) are in app/contracts.py; each is
    checked here, once (TypeError naming what is missing), never probed per frame.
    source: an app.contracts.Source (app.sources.Source); a SeekableSource when source.info.seekable.
    predictor: an app.contracts.Predictor (nets.predictor.Predictor): callable frame_bgr -> Perception, with
        writable conf/iou and backend_name; per-class floors (PerClassThresholds), road smoothing
        (StreamFiltered) and input brightness normalisation (ExposureNormalized) where it has them.
    sinks: app.contracts.Sink objects, write(FrameResult) and close() on the output thread (e.g. app.writers).
    renderer: an app.contracts.Renderer (OverlayRenderer); None builds one from the runtime config; render=False
        draws no overlay.
    thresholds: initial Thresholds (default: the predictor's conf/iou, the config's road threshold).
    policy: "auto" (source.info.live decides), "live" or "replay".
    queue_size: capacity of both queues (default: configs/runtime.yaml pipeline.queue_size by policy).
    at_end: what a replay source does at its end: "stop" (finish), "pause" (wait for seek/stop, for a
        viewer) or "loop" (start again).
    max_frames: stop after this many frames were captured.
    close_source: close the source when the capture thread ends.
    tracker: an app.tracking.ObjectTracker, run on the output thread on each delivered frame, in order (so a
        re-inferred or discarded frame never reaches it); its distances use the renderer's calibration
        (renderer.distance.homography), none without one. FrameResult.tracks carries its answer.
    """

    def __init__(self, source, predictor, *, sinks: Sequence = (), renderer=None, render: bool = True,
                 thresholds: Thresholds | None = None, policy: str | None = None, queue_size: int | None = None,
                 at_end: str = "stop", max_frames: int | None = None, close_source: bool = True,
                 config: dict | None = None, name: str = "pipeline", tracker=None, homography_for=None):
        self.config = config or load_runtime_config()
        pcfg = self.config["pipeline"]
        policy = policy or pcfg["policy"]
        if policy not in ("auto", "live", "replay"):
            raise BadInputError(f"pipeline policy must be auto, live or replay, got {policy!r}")
        if at_end not in ("stop", "pause", "loop"):
            raise BadInputError(f"at_end must be stop, pause or loop, got {at_end!r}")
        require(source, Source, "source")
        # info is fixed for a source's life: what it can do is decided once, here
        self.seekable = bool(source.info.seekable)
        if self.seekable:
            require(source, SeekableSource, "seekable source")
        require(predictor, Predictor, "predictor")
        for sink in sinks:
            require(sink, Sink, "sink")
        if tracker is not None:
            require(tracker, Tracker, "tracker")
        self.source = source
        self.live = bool(source.info.live) if policy == "auto" else policy == "live"
        size = queue_size or int(pcfg["queue_size"]["live" if self.live else "replay"])
        self._q_in = _Channel(size)
        self._q_out = _Channel(size)
        self.sinks = list(sinks)
        if render and renderer is None:
            from .overlay import OverlayRenderer

            renderer = OverlayRenderer(config=self.config)
        self.renderer = renderer if render else None
        if self.renderer is not None:
            require(self.renderer, Renderer, "renderer")
        self.at_end = at_end
        self.max_frames = max_frames
        self.close_source = close_source
        self.name = name
        self.tracker = tracker
        # the road-plane homography of a frame for the tracker (None: uncalibrated); by default the renderer's.
        # The viewer's calibration can differ per frame (a KITTI calib folder), so it hands in its own.
        self.homography_for = homography_for or self._renderer_homography
        self._distance_seen: tuple = (None, None)  # (renderer.distance, its road-plane homography or None)
        self.stop_timeout_s = float(pcfg["stop_timeout_s"])
        self.stats = PipelineStats(int(pcfg["stats_window"]), float(pcfg["fps_window_s"]),
                                   int(pcfg["summary_window"]))

        self._predictor = predictor
        self._predictor_caps = self._capabilities(predictor)
        self._pending_predictor: tuple | None = None
        if thresholds is None:
            base = Thresholds.from_config(self.config)
            thresholds = Thresholds(conf=predictor.conf, iou=predictor.iou, road=base.road)
        if thresholds.class_conf is None:  # per-class floors from the runtime config (thresholds.class_conf)
            thresholds = replace(thresholds, class_conf=Thresholds.from_config(self.config).class_conf)
        self._thresholds = thresholds
        # road-mask smoothing (configs/runtime.yaml road_smoothing): installed on the predictor that runs
        # this stream, started afresh at the first frame and at every seek
        self._road_smoothing = self.config["road_smoothing"]
        self._road_epoch = None
        # input brightness normalisation (configs/runtime.yaml exposure), installed on every predictor that runs
        self._exposure = ExposureNorm.from_config(self.config["exposure"])

        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._done = threading.Event()
        # pause/step/seek/re-run and the gates the capture and output stages pass through
        self.replay = ReplayControl(self.live, self._stop.is_set, POLL_S)
        self._stop_requested = False
        self._error: PipelineError | None = None
        self._summary: StatsSnapshot | None = None
        self._current: dict[str, int] = {}  # stage -> index of the frame it works on
        self._capture_done = False
        self._result_callbacks: tuple = ()
        self._error_callbacks: tuple = ()
        self._finished_callbacks: tuple = ()
        self._threads: list[threading.Thread] = []
        self._alive = 0

    # --- subscriptions --------------------------------------------------------------------------------------------
    def on_result(self, fn: ResultCallback) -> ResultCallback:
        """Call fn(FrameResult) for every finished frame, on the output thread, after the sinks.

        The result's arrays (frame.image, overlay, perception) are never touched again by
        the pipeline, so fn may hand them to another thread without copying. Keep fn short
        (e.g. emit a Qt signal): it runs inside the output stage. An exception in fn stops
        the pipeline like any stage error.
        """
        with self._lock:
            self._result_callbacks = self._result_callbacks + (fn,)
        return fn

    def on_error(self, fn: Callable[[PipelineError], None]) -> Callable:
        """Call fn(PipelineError) once, from the failing stage's thread, when a stage fails."""
        with self._lock:
            self._error_callbacks = self._error_callbacks + (fn,)
        return fn

    def on_finished(self, fn: Callable[[StatsSnapshot], None]) -> Callable:
        """Call fn(summary) once when all stages have stopped (end of source, stop() or error; summary.error says)."""
        with self._lock:
            self._finished_callbacks = self._finished_callbacks + (fn,)
        return fn

    def remove_callback(self, fn: Callable) -> None:
        with self._lock:
            self._result_callbacks = tuple(f for f in self._result_callbacks if f is not fn)
            self._error_callbacks = tuple(f for f in self._error_callbacks if f is not fn)
            self._finished_callbacks = tuple(f for f in self._finished_callbacks if f is not fn)

    # --- running --------------------------------------------------------------------------------------------------
    def start(self) -> Pipeline:
        with self._lock:
            if self._threads:
                raise RuntimeError("a pipeline runs once; build a new one for another run")
            self.stats.t_start = time.perf_counter()
            for stage, loop in (("capture", self._capture_loop), ("inference", self._infer_loop),
                                ("output", self._output_loop)):
                t = threading.Thread(target=self._run_stage, args=(stage, loop), name=f"{self.name}-{stage}",
                                     daemon=True)
                self._threads.append(t)
            self._alive = len(self._threads)
        for t in self._threads:
            t.start()
        return self

    def run(self) -> StatsSnapshot:
        """Start, wait for the end, and return the summary; a stage's error is raised here (PipelineError).

        Ctrl-C stops the threads (within stop_timeout_s), closes the sinks and re-raises KeyboardInterrupt.
        """
        if not self._threads:
            self.start()
        try:
            while not self._done.wait(0.2):
                pass
        except KeyboardInterrupt:
            self.stop()
            self.join()
            raise
        return self.result()

    def wait(self, timeout: float | None = None) -> bool:
        """True once every stage has stopped."""
        return self._done.wait(timeout)

    def result(self) -> StatsSnapshot:
        """The final summary; raises the PipelineError if a stage failed. Call after wait()/join()."""
        if self._error is not None:
            raise self._error
        if self._summary is None:
            raise RuntimeError("the pipeline is still running; wait() or join() first")
        return self._summary

    def stop(self) -> None:
        """Ask every stage to stop (returns at once; join() waits). The sinks are closed, the writers flushed."""
        with self._lock:
            self._stop_requested = True
        self._request_stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` (default stop_timeout_s) for the stages; True when all stopped.

        A stage still blocked after that (e.g. a network read or a predictor call that
        cannot be interrupted) is left behind as a daemon thread, noted in the summary.
        """
        timeout = self.stop_timeout_s if timeout is None else timeout
        if self._done.wait(timeout):
            return True
        stuck = [t.name for t in self._threads if t.is_alive()]
        if stuck:
            self.stats.note(f"threads still busy after {timeout:g} s: {', '.join(stuck)} (left as daemons)")
        self._finalize()
        return False

    def close(self) -> None:
        self.stop()
        self.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- control (any thread): thin delegations to self.replay (app/replay.py) ------------------------------------
    @property
    def paused(self) -> bool:
        return self.replay.paused

    def pause(self) -> None:
        """Replay: the output stage holds the next frame (the display freezes at once, nothing is lost).
        Live: the capture stage keeps reading but forwards nothing."""
        self.replay.pause()

    def resume(self) -> None:
        self.replay.resume()
        self.stats.restart_window()  # paused time is no latency: the live figures start again from here

    def step(self, n: int = 1) -> None:
        """Pause (if running) and let exactly `n` more frames through."""
        self.replay.step(n)
        self.stats.restart_window()

    def seek(self, index: int) -> None:
        """Replay sources: continue from frame `index`; frames in flight are discarded. While paused, frame
        `index` is shown (one step). Raises ValueError for a live source."""
        if not self.seekable:
            raise ValueError(f"{self.source.info.kind} {self.source.info.name} is live and cannot seek")
        self.replay.seek(index)
        self.stats.restart_window()
        self._wake_queues()

    def _rerun_in_flight(self) -> None:
        """Replay: frames inferred but not yet delivered are discarded and inferred again (with the new
        thresholds or predictor), so a change shows on the very next frame delivered; nothing is lost."""
        if self.live or not self.seekable:
            return
        if not self._threads or self._done.is_set() or self._capture_done:
            return
        s = self.stats
        in_flight = s.frames_in - (s.frames_out + sum(s.dropped.values()) + s.frames_discarded)
        if self.replay.rerun(in_flight):
            self._wake_queues()

    def refresh(self) -> None:
        """Replay: run the last delivered frame again (after a threshold or predictor change while paused)."""
        last = self.replay.last_delivered
        if last is not None and self.seekable:
            self.seek(last)

    def _wake_queues(self) -> None:
        self._q_in.wake()
        self._q_out.wake()

    @property
    def thresholds(self) -> Thresholds:
        return self._thresholds

    def set_thresholds(self, conf: float | None = None, iou: float | None = None, road: float | None = None) -> None:
        """New thresholds from the next frame delivered on. ValueError outside [0, 1].

        conf/iou: replay re-infers the frames in flight (see _rerun_in_flight); live applies them from the
        next frame inferred. road: applied when a frame is drawn and written. While paused, refresh()
        shows the change on the frame on screen.
        """
        changes = {k: v for k, v in (("conf", conf), ("iou", iou), ("road", road)) if v is not None}
        with self._lock:
            old = self._thresholds
            self._thresholds = replace(old, **changes)
            rerun = (self._thresholds.conf, self._thresholds.iou) != (old.conf, old.iou)
        if rerun:
            self._rerun_in_flight()

    @property
    def predictor(self):
        """The predictor in use (after a set_predictor, the new one once a frame has used it)."""
        return self._predictor

    def set_predictor(self, predictor, close_old: bool = True) -> None:
        """Use `predictor` from the next frame delivered on; the swap happens on the inference thread between
        two frames (replay re-infers the frames in flight, as for set_thresholds).

        close_old: close the replaced predictor there, once it is no longer in use.
        Build (and warm up) the new predictor off the GUI thread before calling this.
        """
        with self._lock:
            if not self._threads or self._done.is_set():
                old, self._predictor = self._predictor, predictor
                self._predictor_caps = self._capabilities(predictor)
                if close_old and old is not predictor:
                    old.close()
                return
            self._pending_predictor = (predictor, close_old)
        self._rerun_in_flight()

    @property
    def error(self) -> PipelineError | None:
        return self._error

    @property
    def state(self) -> str:
        """idle, running, paused, ended (replay at its end with at_end="pause"), finished, stopped, failed."""
        if self._done.is_set():
            return "failed" if self._error else ("stopped" if self._stop_requested else "finished")
        if not self._threads:
            return "idle"
        if self.replay.ended:
            s = self.stats
            if s.frames_in == s.frames_out + sum(s.dropped.values()) + s.frames_discarded:
                return "ended"
        return "paused" if self.replay.paused else "running"

    def snapshot(self) -> StatsSnapshot:
        """Live statistics (thread-safe, plain data)."""
        return self.stats.snapshot(**self._snapshot_extra())

    @property
    def summary(self) -> StatsSnapshot | None:
        """The final statistics once stopped, else None."""
        return self._summary

    def _snapshot_extra(self) -> dict:
        info = self.source.info
        extra = {"live": self.live, "state": self.state, "source_state": self.source.state,
                 "position": self.source.position, "frame_count": info.frame_count}
        if self._error is not None:
            extra["error"] = str(self._error)
        return extra

    def backend_name(self) -> str:
        return self._predictor.backend_name

    # --- collaborators' optional capabilities (app/contracts.py), looked at once per collaborator ----------------
    @staticmethod
    def _capabilities(predictor) -> tuple[bool, bool, bool]:
        """(takes per-class floors, takes a road filter, takes an exposure normaliser): decided when a predictor
        is installed, not per frame."""
        return (isinstance(predictor, PerClassThresholds), isinstance(predictor, StreamFiltered),
                isinstance(predictor, ExposureNormalized))

    def _renderer_homography(self, result: FrameResult):
        """The default homography_for: the road plane of the renderer's distance estimator, None without one
        (or with one that is not a road-plane homography). The estimator may be replaced between frames; each
        new one is looked at once."""
        distance = self.renderer.distance if self.renderer is not None else None
        seen, homography = self._distance_seen
        if distance is not seen:
            homography = distance.homography if isinstance(distance, RoadPlaneDistance) else None
            self._distance_seen = (distance, homography)
        return homography

    # --- stages ---------------------------------------------------------------------------------------------------
    def _stale(self, frame: Frame) -> bool:
        return self.replay.stale(frame)

    def _aborted(self) -> bool:
        return self._stop.is_set()

    def _request_stop(self) -> None:
        self._stop.set()
        try:
            self.source.interrupt()
        except Exception:  # a source that fails to interrupt still ends its read soon; stopping goes on
            pass
        self._wake_queues()
        self.replay.wake()

    def _run_stage(self, stage: str, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as e:  # noqa: BLE001 - every failure is reported through one channel
            self._fail(stage, e)
        finally:
            with self._lock:
                self._alive -= 1
                last = self._alive == 0
            if last:
                self._finalize()

    def _fail(self, stage: str, exc: BaseException) -> None:
        with self._lock:
            first = self._error is None
            if first:
                self._error = PipelineError(stage, exc, self._current.get(stage))
            callbacks = self._error_callbacks
        self._request_stop()
        if first:
            for fn in callbacks:
                try:
                    fn(self._error)
                except Exception:  # a broken listener must not hide the error it is told about
                    pass

    def _finalize(self) -> None:
        with self._lock:
            if self._summary is not None:
                return
            self.stats.t_end = time.perf_counter()
            if not self.stats.backend:
                self.stats.backend = self.backend_name()
            self._summary = self.stats.snapshot(final=True, **self._snapshot_extra())
            self._done.set()
            state = self.state
            self._summary = replace(self._summary, state=state)
            callbacks = self._finished_callbacks
        for fn in callbacks:
            try:
                fn(self._summary)
            except Exception:
                pass

    def _put(self, channel: _Channel, item, frame: Frame | None, where: str) -> bool:
        """Put into a channel by the policy; count what a live queue drops. False when stopped or stale."""
        if frame is None:  # END: never dropped, waits for room
            ok, _ = channel.put(item, drop_oldest=False, abort=self._aborted)
            return ok
        ok, dropped = channel.put(item, drop_oldest=self.live, abort=lambda: self._stop.is_set() or self._stale(frame))
        if not ok and not self._stop.is_set():
            self.stats.discard()
        for old in dropped:
            old_frame = old[0] if isinstance(old, tuple) else old.frame
            if self._stale(old_frame):
                self.stats.discard()
            else:
                self.stats.drop(where)
        return ok

    def _capture_loop(self) -> None:
        source, replay = self.source, self.replay
        forwarded = 0
        try:
            while not self._stop.is_set():
                epoch = replay.next_read(source.seek if self.seekable else _cannot_seek)
                if epoch is None:
                    continue
                if self.max_frames is not None and forwarded >= self.max_frames:
                    self._capture_done = True
                    self._put(self._q_in, END, None, "infer_queue")
                    return
                t0 = time.perf_counter()
                self._current["capture"] = source.position
                frame = source.read()
                t1 = time.perf_counter()
                if frame is None:
                    if self._stop.is_set():
                        return
                    if self.at_end == "loop" and self.seekable and forwarded > 0:
                        source.seek(0)
                        continue
                    if self.at_end == "pause" and self.seekable:
                        replay.mark_ended()
                        continue
                    self._capture_done = True
                    self._put(self._q_in, END, None, "infer_queue")
                    return
                frame.epoch = epoch
                if self.live and not replay.forward_live():
                    continue  # live pause: keep reading the device, forward only stepped frames
                self.stats.captured((t1 - t0) * 1e3, t1)
                forwarded += 1
                stamps = {"read_start": t0, "captured": frame.t_capture}
                if not self._put(self._q_in, (frame, stamps), frame, "infer_queue") and self._stop.is_set():
                    return
        finally:
            self._capture_done = True
            if self.close_source:
                source.close()

    def _apply_pending_predictor(self) -> None:
        with self._lock:
            pending, self._pending_predictor = self._pending_predictor, None
        if pending is not None:
            new, close_old = pending
            old, self._predictor = self._predictor, new
            self._predictor_caps = self._capabilities(new)
            if close_old and old is not new:
                old.close()

    def _sync_road_filter(self, predictor, epoch: int) -> None:
        if not self._road_smoothing.get("enabled") or not self._predictor_caps[1]:
            return
        if predictor.road_filter is None:
            from nets.road_stability import RoadStabilizer

            predictor.road_filter = RoadStabilizer.from_config(self._road_smoothing)
        elif epoch != self._road_epoch:
            predictor.road_filter.reset()
        self._road_epoch = epoch

    def _infer_loop(self) -> None:
        try:
            while True:
                item = self._q_in.get(self._aborted)
                if item is None:
                    return
                if item is END:
                    self._put(self._q_out, END, None, "output_queue")
                    return
                frame, stamps = item
                if self._stale(frame):
                    self.stats.discard()
                    continue
                self._apply_pending_predictor()
                predictor, th = self._predictor, self._thresholds
                if predictor.conf != th.conf:
                    predictor.conf = th.conf
                if predictor.iou != th.iou:
                    predictor.iou = th.iou
                per_class = self._predictor_caps[0]
                if per_class and th.class_conf is not None and predictor.class_conf != th.class_conf:
                    predictor.class_conf = th.class_conf
                self._sync_road_filter(predictor, frame.epoch)
                if self._predictor_caps[2] and predictor.exposure is not self._exposure:
                    predictor.exposure = self._exposure
                self._current["inference"] = frame.index
                t0 = time.perf_counter()
                perception = predictor(frame.image)
                t1 = time.perf_counter()
                stamps["infer_start"], stamps["infer_end"] = t0, t1
                self.stats.inferred((t0 - stamps["captured"]) * 1e3, (t1 - t0) * 1e3, perception.timings, t1,
                                    perception.backend or self.backend_name())
                result = FrameResult(frame, perception, None, stamps, th.road)
                if not self._put(self._q_out, result, frame, "output_queue") and self._stop.is_set():
                    return
        finally:
            self._apply_pending_predictor()  # a swap asked for after the last frame still happens

    def _hud_text(self, frame: Frame) -> str:
        fps, latency = self.stats.hud_figures()
        figures = ["– FPS", "– ms"] if self.replay.paused or not fps else [f"{fps:.1f} FPS", f"{latency:.0f} ms"]
        parts = [*figures, self.stats.backend or self.backend_name()]
        count = self.source.info.frame_count
        if self.live:
            dropped = sum(self.stats.dropped.values())
            if dropped:
                parts.append(f"{dropped} dropped")
        elif count:
            parts.append(f"frame {frame.index + 1}/{count}")
        return " | ".join(parts)

    def _output_loop(self) -> None:
        try:
            self._deliver()
        except BaseException:
            self._close_sinks(raise_error=False)  # the stage's own error is the one to report
            raise
        self._close_sinks(raise_error=True)

    def _deliver(self) -> None:
        while True:
            result = self._q_out.get(self._aborted)
            if result is None or result is END:
                return
            frame = result.frame
            if not self.replay.admit(frame):  # the commit point: delivered exactly once, or stale/stopped
                if self._stop.is_set():
                    return
                self.stats.discard()
                continue
            self._current["output"] = frame.index
            stamps = result.stamps
            stamps["overlay_start"] = time.perf_counter()
            result.road_threshold = self._thresholds.road
            if self.tracker is not None:
                result.tracks = self._track(result)
            if self.renderer is not None:
                extra = {"tracks": result.tracks} if result.tracks is not None else {}
                result.overlay = self.renderer.render(frame.image, result.perception, result.road_threshold,
                                                      hud=self._hud_text(frame), **extra)
            stamps["overlay_end"] = time.perf_counter()
            for sink in self.sinks:
                sink.write(result)
            for fn in self._result_callbacks:
                fn(result)
            stamps["done"] = t = time.perf_counter()
            # a frame let through by a step while paused is counted, but is no latency or FPS sample
            self.stats.output(result.stage_ms(), t, frame.index, sample=not self.replay.stepped)
            self.replay.delivered(frame.index)

    def _track(self, result: FrameResult):
        """The tracker's answer for a delivered frame: media time for files, wall clock for live sources (speeds
        need time, not frame numbers: a live source drops frames)."""
        frame = result.frame
        t = frame.timestamp if frame.timestamp is not None else frame.t_capture
        return self.tracker.update(t, result.perception, result.road_threshold, self.homography_for(result),
                                   frame.index)

    def _close_sinks(self, raise_error: bool) -> None:
        first_error = None
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as e:
                first_error = first_error or e
        if first_error is not None and raise_error:
            raise first_error
