"""The window's keyboard shortcuts as the help dialog (F1) lists them; README's viewer section lists the same keys."""

from __future__ import annotations

LAYER_KEYS = {"road": "R", "boxes": "B", "labels": "L", "distance": "D", "hud": "H"}
SHORTCUTS = (
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
