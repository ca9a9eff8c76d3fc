"""benchmarks.ensemble_eval: the averaged backend returns the mean of its models' outputs, and refuses a mismatch."""

import numpy as np
import pytest

from benchmarks.ensemble_eval import AveragedBackend
from nets.backends.base import Backend


class Constant(Backend):
    def __init__(self, det_value: float, road_value: float, classes=("car", "pedestrian", "cyclist")):
        self.det_value, self.road_value = det_value, road_value
        self.input_size, self.class_names, self.road_classes = (64, 96), list(classes), ["road"]
        self.description = f"constant {det_value}"

    def infer(self, batch):
        b = len(batch)
        return (np.full((b, 4 + len(self.class_names), 126), self.det_value, np.float32),
                np.full((b, 1, 16, 24), self.road_value, np.float32))


def test_the_average_is_the_mean_of_the_outputs():
    avg = AveragedBackend([Constant(0.2, 0.1), Constant(0.4, 0.5), Constant(0.9, 0.9)])
    det, road = avg.infer(np.zeros((2, 3, 64, 96), np.float32))
    assert det.shape == (2, 7, 126) and road.shape == (2, 1, 16, 24)
    assert np.allclose(det, 0.5) and np.allclose(road, 0.5)
    assert avg.class_names == ["car", "pedestrian", "cyclist"] and "constant 0.9" in avg.description


def test_models_of_other_classes_are_refused():
    with pytest.raises(ValueError, match="differs"):
        AveragedBackend([Constant(0.2, 0.1), Constant(0.2, 0.1, classes=("car",))])
