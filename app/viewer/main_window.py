"""The viewer's main window: panels, menus, shortcuts, dialogs, drag and drop, and the wiring between them.

The window shows; its collaborators decide, each owning one idea and testable without a window:
    session_manager  SessionManager: which source plays (opened off the GUI thread, stale requests dropped)
    model_manager    ModelManager: which model runs (built off the GUI thread, a failed load keeps the old one)
    frame_geometry   FrameGeometry: the open calibration's camera, distances and bird's-eye view, per frame
    outputs          Outputs: screenshots and recordings, named after the source
    panels           ViewerPanels: the widgets and how a small window shares its room
Frames are inferred and drawn on the pipeline's threads (session.py, which alone drives the pipeline) and arrive
here as Qt signals (bridge.py). The window keeps what outlives one source (thresholds, layer toggles, replay
speed, loop) and hands it to each session.
"""

from __future__ import annotations

import time
from pathlib import Path

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QMainWindow

from core.errors import UserError

from ..frames import Thresholds, load_runtime_config
from ..overlay import OverlayLayers, OverlayStyle, layers_from_config
from .bridge import DisplayFrame
from .controls import LAYER_LABELS
from .dialogs import ErrorReporter, OpenDialogs, show_shortcuts
from .frame_geometry import FrameGeometry
from .menus import build_menus, make_action
from .model_manager import LoadFailure, ModelManager
from .outputs import Outputs
from .panels import ViewerPanels
from .session import ViewerSession
from .session_manager import SessionManager
from .settings import ViewerSettings
from .shortcuts import LAYER_KEYS
from .status_bar import STATE_BADGE, StatusFigures
from .transport import next_speed, speed_text

APP_TITLE = "Road perception viewer"
NO_SOURCE = "No source\n\nFile ▸ Open video… (Ctrl+O), a folder or a camera — or drop a video here"


