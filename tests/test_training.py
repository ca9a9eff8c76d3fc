"""The training engine on a tiny generated CamVid-layout dataset: learning, resume, divergence, DDP."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import train.engine as engine
from nets.config import PROJECT_ROOT
from nets.weights import load_model, release_checkpoint
from scenes import make_scenes


def read_rows(run: Path) -> list[dict]:
    with (run / "results.csv").open() as f:
        return list(csv.DictReader(f))


def test_epochs_lower_the_loss_and_write_logs(recipe):
    cfg = engine.load_train_config(recipe)
    summary = engine.train(cfg, log=lambda *_: None)
    run = Path(cfg["out_dir"])
    rows = read_rows(run)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["loss_total"]) < float(rows[0]["loss_total"])
    assert float(rows[-1]["loss_road"]) < float(rows[0]["loss_road"])
    assert {"road_IoU", "road_MaxF", "mAP50", "AP50_car"} <= set(rows[-1])
    assert (run / "last.pt").is_file() and (run / "best.pt").is_file()
    assert list((run / "tensorboard").glob("events.*"))
    assert summary["epochs"] == 3
    # the release file (what weights/ ships) loads as a plain model, without optimizer or aux head
    release = release_checkpoint(run / "best.pt", run / "release.pt")
    assert release.stat().st_size < (run / "last.pt").stat().st_size / 3
    model = load_model(release)
    assert model.road.aux is not None  # built, but its weights are not needed at inference


def test_interrupted_run_resumes_to_the_same_state(recipe, monkeypatch):
    cfg = engine.load_train_config(recipe, epochs=2, out_dir=str(recipe.parent / "straight"))
    engine.train(cfg, log=lambda *_: None)
    straight = torch.load(recipe.parent / "straight" / "last.pt", weights_only=True)

    original = engine.train_one_epoch

    def crash_in_second_epoch(*args, **kwargs):
        if args[8] == 1:  # the epoch argument: a crash after epoch 1 was checkpointed
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    cfg = engine.load_train_config(recipe, epochs=2, out_dir=str(recipe.parent / "resumed"))
    monkeypatch.setattr(engine, "train_one_epoch", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        engine.train(cfg, log=lambda *_: None)
    assert torch.load(recipe.parent / "resumed" / "last.pt", weights_only=True)["epoch"] == 1
    monkeypatch.setattr(engine, "train_one_epoch", original)
    engine.train(cfg, resume=True, log=lambda *_: None)
    resumed = torch.load(recipe.parent / "resumed" / "last.pt", weights_only=True)

    assert resumed["epoch"] == straight["epoch"] == 2
    for key in ("train_model", "model"):
        for name, value in straight[key].items():
            torch.testing.assert_close(resumed[key][name], value, rtol=1e-5, atol=1e-6, msg=f"{key}.{name}")
    assert resumed["schedule"]["last_epoch"] == straight["schedule"]["last_epoch"]
    assert resumed["ema_updates"] == straight["ema_updates"]


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(recipe, monkeypatch):
    cfg = engine.load_train_config(recipe, epochs=3)
    real_forward = engine.MultiTaskLoss.forward
    calls = {"n": 0}

    def poisoned(self, out, batch):
        total, log = real_forward(self, out, batch)
        calls["n"] += 1
        if calls["n"] > 2:  # epoch 1 has 2 batches; the first batch of epoch 2 goes NaN
            total = total * float("nan")
            log["total"] = float("nan")
        return total, log

    monkeypatch.setattr(engine.MultiTaskLoss, "forward", poisoned)
    with pytest.raises(engine.TrainingDiverged, match="nan at epoch 2, batch 1"):
        engine.train(cfg, log=lambda *_: None)
    ckpt = torch.load(Path(cfg["out_dir"]) / "last.pt", weights_only=True)
    assert ckpt["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if v.is_floating_point())


def test_resume_without_checkpoint_is_a_clear_error(recipe):
    cfg = engine.load_train_config(recipe)
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*last.pt"):
        engine.train(cfg, resume=True, log=lambda *_: None)


def test_init_weights_starts_from_them_and_recipe_augment_turns_on_mosaic(recipe, monkeypatch):
    from nets.config import load_model_config
    from nets.model import PerceptionNet
    from nets.weights import save_checkpoint

    torch.manual_seed(7)
    start = PerceptionNet(load_model_config("configs/model/perception_n.yaml"))
    init = save_checkpoint(recipe.parent / "init.pt", start)
    seen = {}

    def no_update(model, criterion, optimizer, schedule, ema, scaler, loader, *args, **kwargs):
        seen["sample"] = loader.dataset[0]  # what the recipe's augment override made of item 0
        return {}

    monkeypatch.setattr(engine, "train_one_epoch", no_update)
    cfg = engine.load_train_config(recipe, epochs=1, init_weights=str(init))
    cfg["augment"] = {"mosaic": 1.0}
    engine.train(cfg, log=lambda *_: None)
    last = torch.load(Path(cfg["out_dir"]) / "last.pt", weights_only=True)
    for name, value in start.state_dict().items():  # no update ran: the run holds exactly the init weights
        torch.testing.assert_close(last["train_model"][name], value, msg=name)
    assert seen["sample"].source.startswith("mosaic of ")
    # a checkpoint of another architecture is refused by name
    other = save_checkpoint(recipe.parent / "s.pt", PerceptionNet(load_model_config("configs/model/perception_s.yaml")))
    with pytest.raises(Exception, match="another architecture"):
        engine.train(engine.load_train_config(recipe, epochs=1, init_weights=str(other)), log=lambda *_: None)


@pytest.mark.slow
def test_ddp_with_two_gloo_processes(recipe):
    run = recipe.parent / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(PROJECT_ROOT / "run.py"), "train", "--config", str(recipe), "--epochs", "1", "--out-dir", str(run)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 process(es)" in proc.stdout
    ckpt = torch.load(run / "last.pt", weights_only=True)
    assert ckpt["epoch"] == 1
    # 8 training images, batch 4 per process, 2 processes: one optimizer step per epoch
    assert ckpt["schedule"]["last_epoch"] == 1
    assert [int(r["epoch"]) for r in read_rows(run)] == [1]


def test_eval_camvid_command_reports_road_and_detection(tmp_path, capsys):
    from run import main

    data = make_scenes(tmp_path / "camvid", n_train=1, n_val=3)
    out = tmp_path / "scores.json"
    assert main(["eval", "--dataset", "camvid", "--root", str(data), "--split", "val", "--backend", "onnxruntime",
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["frames"] == 3 and report["backend"] == "onnxruntime" and report["split"] == "val"
    assert report["boxes_derived_from_masks"] is True
    assert 0.0 <= report["road"]["IoU"] <= 1.0 and 0.0 < report["road"]["MaxF"] <= 1.0
    assert report["det"]["per_class"]["car"]["instances"] == 3
    printed = capsys.readouterr().out
    assert "CamVid val: 3 frames" in printed and "boxes derived from masks" in printed


def test_frozen_parts_keep_their_weights_and_batchnorm_statistics(recipe):
    """A detection-only fine-tune (`freeze: [encoder, road]`): after an epoch the encoder and the road decoder
    are bit for bit the initial weights, BatchNorm running statistics included; the neck and the head moved."""
    from nets.config import load_model_config
    from nets.model import PerceptionNet
    from nets.weights import save_checkpoint

    torch.manual_seed(3)
    start = PerceptionNet(load_model_config("configs/model/perception_n.yaml"))
    init = save_checkpoint(recipe.parent / "init.pt", start)
    cfg = engine.load_train_config(recipe, epochs=1, init_weights=str(init))
    cfg["freeze"] = ["encoder", "road"]
    engine.train(cfg, log=lambda *_: None)
    trained = torch.load(Path(cfg["out_dir"]) / "last.pt", weights_only=True)["train_model"]
    initial = start.state_dict()
    for name, value in initial.items():
        if name.startswith(("encoder.", "road.")):
            torch.testing.assert_close(trained[name], value, msg=name)
    moved = [n for n in initial if n.startswith(("neck.", "detect.")) and initial[n].is_floating_point()
             and not torch.equal(trained[n], initial[n])]
    assert any(n.endswith("running_mean") for n in moved) and any(n.endswith(".weight") for n in moved)


@pytest.mark.parametrize("freeze, message", [(["encoders"], "did you mean 'encoder'"),
                                             (["encoder", "neck", "road", "detect"], "nothing would train")])
def test_freeze_names_the_bad_part(recipe, freeze, message):
    from core.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        engine.load_train_config(recipe, freeze=freeze)
