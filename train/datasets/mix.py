"""Several datasets trained in one run: a sample may carry only road or only boxes."""

from __future__ import annotations

from collections.abc import Sequence

from torch.utils.data import ConcatDataset

from core.errors import BadInputError
from train.datasets.base import SampleDataset


class MixedDataset(ConcatDataset):
    """`ConcatDataset` of `SampleDataset`s that share the network input and class lists."""

    def __init__(self, datasets: Sequence[SampleDataset]):
        if not datasets:
            raise ValueError("MixedDataset needs at least one dataset")
        first = datasets[0]
        for d in datasets[1:]:
            if (d.input_size, d.road_classes, d.class_names) != (first.input_size, first.road_classes,
                                                                  first.class_names):
                raise BadInputError(f"{d.name} and {first.name} disagree on input size or class lists; "
                                    "build them with the same model settings")
        super().__init__(datasets)
        self.input_size, self.road_classes, self.class_names = first.input_size, first.road_classes, first.class_names
        self.name = " + ".join(d.name for d in datasets)

    @property
    def boxes_are_derived(self) -> bool:
        """True when any part's boxes are derived from masks: numbers on them must say so."""
        return any(d.boxes_are_derived for d in self.datasets)

    @property
    def has_road_labels(self) -> bool:
        return any(d.has_road_labels for d in self.datasets)

    @property
    def has_box_labels(self) -> bool:
        return any(d.has_box_labels for d in self.datasets)

    def load(self, index: int):
        """Frame `index` of the concatenation, unaugmented (evaluation reads frames this way)."""
        import bisect

        part = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part].load(index - start)

    def set_epoch(self, epoch: int) -> None:
        for d in self.datasets:
            d.set_epoch(epoch)

    @property
    def collate_fn(self):
        return self.datasets[0].collate_fn

    def describe(self) -> str:
        return "; ".join(d.describe() for d in self.datasets)
