"""One size convention: a size is (width, height), as OpenCV's; only array shapes are (..., H, W)."""

import numpy as np

from app.frames import Frame
from app.sources import SourceInfo
from nets.result import Perception


def test_frame_source_and_perception_sizes_are_all_width_then_height():
    image = np.zeros((96, 160, 3), np.uint8)  # H 96, W 160
    perception = Perception(np.zeros((2, 96, 160), np.float32), np.zeros((0, 6), np.float32), ["car"],
                            road_classes=["road", "lane"])
    info = SourceInfo("video", "clip.mp4", 160, 96, 25.0, 10, live=False)
    assert Frame(0, 0.0, image).size == perception.image_size == info.size == (160, 96)
    assert perception.road.shape == perception.road_mask().shape == (96, 160)  # arrays: rows first
