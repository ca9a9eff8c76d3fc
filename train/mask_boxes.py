"""Boxes from a semantic (class-id) mask: one box per connected region of an object class.

The boxes are approximate ("derived"): touching objects of one class merge into
one box and an object split by an occluder (a pole in front of a car) becomes
two. Datasets that use them set `boxes_are_derived = True` so every number
reported on them can say so.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np


def object_regions(label: np.ndarray, class_of_id: Mapping[int, int], min_area: int = 50, min_width: int = 1,
                   min_height: int = 1):
    """For each class id of `class_of_id`: (class index, component map, kept ids, kept xywh). The component map
    numbers the id's 8-connected regions (cv2.connectedComponentsWithStats); kept are those the size limits keep,
    with their boxes as (x, y, width, height) rows. The one place regions become objects: boxes (below) and
    copy-paste cut-outs (train.copy_paste) see the same ones."""
    for class_id, class_index in class_of_id.items():
        region = (label == class_id).view(np.uint8)
        count, components, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
        stats = stats[1:]  # row 0 is the background
        keep = ((stats[:, cv2.CC_STAT_AREA] >= min_area) & (stats[:, cv2.CC_STAT_WIDTH] >= min_width)
                & (stats[:, cv2.CC_STAT_HEIGHT] >= min_height))
        xywh = stats[keep][:, [cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]]
        yield class_index, components, np.arange(1, count)[keep], xywh


def boxes_from_mask(label: np.ndarray, class_of_id: Mapping[int, int], min_area: int = 50,
                    min_width: int = 1, min_height: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Return (boxes (N, 4) float32 xyxy, classes (N,) int64) for the regions of `label`.

    `label` is an (H, W) integer mask of class ids; `class_of_id` maps a class id
    of the mask to the class index the box gets. Each id is a class of its own,
    so regions of two ids never merge even where they touch. Regions (8-connected)
    under `min_area` pixels or narrower/shorter than `min_width`/`min_height`
    pixels are dropped. Box edges are pixel edges: a region covering columns
    10..29 gives x1 = 10, x2 = 30.
    """
    if label.ndim != 2:
        raise ValueError(f"boxes_from_mask() needs an (H, W) class-id mask, got shape {label.shape}")
    boxes, classes = [], []
    for class_index, _, _, xywh in object_regions(label, class_of_id, min_area, min_width, min_height):
        x, y, w, h = xywh.T
        boxes.append(np.stack([x, y, x + w, y + h], axis=1))
        classes.append(np.full(len(xywh), class_index, dtype=np.int64))
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
    return np.concatenate(boxes).astype(np.float32), np.concatenate(classes)
