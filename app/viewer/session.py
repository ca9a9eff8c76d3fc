"""One opened source playing through one pipeline: the pacing, the recorder and the Qt bridge around it.

A pipeline runs once, so opening another source makes another session; the
window keeps the model, the thresholds and the layer toggles and hands them to
each new session. Every method returns at once (the pipeline's controls are
thread-safe and non-blocking), so the GUI thread may call them freely.
"""

from __future__ import annotations

from PyQt5.QtCore import QObject

from ..frames import Thresholds
from ..overlay import OverlayLayers
from ..pipeline import Pipeline
from .annotations import Annotator, ShapesOnlyRenderer
from .bridge import PipelineBridge
from .pacing import PacedSource
from .recording import RecordingSink


class PassCounter:
    """A sink that notes where the current pass over a file or folder began: frame 0 delivered after a later frame
    (the loop, a replay from the end, Home) starts a pass. `base` is (in, out, dropped) of the pipeline's counters
    then, so the window counts one pass ("out 41 / 76"), not every replay added up.

    On the output thread, before the frame's own stats: the pipeline's out count is exact there; its in count
    less the frames read of the new pass (the source's position) is right to within the frame being read."""

    def __init__(self, pipeline_stats, source):
        self.stats, self.source = pipeline_stats, source
        self.base = (0, 0, 0)
        self._last: int | None = None

    def write(self, result) -> None:
        if result.index == 0 and self._last is not None and self._last > 0:
            s = self.stats
            read = getattr(self.source, "position", 0) or 0
            self.base = (s.frames_in - read, s.frames_out, sum(s.dropped.values()))
        self._last = result.index

    def close(self) -> None:
        pass


