"""train.camvid_eval.evaluate_camvid called as a script would, with the tiny model's ONNX Runtime session on
generated CamVid-style scenes (one car on the road in each)."""

from __future__ import annotations

from nets.predictor import load_predictor
from scenes import make_scenes
from train.camvid_eval import evaluate_camvid
from train.evaluate import format_report


def test_evaluate_camvid_scores_the_asked_split(tiny_onnx, tmp_path):
    data = make_scenes(tmp_path / "camvid", n_train=2, n_val=3)
    predictor = load_predictor(tiny_onnx, backend="onnxruntime", conf=0.001, iou=0.6)
    try:
        val = evaluate_camvid(predictor, "configs/data/camvid.yaml", root=data)  # split None: val
        both = evaluate_camvid(predictor, "configs/data/camvid.yaml", root=data, split="train,val")
    finally:
        predictor.close()
    assert val["dataset"] == "camvid" and val["split"] == "val" and val["frames"] == 3
    assert both["split"] == "train,val" and both["frames"] == 5
    assert sum(val["sequences"].values()) == 3
    assert val["det"]["per_class"]["car"]["instances"] == 3 and 0.0 <= val["road"]["IoU"] <= 1.0
    # the scenes' car is 20 px tall in 96-px frames: under the KITTI-moderate height, so left out there
    assert val["det_tall"]["min_height"] == 25 and val["det_tall"]["per_class"]["car"]["instances"] == 0
    assert "objects >= 25 px tall (KITTI moderate height): mAP50 0.0000" in format_report(val, "val")