class MainWindow(QMainWindow):
    """provider: a PredictorProvider (or anything with weights, backends() and build(backend, conf, iou,
    warmup=True))."""

    def __init__(self, provider, *, settings: ViewerSettings | None = None, config: dict | None = None,
                 thresholds: Thresholds | None = None, layers: OverlayLayers | None = None):
        super().__init__()
        self.config = config or load_runtime_config()
        self.settings = s = settings or ViewerSettings.from_config(self.config)
        self.thresholds = thresholds or Thresholds.from_config(self.config)
        self.layers = layers or layers_from_config(self.config)
        self.overlay_style = OverlayStyle.from_config(self.config)
        self.speed = s.default_speed
        self.loop = False  # a file or folder starts again at its end (the bundled clip does)
        self.created_at = time.perf_counter()
        self.first_image_at: float | None = None  # a picture on screen (the preview or an annotated frame)
        self.first_annotated_at: float | None = None  # the first frame with the perception on it
        self.last_frame: DisplayFrame | None = None
        self.frames_displayed = 0
        self._closing = False

        self.setWindowTitle(APP_TITLE)
        self.resize(*s.window_size)
        self.setAcceptDrops(True)
        self.panels = ViewerPanels(s, self.thresholds, self.layers, self.speed, NO_SOURCE)
        self.setCentralWidget(self.panels)
        p = self.panels
        self.video, self.bev, self.bev_box, self.views = p.video, p.bev, p.bev_box, p.views
        self.transport, self.stats, self.performance = p.transport, p.stats, p.performance
        self.controls, self.summary, self.side = p.controls, p.summary, p.side
        self.figures = StatusFigures(self.statusBar())
        self.state_label, self.dropped_label = self.figures.state, self.figures.dropped
        self.pace_label, self.record_label = self.figures.pace, self.figures.record
        self.errors = ErrorReporter(self, self.statusBar())
        self.dialogs = OpenDialogs(self, str(Path.cwd()))

        self.sessions = SessionManager(self._open, self._make_session, self,
                                       model_ready=lambda: self.predictor is not None, parent=self)
        self.models = ModelManager(provider, self.sessions, self, thresholds=lambda: self.thresholds, parent=self)
        self.geometry = FrameGeometry(self.overlay_style, s.footprint_m, s.bev_dim)
        self.outputs = Outputs(s.output_dir, s.recording_codecs, status=self.statusBar().showMessage,
                               report=self.errors.report, show_recording=self._show_recording)
        self._build_actions()
        self._speed_group = build_menus(self, self.actions, s.speeds, self.speed, self.transport.select_speed)
        self._connect_panels()
        self._tick = QTimer(self)
        self._tick.setInterval(s.stats_interval_ms)
        self._tick.timeout.connect(self._refresh_figures)
        self._tick.start()
        self._show_model(status="no model loaded")
        self.controls.set_distance_available(False)

    # --- what the collaborators hold ---------------------------------------------------------------------------------
    @property
    def session(self) -> ViewerSession | None:
        return self.sessions.session

    @property
    def predictor(self):
        return self.models.predictor

    @predictor.setter
    def predictor(self, predictor) -> None:
        self.models.predictor = predictor

    @property
    def provider(self):
        return self.models.provider

    @property
    def calibration(self):
        """The open calibration (None without one)."""
        return self.geometry.calibration

    camera = calibration

    # === actions, menus =============================================================================================
    def _connect_panels(self) -> None:
        t, c = self.transport, self.controls
        for signal, slot in ((t.play_toggled, self.toggle_play), (t.step_requested, self.step),
                             (t.step_back_requested, self.step_back), (t.seek_requested, self.seek),
                             (t.speed_changed, self.set_speed), (t.record_toggled, self.set_recording),
                             (t.screenshot_requested, self.save_screenshot), (c.backend_requested, self.switch_backend),
                             (c.open_weights_requested, self.actions["open_weights"].trigger),
                             (c.thresholds_changed, self.set_thresholds), (c.layers_changed, self.set_layers)):
            signal.connect(slot)
        c.open_requested.connect(lambda kind: self.actions[{"file": "open_file", "folder": "open_folder",
                                                            "camera": "open_camera"}[kind]].trigger())

    def _ask(self, question, then) -> None:
        """Ask with a dialog; act on the path or spec given (nothing when cancelled)."""
        answer = question()
        if answer:
            then(answer)

    def _live_spec(self) -> str:
        """The camera or stream playing (the camera dialog offers it first), or ""."""
        return self.session.spec if self.session is not None and self.session.info.live else ""

    def _build_actions(self) -> None:
        a, d, ask = {}, self.dialogs, self._ask
        self.actions = a

        def act(name, text, slot, shortcut=None, checkable=False, tip=""):
            a[name] = make_action(self, text, slot, shortcut, checkable, tip)

        suffixes = list(self.settings.video_suffixes) + list(self.config["sources"]["image_suffixes"])
        act("open_file", "Open &video or image…", lambda: ask(lambda: d.video_or_image(suffixes), self.open_source),
            QKeySequence.Open)
        act("open_folder", "Open image &folder…", lambda: ask(d.image_folder, self.open_source), "Ctrl+Shift+O")
        act("open_camera", "Open &camera or stream…", lambda: ask(lambda: d.camera(self._live_spec()),
                                                                   self.open_source), "Ctrl+Shift+C")
        act("open_weights", "Open &weights…", lambda: ask(lambda: d.weights(self.provider.weights), self.open_weights))
        act("open_calib", "Open ca&libration…", lambda: ask(lambda: d.calibration(self._calibration_dir()),
                                                            self.open_calibration),
            tip="KITTI calib .txt or camera .yaml: distances and the bird's-eye view")
        act("open_calib_folder", "Open calibration f&older…",
            lambda: ask(lambda: d.calibration_folder(self._calibration_dir()), self.open_calibration),
            tip="a folder of KITTI calib files, matched to the frames by name")
        act("screenshot", "&Save frame as PNG", self.save_screenshot, "Ctrl+S")
        act("record", "&Record", lambda on: self.set_recording(on), "Ctrl+R", checkable=True)
        act("quit", "&Quit", self.close, QKeySequence.Quit)
        act("play", "&Play / pause", self.toggle_play, Qt.Key_Space)
        act("step", "&Next frame", self.step, Qt.Key_Right)
        act("step_back", "P&revious frame", self.step_back, Qt.Key_Left)
        act("restart", "Back to the &start", lambda: self.seek(0), Qt.Key_Home)
        act("faster", "&Faster", lambda: self._change_speed(+1), "]")
        act("slower", "S&lower", lambda: self._change_speed(-1), "[")
        for name, key in LAYER_KEYS.items():
            act(f"layer_{name}", f"{LAYER_LABELS[name]} layer", lambda _=False, n=name: self._toggle_layer(n), key)
        act("show_bev", "&Bird's-eye view", self._show_bev_toggled, "F2", checkable=True)
        act("loop", "&Loop", self.set_loop, "Ctrl+L", checkable=True, tip="start a file or folder again at its end")
        act("shortcuts", "&Keyboard shortcuts", lambda: show_shortcuts(self), "F1")

    # === sources (SessionManager decides, the window shows) =========================================================
    def open_source(self, spec, paused: bool = False) -> None:
        """Open a file, folder, camera index or stream URL on a worker thread; the current video plays on
        until the new one is ready (an unreadable source leaves it as it was)."""
        spec = str(spec)
        self.statusBar().showMessage(f"Opening {spec}…")
        if self.session is None:
            self.video.set_placeholder(f"Opening {spec}…")
        self.sessions.open(spec, paused)

    def _open(self, spec: str):
        from ..sources import open_source  # looked up at each call: tests stand a fake camera in

        return open_source(spec, config=self.config)

    def _make_session(self, spec: str, source) -> ViewerSession:
        return ViewerSession(source, spec, self.predictor, thresholds=self.thresholds, layers=self.layers,
                             distance_for=self.geometry.distance_for, speed=self.speed, config=self.config,
                             parent=self, loop=self.loop)

    def source_opened(self, spec: str, source) -> None:
        self.statusBar().showMessage(f"Opened {source.info.describe()}", 5000)

    def source_waiting(self, source, preview) -> None:
        self.controls.show_source(source.info)
        self.video.set_placeholder(f"{source.info.name} is ready\n\nwaiting for the model…")
        if preview is not None and self.session is None:  # the picture now, the perception once loaded
            self.video.set_image(preview)
            self.video.set_badge("LOADING MODEL")
            self.first_image_at = self.first_image_at or time.perf_counter()

    def source_failed(self, spec: str, error: BaseException) -> None:
        if self.session is None:
            self.video.set_placeholder(NO_SOURCE)
        self.errors.report(f"Cannot open {spec}", str(error))

    def session_failed(self, spec: str, error: BaseException) -> None:
        self.errors.report(f"Cannot play {spec}", str(error))

    def session_began(self, session: ViewerSession) -> None:
        bridge = session.bridge
        bridge.frame.connect(self._show_frame)
        bridge.error.connect(self._pipeline_failed)
        bridge.finished.connect(self._pipeline_finished)
        bridge.warning.connect(lambda text: self.errors.report("Bird's-eye view switched off", text))
        self._attach_bev(session)
        self.panels.show_session(session)
        self.setWindowTitle(f"{session.info.name} — {APP_TITLE}")

    def session_retired(self, saved) -> None:
        self.outputs.recording_saved(saved)

    def state_changed(self) -> None:
        self._sync_state()

    # === frames =====================================================================================================
    def _show_frame(self, frame: DisplayFrame) -> None:
        session = self.session
        if self.first_annotated_at is None:
            self.first_annotated_at = time.perf_counter()
            self.first_image_at = self.first_image_at or self.first_annotated_at
        if session is not None:
            session.shown_index = frame.result.index
        self.panels.show_frame(frame, session, self.geometry, self.overlay_style.distance_classes)
        self.last_frame = frame
        self.frames_displayed += 1

    def _pipeline_failed(self, error) -> None:
        self.errors.report("Playback stopped", str(error))
        self._sync_state()

    def _pipeline_finished(self, summary) -> None:
        if summary.error is None and summary.state == "finished":
            self.statusBar().showMessage(f"{self.session.info.name if self.session else 'source'} ended: "
                                         f"{summary.frames_out} frames", 8000)
        self._sync_state()

    # === playback controls (ViewerSession drives the pipeline) ======================================================
    def toggle_play(self) -> None:
        session = self.session
        if session is None:
            return
        if session.done:  # stopped by an error or a live stream's end: open it again
            self.open_source(session.spec)
            return
        session.toggle()
        self._sync_state()

    def play(self) -> None:
        if self.session is not None and not self.session.playing:
            self.toggle_play()

    def _control(self, act) -> None:
        if self.session is not None:
            act(self.session)
            self._sync_state()

    def pause(self) -> None:
        self._control(ViewerSession.pause)

    def step(self) -> None:
        self._control(ViewerSession.step)

    def step_back(self) -> None:
        self._control(ViewerSession.step_back)

    def seek(self, index: int) -> None:
        self._control(lambda session: session.seek(index))

    def set_loop(self, on: bool) -> None:
        """Start a file or folder again at its end (on), or wait there (off)."""
        self.loop = bool(on)
        self.actions["loop"].setChecked(self.loop)
        if self.session is not None:
            self.session.loop = self.loop

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        if self.session is not None:
            self.session.speed = speed
        for action in self._speed_group.actions():
            action.setChecked(action.text() == speed_text(speed))
        self.statusBar().showMessage(f"replay speed {speed_text(speed)}", 2000)

    def _change_speed(self, direction: int) -> None:
        target = next_speed(self.transport.speeds(), self.speed, direction)
        if target is not None:
            self.transport.select_speed(target)

    # === model (ModelManager decides, the window shows) =============================================================
    def load_model(self, backend: str = "auto", provider=None) -> None:
        """Build a predictor on a worker thread; it replaces the current one between two frames."""
        self.models.load(backend, provider)

    def switch_backend(self, backend: str) -> None:
        self.models.switch_backend(backend)

    def open_weights(self, path) -> None:
        self.models.open_weights(path)

    def model_loading(self, backend: str, provider) -> None:
        self.controls.set_model_status(f"loading {backend} for {Path(str(provider.weights)).name}…")
        if self.session is None and self.sessions.pending is None and self.predictor is None:
            self.video.set_placeholder("Loading the model…")

    def model_loaded(self, predictor, provider) -> None:
        self._show_model(status=getattr(predictor, "choice_reason", ""))
        described = getattr(predictor, "description", "") or Path(str(provider.weights)).name
        self.statusBar().showMessage(f"model: {predictor.backend_name} ({described})", 6000)

    def model_failed(self, failure: LoadFailure) -> None:
        self._show_model()
        self.controls.set_model_status(failure.status, failure.detail)
        if self.session is None and self.predictor is None:
            self.video.set_placeholder("No model loaded\n\nFile ▸ Open weights…")
            self.video.set_badge("NO MODEL")  # over the preview frame, if one is shown
        self.errors.report(failure.title, failure.message)

    def _show_model(self, status: str = "") -> None:
        self.controls.show_model(status=status, **self.models.panel())

    # === thresholds, layers, calibration ============================================================================
    def set_thresholds(self, thresholds: Thresholds) -> None:
        """From the next frame on; a paused frame is re-run at once to show the change."""
        self.thresholds = thresholds
        if self.session is not None:
            self.session.set_thresholds(thresholds)

    def set_layers(self, layers: OverlayLayers) -> None:
        self.layers = layers
        if self.session is not None:
            self.session.set_layers(layers)

    def open_calibration(self, path) -> bool:
        """A KITTI calib file, a camera YAML, or a folder of KITTI calib files matched to the frames by name
        (um_000012.png ↔ um_000012.txt): distances on the boxes and the bird's-eye view panel."""
        try:
            calibration = self.geometry.open(path)
        except UserError as e:
            self.errors.report(f"Cannot use the calibration {Path(str(path)).name}", str(e))
            return False
        self.actions["show_bev"].setChecked(True)
        self.panels.show_calibration(calibration.name)
        if self.session is not None:
            self._attach_bev(self.session)
            self.session.refresh()
        self.statusBar().showMessage(f"calibration {self.geometry.path.resolve()}", 5000)
        return True

    def _calibration_dir(self) -> str:
        """Where the calibration dialog opens: where the last calibration was, else where the last source was."""
        return self.geometry.last_dir or self.dialogs.last_dir

    def _attach_bev(self, session: ViewerSession) -> None:
        """The BEV image is made on the output thread, only while the panel is shown."""
        shown = self.actions["show_bev"].isChecked()
        session.bridge.prepare = self.geometry.bev_preparer(session) if shown else None

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not isinstance(getattr(self, "actions", None), dict):  # a resize while the window is being built
            return
        message = self.panels.fit(self.width(), self.height(), self.calibration is not None,
                                  self.actions["show_bev"].isChecked())
        if message:
            self.statusBar().showMessage(message, 6000)

    def _show_bev_toggled(self, on: bool) -> None:
        if on and self.calibration is None:  # F2 without a calibration: say why nothing appears
            self.actions["show_bev"].setChecked(False)
            self.statusBar().showMessage("the bird's-eye view needs a calibration: File ▸ Open calibration… "
                                         "(a KITTI calib file or folder, or a camera YAML; or --calib)", 6000)
            return
        self.panels.show_bev_box(on and self.calibration is not None)
        if self.session is not None:
            self._attach_bev(self.session)
            self.session.refresh()

    def _toggle_layer(self, name: str) -> None:
        """A layer's key (R B L D H): a layer that cannot be drawn says why instead of toggling silently."""
        box = self.controls.layer_boxes[name]
        if not box.isEnabled():
            self.statusBar().showMessage(f"the {LAYER_LABELS[name].lower()} layer {box.toolTip()}", 6000)
            return
        self.controls.toggle_layer(name)

    # === outputs (Outputs names, writes and reports them) ===========================================================
    def save_screenshot(self, path=None) -> Path | None:
        """The frame on screen (overlay at the source's resolution) as a PNG; its path, or None."""
        index = self.last_frame.result.index if self.last_frame is not None else 0
        return self.outputs.save_screenshot(self.video.current_image(), index, self.session, path)

    def set_recording(self, on: bool, path=None) -> Path | None:
        """Start (from the frame on screen) or stop recording the overlaid stream; the file's path."""
        return self.outputs.set_recording(self.session, on, path)

    def _show_recording(self, on: bool) -> None:
        self.transport.set_recording(on)
        self.actions["record"].setChecked(on)
        if not on:
            self.figures.show_recording(None)

    # === periodic: figures, state ===================================================================================
    def _refresh_figures(self) -> None:
        session = self.session
        if session is None:
            return
        snapshot = session.snapshot()
        self.stats.show_snapshot(snapshot, playing=session.playing, counted_from=session.passes.base)
        self.figures.show_figures(session, snapshot)
        frames = self.outputs.poll(session)
        if frames is not None:
            self.figures.show_recording(frames)
        self._sync_state()

    def _sync_state(self) -> None:
        session = self.session
        state = session.state if session is not None else "idle"
        self.transport.set_playing(state == "running")
        self.figures.show_state(state)
        self.video.set_badge(STATE_BADGE.get(state, ""))

    # === drag and drop, closing =====================================================================================
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls:
            path = urls[0].toLocalFile()
            if path.lower().endswith((".txt", ".yaml", ".yml")):
                self.open_calibration(path)
            else:
                self.open_source(path)

    def closeEvent(self, event) -> None:
        """Stop every pipeline (recordings are finished and flushed) and free the model."""
        if self._closing:  # closed before (tests close, then the fixture closes again)
            super().closeEvent(event)
            return
        self._closing = True
        self._tick.stop()
        self.errors.dismiss()
        saved = self.sessions.close()
        if saved is not None:
            print(f"saved {saved[0]} ({saved[1]} frames)")
        self.models.close()
        super().closeEvent(event)
