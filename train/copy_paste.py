"""Copy-paste: objects cut out of another labelled frame by their pixel masks and pasted into this one.

Pedestrians and cyclists are few in CamVid (a few hundred regions, most in a few drives), and a model trained
on two drives finds those of a third badly (held-out pedestrian AP50 0.04-0.22: README). Pasting them from
other frames puts the same people in other streets, light and clutter (Ghiasi et al., "Simple Copy-Paste is a
Strong Data Augmentation Method for Instance Segmentation", CVPR 2021). CamVid labels every pixel, so a cut-out
is the object's own pixels, not its box. An object keeps its place in the frame: CamVid's drives share one
camera height and horizon, so a person pasted where it stood stands on the ground at a plausible size.

The labels follow the pixels: the pasted pixels become "not road" wherever the road mask had a label, a pasted
object's box is its mask's bounding box, and a box of the frame that the pasted pixels mostly hide is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from train.sample import IGNORE, Sample

# a box of the frame hidden by pasted pixels over at least this share of its area is no longer visible
HIDDEN_SHARE = 0.7


@dataclass(frozen=True)
class Cutout:
    """One object cut out of a frame: its pixels, its mask and where it stood."""

    patch: np.ndarray  # (h, w, 3) uint8 BGR: the object's bounding box in the source frame
    mask: np.ndarray  # (h, w) bool: the object's own pixels in that box
    x: int  # the box's top-left corner in the source frame
    y: int
    class_index: int
    frame_size: tuple[int, int]  # (height, width) of the source frame


def cutouts_from_regions(image: np.ndarray, regions) -> list[Cutout]:
    """Each object of `regions` (train.mask_boxes.object_regions of the frame's label: the regions its boxes come
    from, under the same size limits) cut out of `image` with its own pixels."""
    out = []
    for class_index, components, ids, xywh in regions:
        for k, (x, y, w, h) in zip(ids, xywh.tolist(), strict=True):
            out.append(Cutout(image[y:y + h, x:x + w].copy(), components[y:y + h, x:x + w] == k, x, y,
                              int(class_index), image.shape[:2]))
    return out


def paste_objects(sample: Sample, cutouts: Sequence[Cutout], source: str = "") -> Sample:
    """`sample` with `cutouts` pasted at their places (scaled when their frame had another size), in order."""
    if not cutouts:
        return sample
    image = sample.image.copy()
    h, w = image.shape[:2]
    covered = np.zeros((h, w), bool)
    new_boxes, new_classes = [], []
    for c in cutouts:
        sy, sx = h / c.frame_size[0], w / c.frame_size[1]
        x1, y1 = int(round(c.x * sx)), int(round(c.y * sy))
        pw, ph = max(int(round(c.patch.shape[1] * sx)), 1), max(int(round(c.patch.shape[0] * sy)), 1)
        patch, mask = c.patch, c.mask.astype(np.float32)
        if (ph, pw) != patch.shape[:2]:
            patch = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_LINEAR)
            mask = cv2.resize(mask, (pw, ph), interpolation=cv2.INTER_LINEAR)
        # clip to the frame
        x2, y2 = min(x1 + pw, w), min(y1 + ph, h)
        if x2 <= x1 or y2 <= y1:
            continue
        patch, mask = patch[:y2 - y1, :x2 - x1], mask[:y2 - y1, :x2 - x1]
        solid = mask >= 0.5
        if not solid.any():
            continue
        # a one-pixel soft edge, so the network cannot learn "a hard seam is a person"
        alpha = cv2.GaussianBlur(mask, (3, 3), 0)[..., None] if min(solid.shape) >= 3 else mask[..., None]
        region = image[y1:y2, x1:x2].astype(np.float32)
        image[y1:y2, x1:x2] = np.clip(alpha * patch + (1 - alpha) * region + 0.5, 0, 255).astype(np.uint8)
        covered[y1:y2, x1:x2] |= solid
        ys, xs = np.nonzero(solid)
        new_boxes.append([x1 + xs.min(), y1 + ys.min(), x1 + xs.max() + 1, y1 + ys.max() + 1])
        new_classes.append(c.class_index)
    if not new_boxes:
        return sample
    road = None
    if sample.road is not None:
        road = sample.road.copy()
        for channel in road:  # an object hides the road; a void pixel stays void (its channel may be unlabelled)
            channel[covered & (channel != IGNORE)] = 0
    boxes, classes = sample.boxes, sample.classes
    if boxes is not None:
        keep = np.array([not _hidden(b, covered) for b in boxes], bool) if len(boxes) else np.zeros(0, bool)
        boxes = np.concatenate([boxes[keep], np.asarray(new_boxes, np.float32)]).astype(np.float32)
        classes = np.concatenate([classes[keep], np.asarray(new_classes, np.int64)])
    # a frame without box labels keeps none (its detection loss is skipped): the pasted pixels still teach road
    name = sample.source + (f" + objects of {source}" if source else " + pasted objects")
    return Sample(image, road, boxes, classes, name)


def _hidden(box: np.ndarray, covered: np.ndarray) -> bool:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    x1, y1 = max(x1, 0), max(y1, 0)
    area = max(x2 - x1, 0) * max(y2 - y1, 0)
    return area > 0 and covered[y1:y2, x1:x2].sum() >= HIDDEN_SHARE * area
