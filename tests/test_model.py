"""The network: head shapes at several input sizes, a training step, the config checks."""

import pytest
import torch

from nets.config import ConfigError, load_model_config, scaled_channels
from nets.info import describe
from nets.model import PerceptionNet


@pytest.fixture(scope="module")
def net_n():
    return PerceptionNet(load_model_config())


@pytest.mark.parametrize("hw", [(384, 640), (256, 320), (128, 192)])
def test_inference_shapes(net_n, hw):
    h, w = hw
    net_n.eval()
    with torch.no_grad():
        det, road = net_n(torch.rand(2, 3, h, w))
    anchors = sum((h // s) * (w // s) for s in (8, 16, 32))
    assert det.shape == (2, 4 + 3, anchors)
    assert road.shape == (2, 1, h // 4, w // 4)  # the stride-4 grid; post-processing resizes once
    assert 0.0 <= float(road.min()) and float(road.max()) <= 1.0  # probabilities, sigmoid in the graph


def test_training_outputs_and_backward(net_n):
    net_n.train()
    out = net_n(torch.rand(2, 3, 128, 192))
    assert out["road"].shape == (2, 1, 128, 192)
    assert out["road_aux"].shape == (2, 1, 128, 192)  # deep supervision, training only
    assert [f.shape[2:] for f in out["det"]["feats"]] == [(16, 24), (8, 12), (4, 6)]
    loss = out["road"].mean() + out["det"]["scores"].mean() + out["det"]["boxes"].mean() + out["road_aux"].mean()
    loss.backward()
    grads = [p.grad for p in net_n.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    net_n.zero_grad()


def test_lane_channel_and_scale_s():
    cfg = load_model_config("configs/model/perception_s.yaml", road_classes=["road", "lane"])
    net = PerceptionNet(cfg).eval()
    with torch.no_grad():
        det, road = net(torch.rand(1, 3, 64, 96))
    assert road.shape == (1, 2, 16, 24)
    assert det.shape[1] == 4 + 3
    assert scaled_channels(cfg)[-1] == 2 * scaled_channels(load_model_config())[-1]


def test_info_figures(net_n):
    info = describe(net_n)
    assert info["input_size"] == [384, 640]
    assert 1e6 < info["params"] < 5e6
    assert 2.0 < info["gflops"] < 6.0


def test_bad_configs(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_model_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="multiples of 32"):
        load_model_config(input_size=[100, 640])
    with pytest.raises(ConfigError, match="scale 'x'"):
        load_model_config(scale="x")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scale: n\n")
    with pytest.raises(ConfigError, match="lacks the keys"):
        load_model_config(bad)
