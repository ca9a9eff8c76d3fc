"""Score a predictor on a CamVid split (`run.py eval --dataset camvid`): road IoU/MaxF and detection mAP.

Plain arguments in, the report dict out (train.evaluate.format_report prints it), so a
script scores CamVid the way the command line does.
"""

from __future__ import annotations

from pathlib import Path


def evaluate_camvid(predictor, data_config: str | Path, root: str | Path | None = None, split: str | None = None,
                    sequences: str | None = None, exclude_sequences: str | None = None) -> dict:
    """The report of train.evaluate.evaluate_dataset on `split` (one CamVid folder name or several, "train,val";
    default val) of the dataset `data_config` describes, at the predictor's input size and classes.

    root replaces the config's dataset root; sequences / exclude_sequences ("0001TP,0006R0") keep or drop
    driving sequences. The report adds dataset, split and frames per sequence.
    """
    from nets.config import load_yaml

    from .datasets import build_dataset
    from .evaluate import evaluate_dataset
    from .sequences import frames_per_sequence

    data_cfg = load_yaml(data_config)
    if root:
        data_cfg["root"] = str(root)
    split = split or "val"
    # the CamVid folder(s) of that name, whatever the recipe maps
    data_cfg.setdefault("splits", {})[split] = [s.strip() for s in split.split(",") if s.strip()]
    for key, value in (("sequences", sequences), ("exclude_sequences", exclude_sequences)):
        if value:
            data_cfg[key] = value
    dataset = build_dataset(data_cfg, split, predictor.input_size, predictor.road_classes, predictor.class_names,
                            augment=False)
    report = evaluate_dataset(predictor, dataset)
    report.update(dataset="camvid", split=split, sequences=frames_per_sequence(dataset))
    return report
