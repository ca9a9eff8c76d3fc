"""KITTI Road (`data_road` layout): colour ground truth → road / ego-lane masks.

Frames: `training/image_2/{cat}_XXXXXX.png` (cat in um, umm, uu); masks:
`training/gt_image_2/{cat}_{channel}_XXXXXX.png` for each road channel of the
model (`road`; `lane` exists for UM only). In OpenCV's BGR order positive =
blue > 0 (magenta), valid = red > 0 (magenta or red), the rest (black) void —
the devkit's rule (docs/KITTI_ROAD_EVAL.md). A channel without a
mask file for a frame is void there. Frames without any mask of the model's
channels are skipped unless `include_unlabelled` (then road = None).

Splits: 'train' / 'val' / 'all' divide `training/` (every `val_every`-th frame
of the sorted list is val); 'test' reads `testing/`, which has no masks.
No boxes: `boxes` is None.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from core.errors import BadInputError, InputNotFoundError
from train.datasets.base import SampleDataset, read_image, require_dir, require_frames, split_every
from train.sample import IGNORE, Sample


def decode_kitti_mask(gt_bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) BGR KITTI colour mask → (H, W) uint8: 1 positive, 0 valid negative, 255 void."""
    mask = np.full(gt_bgr.shape[:2], IGNORE, np.uint8)
    mask[gt_bgr[:, :, 2] > 0] = 0
    mask[gt_bgr[:, :, 0] > 0] = 1
    return mask


class KittiRoadDataset(SampleDataset):
    def __init__(self, root: str | Path, split: str, *, input_size, road_classes, class_names,
                 augment=None, seed: int = 0, categories: Sequence[str] = ("um", "umm", "uu"),
                 val_every: int = 5, include_unlabelled: bool = False):
        super().__init__(f"kitti_road {split}", input_size, road_classes, class_names, augment, seed)
        self.root = require_dir(Path(root), "KITTI Road root")
        part = self.root / ("testing" if split == "test" else "training")
        image_dir = require_dir(part / "image_2", "KITTI Road image folder")
        gt_dir = part / "gt_image_2"

        frames = []  # (image path, {channel: mask path or None})
        for category in categories:
            for image_path in sorted(image_dir.glob(f"{category}_[0-9]*.png")):
                frame_id = image_path.stem.split("_", 1)[1]
                masks = {c: gt_dir / f"{category}_{c}_{frame_id}.png" for c in self.road_classes}
                masks = {c: (p if p.is_file() else None) for c, p in masks.items()}
                if include_unlabelled or any(masks.values()):
                    frames.append((image_path, masks))
        self.frames = frames if split == "test" else split_every(frames, split, val_every, self.name)
        require_frames(self.frames, self.name, split, image_dir,
                       f"categories {list(categories)}, masks for {self.road_classes} in {gt_dir}; "
                       "set include_unlabelled to use frames without masks")
        self.has_road_labels = any(any(m.values()) for _, m in self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    def load(self, index: int) -> Sample:
        image_path, masks = self.frames[index]
        image = read_image(image_path)
        road = None
        if any(masks.values()):
            road = np.full((len(self.road_classes), *image.shape[:2]), IGNORE, np.uint8)
            for c, channel in enumerate(self.road_classes):
                if masks[channel] is None:
                    continue
                gt = cv2.imread(str(masks[channel]), cv2.IMREAD_COLOR)
                if gt is None:
                    raise InputNotFoundError(f"cannot read KITTI mask {masks[channel]}")
                if gt.shape[:2] != image.shape[:2]:
                    raise BadInputError(f"{masks[channel]}: mask size {gt.shape[:2]} differs from image "
                                        f"{image_path} {image.shape[:2]}")
                road[c] = decode_kitti_mask(gt)
        return Sample(image, road, None, None, str(image_path))
