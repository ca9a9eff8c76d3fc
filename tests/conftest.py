"""Shared test settings: offline ultralytics, Qt without a display, small CPU footprint."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest

import core.offline  # noqa: F401  (ultralytics offline before any test imports it)


@pytest.fixture(scope="session")
def tiny_model_files(tmp_path_factory):
    """A tiny random-init model (input 64x96, seed 0): its checkpoint and its ONNX export, built once per run.

    Shared by every test that needs a real model file but not trained weights. Read-only: a test
    that puts files beside them copies them into its own tmp_path first.
    """
    import torch

    from nets.config import load_model_config
    from nets.deploy.onnx_export import export_onnx
    from nets.model import PerceptionNet
    from nets.weights import save_checkpoint

    torch.manual_seed(0)
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    folder = tmp_path_factory.mktemp("tiny_model")
    checkpoint = save_checkpoint(folder / "tiny.pt", net)
    return checkpoint, export_onnx(net, folder / "tiny.onnx")


@pytest.fixture(scope="session")
def tiny_onnx(tiny_model_files):
    """The tiny model's ONNX file (ONNX Runtime runs it in milliseconds)."""
    return tiny_model_files[1]


# --- fixtures several test modules share (defined here, not imported from a sibling module) -------------------------
@pytest.fixture
def recipe(tmp_path):
    """A training recipe YAML over a tiny CamVid-layout dataset, written into tmp_path (tests/scenes.py)."""
    from scenes import write_recipe

    return write_recipe(tmp_path)


@pytest.fixture
def clip(tmp_path):
    """A video whose frames carry their index in their pixels (tests/stand_ins.py)."""
    from stand_ins import write_stamped_video
    from viewer_support import N

    return write_stamped_video(tmp_path / "clip.mp4", N)


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build the viewer's MainWindow over stand-in predictors; closed (pipelines stopped) after the test."""
    from app.viewer.main_window import MainWindow
    from app.viewer.settings import ViewerSettings
    from viewer_support import StandInProvider

    def make(provider=None, speed: float = 0.0) -> MainWindow:
        settings = ViewerSettings(default_speed=speed, output_dir=str(tmp_path / "out"), stats_interval_ms=50)
        window = MainWindow(provider or StandInProvider(), settings=settings)
        qtbot.addWidget(window)
        window.show()
        return window

    return make
