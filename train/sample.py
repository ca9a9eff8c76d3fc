"""The one sample type every dataset returns, and the batch the training engine consumes.

A sample may carry a road mask, boxes, both or neither: datasets with different
labels train one network in one run, and the engine masks the loss of a task a
sample has no label for (`has_road`, `has_boxes` in the batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.errors import BadInputError

IGNORE = 255  # road-mask value for void pixels and for samples without a road label


@dataclass
class Sample:
    image: np.ndarray  # (H, W, 3) uint8 BGR (OpenCV order)
    road: np.ndarray | None  # (C, H, W) uint8: 1 positive, 0 negative, 255 void; None = no road label
    boxes: np.ndarray | None  # (N, 4) float32 xyxy image pixels; None = no box labels, (0, 4) = no objects
    classes: np.ndarray | None  # (N,) int64 indices into the dataset's class list
    source: str  # file path or id, for messages

    def __post_init__(self) -> None:
        # A reader bug caught here names the file; caught in the loss it names nothing.
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"{self.source}: image must be (H, W, 3) uint8 BGR, "
                             f"got {self.image.shape} {self.image.dtype}")
        h, w = self.image.shape[:2]
        if self.road is not None:
            if self.road.ndim != 3 or self.road.shape[1:] != (h, w) or self.road.dtype != np.uint8:
                raise ValueError(f"{self.source}: road mask must be (C, {h}, {w}) uint8, "
                                 f"got {self.road.shape} {self.road.dtype}")
        if (self.boxes is None) != (self.classes is None):
            raise ValueError(f"{self.source}: boxes and classes must both be given or both be None")
        if self.boxes is not None:
            if self.boxes.ndim != 2 or self.boxes.shape[1] != 4 or self.boxes.dtype != np.float32:
                raise ValueError(f"{self.source}: boxes must be (N, 4) float32, "
                                 f"got {self.boxes.shape} {self.boxes.dtype}")
            if self.classes.shape != (len(self.boxes),) or self.classes.dtype != np.int64:
                raise ValueError(f"{self.source}: classes must be ({len(self.boxes)},) int64, "
                                 f"got {self.classes.shape} {self.classes.dtype}")


def collate(samples: Sequence[Sample], road_channels: int | None = None) -> dict:
    """Stack network-size samples into the engine's batch.

    Keys: `img` float32 (B, 3, H, W) RGB in [0, 1] (the same arithmetic as
    `nets.preprocess.to_input_tensor`); `road` uint8 (B, C, H, W), 255 where void
    or where the sample has no road label; `has_road`, `has_boxes` bool (B,);
    `batch_idx` (M,), `cls` (M, 1), `bboxes` (M, 4) normalised centre-xywh, as
    `ultralytics.utils.loss.v8DetectionLoss` reads them; `source` list of str.

    `road_channels` is the model's number of road classes; it is needed when no
    sample of the batch has a road label (datasets expose a `collate_fn` bound to it).
    """
    if not samples:
        raise ValueError("collate() got an empty list of samples")
    h, w = samples[0].image.shape[:2]
    odd = [s.source for s in samples if s.image.shape[:2] != (h, w)]
    if odd:
        raise ValueError(f"collate(): all images must share the network input size {h}x{w}; "
                         f"these differ: {odd[:3]} (letterbox them first)")

    channels = {s.road.shape[0] for s in samples if s.road is not None}
    if road_channels is not None:
        channels.add(road_channels)
    if len(channels) > 1:
        raise ValueError(f"collate(): road masks have different channel counts {sorted(channels)}")
    if not channels:
        raise BadInputError("collate(): no sample of this batch has a road label, so the number of road "
                            "channels is unknown; pass road_channels (use the dataset's collate_fn)")
    num_channels = channels.pop()

    bgr = np.stack([s.image for s in samples])
    img = np.empty((len(samples), 3, h, w), dtype=np.float32)
    np.multiply(bgr[..., ::-1].transpose(0, 3, 1, 2), 1 / 255.0, out=img, casting="unsafe")

    road = np.full((len(samples), num_channels, h, w), IGNORE, dtype=np.uint8)
    for i, s in enumerate(samples):
        if s.road is not None:
            road[i] = s.road

    batch_idx, cls, bboxes = [], [], []
    for i, s in enumerate(samples):
        if s.boxes is None or not len(s.boxes):
            continue
        b = s.boxes
        xywh = np.stack([(b[:, 0] + b[:, 2]) / (2 * w), (b[:, 1] + b[:, 3]) / (2 * h),
                         (b[:, 2] - b[:, 0]) / w, (b[:, 3] - b[:, 1]) / h], axis=1)
        batch_idx.append(np.full(len(b), i, dtype=np.float32))
        cls.append(s.classes.astype(np.float32))
        bboxes.append(xywh.astype(np.float32))

    def cat(parts: list[np.ndarray], shape: tuple[int, ...]) -> torch.Tensor:
        return torch.from_numpy(np.concatenate(parts).reshape(shape) if parts else np.zeros(shape, np.float32))

    m = sum(len(p) for p in batch_idx)
    return {
        "img": torch.from_numpy(img),
        "road": torch.from_numpy(road),
        "has_road": torch.tensor([s.road is not None for s in samples], dtype=torch.bool),
        "has_boxes": torch.tensor([s.boxes is not None for s in samples], dtype=torch.bool),
        "batch_idx": cat(batch_idx, (m,)),
        "cls": cat(cls, (m, 1)),
        "bboxes": cat(bboxes, (m, 4)),
        "source": [s.source for s in samples],
    }
