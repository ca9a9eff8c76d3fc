"""The viewer's main window: video, bird's-eye view, side panel, menus and shortcuts, and the wiring between them.

Everything slow happens elsewhere: sources are opened and models built on worker
threads (background.py), frames are inferred and drawn on the pipeline's threads
(session.py), and finished frames arrive here as Qt signals (bridge.py). The
window keeps the state that outlives one source — the model, the thresholds, the
layer toggles, the calibration, the replay speed — and hands it to each session.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (QAction, QActionGroup, QFileDialog, QFrame, QGroupBox, QLabel, QMainWindow, QMessageBox,
                             QScrollArea, QSplitter, QVBoxLayout, QWidget)

from ..frames import Thresholds, load_runtime_config
from ..overlay import GroundDistance, OverlayLayers, OverlayStyle, layers_from_config
from .background import run_in_background
from .bev_panel import BirdsEyePanel
from .birdseye import BirdsEyeRenderer
from .bridge import DisplayFrame
from .codecs import CODEC_NAMES, recording_codec
from .controls import LAYER_LABELS, ControlsPanel
from .dialogs import CameraDialog, ErrorReporter
from .frame_summary import FrameSummary
from .predictors import running_file
from .calibration import Calibration
from .session import ViewerSession
from .settings import ViewerSettings
from .stats_panel import StatsPanel
from .transport import TransportBar, speed_text
from .video_view import VideoView

APP_TITLE = "Road perception viewer"
NO_SOURCE = "No source\n\nFile ▸ Open video… (Ctrl+O), a folder or a camera — or drop a video here"
# plain glyphs every desktop font has: "⏸" (U+23F8) renders as an empty box in DejaVu and Liberation
STATE_TEXT = {"running": "▶ playing", "paused": "‖ paused", "ended": "■ end of clip", "finished": "■ finished",
              "stopped": "■ stopped", "failed": "✖ stopped by an error", "idle": "…"}
STATE_BADGE = {"paused": "PAUSED", "ended": "END", "failed": "ERROR"}
LAYER_KEYS = {"road": "R", "boxes": "B", "labels": "L", "distance": "D", "hud": "H"}
SHORTCUTS = (  # the help dialog and README's viewer section list the same keys
    ("Space", "play / pause (at the end: from the start)"),
    ("→ / ←", "next / previous frame"),
    ("Home", "back to the first frame"),
    ("] / [", "faster / slower replay"),
    ("Ctrl+L", "loop the file or folder"),
    ("R B L D H", "road, boxes, labels, distance, HUD layers"),
    ("F2", "bird's-eye view (needs a calibration)"),
    ("Ctrl+O", "open a video or an image"),
    ("Ctrl+Shift+O", "open a folder of images"),
    ("Ctrl+Shift+C", "open a camera or a stream"),
    ("Ctrl+R", "record the overlaid stream"),
    ("Ctrl+S", "save the frame on screen as PNG"),
    ("F1", "this list"),
    ("Ctrl+Q", "quit"),
)
SHORTCUTS_HELP = "<table cellspacing=4>" + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>"
                                                   for k, v in SHORTCUTS) + "</table>"


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


def file_stem(spec: str, kind: str) -> str:
    """A file-name-safe stem for recordings and screenshots of a source."""
    stem = Path(spec).stem if kind in ("video", "images") else f"{kind}{spec if kind == 'camera' else ''}"
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "source"


class MainWindow(QMainWindow):
    """provider: a PredictorProvider (or anything with weights, backends() and build(backend, conf, iou,
    warmup=True))."""

    def __init__(self, provider, *, settings: ViewerSettings | None = None, config: dict | None = None,
                 thresholds: Thresholds | None = None, layers: OverlayLayers | None = None):
        super().__init__()
        self.config = config or load_runtime_config()
        self.settings = settings or ViewerSettings.from_config(self.config)
        self.provider = provider
        self.thresholds = thresholds or Thresholds.from_config(self.config)
        self.layers = layers or layers_from_config(self.config)
        self.overlay_style = OverlayStyle.from_config(self.config)
        self.speed = self.settings.default_speed
        self.predictor = None
        self.session: ViewerSession | None = None
        self.calibration: Calibration | None = None  # once a calibration file or folder is open
        self.calib_path: Path | None = None
        self._distances: dict = {}  # (camera id, frame size) → GroundDistance
        self.loop = False  # a file or folder starts again at its end (the bundled clip does)
        self.created_at = time.perf_counter()
        self.first_image_at: float | None = None  # a picture on screen (the preview or an annotated frame)
        self.first_annotated_at: float | None = None  # the first frame with the perception on it
        self.last_frame: DisplayFrame | None = None
        self.frames_displayed = 0
        self._retiring: list[ViewerSession] = []  # stopped sessions whose threads are still winding down
        self._pending_source: tuple | None = None  # (spec, source, paused) opened before the model was ready
        self._open_token = 0  # only the newest open/load/start request may take effect
        self._model_token = 0
        self._start_token = 0
        self._superseded: list = []  # predictors a pipeline never took over: closed with the window
        self._last_dir = str(Path.cwd())
        self._last_calib_dir: str | None = None  # the calibration dialog opens where the last one was
        self._compact: list[str] = []  # panels a small window hides
        self._closing = False

        self.setWindowTitle(APP_TITLE)
        self.resize(*self.settings.window_size)
        self.setAcceptDrops(True)
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self.errors = ErrorReporter(self, self.statusBar())
        self._tick = QTimer(self)
        self._tick.setInterval(self.settings.stats_interval_ms)
        self._tick.timeout.connect(self._refresh_figures)
        self._tick.start()
        self._show_model(status="no model loaded")
        self.controls.set_distance_available(False)

    # === layout =====================================================================================================
    def _build_widgets(self) -> None:
        self.video = VideoView(NO_SOURCE)
        self.bev = BirdsEyePanel("Open a calibration to see the bird's-eye view")
        self.bev_box = QGroupBox("Bird's-eye view")
        bev_layout = QVBoxLayout(self.bev_box)
        bev_layout.setContentsMargins(4, 8, 4, 4)
        bev_layout.addWidget(self.bev)
        self.bev_box.setVisible(False)  # shown once a calibration is given

        self.views = QSplitter(Qt.Horizontal)
        self.views.addWidget(self.video)
        self.views.addWidget(self.bev_box)
        self.views.setStretchFactor(0, 4)
        self.views.setStretchFactor(1, 1)
        self.views.setChildrenCollapsible(False)

        self.transport = TransportBar(self.settings.speeds, self.speed, self.settings.control_debounce_ms)
        self.stats = StatsPanel(self.settings.latency_history)
        performance = self.performance = QFrame()
        performance.setObjectName("performance")
        performance_layout = QVBoxLayout(performance)
        performance_layout.setContentsMargins(0, 0, 0, 0)
        performance_layout.addWidget(self.stats)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.views, 1)
        left_layout.addWidget(self.transport)
        left_layout.addWidget(performance)

        self.controls = ControlsPanel(self.thresholds, self.layers, self.settings.control_debounce_ms)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(10, 6, 10, 10)
        side_layout.addWidget(self.controls)
        self.summary = FrameSummary()
        side_layout.addWidget(self.summary)
        side_layout.addStretch(1)
        self.side = QScrollArea()
        self.side.setWidget(side)
        self.side.setWidgetResizable(True)
        self.side.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.side.setFrameShape(QScrollArea.NoFrame)
        self.side.setMinimumWidth(side.sizeHint().width() + 12)

        main = QSplitter(Qt.Horizontal)
        main.addWidget(left)
        main.addWidget(self.side)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 0)
        main.setChildrenCollapsible(False)
        self.setCentralWidget(main)

        self.transport.play_toggled.connect(self.toggle_play)
        self.transport.step_requested.connect(self.step)
        self.transport.step_back_requested.connect(self.step_back)
        self.transport.seek_requested.connect(self.seek)
        self.transport.speed_changed.connect(self.set_speed)
        self.transport.record_toggled.connect(self.set_recording)
        self.transport.screenshot_requested.connect(self.save_screenshot)
        self.controls.open_requested.connect(lambda kind: {"file": self._ask_file, "folder": self._ask_folder,
                                                          "camera": self._ask_camera}[kind]())
        self.controls.backend_requested.connect(self.switch_backend)
        self.controls.open_weights_requested.connect(self._ask_weights)
        self.controls.thresholds_changed.connect(self.set_thresholds)
        self.controls.layers_changed.connect(self.set_layers)

    def _action(self, text: str, slot, shortcut=None, checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        a = self.actions = {}
        a["open_file"] = self._action("Open &video or image…", self._ask_file, QKeySequence.Open)
        a["open_folder"] = self._action("Open image &folder…", self._ask_folder, "Ctrl+Shift+O")
        a["open_camera"] = self._action("Open &camera or stream…", self._ask_camera, "Ctrl+Shift+C")
        a["open_weights"] = self._action("Open &weights…", self._ask_weights)
        a["open_calib"] = self._action("Open ca&libration…", self._ask_calibration,
                                       tip="KITTI calib .txt or camera .yaml: distances and the bird's-eye view")
        a["open_calib_folder"] = self._action("Open calibration f&older…", self._ask_calibration_folder,
                                              tip="a folder of KITTI calib files, matched to the frames by name")
        a["screenshot"] = self._action("&Save frame as PNG", self.save_screenshot, "Ctrl+S")
        a["record"] = self._action("&Record", lambda on: self.set_recording(on), "Ctrl+R", checkable=True)
        a["quit"] = self._action("&Quit", self.close, QKeySequence.Quit)
        a["play"] = self._action("&Play / pause", self.toggle_play, Qt.Key_Space)
        a["step"] = self._action("&Next frame", self.step, Qt.Key_Right)
        a["step_back"] = self._action("P&revious frame", self.step_back, Qt.Key_Left)
        a["restart"] = self._action("Back to the &start", lambda: self.seek(0), Qt.Key_Home)
        a["faster"] = self._action("&Faster", lambda: self._change_speed(+1), "]")
        a["slower"] = self._action("S&lower", lambda: self._change_speed(-1), "[")
        for name, key in LAYER_KEYS.items():
            a[f"layer_{name}"] = self._action(f"{LAYER_LABELS[name]} layer", lambda _=False, n=name:
                                              self._toggle_layer(n), key)
        a["show_bev"] = self._action("&Bird's-eye view", self._show_bev_toggled, "F2", checkable=True)
        a["loop"] = self._action("&Loop", self.set_loop, "Ctrl+L", checkable=True,
                                 tip="start a file or folder again at its end")
        a["shortcuts"] = self._action("&Keyboard shortcuts", self._show_shortcuts, "F1")

    def _build_menus(self) -> None:
        a, bar = self.actions, self.menuBar()
        file_menu = bar.addMenu("&File")
        for key in ("open_file", "open_folder", "open_camera", None, "open_weights", "open_calib", "open_calib_folder",
                    None, "screenshot", "record", None, "quit"):
            file_menu.addSeparator() if key is None else file_menu.addAction(a[key])
        play_menu = bar.addMenu("&Playback")
        for key in ("play", "step", "step_back", "restart", "loop", None, "faster", "slower"):
            play_menu.addSeparator() if key is None else play_menu.addAction(a[key])
        speed_menu = play_menu.addMenu("Speed")
        self._speed_group = QActionGroup(self)
        for value in self.settings.speeds:
            action = QAction(speed_text(value), self._speed_group, checkable=True)
            action.setChecked(value == self.speed)
            action.triggered.connect(lambda _=False, v=value: self.transport.speed.setCurrentIndex(
                self.transport.speed.findData(v)))
            speed_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        for name in LAYER_KEYS:
            view_menu.addAction(a[f"layer_{name}"])
        view_menu.addSeparator()
        view_menu.addAction(a["show_bev"])
        bar.addMenu("&Help").addAction(a["shortcuts"])

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.state_label = QLabel(STATE_TEXT["idle"])
        self.dropped_label = QLabel("dropped 0")
        self.dropped_label.setToolTip("stale frames a live source dropped so latency stays low (replay drops none)")
        self.pace_label = QLabel("")
        self.pace_label.setStyleSheet("color: #ffb347;")
        self.pace_label.setToolTip("a replay processes every frame: when the model is slower than the source's "
                                   "frame rate × the speed, the clip plays slower than real time")
        self.pace_label.setVisible(False)
        self.record_label = QLabel("")
        self.record_label.setStyleSheet("color: #ff5a5a; font-weight: bold;")
        for w in (self.pace_label, self.record_label, self.state_label, self.dropped_label):
            bar.addPermanentWidget(w)

    # === sources ====================================================================================================
    def open_source(self, spec, paused: bool = False) -> None:
        """Open a file, folder, camera index or stream URL on a worker thread; the current video plays on
        until the new one is ready (an unreadable source leaves it as it was)."""
        from ..sources import open_source

        spec = str(spec)
        self._open_token += 1
        token = self._open_token
        self.statusBar().showMessage(f"Opening {spec}…")
        if self.session is None:
            self.video.set_placeholder(f"Opening {spec}…")

        def open_and_preview():
            source = open_source(spec, config=self.config)
            # decoded here, off the GUI thread; shown while the model loads (4-6 s of imports on 2 cores)
            return source, first_image(source) if self.predictor is None else None

        run_in_background(open_and_preview,
                          on_done=lambda opened: self._source_opened(token, spec, *opened, paused),
                          on_failed=lambda e: self._source_failed(token, spec, e), name="open-source", parent=self)

    def _source_opened(self, token: int, spec: str, source, preview, paused: bool) -> None:
        if token != self._open_token or self._closing:
            source.close()  # a newer request replaced this one
            return
        self.statusBar().showMessage(f"Opened {source.info.describe()}", 5000)
        if self.predictor is None:  # the model is still loading (or failed): play once it is there
            if self._pending_source is not None:
                self._pending_source[1].close()
            self._pending_source = (spec, source, paused)
            self.controls.show_source(source.info)
            self.video.set_placeholder(f"{source.info.name} is ready\n\nwaiting for the model…")
            if preview is not None and self.session is None:  # the picture now, the perception once loaded
                self.video.set_image(preview)
                self.video.set_badge("LOADING MODEL")
                self.first_image_at = self.first_image_at or time.perf_counter()
            return
        self._replace_session(spec, source, paused)

    def _source_failed(self, token: int, spec: str, error: BaseException) -> None:
        if token != self._open_token or self._closing:
            return
        if self.session is None:
            self.video.set_placeholder(NO_SOURCE)
        self.errors.report(f"Cannot open {spec}", str(error))

    def _replace_session(self, spec: str, source, paused: bool) -> None:
        old, self.session = self.session, None
        if old is not None:
            self._retire(old)
        self._start_token += 1
        token, winding_down = self._start_token, list(self._retiring)
        if not winding_down:
            self._begin_session(spec, source, paused)
            return

        # the old pipelines' threads may be inside a predictor call: start the new one once they are out
        def join_all():
            for session in winding_down:
                session.join()

        def start(_=None):
            for session in winding_down:
                if session in self._retiring:
                    self._retiring.remove(session)
            if token != self._start_token or self._closing or self.predictor is None:
                source.close()  # another source was opened meanwhile, or the window closed
                return
            self._begin_session(spec, source, paused)

        run_in_background(join_all, on_done=start, on_failed=start, name="join-old-session", parent=self)

    def _retire(self, session: ViewerSession) -> None:
        saved = session.close()
        self._retiring.append(session)
        if saved is not None:
            self._recording_saved(*saved)
        self._show_recording(False)

    def _begin_session(self, spec: str, source, paused: bool) -> None:
        info = source.info
        try:
            session = ViewerSession(source, spec, self.predictor, thresholds=self.thresholds, layers=self.layers,
                                    distance_for=self._distance_for, speed=self.speed, config=self.config,
                                    parent=self, loop=self.loop)
        except Exception as e:  # noqa: BLE001 - e.g. a bad runtime config: report, stay usable
            source.close()
            self.errors.report(f"Cannot play {spec}", str(e))
            return
        bridge = session.bridge
        bridge.frame.connect(self._show_frame)
        bridge.error.connect(self._pipeline_failed)
        bridge.finished.connect(self._pipeline_finished)
        bridge.warning.connect(lambda text: self.errors.report("Bird's-eye view switched off", text))
        self.session = session
        self._attach_bev(session)
        self.transport.set_source(info.frame_count, info.fps, info.live)
        self.controls.show_source(info)
        self.summary.clear()
        self.stats.reset()
        self.video.composer = session.annotator
        self.stats.graph.set_budget(1000.0 / info.fps if info.fps else None)
        self.setWindowTitle(f"{info.name} — {APP_TITLE}")
        self.video.set_placeholder(f"Starting {info.name}…")
        session.start(paused=paused)
        self._sync_state()

    # === frames =====================================================================================================
    def _show_frame(self, frame: DisplayFrame) -> None:
        result = frame.result
        if self.first_annotated_at is None:
            self.first_annotated_at = time.perf_counter()
            self.first_image_at = self.first_image_at or self.first_annotated_at
        session = self.session
        self.video.set_image(result.image, session.annotator.annotate(result) if session is not None else None)
        self.transport.set_position(result.index)
        if frame.extra is not None:
            self.bev.set_frame(frame.extra)
        elif self.calibration is not None and self.calibration.is_folder and session is not None \
                and not self.bev_box.isHidden():
            self.bev.clear(f"No calib file for frame {session.frame_name(result.index) or result.index + 1} "
                           f"in {self.calibration.path.name}")
        if session is not None:
            session.shown_index = result.index
            distance = self._distance_for(session, result)
            self.summary.show_result(result, distance, self.overlay_style.distance_classes)
            if distance is None and self.calibration is not None:  # a calib folder without this frame's file
                name = session.frame_name(result.index) or f"frame {result.index + 1}"
                self.summary.rows["nearest"].setText(f"no calib file for {name}")
        if session is not None and session.playing:  # paused steps and refreshes are not latency samples
            latency = result.latency_ms
            if latency is None:  # the output thread has not stamped "done" yet: the same span up to the hand-over
                latency = (frame.t_handed_over - result.stamps["captured"]) * 1e3
            self.stats.graph.add(latency)
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

    # === playback controls ==========================================================================================
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

    def pause(self) -> None:
        if self.session is not None:
            self.session.pause()
            self._sync_state()

    def step(self) -> None:
        if self.session is not None:
            self.session.step()
            self._sync_state()

    def step_back(self) -> None:
        if self.session is not None:
            self.session.step_back()
            self._sync_state()

    def seek(self, index: int) -> None:
        if self.session is not None:
            self.session.seek(index)
            self._sync_state()

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
        combo = self.transport.speed
        speeds = [float(combo.itemData(i)) for i in range(combo.count())]
        paced = sorted(s for s in speeds if s > 0)
        current = self.speed if self.speed > 0 else float("inf")
        if direction > 0:
            faster = [s for s in paced if s > current]
            target = faster[0] if faster else (0.0 if 0.0 in speeds else None)
        else:
            slower = [s for s in paced if s < current]
            target = slower[-1] if slower else None
        if target is not None:
            combo.setCurrentIndex(combo.findData(target))

    # === model ======================================================================================================
    def load_model(self, backend: str = "auto", provider=None) -> None:
        """Build a predictor on a worker thread; it replaces the current one between two frames."""
        provider = provider or self.provider
        self._model_token += 1
        token = self._model_token
        th = self.thresholds
        self.controls.set_model_status(f"loading {backend} for {Path(str(provider.weights)).name}…")
        if self.session is None and self._pending_source is None and self.predictor is None:
            self.video.set_placeholder("Loading the model…")
        # the window's first model is not warmed up: no video plays yet that its slow first frames could stall
        first = {} if self.predictor is not None or self.session is not None else {"warmup": False}
        run_in_background(lambda: provider.build(backend, th.conf, th.iou, **first),
                          on_done=lambda predictor: self._model_loaded(token, provider, predictor),
                          on_failed=lambda e: self._model_failed(token, provider, backend, e),
                          name="load-model", parent=self)

    def switch_backend(self, backend: str) -> None:
        if self.predictor is not None and backend == self.predictor.backend_name:
            return
        self.load_model(backend)

    def open_weights(self, path) -> None:
        self.load_model("auto", self.provider.with_weights(path))

    def _model_loaded(self, token: int, provider, predictor) -> None:
        if token != self._model_token or self._closing:
            predictor.close()
            return
        old, self.predictor, self.provider = self.predictor, predictor, provider
        session = self.session
        if session is not None and not session.done:
            if old is not None and session.pipeline.predictor is not old:
                # the previous switch has not reached the inference thread yet (a paused live source) and the
                # pipeline forgets it now; it may be taking over this very moment, so close it with the window
                self._superseded.append(old)
            session.pipeline.set_predictor(predictor, close_old=True)  # swapped (and the old closed) between frames
            session.refresh()
        elif old is not None:
            self._close_when_idle(old)
        reason = getattr(predictor, "choice_reason", "")
        self._show_model(status=reason)
        described = getattr(predictor, "description", "") or Path(str(provider.weights)).name
        self.statusBar().showMessage(f"model: {predictor.backend_name} ({described})", 6000)
        if self._pending_source is not None:
            spec, source, paused = self._pending_source
            self._pending_source = None
            self._replace_session(spec, source, paused)

    def _model_failed(self, token: int, provider, backend: str, error: BaseException) -> None:
        if token != self._model_token or self._closing:
            return
        asked = Path(str(provider.weights)).name
        kept = self._running_text()
        self._show_model()
        self.controls.set_model_status(f"could not load {asked} with {backend}; " + (f"kept {kept}" if kept else
                                                                                    "no model loaded"), str(error))
        if self.session is None and self.predictor is None:
            self.video.set_placeholder("No model loaded\n\nFile ▸ Open weights…")
            self.video.set_badge("NO MODEL")  # over the preview frame, if one is shown
        other = "choose another backend or " if len(self._backends_offered()) > 1 else ""
        keeps = f"{kept} keeps running; " if kept else ""
        self.errors.report(f"Cannot load the model ({backend}, {asked})",
                           f"{error}\n\n{keeps}{other}open weights with File ▸ Open weights…")

    def _backends_offered(self) -> list[str]:
        try:
            return self.provider.backends()
        except Exception:  # noqa: BLE001 - a listing problem must not hide the model that is loaded
            return []

    def _running_text(self) -> str:
        """The file and precision the model on screen runs, e.g. "perception_n.int8cpu.onnx (int8cpu)"."""
        if self.predictor is None:
            return ""
        path, precision = running_file(self.predictor)
        name = path.name if path is not None else Path(str(self.provider.weights)).name
        return f"{name} ({precision})" if precision else name

    def _show_model(self, status: str = "") -> None:
        predictor = self.predictor
        path, precision = running_file(predictor) if predictor is not None else (None, "")
        self.controls.show_model(path or self.provider.weights, self._backends_offered(),
                                 predictor.backend_name if predictor is not None else None, status,
                                 precision=precision, description=getattr(predictor, "description", "") or "")

    def _close_when_idle(self, predictor) -> None:
        """Close a replaced predictor once no retiring pipeline can still be inside it."""
        retiring = list(self._retiring)

        def close():
            for session in retiring:
                session.join()
            predictor.close()

        run_in_background(close, on_done=lambda _: None, on_failed=lambda _: None, name="close-model", parent=self)

    # === thresholds, layers, calibration ============================================================================
    def set_thresholds(self, thresholds: Thresholds) -> None:
        """From the next frame on; a paused frame is re-run at once to show the change."""
        self.thresholds = thresholds
        if self.session is not None:
            self.session.pipeline.set_thresholds(conf=thresholds.conf, iou=thresholds.iou, road=thresholds.road)
            self.session.refresh()

    def set_layers(self, layers: OverlayLayers) -> None:
        self.layers = layers
        if self.session is not None:
            self.session.renderer.layers = layers
            self.session.refresh()

    def open_calibration(self, path) -> bool:
        """A KITTI calib file, a camera YAML, or a folder of KITTI calib files matched to the frames by name
        (um_000012.png ↔ um_000012.txt): distances on the boxes and the bird's-eye view panel."""
        from core.errors import UserError

        try:
            calibration = Calibration(path)
        except UserError as e:
            self.errors.report(f"Cannot use the calibration {Path(str(path)).name}", str(e))
            return False
        self.calibration, self.calib_path = calibration, Path(path)
        self._distances.clear()
        self._last_calib_dir = str(self.calib_path if calibration.is_folder else self.calib_path.parent)
        self.controls.set_distance_available(True)
        self.bev.clear("Waiting for a frame…")
        self.bev_box.setTitle(f"Bird's-eye view · {calibration.name}")
        self.actions["show_bev"].setChecked(True)
        self._show_bev_box(True)
        session = self.session
        if session is not None:
            self._attach_bev(session)
            session.refresh()
        self.statusBar().showMessage(f"calibration {self.calib_path.resolve()}", 5000)
        return True

    @property
    def camera(self):
        """The open calibration (None without one)."""
        return self.calibration

    def _camera_for(self, session: ViewerSession, result):
        calibration = self.calibration
        return calibration.camera_for(session.frame_name(result.index)) if calibration is not None else None

    def _distance_for(self, session: ViewerSession, result):
        """The frame's DistanceEstimator (its calib file's road plane at its size), or None. Any thread."""
        camera = self._camera_for(session, result)
        if camera is None:
            return None
        key = (id(camera), result.frame.size)
        distance = self._distances.get(key)
        if distance is None:
            distance = self._distances[key] = GroundDistance(camera.homography_for(result.frame.size))
        return distance

    def _attach_bev(self, session: ViewerSession) -> None:
        """The BEV image is made on the output thread, only while the panel is shown (one renderer per camera:
        a calibration folder gives each frame its own)."""
        if self.calibration is None or not self.actions["show_bev"].isChecked():
            session.bridge.prepare = None
            return
        renderers: dict[int, BirdsEyeRenderer] = {}

        def prepare(result):
            camera = self._camera_for(session, result)
            if camera is None:
                return None
            renderer = renderers.get(id(camera))
            if renderer is None:
                renderer = renderers[id(camera)] = BirdsEyeRenderer(
                    camera, self.overlay_style, self.settings.footprint_m, self.settings.bev_dim,
                    layers=lambda: session.renderer.layers)
            return renderer.render(result)

        session.bridge.prepare = prepare

    def _show_bev_box(self, on: bool) -> None:
        was_visible = not self.bev_box.isHidden()
        self.bev_box.setVisible(on)
        if on and not was_visible:  # the BEV is twice as deep as wide: a narrow column next to the video
            total = sum(self.views.sizes())
            if total < 100:  # not laid out yet (a calibration given before the window shows)
                total = self.settings.window_size[0] - self.side.minimumWidth()
            bev_width = min(self.settings.window_size[0] // 5, total // 3)
            self.views.setSizes([total - bev_width, bev_width])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_panels()

    def _fit_panels(self) -> None:
        """Below settings.compact_size the video would shrink to a strip (450×135 px at 1024×600): the
        bird's-eye view (narrow windows) and the figures (short windows) give way to it; the HUD on the video
        still shows FPS and latency. F2 shows the bird's-eye view anyway."""
        if not hasattr(self, "actions"):  # a resize while the window is being built
            return
        narrow = self.width() < self.settings.compact_size[0]
        short = self.height() < self.settings.compact_size[1]
        if self.performance.isHidden() != short:
            self.performance.setVisible(not short)
        bev = self.calibration is not None and self.actions["show_bev"].isChecked() and not narrow
        if self.bev_box.isHidden() == bev:
            self._show_bev_box(bev)
        compact = [what for what, hidden in (("bird's-eye view", narrow and self.calibration is not None),
                                             ("figures", short)) if hidden]
        if compact and compact != self._compact:
            self.statusBar().showMessage(f"small window: the {' and the '.join(compact)} give way to the video "
                                         f"(enlarge the window to see them)", 6000)
        self._compact = compact

    def _show_bev_toggled(self, on: bool) -> None:
        if on and self.calibration is None:  # F2 without a calibration: say why nothing appears
            self.actions["show_bev"].setChecked(False)
            self.statusBar().showMessage("the bird's-eye view needs a calibration: File ▸ Open calibration… "
                                         "(a KITTI calib file or folder, or a camera YAML; or --calib)", 6000)
            return
        self._show_bev_box(on and self.calibration is not None)
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

    # === outputs ====================================================================================================
    def _output_path(self, suffix: str) -> Path:
        session = self.session
        stem = file_stem(session.spec, session.info.kind) if session is not None else "viewer"
        return (Path(self.settings.output_dir) / f"{stem}{suffix}").resolve()  # messages say where, wherever run

    def save_screenshot(self, path=None) -> Path | None:
        """The frame on screen (overlay at the source's resolution) as a PNG; its path, or None."""
        import cv2

        image = self.video.current_image()
        if image is None:
            self.statusBar().showMessage("nothing to save yet", 4000)
            return None
        index = self.last_frame.result.index if self.last_frame is not None else 0
        # numbered as the position counter counts (frame 1 of N), not from 0
        path = Path(path) if path else self._output_path(f"_frame{index + 1:06d}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), image):
            self.errors.report("Cannot save the screenshot", f"cannot write {path} (is the folder writable?)")
            return None
        self.statusBar().showMessage(f"saved {path.resolve()}", 6000)
        return path

    def set_recording(self, on: bool, path=None) -> Path | None:
        """Start (from the frame on screen) or stop recording the overlaid stream; the file's path."""
        session = self.session
        if not on:
            saved = session.recorder.stop() if session is not None else None
            if saved is not None:
                self._recording_saved(*saved)
            self._show_recording(False)
            return saved[0] if saved else None
        if session is None:
            self.statusBar().showMessage("open a source first, then record", 4000)
            self._show_recording(False)
            return None
        if session.recorder.recording:
            return session.recorder.path
        path = Path(path) if path else self._output_path(f"_{time.strftime('%Y%m%d-%H%M%S')}.mp4")
        try:
            codec, note = recording_codec(self.settings.recording_codecs, path.suffix or ".mp4")
            started = session.recorder.start(path, codec)
        except OSError as e:
            self.errors.report("Cannot record", str(e))
            self._show_recording(False)
            return None
        self._show_recording(True)
        how = note or CODEC_NAMES.get(codec, codec)
        self.statusBar().showMessage(f"recording to {Path(started).resolve()} ({how})", 8000)
        return started

    def _show_recording(self, on: bool) -> None:
        self.transport.set_recording(on)
        self.actions["record"].setChecked(on)
        if not on:
            self.record_label.setText("")

    def _recording_saved(self, path: Path, frames: int) -> None:
        self.statusBar().showMessage(f"saved {Path(path).resolve()} ({frames} frames)", 8000)

    # === periodic: figures, state ===================================================================================
    def _refresh_figures(self) -> None:
        session = self.session
        if session is None:
            return
        snapshot = session.pipeline.snapshot()
        self.stats.show_snapshot(snapshot, playing=session.playing, counted_from=session.passes.base)
        self._show_pace(session, snapshot)
        self.dropped_label.setText(f"dropped {snapshot.frames_dropped}")
        recorder = session.recorder
        if recorder.error:
            error, recorder.error = recorder.error, None
            self._show_recording(False)
            self.errors.report("Recording stopped", error)
        elif recorder.recording:
            self.record_label.setText(f"● REC {recorder.frames_written} frames")
        self._sync_state()

    def _show_pace(self, session, snapshot) -> None:
        """Say when a replay plays slower than the speed box asks (every frame is processed, so a slow model
        slows the clip down instead of skipping frames)."""
        text = ""
        fps = session.info.fps
        if session.playing and not session.info.live and session.speed > 0 and fps and snapshot.frames_out > 10:
            target, actual = fps * session.speed, snapshot.fps_end_to_end
            if 0 < actual < 0.9 * target:
                text = f"⚠ behind real time: {actual:.1f} of {target:g} FPS"
        self.pace_label.setText(text)
        self.pace_label.setVisible(bool(text))

    def _sync_state(self) -> None:
        session = self.session
        state = session.state if session is not None else "idle"
        self.transport.set_playing(state == "running")
        self.state_label.setText(STATE_TEXT.get(state, state))
        self.video.set_badge(STATE_BADGE.get(state, ""))

    # === dialogs ====================================================================================================
    def _ask_file(self) -> None:
        suffixes = list(self.settings.video_suffixes) + list(self.config["sources"]["image_suffixes"])
        patterns = " ".join(f"*{s}" for s in suffixes)
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or an image", self._last_dir,
                                              f"Videos and images ({patterns});;All files (*)")
        if path:
            self._last_dir = str(Path(path).parent)
            self.open_source(path)

    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images", self._last_dir)
        if path:
            self._last_dir = path
            self.open_source(path)

    def _ask_camera(self) -> None:
        last = self.session.spec if self.session is not None and self.session.info.live else ""
        dialog = CameraDialog(last, self)
        if dialog.exec_() and dialog.spec():
            self.open_source(dialog.spec())

    def _ask_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open weights", str(Path(str(self.provider.weights)).parent),
                                              "Weights (*.pt *.onnx *.engine);;All files (*)")
        if path:
            self.open_weights(path)

    def _ask_calibration(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a camera calibration", self._calibration_dir(),
                                              "Calibrations (*.txt *.yaml *.yml);;All files (*)")
        if path:
            self.open_calibration(path)

    def _ask_calibration_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of KITTI calib files", self._calibration_dir())
        if path:
            self.open_calibration(path)

    def _calibration_dir(self) -> str:
        return self._last_calib_dir or self._last_dir

    def _show_shortcuts(self) -> None:
        box = QMessageBox(QMessageBox.NoIcon, "Keyboard shortcuts", SHORTCUTS_HELP, QMessageBox.Close, self)
        box.setWindowModality(Qt.NonModal)
        box.show()

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
        sessions = list(self._retiring)
        if self.session is not None:
            saved = self.session.close()
            if saved is not None:
                print(f"saved {saved[0]} ({saved[1]} frames)")
            sessions.append(self.session)
        for session in sessions:
            session.join()
        self.session = None
        self._retiring.clear()
        if self._pending_source is not None:
            self._pending_source[1].close()
            self._pending_source = None
        for predictor in [*self._superseded, self.predictor]:
            if predictor is not None:
                predictor.close()
        self._superseded.clear()
        self.predictor = None
        super().closeEvent(event)
