"""KITTI object detection: `training/image_2/XXXXXX.png` + `training/label_2/XXXXXX.txt`.

Each label line: type truncated occluded alpha x1 y1 x2 y2 (then 3-D fields we
do not use). `class_map` maps KITTI types to model class names (Car/Van → car,
Pedestrian/Person_sitting → pedestrian, Cyclist → cyclist by default); other
types (DontCare, Truck, Tram, Misc) are left out. A frame without a label file
is an error: KITTI labels every training frame.

Splits: 'train' / 'val' / 'all' by `val_every`, or id lists from `split_files`
(e.g. {train: ImageSets/train.txt}, one frame id per line, relative to root).
No road labels: `road` is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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
from train.sample import Sample


class KittiObjectDataset(SampleDataset):
    has_box_labels = True

    def __init__(self, root: str | Path, split: str, *, input_size, road_classes, class_names,
                 augment=None, seed: int = 0, class_map: Mapping[str, str] = None, val_every: int = 5,
                 split_files: Mapping[str, str] = None):
        super().__init__(f"kitti_object {split}", input_size, road_classes, class_names, augment, seed)
        self.root = require_dir(Path(root), "KITTI object root")
        image_dir = require_dir(self.root / "training" / "image_2", "KITTI object image folder")
        self.label_dir = require_dir(self.root / "training" / "label_2", "KITTI object label folder")
        if not class_map:
            raise BadInputError(f"{self.name}: class_map is empty; map KITTI types to model classes "
                                "(e.g. {Car: car, Pedestrian: pedestrian, Cyclist: cyclist})")
        index = class_indices(class_map, self.class_names, self.name)
        self._class_of_type = {t: index[n] for t, n in class_map.items() if n in index}

        if split_files and split in split_files:
            list_file = self.root / split_files[split]
            if not list_file.is_file():
                raise InputNotFoundError(f"{self.name}: split list {list_file} not found")
            ids = [line.strip() for line in list_file.read_text().splitlines() if line.strip()]
            self.frames = [image_dir / f"{i}.png" for i in ids]
        else:
            self.frames = split_every(sorted(image_dir.glob("*.png")), split, val_every, self.name)
        require_frames(self.frames, self.name, split, image_dir)

    def __len__(self) -> int:
        return len(self.frames)

    def load(self, index: int) -> Sample:
        image_path = self.frames[index]
        image = read_image(image_path)
        label_path = self.label_dir / f"{image_path.stem}.txt"
        boxes, classes = self.read_labels(label_path)
        boxes, classes = clean_boxes(boxes, classes, image.shape[1], image.shape[0])
        return Sample(image, None, boxes, classes, str(image_path))

    def read_labels(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        if not path.is_file():
            raise InputNotFoundError(f"KITTI label file missing: {path}")
        boxes, classes = [], []
        for n, line in enumerate(path.read_text().splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 8:
                raise BadInputError(f"{path}:{n}: expected 'type truncated occluded alpha x1 y1 x2 y2 ...', "
                                    f"got {line!r}")
            if fields[0] not in self._class_of_type:
                continue
            try:
                boxes.append([float(v) for v in fields[4:8]])
            except ValueError as e:
                raise BadInputError(f"{path}:{n}: box coordinates are not numbers: {line!r}") from e
            classes.append(self._class_of_type[fields[0]])
        return np.array(boxes, np.float32).reshape(-1, 4), np.array(classes, np.int64)
