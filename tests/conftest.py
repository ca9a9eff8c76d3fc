"""Shared test settings: offline ultralytics, Qt without a display, small CPU footprint."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import nets  # noqa: E402,F401  (sets the rest of ultralytics' offline environment before any test imports it)
