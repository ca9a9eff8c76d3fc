"""Time from starting the viewer to the first picture and to the first annotated frame.

    python -m benchmarks.viewer_first_frame [--source CLIP] [--weights W] [--runs 3] [--platform offscreen]

Each run is a fresh process (imports, model load and warm-up included, as a user
meets them with `python run.py`); it prints, in ms from the start of the process:
  window   the window is built and shown (Qt and the viewer imported)
  picture  the first image is on screen (the source's first frame, shown while the model loads)
  annotated  the first frame with the perception drawn on it
Offscreen Qt by default, so it runs without a display; under Xvfb pass --platform xcb.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import os, sys, time, json
t0 = float(sys.argv[1])
from PyQt5.QtWidgets import QApplication
from PyQt5.QtCore import QTimer
from app.viewer.launch import build_window, make_application
from app.viewer.settings import ViewerSettings
settings = ViewerSettings()
app = make_application(settings)
window = build_window(source=sys.argv[2] or None, weights=sys.argv[3] or None, settings=settings)
window.show()
t_window = time.time()
to_wall = time.time() - time.perf_counter()  # the window stamps perf_counter(); the parent passed wall time
def check():
    if window.first_annotated_at is not None:
        print(json.dumps({"window": t_window - t0,
                          "picture": window.first_image_at + to_wall - t0,
                          "annotated": window.first_annotated_at + to_wall - t0,
                          "backend": window.predictor.backend_name}))
        window.close()
        app.quit()
timer = QTimer(); timer.timeout.connect(check); timer.start(5)
QTimer.singleShot(60000, app.quit)
app.exec_()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="", help="default: the bundled clip")
    parser.add_argument("--weights", default="", help="default: weights/perception_n.pt")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--platform", default="offscreen", help="QT_QPA_PLATFORM (offscreen, xcb)")
    args = parser.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM=args.platform)
    rows = []
    for run in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CHILD, repr(time.time()), args.source, args.weights],
                             env=env, capture_output=True, text=True, timeout=120)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if not lines:
            print(out.stdout, out.stderr, file=sys.stderr)
            return 1
        row = json.loads(lines[-1])
        rows.append(row)
        print(f"run {run + 1}: window {row['window'] * 1e3:.0f} ms · first picture {row['picture'] * 1e3:.0f} ms"
              f" · first annotated frame {row['annotated'] * 1e3:.0f} ms ({row['backend']})")
    for key, name in (("picture", "first picture"), ("annotated", "first annotated frame")):
        values = [r[key] * 1e3 for r in rows]
        print(f"{name}: median {statistics.median(values):.0f} ms (min {min(values):.0f}, max {max(values):.0f}) "
              f"over {len(values)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
