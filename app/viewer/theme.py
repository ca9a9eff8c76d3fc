"""The dark theme: Qt's Fusion style with a dark palette and a few rules for captions and group boxes.

Dark, because the video is the subject: a bright frame around it draws the eye away.
"""

from __future__ import annotations

from PyQt5.QtGui import QColor, QPalette
from PyQt5.QtWidgets import QApplication

ACCENT = QColor(64, 150, 255)

STYLE_SHEET = """
QGroupBox { border: 1px solid #34363c; border-radius: 6px; margin-top: 14px; padding: 8px 8px 6px 8px; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #9aa4b5; font-weight: bold; }
QLabel#caption { color: #8b93a1; }
QLabel#title { font-weight: bold; }
QFrame#performance { border-top: 1px solid #34363c; background: #1b1c20; }
QLabel#readout { color: #dfe6f0; font-family: "DejaVu Sans Mono", monospace; }
QStatusBar { color: #c3c8d0; }
QStatusBar QLabel { padding: 0 6px; }
QToolButton:checked { background: #5a1f24; border-radius: 4px; }
QSplitter::handle { background: #1d1e22; }
"""


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    p = QPalette()
    window, base, text = QColor(32, 33, 37), QColor(24, 25, 28), QColor(222, 225, 230)
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, base)
    p.setColor(QPalette.AlternateBase, window)
    p.setColor(QPalette.ToolTipBase, QColor(45, 47, 52))
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, QColor(44, 46, 51))
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.Link, ACCENT)
    p.setColor(QPalette.Highlight, ACCENT)
    p.setColor(QPalette.HighlightedText, QColor(255, 255, 255))
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(110, 112, 118))
    app.setPalette(p)
    app.setStyleSheet(STYLE_SHEET)
