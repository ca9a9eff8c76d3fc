"""Per-class score thresholds: the post-processing filter, the predictor, the runtime config and the pipeline."""

import numpy as np
import pytest

from app.frames import Thresholds, load_runtime_config
from app.pipeline import Pipeline
from core.errors import UserError
from nets.backends.base import Backend
from nets.postprocess import apply_class_conf
from nets.predictor import Predictor
from stand_ins import FakeCamera, StandIn


def test_apply_class_conf_keeps_boxes_at_or_over_their_class_threshold():
    boxes = np.array([[0, 0, 9, 9, 0.40, 0], [0, 0, 9, 9, 0.50, 0], [0, 0, 9, 9, 0.30, 1], [0, 0, 9, 9, 0.2, 2]],
                     np.float32)
    kept = apply_class_conf(boxes, np.array([0.45, 0.30, 0.25], np.float32))
    np.testing.assert_array_equal(kept[:, 4], np.array([0.50, 0.30], np.float32))
    assert apply_class_conf(np.zeros((0, 6), np.float32), np.zeros(3, np.float32)).shape == (0, 6)


class FixedBackend(Backend):
    """Three candidate boxes: a car at 0.42, a car at 0.60, a pedestrian at 0.35 (distinct places, no NMS)."""

    name = "fixed"
    input_size = (64, 64)
    class_names = ["car", "pedestrian", "cyclist"]
    road_classes = ["road"]

    def infer(self, batch):
        det = np.zeros((len(batch), 4 + 3, 3), np.float32)
        det[:, :4] = np.array([[10, 30, 50], [10, 30, 50], [8, 8, 8], [8, 8, 8]], np.float32)  # xywh per anchor
        det[:, 4, 0], det[:, 4, 1], det[:, 5, 2] = 0.42, 0.60, 0.35
        return det, np.zeros((len(batch), 1, 16, 16), np.float32)

    def warmup(self):
        pass

    def close(self):
        pass


def test_predictor_applies_class_floors_over_conf():
    predictor = Predictor(FixedBackend(), conf=0.3, iou=0.5)
    frame = np.zeros((64, 64, 3), np.uint8)
    def scores():
        return sorted(float(s) for s in predictor(frame).boxes[:, 4].round(2))

    assert scores() == pytest.approx([0.35, 0.42, 0.6])
    predictor.class_conf = {"car": 0.5}
    assert scores() == pytest.approx([0.35, 0.6])
    predictor.conf = 0.4  # conf still raises every class: the pedestrian goes, the car floor stays
    assert scores() == pytest.approx([0.6])
    with pytest.raises(UserError, match=r"\['truck'\].*car"):
        predictor.class_conf = {"truck": 0.5}


def test_runtime_config_carries_class_conf_and_validates_it():
    th = Thresholds.from_config(load_runtime_config())
    assert set(th.class_conf) <= {"car", "pedestrian", "cyclist"}
    assert all(0 <= v <= 1 for v in th.class_conf.values())
    assert Thresholds.from_config({"thresholds": {"conf": 0.3}}).class_conf == {}
    with pytest.raises(UserError, match="class_conf.car"):
        Thresholds(class_conf={"car": 1.5})


def test_pipeline_hands_the_configured_class_conf_to_the_predictor():
    predictor = StandIn()
    predictor.class_conf = {}  # takes per-class floors, as a real Predictor does (contracts.PerClassThresholds)
    pipeline = Pipeline(FakeCamera(3, 0.01), predictor, render=False,
                        thresholds=Thresholds(conf=0.3, iou=0.5, road=0.5))  # no class_conf: the config's
    assert pipeline.thresholds.class_conf == Thresholds.from_config(load_runtime_config()).class_conf
    pipeline.run()
    assert predictor.class_conf == pipeline.thresholds.class_conf
    pipeline.set_thresholds(conf=0.5)  # a slider change keeps the per-class floors
    assert pipeline.thresholds.class_conf == predictor.class_conf
