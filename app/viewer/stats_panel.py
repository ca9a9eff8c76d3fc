"""Live performance figures under the video: end-to-end FPS and latency, per-stage figures, frame counters,
and the latency graph (wide, so a spike is easy to see)."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..stats import StatsSnapshot
from .latency_graph import LatencyGraph


class StatsPanel(QWidget):
    """Shows a StatsSnapshot (show_snapshot, on a timer) and a graph fed one latency per frame (graph.add)."""

    ROWS = (("throughput", "Throughput"), ("latency", "Latency"), ("stages", "Stages"), ("model", "Model"),
            ("frames", "Frames"))

    def __init__(self, graph_capacity: int = 240, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 8)
        row.setSpacing(18)

        self.fps = self._big_label()
        self.latency = self._big_label()
        self.latency.setToolTip("capture → output, median of the recent frames. A replay the model cannot keep "
                                "up with includes the time frames wait for it (nothing is dropped in a replay); "
                                "a live source drops stale frames instead")
        for big, caption in ((self.fps, "FPS end to end"), (self.latency, "latency p50")):
            column = QVBoxLayout()
            column.setSpacing(0)
            column.addWidget(big)
            column.addWidget(self._caption(caption))
            column.addStretch(1)
            row.addLayout(column)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(1)
        self.values: dict[str, QLabel] = {}
        for i, (key, caption) in enumerate(self.ROWS):
            grid.addWidget(self._caption(caption), i, 0)
            value = QLabel("–")
            value.setObjectName("readout")
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            grid.addWidget(value, i, 1)
            self.values[key] = value
        row.addLayout(grid)

        self.graph = LatencyGraph(graph_capacity)
        self.graph.setToolTip("end-to-end latency of each frame (capture → output), ms; dashed: the source's "
                              "frame period")
        row.addWidget(self.graph, 1)
        self.reset()

    @staticmethod
    def _big_label() -> QLabel:
        label = QLabel("–")
        font = QFont(label.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        label.setFont(font)
        label.setMinimumWidth(label.fontMetrics().horizontalAdvance("000 ms"))
        return label

    @staticmethod
    def _caption(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("caption")
        return label

    def reset(self) -> None:
        self.fps.setText("–")
        self.latency.setText("–")
        for value in self.values.values():
            value.setText("–")
        self.graph.clear()

    def show_snapshot(self, s: StatsSnapshot, playing: bool = True, counted_from: tuple[int, int, int] = (0, 0, 0)) \
            -> None:
        """playing False (paused, stepping, at the end): the rates and latencies read "–" (a step is no frame
        rate, and a paused frame's latency is the pause). counted_from: (in, out, dropped) when this pass over
        the clip began, so the counters do not add up replays."""
        e2e = s.latency_ms.get("end_to_end", {})
        fps = s.fps_end_to_end
        live_figures = playing and bool(fps)
        self.fps.setText(f"{fps:.1f}" if live_figures else "–")
        self.latency.setText(f"{e2e.get('p50', 0):.0f} ms" if live_figures and e2e.get("max") else "–")
        if live_figures:
            self.values["throughput"].setText(
                f"capture {s.fps.get('capture', 0):.1f} · infer {s.fps.get('infer', 0):.1f} · "
                f"out {s.fps.get('output', 0):.1f} FPS")
            self.values["latency"].setText(f"p50 {e2e.get('p50', 0):.0f} · p95 {e2e.get('p95', 0):.0f} · "
                                           f"max {e2e.get('max', 0):.0f} ms")
            lat = s.latency_ms
            p50 = {k: lat.get(k, {}).get("p50", 0.0)
                   for k in ("infer_wait", "output_wait", "infer", "overlay", "output")}
            # where the end-to-end time goes (from the frame's capture stamp, so a replay's pacing wait is not in
            # it): waiting in the two queues, the predictor, drawing, the sinks and the hand-over to this window
            self.values["stages"].setText(f"queued {p50['infer_wait'] + p50['output_wait']:.0f} · "
                                          f"infer {p50['infer']:.0f} · draw {p50['overlay']:.0f} · "
                                          f"out {p50['output']:.0f} ms")
        else:
            for key in ("throughput", "latency", "stages"):
                self.values[key].setText("–")
        model = s.model_ms
        self.values["model"].setText(" · ".join(f"{k} {model[k]['p50']:.1f}" for k in ("pre", "infer", "post")
                                                if k in model) + " ms" if model else "–")
        total = f" / {s.frame_count}" if s.frame_count else ""
        frames_in, frames_out, dropped = (s.frames_in - counted_from[0], s.frames_out - counted_from[1],
                                          s.frames_dropped - counted_from[2])
        self.values["frames"].setText(f"in {frames_in} · out {frames_out}{total} · dropped {dropped}")
