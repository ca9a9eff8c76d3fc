"""Semantic mask → boxes: exact boxes for drawn regions, size filters, bad input."""

import numpy as np
import pytest

from train.mask_boxes import boxes_from_mask

CAR, PEDESTRIAN, CYCLIST = 8, 9, 10
CLASS_OF_ID = {CAR: 0, PEDESTRIAN: 1, CYCLIST: 2}


def as_set(boxes, classes):
    return {(int(c), *map(float, b)) for b, c in zip(boxes, classes, strict=True)}


def test_each_region_gives_its_exact_box():
    label = np.full((120, 160), 3, np.uint8)  # road everywhere
    label[5:25, 10:30] = CAR  # rows 5..24, columns 10..29
    label[40:90, 100:150] = CAR
    label[60:100, 40:52] = PEDESTRIAN
    label[10:50, 60:90] = CYCLIST
    boxes, classes = boxes_from_mask(label, CLASS_OF_ID, min_area=1)
    assert boxes.dtype == np.float32 and classes.dtype == np.int64
    assert as_set(boxes, classes) == {(0, 10, 5, 30, 25), (0, 100, 40, 150, 90), (1, 40, 60, 52, 100),
                                      (2, 60, 10, 90, 50)}


def test_touching_regions_of_different_classes_stay_apart():
    label = np.zeros((50, 50), np.uint8)
    label[10:30, 10:20] = CAR
    label[10:30, 20:25] = PEDESTRIAN  # shares an edge with the car
    boxes, classes = boxes_from_mask(label, CLASS_OF_ID, min_area=1)
    assert as_set(boxes, classes) == {(0, 10, 10, 20, 30), (1, 20, 10, 25, 30)}


def test_diagonal_pixels_are_one_region():
    label = np.zeros((20, 20), np.uint8)
    label[5:10, 5:10] = CAR
    label[10:15, 10:15] = CAR  # touches the first square only at a corner
    boxes, _ = boxes_from_mask(label, CLASS_OF_ID, min_area=1)
    assert boxes.tolist() == [[5, 5, 15, 15]]


def test_small_and_thin_regions_are_dropped():
    label = np.zeros((100, 100), np.uint8)
    label[0:5, 0:5] = CAR  # 25 px: under min_area
    label[20:60, 20:22] = PEDESTRIAN  # 80 px but 2 px wide
    label[50:60, 50:70] = CAR  # 200 px, 20 x 10: kept
    boxes, classes = boxes_from_mask(label, CLASS_OF_ID, min_area=50, min_width=3, min_height=3)
    assert as_set(boxes, classes) == {(0, 50, 50, 70, 60)}
    # without the width limit the thin pedestrian comes back
    boxes, classes = boxes_from_mask(label, CLASS_OF_ID, min_area=50)
    assert as_set(boxes, classes) == {(0, 50, 50, 70, 60), (1, 20, 20, 22, 60)}


def test_ids_outside_the_mapping_are_ignored_and_empty_result_has_shape():
    label = np.full((30, 30), 5, np.uint8)  # all Tree
    boxes, classes = boxes_from_mask(label, CLASS_OF_ID)
    assert boxes.shape == (0, 4) and classes.shape == (0,)
    boxes, classes = boxes_from_mask(label, {})
    assert boxes.shape == (0, 4) and boxes.dtype == np.float32 and classes.dtype == np.int64


def test_a_colour_image_is_refused():
    with pytest.raises(ValueError, match="class-id mask"):
        boxes_from_mask(np.zeros((10, 10, 3), np.uint8), CLASS_OF_ID)
