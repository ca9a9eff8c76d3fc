"""CamVid (SegNet copy): class-id PNGs → road mask, plus boxes derived from object regions.

Layout: `{split}/`, `{split}annot/` with PNGs of the same names, and optional
`{split}.txt` lists of "image label" pairs (their `/SegNet/CamVid/` prefix is
stripped). Road channels come from `road_class_ids` (road = 3); void ids
(11) are 255 in every channel; a road class CamVid does not label (lane) is 255
everywhere. Boxes for the model's classes come from `box_class_ids` regions via
`train.mask_boxes` and are approximate: `boxes_are_derived = True`.
`sequences` / `exclude_sequences` (names or "a,b") keep or drop the frames of
driving sequences by file name prefix (train.sequences): for figures on drives
the model never saw. Its object masks make it a copy-paste donor (`augment: {copy_paste: p}`,
train.copy_paste): regions of `box_class_ids` cut out by their pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from core.errors import BadInputError
from train.copy_paste import Cutout, cutouts_from_regions
from train.datasets.base import SampleDataset, class_indices, read_class_ids, read_image, require_dir, require_frames
from train.mask_boxes import boxes_from_mask, object_regions
from train.sample import IGNORE, Sample
from train.sequences import count_sequences, filter_frames, parse_sequences


class CamVidDataset(SampleDataset):
    boxes_are_derived = True

    def __init__(self, root: str | Path, split: str, *, input_size, road_classes, class_names,
                 augment=None, seed: int = 0, road_class_ids: Mapping[str, Sequence[int]] = None,
                 void_ids: Sequence[int] = (), box_class_ids: Mapping[str, Sequence[int]] = None,
                 min_box_area: int = 50, min_box_width: int = 1, min_box_height: int = 1,
                 list_prefix: str = "/SegNet/CamVid/", sequences: Sequence[str] | str | None = None,
                 exclude_sequences: Sequence[str] | str | None = None):
        super().__init__(f"camvid {split}", input_size, road_classes, class_names, augment, seed)
        self.root = require_dir(Path(root), "CamVid root")
        self.frames = self._list_frames(split, list_prefix)
        require_frames(self.frames, self.name, split, self.root,
                       f"expected {split}.txt or the folders {split}/ and {split}annot/")
        self.sequences = parse_sequences(sequences, "camvid sequences")
        self.exclude_sequences = parse_sequences(exclude_sequences, "camvid exclude_sequences")
        if self.sequences or self.exclude_sequences:
            self.frames = filter_frames(self.frames, self.sequences, self.exclude_sequences,
                                        f"camvid {split} ({self.root})")

        road_class_ids = dict(road_class_ids or {})
        # one 256-entry lookup table per road channel: class id → 1 / 0 / 255 in one cv2.LUT pass
        self._road_luts = []
        for channel in self.road_classes:
            lut = np.full(256, IGNORE, np.uint8)
            if channel in road_class_ids:
                lut[:] = 0
                lut[list(road_class_ids[channel])] = 1
                lut[list(void_ids)] = IGNORE
            self._road_luts.append(lut)
        self.has_road_labels = any(c in road_class_ids for c in self.road_classes)

        box_class_ids = dict(box_class_ids or {})
        index = class_indices({n: n for n in box_class_ids}, self.class_names, self.name)
        self._class_of_id = {int(i): index[n] for n, ids in box_class_ids.items() if n in index for i in ids}
        self.has_box_labels = bool(box_class_ids)
        self._box_limits = dict(min_area=int(min_box_area), min_width=int(min_box_width),
                                min_height=int(min_box_height))
        self._paste_ids = {i: c for i, c in self._class_of_id.items() if c in self.paste_classes}
        if self._paste_ids:
            self.paste_donors()  # here, once: loader workers get a copy of the dataset with the list in it

    def _list_frames(self, split: str, list_prefix: str) -> list[tuple[Path, Path]]:
        list_file = self.root / f"{split}.txt"
        if list_file.is_file():
            frames = []
            for n, line in enumerate(list_file.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                parts = line.split()
                if len(parts) != 2:
                    raise BadInputError(f"{list_file}:{n}: expected 'image label' paths, got {line!r}")
                frames.append(tuple(self.root / p.removeprefix(list_prefix).lstrip("/") for p in parts))
            return frames
        image_dir = require_dir(self.root / split, f"CamVid split folder (no {list_file.name} either)")
        label_dir = require_dir(self.root / f"{split}annot", "CamVid label folder")
        return [(p, label_dir / p.name) for p in sorted(image_dir.glob("*.png"))]

    def __len__(self) -> int:
        return len(self.frames)

    def sequence_counts(self) -> dict[str, int]:
        """Frames per driving sequence (file name prefix), for reports that must say what they scored."""
        return count_sequences(image for image, _ in self.frames)

    def _paste_regions(self, index: int) -> list:
        """The frame's regions of the pasted classes that its boxes would keep (train.mask_boxes.object_regions)."""
        if not self._paste_ids:
            return []
        label = read_class_ids(self.frames[index][1])
        return [r for r in object_regions(label, self._paste_ids, **self._box_limits) if len(r[2])]

    def holds_paste_objects(self, index: int) -> bool:
        return bool(self._paste_regions(index))  # from the label alone: finding the donors reads no image

    def object_cutouts(self, index: int) -> list[Cutout]:
        regions = self._paste_regions(index)
        return cutouts_from_regions(read_image(self.frames[index][0]), regions) if regions else []

    def load(self, index: int) -> Sample:
        image_path, label_path = self.frames[index]
        image, label = read_image(image_path), read_class_ids(label_path)
        if label.shape != image.shape[:2]:
            raise BadInputError(f"{label_path}: label size {label.shape} differs from image {image_path} "
                                f"{image.shape[:2]}")
        road = np.stack([cv2.LUT(label, lut) for lut in self._road_luts]) if self.has_road_labels else None
        boxes = classes = None
        if self.has_box_labels:
            boxes, classes = boxes_from_mask(label, self._class_of_id, **self._box_limits)
        return Sample(image, road, boxes, classes, str(image_path))
