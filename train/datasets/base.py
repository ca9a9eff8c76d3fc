"""What every reader shares: loading at source size, then augment or letterbox; file and split helpers."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from core.config import ConfigError, unknown_key_message
from core.errors import BadInputError, InputNotFoundError
from train.augment import AugmentParams, augment, letterbox_sample, mosaic
from train.copy_paste import Cutout, paste_objects
from train.sample import Sample, collate


class SampleDataset(Dataset):
    """A list of frames, each loaded as a `Sample` at its source size by `load()`.

    `__getitem__` returns it at the network input: augmented when the dataset was
    given `AugmentParams` (training), letterboxed only otherwise (validation).
    The augmentation of item i in epoch e is seeded by (seed, e, i) alone; call
    `set_epoch()` before each epoch (with non-persistent loader workers, which
    receive a fresh copy of the dataset each epoch).
    """

    boxes_are_derived = False  # True where boxes come from masks (approximate): reports must say so
    has_road_labels = False  # a subclass sets these from what its frames carry
    has_box_labels = False

    def __init__(self, name: str, input_size: Sequence[int], road_classes: Sequence[str],
                 class_names: Sequence[str], augment: AugmentParams | None = None, seed: int = 0):
        self.name = name
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.road_classes = list(road_classes)
        self.class_names = list(class_names)
        self.augment_params = augment
        self.seed = int(seed)
        self.epoch = 0
        self.paste_classes: list[int] = []  # class indices copy-paste pastes (augment copy_paste_classes)
        if augment is not None and augment.copy_paste > 0:
            for n in augment.copy_paste_classes:
                if n not in self.class_names:
                    raise ConfigError(unknown_key_message(n, self.class_names, f"{name}: augment copy_paste_classes"))
            self.paste_classes = [self.class_names.index(n) for n in augment.copy_paste_classes]
        self._paste_donors: list[int] | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    def load(self, index: int) -> Sample:
        """Frame `index` at its source resolution, unaugmented."""
        raise NotImplementedError

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}: index {index} out of range for {len(self)} frames")
        sample = self.load(index)
        if self.augment_params is None:
            return letterbox_sample(sample, self.input_size)
        rng = np.random.default_rng((self.seed, self.epoch, index))
        params = self.augment_params
        if params.mosaic > 0 and rng.random() < params.mosaic:
            partners = rng.integers(0, len(self), 3)  # from this dataset: same kinds of labels
            return mosaic([sample, *(self.load(int(i)) for i in partners)], self.input_size, params, rng)
        if params.copy_paste > 0 and rng.random() < params.copy_paste:
            # its own generator: how many objects a donor holds must not shift the draws of `augment`
            sample = self._paste_from_donor(sample, index, np.random.default_rng(int(rng.integers(2**31))))
        return augment(sample, self.input_size, params, rng)

    def object_cutouts(self, index: int) -> list[Cutout]:
        """The objects of frame `index` of the `paste_classes`, cut out by their pixel masks. A dataset without
        object masks has none, and copy-paste changes none of its frames."""
        return []

    def holds_paste_objects(self, index: int) -> bool:
        """Whether frame `index` has objects to cut out (a reader may answer without cutting them)."""
        return bool(self.object_cutouts(index))

    def paste_donors(self) -> list[int]:
        """The frames that hold objects of the `paste_classes` (found once, then kept)."""
        if self._paste_donors is None:
            self._paste_donors = [i for i in range(len(self)) if self.holds_paste_objects(i)]
        return self._paste_donors

    def _paste_from_donor(self, sample: Sample, index: int, rng: np.random.Generator) -> Sample:
        donors = [i for i in self.paste_donors() if i != index]
        if not donors:
            return sample
        donor = donors[int(rng.integers(len(donors)))]
        cutouts = self.object_cutouts(donor)
        chosen = rng.permutation(len(cutouts))[:int(self.augment_params.copy_paste_objects)]
        return paste_objects(sample, [cutouts[i] for i in sorted(chosen)], f"frame {donor}")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    @property
    def collate_fn(self):
        """`collate` bound to the model's road channel count (a batch may hold no road label)."""
        return functools.partial(collate, road_channels=len(self.road_classes))

    def describe(self) -> str:
        box_word = "derived boxes" if self.boxes_are_derived else "boxes"
        labels = [w for w, has in (("road", self.has_road_labels), (box_word, self.has_box_labels)) if has]
        return f"{self.name}: {len(self)} frames ({', '.join(labels) or 'no labels'})"


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 BGR; grey images are expanded to three channels."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputNotFoundError(f"cannot read image {path} (missing or not an image file)")
    return image


def read_class_ids(path: Path) -> np.ndarray:
    """An (H, W) uint8 mask of class ids, read as stored (no colour conversion)."""
    label = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if label is None:
        raise InputNotFoundError(f"cannot read label mask {path} (missing or not an image file)")
    if label.ndim != 2 or label.dtype != np.uint8:
        raise BadInputError(f"{path}: expected a single-channel 8-bit PNG of class ids, "
                            f"got shape {label.shape} {label.dtype}")
    return label


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise InputNotFoundError(f"{what} not found: {path} (check the dataset's 'root' in its data config)")
    return path


def require_frames(items: Sequence, name: str, split: str, where: Path, hint: str = "") -> None:
    if not items:
        raise InputNotFoundError(f"{name}: split '{split}' is empty: no labelled frames found in {where}"
                                 + (f" ({hint})" if hint else ""))


def split_every(items: Sequence, split: str, val_every: int, name: str) -> list:
    """Deterministic split of one sorted list: every `val_every`-th item is 'val', the rest 'train'.

    'all' takes everything; `val_every` 0 puts everything in 'train'.
    """
    if split == "all":
        return list(items)
    if split not in ("train", "val"):
        raise BadInputError(f"{name}: unknown split '{split}'; use train, val or all")
    if val_every < 0:
        raise BadInputError(f"{name}: val_every must be >= 0, got {val_every}")
    if val_every == 0:
        return list(items) if split == "train" else []
    is_val = [(i % val_every) == val_every - 1 for i in range(len(items))]
    return [x for x, v in zip(items, is_val, strict=True) if v == (split == "val")]


def class_indices(mapping: Mapping[str, object], class_names: Sequence[str], name: str) -> dict[str, int]:
    """Model class index of each target class name of a dataset mapping.

    Names the model does not have are left out (their objects are not trained on);
    a mapping that reaches none of the model's classes is a configuration error.
    """
    wanted = {str(v) for v in mapping.values()}
    index = {n: i for i, n in enumerate(class_names) if n in wanted}
    if wanted and not index:
        raise BadInputError(f"{name}: none of the dataset's classes {sorted(wanted)} is a model class "
                            f"{list(class_names)}; fix the class mapping or set it to {{}} for no boxes")
    return index


def clean_boxes(boxes: np.ndarray, classes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip (N, 4) xyxy boxes to the image and drop those left without area."""
    boxes = np.clip(np.asarray(boxes, np.float32).reshape(-1, 4), 0,
                    np.array([width, height, width, height], np.float32))
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[keep], np.asarray(classes, np.int64).reshape(-1)[keep]