class ViewerSession:
    """source: an opened app.sources source; spec: what the user opened (for the title and re-opening).

    speed: replay speed for files and folders (0: as fast as the pipeline runs); live sources run on
    their own clock. The pipeline waits at the end of a replay (at_end="pause") so the user can seek back.
    """

    def __init__(self, source, spec: str, predictor, *, thresholds: Thresholds, layers: OverlayLayers,
                 distance_for=None, speed: float = 1.0, config: dict, parent: QObject | None = None,
                 loop: bool = False):
        """distance_for(session, result): the frame's DistanceEstimator or None (a calibration can be per frame);
        loop: start again at the end of a file or folder (else wait there)."""
        self.spec = spec
        self.info = source.info
        self._files = getattr(source, "files", None)  # an image folder's files: frames are named by them
        fallback_fps = float(config["writers"]["default_fps"])
        self.paced = None if self.info.live else PacedSource(source, speed, fallback_fps=fallback_fps)
        self.renderer = ShapesOnlyRenderer(layers=layers, config=config)
        self.distance_for = distance_for or (lambda session, result: None)
        self.annotator = Annotator(self.renderer, self._estimator_for, self.hud_text)
        self.recorder = RecordingSink(self.info.fps or fallback_fps, config, compose=self.annotator.composed)
        # one frame per queue: the stages still overlap, and the frame on screen stays close to the newest
        # read (a replay slower than its pace waits in fewer queued frames; a pause or seek answers sooner)
        from ..tracking import ObjectTracker  # track ids, distances over time, collision warnings (tracking:)

        self.pipeline = Pipeline(self.paced or source, predictor, sinks=[self.recorder], renderer=self.renderer,
                                 thresholds=thresholds, at_end="loop" if loop else "pause", queue_size=1,
                                 config=config, name="viewer", tracker=ObjectTracker.from_config(config),
                                 homography_for=self._homography_for)
        self.passes = PassCounter(self.pipeline.stats, self.paced or source)
        self.pipeline.sinks.append(self.passes)
        self.bridge = PipelineBridge(parent=parent)
        self.bridge.attach(self.pipeline)
        self.shown_index: int | None = None  # the frame on screen (the window sets it as it shows one)

    def _estimator_for(self, result):
        """The DistanceEstimator for this frame, or None: looked up through the session so a calibration
        loaded while playing applies from the next frame."""
        return self.distance_for(self, result)

    def _homography_for(self, result):
        """The frame's image-to-ground homography (the tracker measures heights and widths with it), or None.
        Only a GroundDistance carries one; the DistanceEstimator protocol asks for distance_m alone."""
        return getattr(self._estimator_for(result), "homography", None)

    # --- what it is ------------------------------------------------------------------------------------------------
    @property
    def seekable(self) -> bool:
        return self.info.seekable and not self.info.live

    @property
    def frame_count(self) -> int | None:
        return self.info.frame_count

    @property
    def state(self) -> str:
        """idle, running, paused, ended, finished, stopped, failed (the pipeline's)."""
        return self.pipeline.state

    @property
    def playing(self) -> bool:
        return self.state == "running"

    @property
    def done(self) -> bool:
        """The pipeline has stopped for good (an error, or stop()); another session is needed to go on."""
        return self.state in ("finished", "stopped", "failed")

    @property
    def last_index(self) -> int | None:
        """The frame on screen. Not the pipeline's last delivered index: the output thread stamps that after the
        frame's callbacks, so a key pressed as the frame appears could step from the frame before it."""
        return self.shown_index if self.shown_index is not None else self.pipeline.stats.last_index

    def frame_name(self, index: int) -> str | None:
        """The name (file stem) of frame `index` of an image folder, e.g. um_000012; None for other sources."""
        files = self._files
        if files and 0 <= index < len(files):
            return files[index].stem
        return None

    def hud_text(self, result) -> str:
        """The HUD line: end-to-end FPS and latency ("–" while paused or stepping), the backend, the position."""
        pipeline = self.pipeline
        fps, latency = pipeline.stats.hud_figures()
        playing = not pipeline.paused and fps > 0
        parts = [f"{fps:.1f} FPS" if playing else "– FPS", f"{latency:.0f} ms" if playing else "– ms",
                 result.perception.backend or pipeline.backend_name()]
        if self.info.live:
            dropped = sum(pipeline.stats.dropped.values())
            if dropped:
                parts.append(f"{dropped} dropped")
        elif self.frame_count:
            parts.append(f"frame {result.index + 1}/{self.frame_count}")
        return " | ".join(parts)

    @property
    def loop(self) -> bool:
        return self.pipeline.at_end == "loop"

    @loop.setter
    def loop(self, on: bool) -> None:
        # read by the capture thread each time it reaches the end
        self.pipeline.at_end = "loop" if on else "pause"

    # --- controls --------------------------------------------------------------------------------------------------
    @property
    def replay(self):
        """The pipeline's playback controls (pause, resume, step, seek, refresh; thread-safe, non-blocking): the
        viewer reaches them only through here."""
        return self.pipeline

    def start(self, paused: bool = False) -> None:
        """Start the threads; paused: show the first frame and wait."""
        if paused:
            self.replay.step(1)
        self.pipeline.start()

    def play(self) -> None:
        state = self.state
        if state == "ended":
            self.seek(0)
            self.replay.resume()
        elif state == "paused":
            last = self.last_index
            if self.seekable and last is not None:
                # frames read ahead before the pause carry stale capture times (their latency would read as
                # the length of the pause) and would flash by unpaced: read them again from here instead
                count = self.frame_count
                self.seek(0 if count and last + 1 >= count else last + 1)
            self.replay.resume()

    def pause(self) -> None:
        self.replay.pause()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def step(self, n: int = 1) -> None:
        """Pause and show the next frame (n frames on)."""
        if self.state != "ended":
            self.replay.step(n)

    def step_back(self) -> None:
        """Pause and show the frame before the one on screen (files and folders)."""
        last = self.last_index
        if self.seekable and last is not None and last > 0:
            self.replay.pause()
            self.seek(last - 1)

    def seek(self, index: int) -> None:
        if self.seekable:
            self.replay.seek(index)
            self.paced.cut_wait()

    def refresh(self) -> None:
        """Show a change (threshold, layer, model) on the frame on screen when not playing (files and folders)."""
        if self.seekable and not self.playing:
            self.replay.refresh()
            self.paced.cut_wait()

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """From the next frame on; a paused frame is re-run at once to show the change."""
        self.pipeline.set_thresholds(conf=thresholds.conf, iou=thresholds.iou, road=thresholds.road)
        self.refresh()

    def set_layers(self, layers: OverlayLayers) -> None:
        self.renderer.layers = layers
        self.refresh()

    def runs(self, predictor) -> bool:
        """Is `predictor` the one the pipeline runs (a switch may not have reached the inference thread yet)?"""
        return self.pipeline.predictor is predictor

    def use_predictor(self, predictor) -> None:
        """Run `predictor` from the next frame on (the old one is closed between two frames); a paused frame is
        re-run with it."""
        self.pipeline.set_predictor(predictor, close_old=True)
        self.refresh()

    def snapshot(self):
        return self.pipeline.snapshot()

    @property
    def speed(self) -> float:
        return self.paced.speed if self.paced is not None else 1.0

    @speed.setter
    def speed(self, value: float) -> None:
        if self.paced is not None:
            self.paced.speed = value

    def close(self):
        """Stop recording, detach the GUI and ask the pipeline to stop (returns at once; join() waits).
        The recording's (path, frames), or None."""
        saved = self.recorder.stop()
        self.bridge.detach()
        self.pipeline.stop()
        return saved

    def join(self, timeout: float | None = None) -> bool:
        return self.pipeline.join(timeout)
