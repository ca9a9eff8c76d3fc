"""YOLO txt labels (ultralytics layout): `images/{split}/*.jpg|png` + `labels/{split}/*.txt`.

A label line is `cls cx cy w h`, normalised to the image size; a polygon line
(`cls x1 y1 x2 y2 ...`, ultralytics' segment format) gives its bounding box.
`names` is the class list the files index (default: the model's classes); names
the model does not have are left out. An image without a label file has no
objects (the YOLO convention for background images). Without `images/{split}/`,
`images/` itself is split by `val_every`. No road labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import BadInputError
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

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


class YoloTxtDataset(SampleDataset):
    has_box_labels = True

    def __init__(self, root: str | Path, split: str, *, input_size, road_classes, class_names,
                 augment=None, seed: int = 0, names: Sequence[str] | None = None, val_every: int = 5):
        super().__init__(f"yolo {split}", input_size, road_classes, class_names, augment, seed)
        self.root = require_dir(Path(root), "YOLO dataset root")
        images = require_dir(self.root / "images", "YOLO images folder")
        names = list(names) if names is not None else self.class_names
        index = class_indices({n: n for n in names}, self.class_names, self.name)
        self._class_of_file_index = {i: index[n] for i, n in enumerate(names) if n in index}
        self._names, self._num_names = names, len(names)

        if (images / split).is_dir():
            image_dir = images / split
            self.frames = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            image_dir = images
            frames = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            self.frames = split_every(frames, split, val_every, self.name)
        require_frames(self.frames, self.name, split, image_dir)

    def __len__(self) -> int:
        return len(self.frames)

    def label_path(self, image_path: Path) -> Path:
        relative = image_path.relative_to(self.root / "images")
        return self.root / "labels" / relative.with_suffix(".txt")

    def load(self, index: int) -> Sample:
        image_path = self.frames[index]
        image = read_image(image_path)
        h, w = image.shape[:2]
        boxes, classes = self.read_labels(self.label_path(image_path))
        boxes *= np.array([w, h, w, h], np.float32)
        boxes, classes = clean_boxes(boxes, classes, w, h)
        return Sample(image, None, boxes, classes, str(image_path))

    def read_labels(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        """Normalised xyxy boxes and model class indices of one label file."""
        if not path.is_file():
            return np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
        boxes, classes = [], []
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                values = [float(v) for v in line.split()]
            except ValueError as e:
                raise BadInputError(f"{path}:{n}: expected numbers 'cls cx cy w h', got {line!r}") from e
            cls, coords = int(values[0]), values[1:]
            if len(coords) == 4:
                cx, cy, bw, bh = coords
                box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
            elif len(coords) >= 6 and len(coords) % 2 == 0:
                xs, ys = coords[0::2], coords[1::2]
                box = [min(xs), min(ys), max(xs), max(ys)]
            else:
                raise BadInputError(f"{path}:{n}: expected 'cls cx cy w h' or a polygon 'cls x1 y1 x2 y2 x3 y3 ...', "
                                    f"got {len(values)} values")
            if not 0 <= cls < self._num_names:
                raise BadInputError(f"{path}:{n}: class index {cls} is outside the {self._num_names} names "
                                    f"{self._names}; set 'names' in the data config to the files' class list")
            if cls in self._class_of_file_index:
                boxes.append(box)
                classes.append(self._class_of_file_index[cls])
        return np.array(boxes, np.float32).reshape(-1, 4), np.array(classes, np.int64)
