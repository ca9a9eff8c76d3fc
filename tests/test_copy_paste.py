"""Copy-paste (train/copy_paste.py): objects cut out by their masks, pasted where they stood, labels that follow
the pixels. The CamVid reader as a donor, through a dataset's augmentation, is in test_datasets.py."""

import numpy as np
import pytest

from core.config import ConfigError
from train.augment import AugmentParams
from train.copy_paste import Cutout, cutouts_from_regions, paste_objects
from train.mask_boxes import boxes_from_mask, object_regions
from train.sample import IGNORE, Sample

GREY, WHITE = 90, 250


def target() -> Sample:
    """A grey 40x60 frame: road in the bottom half (void in its last row), one car box at the top left."""
    image = np.full((40, 60, 3), GREY, np.uint8)
    road = np.zeros((1, 40, 60), np.uint8)
    road[0, 20:] = 1
    road[0, 39] = IGNORE
    return Sample(image, road, np.array([[2, 2, 12, 10]], np.float32), np.array([0], np.int64), "target")


def person(x: int, y: int, frame=(40, 60)) -> Cutout:
    """A white 4x10 'pedestrian' (class 1) whose mask leaves out the two top corners of its 6x10 box."""
    mask = np.zeros((10, 6), bool)
    mask[:, 1:5] = True
    mask[2:, :] = True
    return Cutout(np.full((10, 6, 3), WHITE, np.uint8), mask, x, y, 1, frame)


def test_an_object_is_pasted_by_its_mask_at_its_place_with_its_box_and_no_road_under_it():
    out = paste_objects(target(), [person(30, 25)], "frame 7")
    assert out.source == "target + objects of frame 7"
    # its own pixels are white (the one-pixel soft edge aside), the box corners its mask leaves out stay grey
    assert (out.image[28:34, 31:35] == WHITE).all()
    assert (out.image[25, 30] < WHITE).all() and (out.image[25, 35] < WHITE).all()
    assert (out.image[:, :25] == GREY).all()  # nothing else changed
    np.testing.assert_array_equal(out.boxes, [[2, 2, 12, 10], [30, 25, 36, 35]])
    assert out.classes.tolist() == [0, 1]
    road = out.road[0]
    assert (road[27:35, 30:36] == 0).all()  # an object hides the road
    assert road[25, 30] == 1  # a corner outside its mask is still road
    assert road[20:25].all() and (road[:20] == 0).all()


def test_void_stays_void_and_a_hidden_box_is_dropped():
    s = target()
    hider = Cutout(np.full((12, 14, 3), WHITE, np.uint8), np.ones((12, 14), bool), 0, 0, 2, (40, 60))
    low = person(40, 30)  # over the void last row
    out = paste_objects(s, [hider, low])
    # the car box (10x8 at 2,2) lies under the 14x12 cyclist: no longer visible, so no longer a label
    np.testing.assert_array_equal(out.boxes, [[0, 0, 14, 12], [40, 30, 46, 40]])
    assert out.classes.tolist() == [2, 1]
    assert (out.road[0, 39, 40:46] == IGNORE).all() and (out.road[0, 30:39, 41:45] == 0).all()
    half = paste_objects(s, [Cutout(np.full((8, 5, 3), WHITE, np.uint8), np.ones((8, 5), bool), 2, 2, 1, (40, 60))])
    assert half.boxes.shape == (2, 4)  # half of the car hidden: it stays


def test_a_cutout_from_a_frame_of_another_size_is_scaled_to_its_place():
    out = paste_objects(target(), [person(60, 50, frame=(80, 120))])  # the same place in a frame twice as big
    np.testing.assert_array_equal(out.boxes[1], [30, 25, 33, 30])  # the 6x10 box at half size, 3x5


def test_a_frame_without_box_labels_gets_none_and_empty_cutouts_change_nothing():
    s = target()
    unlabelled = Sample(s.image, s.road, None, None, "no boxes")
    out = paste_objects(unlabelled, [person(30, 25)])
    assert out.boxes is None and (out.image[28:34, 31:35] == WHITE).all()
    assert paste_objects(s, []) is s


def test_cutouts_are_the_regions_boxes_from_mask_finds_with_their_own_pixels():
    label = np.zeros((40, 60), np.uint8)
    label[5:25, 10:16] = 9  # a pedestrian 6 wide, 20 tall
    label[30:32, 40:42] = 9  # a 4-pixel speck: under min_area
    label[10:30, 30:40] = 8  # a car: not asked for
    image = np.arange(40 * 60 * 3, dtype=np.uint32).reshape(40, 60, 3).astype(np.uint8)
    (c,) = cutouts_from_regions(image, object_regions(label, {9: 1}, min_area=10))
    np.testing.assert_array_equal(boxes_from_mask(label, {9: 1}, min_area=10)[0], [[10, 5, 16, 25]])
    assert (c.x, c.y, c.class_index, c.frame_size) == (10, 5, 1, (40, 60))
    assert c.mask.shape == (20, 6) and c.mask.all()
    np.testing.assert_array_equal(c.patch, image[5:25, 10:16])


def test_copy_paste_settings_are_checked():
    base = {"scale": [1, 1], "flip_prob": 0, "hsv_h": 0, "hsv_s": 0, "hsv_v": 0, "min_box_visibility": 0.3,
            "min_box_size": 2, "copy_paste": 0.5}
    assert AugmentParams.from_config(base).copy_paste_classes == ("pedestrian", "cyclist")
    with pytest.raises(ConfigError, match="copy_paste must lie in"):
        AugmentParams.from_config({**base, "copy_paste": 1.5})
    with pytest.raises(ConfigError, match="copy_paste_objects"):
        AugmentParams.from_config({**base, "copy_paste_objects": 0})
    with pytest.raises(ConfigError, match="list of class names"):
        AugmentParams.from_config({**base, "copy_paste_classes": "cyclist"})
