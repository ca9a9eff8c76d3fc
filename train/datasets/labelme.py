"""labelme JSON: polygons → road masks, rectangles / polygons of objects → boxes.

One JSON per image (`imagePath` relative to the JSON; embedded `imageData` is
used when the file is absent). `road_labels` maps each road channel to the
labelme labels filled as positive ({road: [road, drivable]}); the rest of the
frame is negative, and shapes whose label is in `void_labels` are 255 in every
channel. A channel not in `road_labels` is 255 everywhere. `box_labels` maps
model class names to labelme labels ({car: [car, van]}); the box of a shape is
its points' bounding box (a circle's: centre ± radius). Shapes with other labels
are ignored.

Splits: all JSONs of `{root}/{split}/`, or without that folder the JSONs of
`root` divided by `val_every`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from core.errors import BadInputError, InputNotFoundError
from train.datasets.base import (
    SampleDataset,
    class_indices,
    clean_boxes,
    read_image,
    require_dir,
    require_frames,
    split_every,
)
from train.sample import IGNORE, Sample

AREA_SHAPES = ("polygon", "rectangle", "circle")


class LabelmeDataset(SampleDataset):
    def __init__(self, root: str | Path, split: str, *, input_size, road_classes, class_names,
                 augment=None, seed: int = 0, road_labels: Mapping[str, Sequence[str]] = None,
                 void_labels: Sequence[str] = (), box_labels: Mapping[str, Sequence[str]] = None,
                 val_every: int = 5):
        super().__init__(f"labelme {split}", input_size, road_classes, class_names, augment, seed)
        self.root = require_dir(Path(root), "labelme root")
        road_labels, box_labels = dict(road_labels or {}), dict(box_labels or {})
        if not road_labels and not box_labels:
            raise BadInputError(f"{self.name}: set road_labels and/or box_labels; without them no shape is a label")
        self._road_label_sets = [set(road_labels[c]) if c in road_labels else None for c in self.road_classes]
        self._void_labels = set(void_labels)
        index = class_indices({n: n for n in box_labels}, self.class_names, self.name)
        self._class_of_label = {lbl: index[n] for n, lbls in box_labels.items() if n in index for lbl in lbls}
        self.has_road_labels = any(s is not None for s in self._road_label_sets)
        self.has_box_labels = bool(box_labels)

        if (self.root / split).is_dir():
            json_dir = self.root / split
            self.frames = sorted(json_dir.glob("*.json"))
        else:
            json_dir = self.root
            self.frames = split_every(sorted(json_dir.glob("*.json")), split, val_every, self.name)
        require_frames(self.frames, self.name, split, json_dir)

    def __len__(self) -> int:
        return len(self.frames)

    def load(self, index: int) -> Sample:
        json_path = self.frames[index]
        try:
            doc = json.loads(json_path.read_text())
            shapes = doc["shapes"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise BadInputError(f"{json_path}: not a labelme JSON with a 'shapes' list ({e})") from e
        image = self._read_image(json_path, doc)
        h, w = image.shape[:2]

        road = None
        if self.has_road_labels:
            road = np.zeros((len(self.road_classes), h, w), np.uint8)
            for c, labels in enumerate(self._road_label_sets):
                if labels is None:
                    road[c] = IGNORE
                    continue
                for shape in shapes:
                    if shape.get("label") in labels:
                        fill_shape(road[c], shape, 1, json_path)
            for shape in shapes:  # void last, so it wins over positives it overlaps
                if shape.get("label") in self._void_labels:
                    for c in range(len(road)):
                        fill_shape(road[c], shape, IGNORE, json_path)

        boxes = classes = None
        if self.has_box_labels:
            found = [(shape_box(s, json_path), self._class_of_label[s["label"]]) for s in shapes
                     if s.get("label") in self._class_of_label and s.get("shape_type", "polygon") in AREA_SHAPES]
            boxes, classes = clean_boxes([b for b, _ in found], [c for _, c in found], w, h)
        return Sample(image, road, boxes, classes, str(json_path))

    @staticmethod
    def _read_image(json_path: Path, doc: dict) -> np.ndarray:
        image_path = json_path.parent / str(doc.get("imagePath") or "")
        if doc.get("imagePath") and image_path.is_file():
            return read_image(image_path)
        if doc.get("imageData"):
            data = np.frombuffer(base64.b64decode(doc["imageData"]), np.uint8)
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
            if image is None:
                raise BadInputError(f"{json_path}: embedded imageData is not a readable image")
            return image
        raise InputNotFoundError(f"{json_path}: image {image_path} not found and no embedded imageData")


def shape_points(shape: dict, source: Path) -> np.ndarray:
    try:
        points = np.asarray(shape["points"], np.float32).reshape(-1, 2)
    except (KeyError, ValueError, TypeError) as e:
        raise BadInputError(f"{source}: shape {shape.get('label')!r} has no valid 'points' list") from e
    if not len(points):
        raise BadInputError(f"{source}: shape {shape.get('label')!r} has no points")
    return points


def shape_box(shape: dict, source: Path) -> list[float]:
    points = shape_points(shape, source)
    if shape.get("shape_type") == "circle":
        radius = float(np.hypot(*(points[1] - points[0]))) if len(points) > 1 else 0.0
        (cx, cy) = points[0]
        return [cx - radius, cy - radius, cx + radius, cy + radius]
    return [*points.min(0), *points.max(0)]


def fill_shape(mask: np.ndarray, shape: dict, value: int, source: Path) -> None:
    """Paint one polygon / rectangle / circle shape into an (H, W) mask."""
    kind = shape.get("shape_type", "polygon")
    points = shape_points(shape, source)
    if kind == "rectangle":
        x0, y0 = np.floor(points.min(0)).astype(int)
        x1, y1 = np.ceil(points.max(0)).astype(int)
        mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = value
    elif kind == "circle":
        radius = float(np.hypot(*(points[1] - points[0]))) if len(points) > 1 else 0.0
        cx, cy = (int(v) for v in np.round(points[0]))
        cv2.circle(mask, (cx, cy), round(radius), value, -1)
    elif kind == "polygon":
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], value)
