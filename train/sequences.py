"""Sequence-aware splits: which driving sequence a frame comes from, and held-out-sequence configs.

CamVid's frames come from a few drives (file name prefix before the first "_":
0001TP, 0006R0, 0016E5, Seq05VD) and are one second (or less) apart within a
drive. Frames of one drive are near-duplicates of each other, so a model scored
on frames of a drive it trained on is scored on what it has seen: the SegNet
copy's val split is 101 frames of 0016E5, interleaved with 0016E5 training frames
(07959-08159 between training frames 07920 and 08190). Figures that say how the
model does on new footage must come from sequences it neither trained nor was
selected on; these helpers make such splits from the data configs.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.errors import UserError


class NoFramesSelected(UserError, ValueError):
    """A sequence filter left a dataset part without frames (a run's split may combine parts).
    Also a ValueError so that run.py reports it as one line before and after its move to UserError."""


def sequence_of(path: str | Path) -> str:
    """The sequence a frame belongs to: the file name up to its first "_" (0016E5_07959.png → 0016E5)."""
    stem = Path(path).stem
    return stem.split("_", 1)[0] if "_" in stem else stem


def parse_sequences(value: str | Sequence[str] | None, what: str = "sequences") -> list[str] | None:
    """A comma-separated string or a list of sequence names → list (None stays None)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(s).strip() for s in items if str(s).strip()]
    if not names:
        raise UserError(f"{what}: give at least one sequence name (e.g. 0001TP,0006R0), got {value!r}")
    return names


def filter_frames(frames: list, include: Sequence[str] | None, exclude: Sequence[str] | None,
                  source: str, key=lambda f: f[0]) -> list:
    """Keep the frames whose sequence is in `include` (all if None) and not in `exclude`.

    A filter that leaves no frame is a UserError naming the sequences there are (a
    typo would otherwise score nothing). A name that matches no frame is not an error
    on its own: one CamVid split may lack a sequence another split of the same run has
    (val holds only 0016E5); reports list the frames per sequence they scored.
    """
    include_set, exclude_set = set(include or ()), set(exclude or ())
    keep = [f for f in frames if (include is None or sequence_of(key(f)) in include_set)
            and sequence_of(key(f)) not in exclude_set]
    if frames and not keep:
        present = count_sequences(key(f) for f in frames)
        raise NoFramesSelected(f"{source}: no frame left after sequences={list(include) if include else 'all'}, "
                        f"exclude_sequences={sorted(exclude_set)}; its sequences (frames) are {present}")
    return keep


def count_sequences(paths: Iterable[str | Path]) -> dict[str, int]:
    """Frames per sequence, sorted by name."""
    return dict(sorted(Counter(sequence_of(p) for p in paths).items()))


def holdout_data_configs(data_cfg: dict, held_out: Sequence[str], splits: Sequence[str] = ("train", "val")
                         ) -> tuple[dict, dict]:
    """(train config, val config) for leave-sequences-out: train on every other sequence of `splits`,
    validate (select the best epoch) on the `held_out` sequences' frames of `splits`.

    `data_cfg` is one CamVid-style data config (a mapping with `type` and `root`);
    its own `sequences` / `exclude_sequences` are replaced.
    """
    if "datasets" in data_cfg:
        raise UserError("holdout: give a single dataset config (not a 'datasets:' mix) to hold sequences out of")
    held_out = parse_sequences(held_out, "holdout sequences")
    base = {k: v for k, v in copy.deepcopy(data_cfg).items() if k not in ("sequences", "exclude_sequences")}
    train_cfg = {**base, "splits": {**base.get("splits", {}), "train": list(splits)}, "exclude_sequences": held_out}
    val_cfg = {**copy.deepcopy(base), "splits": {**base.get("splits", {}), "val": list(splits)},
               "sequences": held_out}
    return train_cfg, val_cfg


def frames_per_sequence(dataset) -> dict[str, int]:
    """Frames per sequence of a dataset or mix (parts that know their sequences; others are left out)."""
    total: Counter = Counter()
    for part in getattr(dataset, "datasets", [dataset]):
        counts = getattr(part, "sequence_counts", None)
        if counts is not None:
            total.update(counts())
    return dict(sorted(total.items()))


def holdout_recipe(cfg: dict, held_out: str | Sequence[str]) -> dict:
    """A training recipe with leave-sequences-out data: see holdout_data_configs. The recipe's
    data.train config (a YAML path or a mapping) is the dataset the sequences come from."""
    from nets.config import load_yaml
    from train.datasets.build import resolve

    source = cfg["data"]["train"]
    data_cfg = load_yaml(resolve(source)) if isinstance(source, (str, Path)) else source
    train_cfg, val_cfg = holdout_data_configs(data_cfg, held_out)
    return {**cfg, "data": {"train": train_cfg, "val": val_cfg}}
