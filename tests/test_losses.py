"""The multi-task loss, pinned: ultralytics' v8DetectionLoss behind a stand-in model object (`_DetectLossView`).

The detection loss is reused from ultralytics rather than copied, through a view
that hands it three attributes of our network. These tests fix its numbers, so an
ultralytics upgrade that changes the loss (or what it reads from the view) fails
here instead of silently changing training: one case is worked out by hand, the
other is a value recorded on a deterministic input (no random numbers).
"""

import math

import pytest
import torch

from nets.config import load_model_config
from nets.model import PerceptionNet
from train.losses import IGNORE, MultiTaskLoss

H, W = 64, 96  # network input; anchors at strides 8, 16, 32: 8x12 + 4x6 + 2x3
ANCHORS = 8 * 12 + 4 * 6 + 2 * 3


@pytest.fixture(scope="module")
def net_n():
    return PerceptionNet(load_model_config())  # reg_max 1: direct side regression, l1 term


@pytest.fixture(scope="module")
def net_s():
    return PerceptionNet(load_model_config("configs/model/perception_s.yaml"))  # reg_max 16: DFL term


def head_outputs(net: PerceptionNet, batch: int, score_logit=None) -> dict:
    """Training outputs of the right shapes with fixed, non-random values: road logits 0 (void targets)."""
    reg_max, nc = net.detect.reg_max, net.detect.nc
    feats = [torch.zeros(batch, 1, H // s, W // s) for s in (8, 16, 32)]  # the loss reads only their shapes
    k = torch.arange(batch * 4 * reg_max * ANCHORS, dtype=torch.float32)
    boxes = (1.5 + torch.sin(0.37 * k)).reshape(batch, 4 * reg_max, ANCHORS)
    j = torch.arange(batch * nc * ANCHORS, dtype=torch.float32)
    scores = (2.0 * torch.cos(0.71 * j) - 1.0) if score_logit is None else torch.full_like(j, score_logit)
    return {"road": torch.zeros(batch, 1, H, W),
            "det": {"boxes": boxes.requires_grad_(), "scores": scores.reshape(batch, nc, ANCHORS).requires_grad_(),
                    "feats": feats}}


def batch_of(n_images: int, has_boxes: list[bool], batch_idx, cls, boxes_xywh) -> dict:
    return {"road": torch.full((n_images, 1, H, W), IGNORE, dtype=torch.uint8),
            "has_boxes": torch.tensor(has_boxes),
            "batch_idx": torch.tensor(batch_idx, dtype=torch.float32),
            "cls": torch.tensor(cls, dtype=torch.float32).reshape(-1, 1),
            "bboxes": torch.tensor(boxes_xywh, dtype=torch.float32).reshape(-1, 4)}


def test_an_image_labelled_empty_teaches_no_object_at_every_anchor(net_n):
    """Worked by hand: score logits 0 and no target give BCE ln 2 at each anchor and class, no box loss.

    ultralytics divides the class loss by the summed target scores, at least 1, and multiplies by the gain
    (cls 0.5); our wrapper drops the road-only image and divides by the one image with box labels."""
    loss = MultiTaskLoss(net_n, {})
    out = head_outputs(net_n, 2, score_logit=0.0)
    batch = batch_of(2, [True, False], [], [], [])
    total, log = loss(out, batch)
    expected = ANCHORS * 3 * math.log(2) * 0.5
    assert log["cls_loss"] == pytest.approx(expected, rel=1e-6)
    assert log["box_loss"] == 0.0 and log["l1_loss"] == 0.0
    assert log["det"] == pytest.approx(expected, rel=1e-6)
    assert log["road"] == 0.0 and log["total"] == pytest.approx(expected, rel=1e-6)


# Recorded with ultralytics 8.4.190 (torch 2.14.1). A change here means the upgrade changed the detection
# loss: find out what changed before re-recording, since every training recipe's loss weights rest on it.
PINNED_N = {"box_loss": 4.50842905, "cls_loss": 99.4472198, "l1_loss": 0.107594155, "det": 104.063248}
PINNED_S = {"box_loss": 0.421350241, "cls_loss": 189.082077, "dfl_loss": 0.259706229, "det": 189.763138}


@pytest.mark.parametrize("scale", ["n", "s"])
def test_detection_loss_on_a_fixed_input_is_pinned(scale, net_n, net_s):
    net = {"n": net_n, "s": net_s}[scale]
    loss = MultiTaskLoss(net, {})
    out = head_outputs(net, 3)
    # image 0: a car and a cyclist; image 1: road only (dropped); image 2: a pedestrian (normalised xywh)
    batch = batch_of(3, [True, False, True], [0, 0, 2], [0, 2, 1],
                     [[0.30, 0.55, 0.25, 0.30], [0.70, 0.60, 0.15, 0.40], [0.50, 0.50, 0.10, 0.50]])
    total, log = loss(out, batch)
    pinned = {"n": PINNED_N, "s": PINNED_S}[scale]
    assert {k: log[k] for k in pinned} == pytest.approx(pinned, rel=1e-5)
    assert log["total"] == pytest.approx(pinned["det"], rel=1e-5)
    total.backward()  # the loss reaches the head outputs
    assert out["det"]["boxes"].grad.abs().sum() > 0 and out["det"]["scores"].grad.abs().sum() > 0
