"""The status bar's permanent figures: pace warning, recording, playback state, dropped frames.

`pace_text` and the state texts are plain functions and tables, so what the bar says is testable without a window.
"""

from __future__ import annotations

from PyQt5.QtWidgets import QLabel, QStatusBar

# plain glyphs every desktop font has: "⏸" (U+23F8) renders as an empty box in DejaVu and Liberation
STATE_TEXT = {"running": "▶ playing", "paused": "‖ paused", "ended": "■ end of clip", "finished": "■ finished",
              "stopped": "■ stopped", "failed": "✖ stopped by an error", "idle": "…"}
STATE_BADGE = {"paused": "PAUSED", "ended": "END", "failed": "ERROR"}


def pace_text(session, snapshot) -> str:
    """A warning when a replay plays slower than the speed box asks (every frame is processed, so a slow model
    slows the clip down instead of skipping frames); "" when it keeps up, is paused, live or just started."""
    fps = session.info.fps
    if session.playing and not session.info.live and session.speed > 0 and fps and snapshot.frames_out > 10:
        target, actual = fps * session.speed, snapshot.fps_end_to_end
        if 0 < actual < 0.9 * target:
            return f"⚠ behind real time: {actual:.1f} of {target:g} FPS"
    return ""


class StatusFigures:
    """The labels on the right of the status bar (the window keeps them as state_label, dropped_label, ...)."""

    def __init__(self, bar: QStatusBar):
        self.state = QLabel(STATE_TEXT["idle"])
        self.dropped = QLabel("dropped 0")
        self.dropped.setToolTip("stale frames a live source dropped so latency stays low (replay drops none)")
        self.pace = QLabel("")
        self.pace.setStyleSheet("color: #ffb347;")
        self.pace.setToolTip("a replay processes every frame: when the model is slower than the source's "
                             "frame rate × the speed, the clip plays slower than real time")
        self.pace.setVisible(False)
        self.record = QLabel("")
        self.record.setStyleSheet("color: #ff5a5a; font-weight: bold;")
        for w in (self.pace, self.record, self.state, self.dropped):
            bar.addPermanentWidget(w)

    def show_state(self, state: str) -> None:
        self.state.setText(STATE_TEXT.get(state, state))

    def show_figures(self, session, snapshot) -> None:
        text = pace_text(session, snapshot)
        self.pace.setText(text)
        self.pace.setVisible(bool(text))
        self.dropped.setText(f"dropped {snapshot.frames_dropped}")

    def show_recording(self, frames: int | None) -> None:
        """frames written so far, or None when not recording."""
        self.record.setText("" if frames is None else f"● REC {frames} frames")
