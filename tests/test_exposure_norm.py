"""Input brightness normalisation (nets.preprocess.ExposureNorm): a dark frame is lifted toward the training
frames' mean brightness before the network, in every path that feeds it (Predictor, the pipeline, INT8
calibration, eval's --exposure off)."""

from __future__ import annotations

import numpy as np
import pytest

from app.frames import runtime_config_with
from app.pipeline import Pipeline
from app.sources import open_source
from nets.config import default_exposure
from nets.deploy.calibration_frames import calibration_batches
from nets.predictor import Predictor
from nets.preprocess import PAD_VALUE, ExposureNorm, to_input_tensor
from stand_ins import StandIn, write_stamped_video

NORM = ExposureNorm(target_mean=100.0, min_gain=1.0, max_gain=2.5)


def flat(value: int, h: int = 60, w: int = 80) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def test_a_dark_frame_is_lifted_to_the_target_mean_and_a_bright_one_left_alone():
    out, gain = NORM.apply(flat(50))
    assert gain == pytest.approx(2.0) and np.all(out == 100)
    out, gain = NORM.apply(flat(150))  # min_gain 1: never darkened
    assert gain == 1.0 and np.all(out == 150)
    out, gain = NORM.apply(flat(10))  # at most max_gain
    assert gain == pytest.approx(2.5) and np.all(out == 25)
    symmetric = ExposureNorm(100.0, min_gain=0.5, max_gain=2.0)
    assert symmetric.apply(flat(150))[1] == pytest.approx(100 / 150)


def test_highlights_clip_at_white_and_the_gain_follows_the_mean_of_the_scene():
    image = flat(40)
    image[:, :40] = 200  # half bright, half dark: mean 120 over the frame, nothing to lift
    assert NORM.apply(image)[1] == 1.0
    image[:, :40] = 20  # mean 30: x2.5 at most; 20 -> 50, 40 -> 100
    out, gain = NORM.apply(image)
    assert gain == pytest.approx(2.5) and np.all(out[:, :40] == 50) and np.all(out[:, 40:] == 100)
    out, gain = ExposureNorm(250.0, 1.0, 10.0).apply(flat(100))
    assert gain == 2.5 and np.all(out == 250)
    assert np.all(ExposureNorm(250.0, 1.0, 10.0).apply(flat(120))[0] == 250)  # 120 x 2.08 = 250


def test_padding_grey_neither_counts_nor_changes_so_a_letterboxed_frame_gets_its_scenes_gain():
    scene = flat(50)
    boxed = np.full((60, 120, 3), PAD_VALUE, np.uint8)
    boxed[:, 20:100] = scene
    out, gain = NORM.apply(boxed)
    assert gain == pytest.approx(2.0)  # as the scene alone, not the scene averaged with the grey
    assert np.all(out[:, 20:100] == 100) and np.all(out[:, :20] == PAD_VALUE) and np.all(out[:, 100:] == PAD_VALUE)


def test_to_input_tensor_scales_the_content_and_keeps_the_padding():
    frame = flat(50, 60, 120)  # 2:1 into 64x64: content 32 rows, 16 rows of padding above and below
    plain, (lb,) = to_input_tensor([frame], (64, 64))
    lifted, _ = to_input_tensor([frame], (64, 64), NORM)
    top, nh = lb.pad[1], lb.new_shape[0]
    assert np.allclose(plain[0, :, top:top + nh], 50 / 255) and np.allclose(lifted[0, :, top:top + nh], 100 / 255)
    assert np.allclose(lifted[0, :, :top], PAD_VALUE / 255) and np.allclose(lifted[0, :, top + nh:], PAD_VALUE / 255)
    bright = flat(160, 60, 120)
    np.testing.assert_array_equal(to_input_tensor([bright], (64, 64), NORM)[0], to_input_tensor([bright], (64, 64))[0])


@pytest.mark.parametrize("bad", [dict(target_mean=0), dict(target_mean=300), dict(min_gain=2.0, max_gain=1.0),
                                 dict(min_gain=0.0)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError, match="target_mean|min_gain"):
        ExposureNorm(**{"target_mean": 100.0, **bad})


def test_a_bad_runtime_config_section_is_a_config_error_naming_it():
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="runtime config exposure"):
        ExposureNorm.from_config({"enabled": True, "target_mean": 105, "min_gain": 3.0, "max_gain": 2.0})
    with pytest.raises(ConfigError, match="runtime config exposure"):
        ExposureNorm.from_config({"enabled": True, "target_mean": "bright", "min_gain": 1.0, "max_gain": 2.0})
    assert ExposureNorm.from_config({"enabled": False, "target_mean": 105, "min_gain": 1.0, "max_gain": 2.5}) is None


class RecordingBackend:
    """A backend that remembers the mean of each input tensor and returns no boxes and an empty road map."""

    name, description = "recording", "recording backend"
    class_names, road_classes, input_size = ["car"], ["road"], (64, 64)

    def __init__(self):
        self.means = []

    def infer(self, batch):
        self.means.append(float(batch.mean()))
        return np.zeros((len(batch), 5, 4), np.float32), np.zeros((len(batch), 1, 16, 16), np.float32)


def test_a_predictor_starts_with_the_runtime_configs_normaliser_and_can_turn_it_off():
    shipped = default_exposure()
    assert shipped is not None and shipped.min_gain == 1.0 and 40 < shipped.target_mean < 160
    predictor = Predictor(RecordingBackend())
    assert predictor.exposure == shipped
    dark = flat(30, 64, 64)
    predictor(dark)
    predictor.exposure = None
    predictor(dark)
    lifted, raw = predictor.backend.means
    assert raw == pytest.approx(30 / 255, abs=1e-3)
    assert lifted == pytest.approx(min(shipped.target_mean, 30 * shipped.max_gain) / 255, abs=3e-3)


def test_int8_calibration_sees_the_inputs_inference_feeds():
    dark = flat(30, 64, 64)
    (batch,) = list(calibration_batches([dark], (64, 64)))
    expected, _ = to_input_tensor([dark], (64, 64), default_exposure())
    np.testing.assert_array_equal(batch, expected)


class ExposedStandIn(StandIn):
    """A pipeline stand-in predictor with an `exposure` (ExposureNormalized): records what it ran with."""

    def __init__(self):
        super().__init__()
        self.exposure, self.seen = "not installed", []

    def __call__(self, image):
        self.seen.append(self.exposure)
        return super().__call__(image)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_pipeline_installs_its_runtime_configs_normaliser(tmp_path, enabled):
    clip = write_stamped_video(tmp_path / "clip.mp4", 3)
    predictor = ExposedStandIn()
    config = runtime_config_with({"exposure": {"enabled": enabled, "target_mean": 90}})
    Pipeline(open_source(clip), predictor, config=config).run()
    expected = ExposureNorm(90.0, config["exposure"]["min_gain"], config["exposure"]["max_gain"]) if enabled else None
    assert predictor.seen == [expected] * 3
