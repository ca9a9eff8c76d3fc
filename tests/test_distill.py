"""Distillation (train.distill): soft-target losses with known values, teachers checked, a training run with one."""

import copy
import csv
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import train.engine as engine
from core.config import ConfigError
from nets.config import load_model_config
from nets.model import PerceptionNet
from nets.weights import save_checkpoint
from train.distill import Distiller, build_distiller

IMAGES_SHAPE = (2, 3, 64, 96)


def tiny_net(seed: int, scale: str = "n") -> PerceptionNet:
    torch.manual_seed(seed)
    return PerceptionNet(load_model_config(f"configs/model/perception_{scale}.yaml", input_size=[64, 96]))


def binary_entropy_sum(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-12, 1 - 1e-12)
    return -(p * p.log() + (1 - p) * (1 - p).log()).sum()


def test_student_equal_to_its_teacher_scores_the_teachers_own_entropy():
    """BCE(q, p) = H(p) + KL(p || q): with the student's outputs equal to the teacher's, each term is the
    teacher's binary entropy, the least it can be (computed here from the teacher's eval outputs)."""
    teacher = tiny_net(0).eval()
    student = copy.deepcopy(teacher).eval()
    images = torch.rand(IMAGES_SHAPE, generator=torch.Generator().manual_seed(1))
    distiller = Distiller([teacher], road=1.0, cls=0.5)

    # the student's training-form outputs (road logits and raw Detect scores), taken in eval mode so that
    # BatchNorm matches the teacher's; the eval road head stops at stride 4, as the teacher's does
    with torch.no_grad():
        p2, p3, p4, p5 = student.encoder(images)
        road_logits, _ = student.road(p2, p4, p5, out_size=images.shape[2:])
        _, raw = student.detect(student.neck(p3, p4, p5))
    total, log = distiller({"road": road_logits, "det": raw}, images)

    road_t, scores_t = distiller.soft_targets(images)
    assert road_t.shape == road_logits.shape
    assert torch.allclose(raw["scores"].sigmoid(), scores_t, atol=1e-6)  # same anchors, same order
    assert log["kd_road"] == pytest.approx(float(binary_entropy_sum(road_t) / road_t.numel()), rel=1e-4)
    expected_cls = binary_entropy_sum(scores_t) / scores_t.sum().clamp(min=1.0)
    assert log["kd_cls"] == pytest.approx(float(expected_cls), rel=1e-4)
    assert float(total) == pytest.approx(log["kd_road"] + 0.5 * log["kd_cls"], rel=1e-6)


def test_the_gradient_moves_a_student_toward_its_teachers():
    """The loss is the teachers' entropy (fixed) plus the KL divergence to them: the steps must shrink the KL."""
    teachers = [tiny_net(0), tiny_net(1)]
    student = tiny_net(2).train()
    distiller = Distiller(teachers, road=1.0, cls=1.0)
    images = torch.rand(IMAGES_SHAPE, generator=torch.Generator().manual_seed(3))
    road_t, scores_t = distiller.soft_targets(images)
    road_full = F.interpolate(road_t, size=images.shape[2:], mode="bilinear", align_corners=False)
    entropy = (binary_entropy_sum(road_full) / road_full.numel()
               + binary_entropy_sum(scores_t) / scores_t.sum().clamp(min=1.0))
    optimizer = torch.optim.Adam(student.parameters(), lr=3e-3)
    divergence = []
    for _ in range(15):
        loss, _ = distiller(student(images), images)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        divergence.append(float(loss.detach() - entropy))
    assert divergence[0] > 0 and divergence[-1] < 0.5 * divergence[0]
    assert all(not t.training for t in distiller.teachers)  # still eval mode, untouched by the student's steps
    assert all(p.grad is None for p in distiller.parameters())


def test_teachers_are_checked_by_name(tmp_path):
    student_cfg = load_model_config("configs/model/perception_n.yaml")
    good = save_checkpoint(tmp_path / "s_teacher.pt", tiny_net(0, "s"))  # another scale is fine
    one = build_distiller({"teachers": str(good)}, student_cfg, "cpu")  # one path, not in a list, is fine
    assert len(one.teachers) == 1 and one.sources == [str(good)]
    assert build_distiller(None, student_cfg, "cpu") is None
    with pytest.raises(ConfigError, match="did you mean 'teachers'"):
        build_distiller({"teacher": [str(good)]}, student_cfg, "cpu")
    with pytest.raises(ConfigError, match="needs 'teachers'"):
        build_distiller({"road": 1.0}, student_cfg, "cpu")
    other = PerceptionNet(load_model_config("configs/model/perception_n.yaml", input_size=[64, 96],
                                            classes=["car", "truck"]))
    wrong = save_checkpoint(tmp_path / "cars_trucks.pt", other)
    with pytest.raises(ConfigError, match=r"cars_trucks.pt has classes \['car', 'truck'\]"):
        build_distiller({"teachers": [str(wrong)]}, student_cfg, "cpu")


def test_a_training_run_with_a_teacher_logs_the_distillation_terms(recipe):
    teacher = save_checkpoint(recipe.parent / "teacher.pt", tiny_net(5))
    cfg = engine.load_train_config(recipe, epochs=2)
    cfg["distill"] = {"teachers": [str(teacher)], "road": 1.0, "cls": 0.5}
    engine.train(cfg, log=lambda *_: None)
    with (Path(cfg["out_dir"]) / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and float(rows[0]["loss_kd_road"]) > 0 and float(rows[0]["loss_kd_cls"]) > 0
    # the total carries the soft terms on top of the hard ones
    hard = sum(float(rows[0][f"loss_{k}"]) for k in ("road", "road_aux")) + float(rows[0]["loss_det"])
    soft = float(rows[0]["loss_kd_road"]) + 0.5 * float(rows[0]["loss_kd_cls"])
    assert float(rows[0]["loss_total"]) == pytest.approx(hard + soft, rel=1e-3)
