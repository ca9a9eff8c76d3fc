"""A tiny CamVid-layout dataset and a training recipe over it, for the training, balance and eval tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import yaml

from nets.config import PROJECT_ROOT

H, W = 96, 128


def make_scenes(root: Path, n_train: int = 8, n_val: int = 2) -> Path:
    """Road (class 3) in the lower third, one car (class 8) somewhere on it, sky (0) above."""
    rng = np.random.default_rng(0)
    for split, count in (("train", n_train), ("val", n_val)):
        (root / split).mkdir(parents=True)
        (root / f"{split}annot").mkdir(parents=True)
        for i in range(count):
            label = np.zeros((H, W), np.uint8)
            horizon = int(rng.integers(50, 70))
            label[horizon:] = 3
            x, y = int(rng.integers(5, W - 40)), int(rng.integers(horizon - 10, H - 25))
            label[y:y + 20, x:x + 30] = 8
            image = np.empty((H, W, 3), np.uint8)
            image[:] = (200, 160, 120)  # sky
            image[label == 3] = (90, 90, 90)  # asphalt
            image[label == 8] = (30, 30, 200)  # a red car
            image = cv2.add(image, rng.integers(0, 20, image.shape, dtype=np.uint8))
            cv2.imwrite(str(root / split / f"0001TP_{i:06d}.png"), image)
            cv2.imwrite(str(root / f"{split}annot" / f"0001TP_{i:06d}.png"), label)
    return root


def write_recipe(tmp_path: Path) -> Path:
    """A training recipe YAML over the tiny dataset, written into tmp_path."""
    data = make_scenes(tmp_path / "camvid")
    data_cfg = yaml.safe_load((PROJECT_ROOT / "configs/data/camvid.yaml").read_text())
    data_cfg["root"] = str(data)
    data_cfg["min_box_area"] = 20
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(data_cfg))
    cfg = {
        "model": "configs/model/perception_n.yaml",
        "data": {"train": str(tmp_path / "data.yaml"), "val": str(tmp_path / "data.yaml")},
        "imgsz": [64, 96], "epochs": 3, "batch": 4, "workers": 0,
        "optimizer": {"name": "adamw", "lr": 0.003}, "schedule": {"name": "cosine", "warmup_epochs": 0},
        "ema": {"decay": 0.9, "tau": 2}, "seed": 0, "out_dir": str(tmp_path / "run"),
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path
