"""The window's panels, what they show of a session and of a frame, and how they share the window's room: video
(with the bird's-eye view beside it), transport bar and figures under it, the side panel on the right; a small
window lets the video keep the room.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFrame, QGroupBox, QScrollArea, QSplitter, QVBoxLayout, QWidget

from .bev_panel import BirdsEyePanel
from .controls import ControlsPanel
from .frame_summary import FrameSummary
from .stats_panel import StatsPanel
from .transport import TransportBar
from .video_view import VideoView


def _column(*widgets, margins=(0, 0, 0, 0), spacing: int | None = None) -> QWidget:
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(*margins)
    if spacing is not None:
        layout.setSpacing(spacing)
    for widget, stretch in widgets:
        layout.addWidget(widget, stretch)
    return column


class ViewerPanels(QSplitter):
    """The central widget. settings: ViewerSettings; placeholder: the video's text while no source plays."""

    def __init__(self, settings, thresholds, layers, speed: float, placeholder: str):
        super().__init__(Qt.Horizontal)
        self.settings = settings
        self.video = VideoView(placeholder)
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

        self.transport = TransportBar(settings.speeds, speed, settings.control_debounce_ms)
        self.stats = StatsPanel(settings.latency_history)
        self.performance = QFrame()
        self.performance.setObjectName("performance")
        performance_layout = QVBoxLayout(self.performance)
        performance_layout.setContentsMargins(0, 0, 0, 0)
        performance_layout.addWidget(self.stats)
        left = _column((self.views, 1), (self.transport, 0), (self.performance, 0), spacing=0)

        self.controls = ControlsPanel(thresholds, layers, settings.control_debounce_ms)
        self.summary = FrameSummary()
        side = _column((self.controls, 0), (self.summary, 0), margins=(10, 6, 10, 10))
        side.layout().addStretch(1)
        self.side = QScrollArea()
        self.side.setWidget(side)
        self.side.setWidgetResizable(True)
        self.side.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.side.setFrameShape(QScrollArea.NoFrame)
        self.side.setMinimumWidth(side.sizeHint().width() + 12)

        self.addWidget(left)
        self.addWidget(self.side)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setChildrenCollapsible(False)
        self._compact: list[str] = []  # panels a small window hides

    def show_session(self, session) -> None:
        """A session starts: the transport spans its source, the figures and summary start afresh."""
        info = session.info
        self.transport.set_source(info.frame_count, info.fps, info.live)
        self.controls.show_source(info)
        self.summary.clear()
        self.stats.reset()
        self.video.composer = session.annotator
        self.stats.graph.set_budget(1000.0 / info.fps if info.fps else None)
        self.video.set_placeholder(f"Starting {info.name}…")

    def show_frame(self, frame, session, geometry, distance_classes) -> None:
        """A finished frame (DisplayFrame) of `session` (None: it was replaced) on the video, the transport, the
        bird's-eye view and the summary; geometry: the FrameGeometry that gives its distances."""
        result, calibration = frame.result, geometry.calibration
        self.video.set_image(result.image, session.annotator.annotate(result) if session is not None else None)
        self.transport.set_position(result.index)
        if frame.extra is not None:
            self.bev.set_frame(frame.extra)
        elif calibration is not None and calibration.is_folder and session is not None and not self.bev_box.isHidden():
            self.bev.clear(f"No calib file for frame {session.frame_name(result.index) or result.index + 1} "
                           f"in {calibration.path.name}")
        if session is None:
            return
        distance = geometry.distance_for(session, result)
        self.summary.show_result(result, distance, distance_classes)
        if distance is None and calibration is not None:  # a calib folder without this frame's file
            name = session.frame_name(result.index) or f"frame {result.index + 1}"
            self.summary.rows["nearest"].setText(f"no calib file for {name}")
        if session.playing:  # paused steps and refreshes are not latency samples
            self.stats.graph.add(frame.latency_ms)

    def show_calibration(self, name: str) -> None:
        """A calibration is open: distances can be drawn, and the bird's-eye view shows (waiting for a frame)."""
        self.controls.set_distance_available(True)
        self.bev.clear("Waiting for a frame…")
        self.bev_box.setTitle(f"Bird's-eye view · {name}")
        self.show_bev_box(True)

    def show_bev_box(self, on: bool) -> None:
        was_visible = not self.bev_box.isHidden()
        self.bev_box.setVisible(on)
        if on and not was_visible:  # the BEV is twice as deep as wide: a narrow column next to the video
            total = sum(self.views.sizes())
            if total < 100:  # not laid out yet (a calibration given before the window shows)
                total = self.settings.window_size[0] - self.side.minimumWidth()
            bev_width = min(self.settings.window_size[0] // 5, total // 3)
            self.views.setSizes([total - bev_width, bev_width])

    def fit(self, width: int, height: int, calibrated: bool, bev_wanted: bool) -> str:
        """Below settings.compact_size the video would shrink to a strip (450×135 px at 1024×600): the
        bird's-eye view (narrow windows) and the figures (short windows) give way to it; the HUD on the video
        still shows FPS and latency. F2 shows the bird's-eye view anyway. What gave way, in words, when that
        changed; else ""."""
        narrow = width < self.settings.compact_size[0]
        short = height < self.settings.compact_size[1]
        if self.performance.isHidden() != short:
            self.performance.setVisible(not short)
        bev = calibrated and bev_wanted and not narrow
        if self.bev_box.isHidden() == bev:
            self.show_bev_box(bev)
        compact = [what for what, hidden in (("bird's-eye view", narrow and calibrated), ("figures", short)) if hidden]
        changed, self._compact = compact and compact != self._compact, compact
        return (f"small window: the {' and the '.join(compact)} give way to the video (enlarge the window to see "
                f"them)") if changed else ""
