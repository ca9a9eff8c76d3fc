"""Data config → dataset: one reader, or several mixed into one training set.

A data config is either one dataset:

    type: camvid                  # camvid | kitti_road | kitti_object | yolo | labelme
    root: ../shared/data/camvid   # relative paths are relative to the repository root
    splits: {train: [train, val]} # optional: a run's split → the dataset's split(s)
    seed: 0                       # optional: augmentation seed
    augment: {...}                # AugmentParams keys, needed when augmenting
    ...                           # the reader's own options (see its module)

or a mix, `datasets: [<config or path to a data YAML>, ...]`, whose top-level
`augment` and `seed` apply to items that do not set their own.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path

from core.config import ConfigError, check_keys
from nets.config import PROJECT_ROOT, load_yaml
from train.augment import AugmentParams
from train.datasets.base import SampleDataset
from train.datasets.camvid import CamVidDataset
from train.datasets.kitti_object import KittiObjectDataset
from train.datasets.kitti_road import KittiRoadDataset
from train.datasets.labelme import LabelmeDataset
from train.datasets.mix import MixedDataset
from train.datasets.yolo_txt import YoloTxtDataset
from train.sequences import NoFramesSelected

READERS: dict[str, type[SampleDataset]] = {
    "camvid": CamVidDataset,
    "kitti_road": KittiRoadDataset,
    "kitti_object": KittiObjectDataset,
    "yolo": YoloTxtDataset,
    "labelme": LabelmeDataset,
}
COMMON_KEYS = ("type", "root", "splits", "seed", "augment")
MIX_KEYS = ("datasets", "augment", "seed")  # a mix: its items, and defaults for them


def build_dataset(cfg: dict | str | Path, split: str, input_size: Sequence[int], road_classes: Sequence[str],
                  class_names: Sequence[str], augment: bool, seed: int | None = None,
                  augment_overrides: dict | None = None) -> SampleDataset | MixedDataset:
    """The dataset(s) of `cfg` (a data config, or the path of its YAML) for `split`, at `input_size` (h, w).

    `augment` True applies the config's `augment` settings (training); False
    letterboxes only (validation). `seed`, when given (the run's seed), replaces
    the config's augmentation seeds. `augment_overrides` (a training recipe's
    `augment:`, e.g. {mosaic: 0.5}) replace those keys of every part's settings.
    Several parts come back as a `MixedDataset`.
    """
    source = "data config"
    if isinstance(cfg, (str, Path)):
        source = f"data config {cfg}"
        cfg = load_yaml(resolve(cfg))
    if "datasets" in cfg:
        check_keys(cfg, MIX_KEYS, source)
    items = cfg["datasets"] if "datasets" in cfg else [cfg]
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{source}: 'datasets' must be a non-empty list of dataset configs or YAML paths")
    parts = []
    for item in items:
        item_source = source
        if isinstance(item, (str, Path)):
            item_source = f"data config {item}"
            item = load_yaml(resolve(item))
        if not isinstance(item, dict):
            raise ConfigError(f"{source}: a dataset entry must be a mapping or a YAML path, got {item!r}")
        item = {**{k: cfg[k] for k in ("augment", "seed") if k in cfg}, **item}  # top-level defaults
        if seed is not None:
            item["seed"] = int(seed)  # the run's seed wins over the config's
        if augment_overrides and "augment" in item:
            item["augment"] = {**item["augment"], **augment_overrides}
        parts += build_parts(item, split, input_size, road_classes, class_names, augment, item_source)
    return parts[0] if len(parts) == 1 else MixedDataset(parts)


def build_parts(cfg: dict, split: str, input_size, road_classes, class_names, augment: bool,
                source: str = "data config") -> list[SampleDataset]:
    kind = cfg.get("type")
    if kind not in READERS:
        raise ConfigError(f"{source}: unknown dataset type {kind!r}; use one of {sorted(READERS)}")
    if "root" not in cfg:
        raise ConfigError(f"{source} ({kind}): 'root' (the dataset folder) is missing")
    reader = READERS[kind]
    allowed = [p for p in inspect.signature(reader.__init__).parameters
               if p not in ("self", "root", "split", "input_size", "road_classes", "class_names", "augment", "seed")]
    # each reader's own options are its constructor's keyword arguments (see its module)
    check_keys(cfg, list(COMMON_KEYS) + allowed, f"{source} ({kind})")
    options = {k: v for k, v in cfg.items() if k not in COMMON_KEYS}

    params = None
    if augment:
        if "augment" not in cfg:
            raise ConfigError(f"{source} ({kind}): augmentation was asked for but the config has no "
                             "'augment' settings (see configs/data/camvid.yaml)")
        params = AugmentParams.from_config(cfg["augment"], source=f"{source} ({kind}): augment")

    split_map = cfg.get("splits") or {}
    if not isinstance(split_map, dict):
        raise ConfigError(f"{source} ({kind}): 'splits' must map a run's split to the dataset's split(s), "
                         f"e.g. {{train: [train, val]}}; got {split_map!r}")
    splits = split_map.get(split, split)
    splits = [splits] if isinstance(splits, str) else list(splits)
    parts, empty = [], []
    for s in splits:
        try:
            parts.append(reader(resolve(cfg["root"]), s, input_size=input_size, road_classes=road_classes,
                                class_names=class_names, augment=params, seed=int(cfg.get("seed", 0)), **options))
        except NoFramesSelected as e:
            # a sequence filter over several splits (held-out sequences): a split without them is fine
            empty.append(e)
    if not parts:
        raise empty[0]
    return parts


def resolve(path: str | Path) -> Path:
    """Config paths are relative to the repository root, whatever the working directory."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path
