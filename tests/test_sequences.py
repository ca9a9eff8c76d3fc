"""Sequence-aware CamVid splits: filters on the reader, held-out-sequence recipes, and `eval --sequences`."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import run
from core.errors import UserError
from nets.config import load_model_config
from nets.deploy.onnx_export import export_onnx
from nets.model import PerceptionNet
from train.datasets import build_dataset
from train.sequences import frames_per_sequence, holdout_data_configs, holdout_recipe, parse_sequences, sequence_of

MODEL = dict(input_size=(64, 96), road_classes=["road"], class_names=["car", "pedestrian", "cyclist"])
# three drives, laid out like the SegNet copy: val holds frames of one drive that train also has
LAYOUT = {"train": {"0001TP": 2, "0006R0": 3, "0016E5": 4}, "val": {"0016E5": 2}}
CFG = dict(type="camvid", road_class_ids={"road": [3]}, void_ids=[11],
           box_class_ids={"car": [8], "pedestrian": [9], "cyclist": [10]}, min_box_area=20,
           augment=dict(scale=[0.8, 1.25], flip_prob=0.5, hsv_h=0.0, hsv_s=0.0, hsv_v=0.0,
                        min_box_visibility=0.3, min_box_size=2))


def make_camvid(root: Path, layout=LAYOUT) -> Path:
    """CamVid-like folders with list files; the frame number encodes the split and the order."""
    label = np.zeros((60, 80), np.uint8)
    label[40:] = 3
    label[30:45, 10:30] = 8
    for split, drives in layout.items():
        lines = []
        for seq, count in drives.items():
            for i in range(count):
                name = f"{seq}_{(100 if split == 'val' else 0) + i:05d}.png"
                for folder, image in ((split, np.full((60, 80, 3), 7 * i, np.uint8)), (f"{split}annot", label)):
                    (root / folder).mkdir(parents=True, exist_ok=True)
                    assert cv2.imwrite(str(root / folder / name), image)
                lines.append(f"/SegNet/CamVid/{split}/{name} /SegNet/CamVid/{split}annot/{name}")
        (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root


def names(dataset) -> list[str]:
    parts = getattr(dataset, "datasets", [dataset])
    return [Path(image).name for part in parts for image, _ in part.frames]


def test_sequence_is_the_file_name_prefix():
    assert sequence_of("/x/0016E5_07959.png") == "0016E5"
    assert sequence_of("Seq05VD_f00660.png") == "Seq05VD"
    assert parse_sequences("0001TP, 0006R0,") == ["0001TP", "0006R0"]
    assert parse_sequences(None) is None
    with pytest.raises(UserError, match="at least one"):
        parse_sequences(" , ")


def test_filters_keep_and_drop_sequences(tmp_path):
    cfg = {**CFG, "root": str(make_camvid(tmp_path / "camvid"))}
    everything = build_dataset(cfg, "train", augment=False, **MODEL)
    assert frames_per_sequence(everything) == {"0001TP": 2, "0006R0": 3, "0016E5": 4}

    only = build_dataset({**cfg, "sequences": "0001TP,0006R0"}, "train", augment=False, **MODEL)
    assert names(only) == ["0001TP_00000.png", "0001TP_00001.png", "0006R0_00000.png", "0006R0_00001.png",
                           "0006R0_00002.png"]
    without = build_dataset({**cfg, "exclude_sequences": ["0016E5"]}, "train", augment=False, **MODEL)
    assert frames_per_sequence(without) == {"0001TP": 2, "0006R0": 3}
    # a filtered reader still loads its frames with labels
    assert without.load(0).road is not None and len(without.load(0).boxes) == 1


def test_filter_that_leaves_nothing_names_the_sequences_there_are(tmp_path):
    cfg = {**CFG, "root": str(make_camvid(tmp_path / "camvid"))}
    with pytest.raises(UserError, match=r"no frame left.*'0001TP': 2, '0006R0': 3, '0016E5': 4"):
        build_dataset({**cfg, "sequences": ["0001tp"]}, "train", augment=False, **MODEL)


def test_a_split_list_may_lack_the_sequence_in_one_part(tmp_path):
    """val has no 0001TP; train+val filtered to 0001TP is train's two frames, not an error."""
    cfg = {**CFG, "root": str(make_camvid(tmp_path / "camvid")), "splits": {"val": ["train", "val"]},
           "sequences": ["0001TP"]}
    ds = build_dataset(cfg, "val", augment=False, **MODEL)
    assert names(ds) == ["0001TP_00000.png", "0001TP_00001.png"]


