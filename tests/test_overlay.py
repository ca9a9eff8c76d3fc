"""Overlay: road layer exactly where prob ≥ threshold, boxes, distance through distance_m, HUD, toggles."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.frames import load_runtime_config
from app.overlay import GroundDistance, OverlayLayers, OverlayRenderer, OverlayStyle
from nets.result import Perception

CLASSES = ["car", "pedestrian", "cyclist"]


def scene(h=120, w=200, boxes=()):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    road = np.zeros((1, h, w), np.float32)
    road[0, :, : w // 2] = np.linspace(0.0, 1.0, h)[:, None]  # left half: probability rising downwards
    boxes = np.array(boxes, np.float32).reshape(-1, 6)
    return image, Perception(road, boxes, CLASSES)


def test_road_layer_colours_exactly_the_pixels_at_or_above_the_threshold():
    image, p = scene()
    style = replace(OverlayStyle.from_config(), road_color=(0, 200, 0), road_alpha=0.5)
    renderer = OverlayRenderer(style, OverlayLayers(hud=False, boxes=False))
    out = renderer.render(image, p, road_threshold=0.5)
    mask = p.road >= 0.5
    assert 0 < mask.sum() < mask.size
    expected = (image[mask].astype(np.float32) * 0.5 + np.array([0, 200, 0]) * 0.5)
    assert np.abs(out[mask].astype(np.float32) - expected).max() <= 1.0
    assert np.array_equal(out[~mask], image[~mask])  # untouched elsewhere
    assert out is not image and np.array_equal(image, scene()[0])  # the frame itself is never drawn on

    higher = renderer.render(image, p, road_threshold=0.8)
    assert (np.any(higher != image, axis=2)).sum() < (np.any(out != image, axis=2)).sum()
    off = OverlayRenderer(style, OverlayLayers(road=False, hud=False, boxes=False)).render(image, p, 0.5)
    assert np.array_equal(off, image)


def test_colours_and_alpha_come_from_the_runtime_config():
    config = load_runtime_config()
    style = OverlayStyle.from_config(config)
    assert style.road_color == tuple(config["overlay"]["road_color"])
    assert style.road_alpha == config["overlay"]["road_alpha"]
    assert style.color_of("car", 0) == tuple(config["overlay"]["class_colors"]["car"])
    config["overlay"]["road_alpha"] = 2
    with pytest.raises(ValueError, match="road_alpha"):
        OverlayStyle.from_config(config)


def test_boxes_drawn_with_class_colour_and_label():
    image, p = scene(boxes=[[120, 40, 180, 100, 0.87, 0]])
    renderer = OverlayRenderer(replace(OverlayStyle.from_config(), class_colors=(("car", (255, 0, 0)),),
                                       box_thickness=2),
                               OverlayLayers(road=False, hud=False))
    out = renderer.render(image, p)
    assert tuple(out[70, 120]) == (255, 0, 0) and tuple(out[100, 150]) == (255, 0, 0)  # left and bottom edges
    assert np.array_equal(out[60:90, 130:170], image[60:90, 130:170])  # inside the box untouched
    assert renderer.box_labels(p) == ["car 0.87"]
    assert np.any(out[20:40, 120:180] != image[20:40, 120:180])  # label above the box


class FakeCamera:
    def __init__(self, value):
        self.value, self.calls = value, []

    def distance_m(self, u, v):
        self.calls.append((u, v))
        return self.value


def test_distance_per_vehicle_from_the_bottom_centre_of_its_box():
    image, p = scene(boxes=[[120, 40, 180, 100, 0.9, 0], [20, 10, 40, 60, 0.8, 1]])
    camera = FakeCamera(12.34)
    style = replace(OverlayStyle.from_config(), distance_classes=("car",))
    renderer = OverlayRenderer(style, OverlayLayers(road=False, hud=False), distance=camera)
    assert renderer.box_labels(p, distance=camera) == ["car 0.90 12.3 m", "pedestrian 0.80"]
    assert camera.calls == [(150.0, 100.0)]  # only the car, at (x centre, bottom)

    with_distance = renderer.render(image, p)
    renderer.layers = renderer.layers.replace(distance=False)
    without = renderer.render(image, p)
    assert not np.array_equal(with_distance, without)  # the text is drawn

    assert OverlayRenderer(distance=FakeCamera(None)).box_labels(p, distance=FakeCamera(None))[0] == "car 0.90"
    assert OverlayRenderer().box_labels(p, distance=FakeCamera(float("nan")))[0] == "car 0.90"


def test_ground_distance_adapter_turns_nan_into_none():
    class Homography:
        def ground_distance(self, u, v):
            return np.float64(np.nan if v < 50 else v / 10)

    d = GroundDistance(Homography())
    assert d.distance_m(10, 100) == pytest.approx(10.0) and d.distance_m(10, 20) is None


def test_hud_line_and_toggles():
    image, p = scene()
    renderer = OverlayRenderer(layers=OverlayLayers(road=False, boxes=False))
    out = renderer.render(image, p, hud="25.0 FPS | 40 ms | onnxruntime")
    assert np.any(out[:20, :100] != image[:20, :100])
    assert np.array_equal(out[40:], image[40:])
    assert np.array_equal(renderer.render(image, p, hud=None), image)
    renderer.layers = renderer.layers.replace(hud=False)
    assert np.array_equal(renderer.render(image, p, hud="x"), image)


def test_road_map_of_another_size_is_resized():
    image, p = scene(120, 200)
    small = Perception(p.road_probs[:, ::2, ::2].copy(), p.boxes, CLASSES)
    out = OverlayRenderer(layers=OverlayLayers(boxes=False, hud=False)).render(image, small, 0.5)
    assert out.shape == image.shape and np.any(out != image)
