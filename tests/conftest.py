"""Shared test settings: offline ultralytics, Qt without a display, small CPU footprint."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import core.offline  # noqa: E402,F401  (the rest of ultralytics' offline environment, before any test imports it)
