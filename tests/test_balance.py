"""Class-balanced (repeat-factor) sampling: known factors, the draw frequencies, the engine hook."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch.utils.data import WeightedRandomSampler

from core.errors import UserError
from train.balance import balanced_sampler, repeat_factors


def test_repeat_factors_known_answer():
    # cars in all 4 frames, a cyclist in 1 of them: f = [1, 0, 0.25]; t = 0.5 -> r = [1, 1, sqrt(2)]
    per_frame, per_class = repeat_factors([np.array([0]), np.array([0, 0]), np.array([0, 2]), np.array([], int)],
                                          num_classes=3, threshold=0.5)
    np.testing.assert_allclose(per_class, [1.0, 1.0, np.sqrt(2)])
    # frame 1 (two cars) 1, frame 2 (car + cyclist) sqrt(2), frame 3 (no boxes) 1; car frequency is 3/4 here
    np.testing.assert_allclose(per_frame, [1.0, 1.0, np.sqrt(2), 1.0])


class Frames:
    """A dataset stand-in whose frames carry the given box classes."""

    def __init__(self, classes):
        self.classes = classes

    def __len__(self):
        return len(self.classes)

    def load(self, i):
        return type("S", (), {"classes": np.array(self.classes[i], np.int64)})()


def test_rare_class_frames_are_drawn_more_often():
    ds = Frames([[0]] * 9 + [[0, 1]])  # a pedestrian in 1 frame of 10
    sampler = balanced_sampler(ds, {"repeat_threshold": 0.5, "power": 1.0}, 3, seed=0, log=lambda *_: None)
    assert isinstance(sampler, WeightedRandomSampler) and sampler.num_samples == 10
    draws = []
    for epoch in range(300):
        sampler.generator.manual_seed(epoch)
        draws += list(sampler)
    share = np.mean(np.array(draws) == 9)
    assert share == pytest.approx(5 / 14, abs=0.03)  # weight 5 (0.5 / 0.1) against 9 frames of weight 1


def test_bad_sampler_settings_are_named():
    with pytest.raises(UserError, match="repeat_threshold"):
        balanced_sampler(Frames([[0]]), {"threshold": 0.5}, 3, seed=0)
    with pytest.raises(UserError, match="repeat_threshold must be in"):
        balanced_sampler(Frames([[0]]), {"repeat_threshold": 2}, 3, seed=0)


def test_engine_uses_the_recipe_sampler(tmp_path):
    import yaml

    import train.engine as engine
    from nets.config import PROJECT_ROOT, load_model_config
    from scenes import make_scenes

    data_cfg = yaml.safe_load((PROJECT_ROOT / "configs/data/camvid.yaml").read_text())
    data_cfg.update(root=str(make_scenes(tmp_path / "camvid", n_train=4, n_val=1)), min_box_area=20)
    cfg = {"data": {"train": data_cfg, "val": data_cfg}, "imgsz": [64, 96], "batch": 2, "workers": 0,
           "sampler": {"repeat_threshold": 0.5}}
    _, loader, _, _ = engine.build_loaders(cfg, load_model_config(), rank=0, world=1, seed=0)
    assert isinstance(loader.sampler, WeightedRandomSampler)
    batch = next(iter(loader))
    assert batch["img"].shape[0] == 2 and torch.isfinite(batch["img"]).all()


def test_loss_class_weights_scale_each_class_score_loss(tmp_path):
    import yaml

    import train.engine as engine
    from nets.config import PROJECT_ROOT, load_model_config
    from nets.model import PerceptionNet
    from scenes import make_scenes
    from train.losses import MultiTaskLoss

    data_cfg = yaml.safe_load((PROJECT_ROOT / "configs/data/camvid.yaml").read_text())
    data_cfg.update(root=str(make_scenes(tmp_path / "camvid", n_train=2, n_val=1)), min_box_area=20)
    cfg = {"data": {"train": data_cfg, "val": data_cfg}, "imgsz": [64, 96], "batch": 2, "workers": 0}
    _, loader, _, _ = engine.build_loaders(cfg, load_model_config(), rank=0, world=1, seed=0)
    batch = next(iter(loader))
    torch.manual_seed(0)
    net = PerceptionNet(load_model_config(input_size=[64, 96])).train()
    out = net(batch["img"])

    def cls_term(weights):
        _, log = MultiTaskLoss(net, {"class_weights": weights} if weights else {})(out, batch)
        return log["cls_loss"]

    base = cls_term(None)
    # every class x2: the class-score loss doubles exactly; one class x2: somewhere in between
    assert cls_term({"car": 2.0, "pedestrian": 2.0, "cyclist": 2.0}) == pytest.approx(2 * base, rel=1e-5)
    assert base < cls_term({"cyclist": 2.0}) < 2 * base
    with pytest.raises(UserError, match=r"\['truck'\]"):
        MultiTaskLoss(net, {"class_weights": {"truck": 2.0}})




def test_a_recipe_with_every_generalisation_option_trains_an_epoch(recipe):
    """Held-out drive, augmentation extras, balanced sampler and class weights together, end to end."""
    import csv

    import train.engine as engine

    cfg = engine.load_train_config(recipe, epochs=1)
    # the fixture's frames are all drive 0001TP: split them by renaming one into another drive
    root = Path(yaml.safe_load(Path(cfg["data"]["train"]).read_text())["root"])
    for split in ("train", "val"):
        for folder in (split, f"{split}annot"):
            first = sorted((root / folder).glob("*.png"))[0]
            first.rename(first.with_name("0006R0_000000.png"))
    cfg = engine.load_train_config(recipe, epochs=1, holdout_sequences="0006R0")
    cfg.update(sampler={"repeat_threshold": 1.0}, augment={"perspective": 0.05, "contrast": 0.3, "blur_prob": 0.5,
                                                           "noise": 5.0, "jpeg_prob": 0.5},
               loss={"class_weights": {"pedestrian": 1.5, "cyclist": 1.5}})
    engine.train(cfg, log=lambda *_: None)
    with (Path(cfg["out_dir"]) / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1, rows
    losses = {k: float(v) for k, v in rows[0].items() if k.startswith("loss_") and v}
    assert losses and all(np.isfinite(v) for v in losses.values()), rows[0]
