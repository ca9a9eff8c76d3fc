"""Files from elsewhere are data, never code: a crafted .pt is refused without running anything,
a damaged checkpoint is a clear error, and a .pt's ONNX sibling is used only when it was exported
from those very weights."""

import builtins
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import yaml

from core.errors import UserError
from nets.backends.base import BackendUnavailableError
from nets.config import DEFAULT_WEIGHTS, PROJECT_ROOT, load_model_config
from nets.deploy.onnx_export import export_onnx
from nets.deploy.sibling_check import read_onnx_metadata, sibling_is_stale
from nets.model import PerceptionNet
from nets.predictor import load_predictor
from nets.weights import (
    WEIGHTS_DIGEST_KEY,
    WeightsError,
    checkpoint_digest,
    load_checkpoint_file,
    load_model,
    read_checkpoint,
    save_checkpoint,
)
from train import engine


class CreatesMarker:
    """Unpickling this calls open(marker, "w"): a file appears if and only if the pickle's code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


@pytest.fixture
def malicious_pt(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    torch.save({"model_config": net.cfg, "model": net.state_dict(), "payload": CreatesMarker(marker)}, path)
    assert not marker.exists()
    return path, marker


def test_the_marker_payload_is_real_code(malicious_pt):
    """The known answer the next tests rely on: a full unpickle of this file does create the marker."""
    path, marker = malicious_pt
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_a_crafted_pt_is_refused_and_its_code_never_runs(malicious_pt):
    path, marker = malicious_pt
    for load in (read_checkpoint, load_model, lambda p: load_predictor(p, backend="torch"), load_checkpoint_file):
        with pytest.raises(WeightsError, match=r"refused to load .*evil\.pt.*Nothing in it was run") as e:
            load(path)
        assert isinstance(e.value, UserError)
        assert "open" in str(e.value)  # names what it refused
    assert not marker.exists()


def test_resume_from_a_crafted_last_pt_runs_nothing(malicious_pt, tmp_path):
    """--resume reads <out_dir>/last.pt through the same weights_only loader."""
    from scenes import make_scenes

    path, marker = malicious_pt
    data_cfg = yaml.safe_load((PROJECT_ROOT / "configs/data/camvid.yaml").read_text())
    data_cfg["root"] = str(make_scenes(tmp_path / "camvid", n_train=2, n_val=1))
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(data_cfg))
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(path, out / "last.pt")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"model": "configs/model/perception_n.yaml",
                                      "data": {"train": str(tmp_path / "data.yaml")}, "imgsz": [64, 96],
                                      "epochs": 1, "batch": 1, "workers": 0, "out_dir": str(out)}))
    with pytest.raises(WeightsError, match=r"refused to load .*last\.pt"):
        engine.train(engine.load_train_config(recipe), resume=True, log=lambda *_: None)
    assert not marker.exists()


def test_no_code_path_loads_with_weights_only_false():
    packages = ("nets", "train", "app", "calib", "core", "benchmarks", "scripts")
    offenders = [str(p.relative_to(PROJECT_ROOT)) for pkg in packages
                 for p in (PROJECT_ROOT / pkg).rglob("*.py") if "weights_only=False" in p.read_text()]
    assert offenders == []


def test_a_checkpoint_without_a_model_config_is_a_clear_error(tmp_path):
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    torch.save({"model_config": None, "model": net.state_dict()}, tmp_path / "none.pt")
    with pytest.raises(WeightsError, match=r"none\.pt: its 'model_config' is NoneType"):
        load_model(tmp_path / "none.pt")
    torch.save({"model_config": net.cfg, "model": [1, 2]}, tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="not a state dict"):
        load_model(tmp_path / "list.pt")


def test_a_truncated_checkpoint_is_a_clear_error(tmp_path):
    data = DEFAULT_WEIGHTS.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match=r"cannot read weights file .*cut\.pt"):
        load_model(tmp_path / "cut.pt")


def test_the_shipped_weights_load_with_weights_only_true():
    ckpt = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    assert {"model_config", "model"} <= set(ckpt)
    assert load_model(DEFAULT_WEIGHTS).cfg["name"] == "perception-n"


def test_a_training_checkpoint_round_trips_through_weights_only_loading(tmp_path):
    """Optimizer state, EMA, schedule, RNG states and numpy-valued metrics all come back."""
    from ultralytics.utils.torch_utils import ModelEMA

    cfg = {"epochs": 2, "optimizer": {"name": "adamw", "lr": 1e-3}, "schedule": {"warmup_epochs": 0},
           "out": Path("runs/x")}
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    optimizer = engine.build_optimizer(net, cfg)
    schedule = engine.build_schedule(optimizer, cfg, iters_per_epoch=3)
    ema = ModelEMA(net)
    net.train()
    out = net(torch.rand(1, 3, 64, 96))
    (out["road"].mean() + sum(t.mean() for t in out["det"]["feats"])).backward()
    optimizer.step()
    schedule.step()
    ema.update(net)
    metrics = {"road": {"IoU": np.float64(0.5), "curve": np.arange(3.0)}, "det": None}
    np.random.seed(7)
    ckpt = engine.make_checkpoint(net, ema, optimizer, schedule, None, 1, np.float32(0.25), metrics, cfg)
    expected_numpy, expected_torch = np.random.rand(3), torch.rand(3)
    engine.atomic_save(ckpt, tmp_path / "last.pt")

    back = torch.load(tmp_path / "last.pt", weights_only=True)
    assert back["metrics"]["road"]["IoU"] == 0.5 and back["best_fitness"] == 0.25
    assert back["train_config"]["out"] == "runs/x"
    opt2 = engine.build_optimizer(PerceptionNet(load_model_config(input_size=[64, 96])), cfg)
    opt2.load_state_dict(back["optimizer"])
    first = next(iter(optimizer.state.values()))
    torch.testing.assert_close(next(iter(opt2.state.values()))["exp_avg"], first["exp_avg"])
    assert back["schedule"]["last_epoch"] == 1 and back["ema_updates"] == 1
    engine.set_rng_state(back["rng"])
    np.testing.assert_array_equal(np.random.rand(3), expected_numpy)
    torch.testing.assert_close(torch.rand(3), expected_torch)


# ---------------------------------------------------------------------------- ONNX siblings


@pytest.fixture
def pt_with_sibling(tmp_path):
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    pt = save_checkpoint(tmp_path / "n.pt", net)
    export_onnx(net, tmp_path / "n.onnx")
    return pt, tmp_path / "n.onnx"


def test_export_records_the_digest_of_the_weights(pt_with_sibling):
    pt, sibling = pt_with_sibling
    assert read_onnx_metadata(sibling)[WEIGHTS_DIGEST_KEY] == checkpoint_digest(pt)
    assert load_predictor(pt, backend="auto").backend.path == sibling


def test_a_stale_sibling_is_not_run_and_auto_says_why(pt_with_sibling):
    pt, sibling = pt_with_sibling
    save_checkpoint(pt, PerceptionNet(load_model_config(input_size=[64, 96])))  # new weights, old export
    with pytest.raises(BackendUnavailableError, match=r"n\.onnx is not an export of n\.pt: .*stale.*re-write it"):
        load_predictor(pt, backend="onnxruntime")
    auto = load_predictor(pt, backend="auto")
    assert auto.backend_name == "torch" and "stale" in auto.choice_reason


def test_a_corrupt_pt_beside_valid_siblings_is_reported_not_bypassed(pt_with_sibling):
    pt, _ = pt_with_sibling
    data = pt.read_bytes()
    pt.write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match=r"cannot read weights file .*n\.pt"):
        load_predictor(pt, backend="auto")


def test_a_sibling_without_a_digest_is_not_trusted(pt_with_sibling):
    pt, sibling = pt_with_sibling
    model = onnx.load(str(sibling))
    kept = [(p.key, p.value) for p in model.metadata_props if p.key != WEIGHTS_DIGEST_KEY]
    del model.metadata_props[:]
    for key, value in kept:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(sibling))
    with pytest.raises(BackendUnavailableError, match="carries no weights digest"):
        load_predictor(pt, backend="onnxruntime")


def test_the_shipped_siblings_are_exports_of_the_shipped_weights():
    for name in ("perception_n.onnx", "perception_n.int8cpu.onnx"):
        sibling = DEFAULT_WEIGHTS.with_name(name)
        assert read_onnx_metadata(sibling).get(WEIGHTS_DIGEST_KEY) == checkpoint_digest(DEFAULT_WEIGHTS)
        assert sibling_is_stale(DEFAULT_WEIGHTS, sibling) == ""
