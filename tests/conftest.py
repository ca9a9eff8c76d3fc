"""Shared test settings: offline ultralytics, Qt without a display, small CPU footprint."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import nets  # noqa: E402,F401  (sets the rest of ultralytics' offline environment before any test imports it)

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """A non-torch Predictor drops torch to one thread process-wide; give later tests theirs back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