def test_holdout_trains_on_other_sequences_and_selects_on_the_held_out_one(tmp_path):
    cfg = {**CFG, "root": str(make_camvid(tmp_path / "camvid")), "sequences": ["stale"]}
    train_cfg, val_cfg = holdout_data_configs(cfg, "0016E5")
    train_set = build_dataset(train_cfg, "train", augment=True, **MODEL)
    val_set = build_dataset(val_cfg, "val", augment=False, **MODEL)
    # train: every other drive of train and val; val: the held-out drive from both splits (4 + 2 frames)
    assert frames_per_sequence(train_set) == {"0001TP": 2, "0006R0": 3}
    assert frames_per_sequence(val_set) == {"0016E5": 6}
    assert not set(names(train_set)) & set(names(val_set))
    assert train_set[0].image.shape[:2] == (64, 96)  # augmented to the network input


def test_holdout_recipe_replaces_the_data_of_a_recipe(tmp_path):
    data_yaml = tmp_path / "camvid.yaml"
    data_yaml.write_text(json.dumps({**CFG, "root": str(make_camvid(tmp_path / "camvid"))}))
    recipe = {"model": "m.yaml", "data": {"train": str(data_yaml), "val": str(data_yaml)}, "epochs": 1}
    out = holdout_recipe(recipe, "0001TP")
    assert out["data"]["train"]["exclude_sequences"] == ["0001TP"]
    assert out["data"]["val"]["sequences"] == ["0001TP"] and out["epochs"] == 1
    assert recipe["data"]["train"] == str(data_yaml)  # the recipe itself is untouched


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    torch.manual_seed(0)
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    return export_onnx(net, tmp_path_factory.mktemp("tiny") / "tiny.onnx")


def test_eval_scores_only_the_sequences_asked_for(tiny_onnx, tmp_path, capsys):
    root = make_camvid(tmp_path / "camvid")
    out = tmp_path / "scores.json"
    code = run.main(["eval", "--dataset", "camvid", "--root", str(root), "--split", "train,val",
                     "--sequences", "0016E5", "--weights", str(tiny_onnx), "--backend", "onnxruntime",
                     "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["frames"] == 6 and report["sequences"] == {"0016E5": 6}
    assert "frames per sequence: {'0016E5': 6}" in capsys.readouterr().out

    code = run.main(["eval", "--dataset", "camvid", "--root", str(root), "--split", "train",
                     "--exclude-sequences", "0016E5,0006R0", "--weights", str(tiny_onnx), "--json", str(out)])
    assert code == 0 and json.loads(out.read_text())["sequences"] == {"0001TP": 2}


def test_eval_with_a_sequence_the_split_lacks_is_one_line_exit_2(tiny_onnx, tmp_path, capsys):
    root = make_camvid(tmp_path / "camvid")
    code = run.main(["eval", "--dataset", "camvid", "--root", str(root), "--split", "val", "--sequences", "Seq05VD",
                     "--weights", str(tiny_onnx)])
    assert code == 2
    assert "no frame left" in capsys.readouterr().err


def test_a_recipe_key_or_the_flag_holds_sequences_out(tmp_path):
    import yaml

    from train.engine import load_train_config

    data_yaml = tmp_path / "camvid.yaml"
    data_yaml.write_text(yaml.safe_dump({**CFG, "root": str(make_camvid(tmp_path / "camvid"))}))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"model": "m", "data": {"train": str(data_yaml), "val": str(data_yaml)},
                                      "epochs": 1, "batch": 1, "imgsz": [64, 96], "holdout_sequences": ["0001TP"]}))
    assert load_train_config(recipe)["data"]["val"]["sequences"] == ["0001TP"]
    flagged = load_train_config(recipe, holdout_sequences="0006R0")  # the flag wins over the recipe
    assert flagged["data"]["train"]["exclude_sequences"] == ["0006R0"]
    shipped = load_train_config("configs/train/camvid_n_heldout.yaml")
    assert shipped["data"]["val"]["sequences"] == ["0001TP"]
    assert "0001TP" in shipped["data"]["train"]["exclude_sequences"]


def test_sequences_with_kitti_road_are_refused_not_ignored():
    import argparse

    from train.cli import cmd_eval

    args = argparse.Namespace(dataset="kitti-road", sequences="0001TP", exclude_sequences=None)
    with pytest.raises(UserError, match="KITTI Road has none"):
        cmd_eval(args)
