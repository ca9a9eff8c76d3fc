"""Road-mask smoothing: hole filling, the temporal EMA and its resets, the runtime config and the pipeline hook."""

import numpy as np
import pytest

from app.frames import load_runtime_config, runtime_config_with
from app.pipeline import Pipeline
from core.errors import UserError
from nets.road_stability import RoadStabilizer, fill_enclosed_holes
from stand_ins import FakeCamera, StandIn


def road_with_holes() -> np.ndarray:
    """(1, 20, 30): non-road sky (rows 0-4), road below; a 2x2 hole at rows 10-11, cols 5-6 (p 0.2), a 2x2 hole
    at rows 10-11, cols 20-21 (p 0.3), a 6x6 hole at rows 12-17, cols 10-15 (p 0.1); a notch on the right border."""
    p = np.full((20, 30), 0.9, np.float32)
    p[:5] = 0.05
    p[10:12, 5:7] = 0.2
    p[10:12, 20:22] = 0.3
    p[12:18, 10:16] = 0.1
    p[14:16, 28:] = 0.1
    return p[None]


def test_small_enclosed_holes_are_filled_and_the_rest_is_kept():
    p = road_with_holes()[0]
    filled = fill_enclosed_holes(p, max_frac=10 / 600, fill_prob=0.75)  # holes up to 10 cells of 600
    assert filled == 2
    assert (p[10:12, 5:7] == 0.75).all() and (p[10:12, 20:22] == 0.75).all()
    assert (p[12:18, 10:16] == 0.1).all()  # 36 cells: too large
    assert (p[14:16, 28:] == 0.1).all()  # touches the border: not enclosed
    assert (p[:5] == 0.05).all() and (p[5:10] == 0.9).all()


def test_a_hole_under_a_detected_box_stays():
    """A car on the road is an enclosed non-road region: a box over it keeps it out of the fill."""
    f = RoadStabilizer(temporal=False, max_hole_frac=10 / 600)
    # network 80x120 -> map 20x30 (stride 4): a box over cols 20-21, rows 10-11 is x 80..88, y 40..48
    out = f(road_with_holes(), np.array([[80, 40, 88, 48, 0.9, 0]], np.float32), (80, 120))
    assert (out[0, 10:12, 5:7] == 0.75).all()
    assert (out[0, 10:12, 20:22] == pytest.approx(0.3))


def test_ema_smooths_and_restarts_at_a_scene_cut_and_a_reset():
    f = RoadStabilizer(ema_alpha=0.5, fill_holes=False, scene_cut=0.2)
    a, b = np.full((1, 4, 4), 0.6, np.float32), np.full((1, 4, 4), 0.8, np.float32)
    assert f(a) == pytest.approx(a)
    assert f(b) == pytest.approx(np.full((1, 4, 4), 0.7))  # 0.5 * 0.8 + 0.5 * 0.6
    assert f(b) == pytest.approx(np.full((1, 4, 4), 0.75))
    cut = np.full((1, 4, 4), 0.1, np.float32)  # |0.1 - 0.75| = 0.65 > 0.2: a new scene, taken as it is
    assert f(cut) == pytest.approx(cut) and f.resets == 1
    f.reset()
    assert f(b) == pytest.approx(b) and f.resets == 2


def test_config_block_builds_the_filter_or_none():
    cfg = load_runtime_config()["road_smoothing"]
    assert isinstance(RoadStabilizer.from_config(cfg), RoadStabilizer) == bool(cfg["enabled"])
    assert RoadStabilizer.from_config({"enabled": False}) is None and RoadStabilizer.from_config(None) is None
    with pytest.raises(UserError, match="unknown keys \\['alpha'\\]"):
        RoadStabilizer.from_config({"enabled": True, "alpha": 0.5})
    with pytest.raises(UserError, match="ema_alpha"):
        RoadStabilizer(ema_alpha=1.5)


def test_pipeline_installs_the_filter_on_a_predictor_that_takes_one():
    predictor = StandIn()
    predictor.road_filter = None  # a real Predictor has the attribute; the stand-in gets it here
    config = runtime_config_with({"road_smoothing": {"enabled": True, "ema_alpha": 0.7}})
    Pipeline(FakeCamera(3, 0.01), predictor, render=False, config=config).run()
    assert isinstance(predictor.road_filter, RoadStabilizer) and predictor.road_filter.ema_alpha == 0.7

    plain = StandIn()  # no road_filter attribute: left alone
    Pipeline(FakeCamera(2, 0.01), plain, render=False, config=config).run()
    assert not hasattr(plain, "road_filter")


def test_predictor_filters_the_stride4_map_before_it_is_warped_to_the_frame():
    from nets.backends.base import Backend
    from nets.predictor import Predictor

    class HoleBackend(Backend):
        name, input_size, class_names, road_classes = "hole", (80, 120), ["car", "pedestrian", "cyclist"], ["road"]

        def infer(self, batch):
            return np.zeros((len(batch), 7, 1), np.float32), np.stack([road_with_holes()] * len(batch))

        def warmup(self):
            pass

        def close(self):
            pass

    predictor = Predictor(HoleBackend(), conf=0.3)
    frame = np.zeros((80, 120, 3), np.uint8)  # the network's own size: no letterbox padding
    assert predictor(frame).road_probs[0, 42, 22] == pytest.approx(0.2, abs=0.01)  # in the 2x2 hole at stride 4
    predictor.road_filter = RoadStabilizer(temporal=False, max_hole_frac=10 / 600)
    assert predictor(frame).road_probs[0, 42, 22] == pytest.approx(0.75, abs=0.01)


def test_ego_lane_polygon_mask_covers_the_polygon_area():
    from benchmarks.road_mask_stability import EGO_LANE_POLYGONS, polygon_mask

    mask = polygon_mask([(10, 20), (50, 20), (50, 60), (10, 60)], (100, 120))
    assert mask.shape == (100, 120) and mask.sum() == 41 * 41  # fillPoly includes both edges
    assert mask[20:61, 10:51].all()
    # the clips' polygon is a trapezoid inside a 1280x720 frame: (160 + 640) / 2 * 160 px, edges included
    lane = polygon_mask(EGO_LANE_POLYGONS["test_video.mp4"], (720, 1280))
    assert abs(int(lane.sum()) - 800 // 2 * 160) < 1000 and not lane[:500].any() and not lane[661:].any()
