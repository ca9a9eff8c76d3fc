"""Configuration says what is wrong: unknown keys name the file, the key and the key meant;
wrong kinds are clear errors, not AttributeErrors; each default lives in one place;
an implausible camera is rejected or warned about."""

import warnings

import pytest
import yaml

from app.frames import Thresholds, load_runtime_config
from calib.camera import ImplausibleCameraWarning, load_camera_geometry, parse_camera_config
from core.config import NUMBER, ConfigError, Either, Open, closest_key, schema_from_example, validate
from core.errors import BadInputError, InputNotFoundError, MissingDependencyError, OutputError, UserError
from nets.blocks import ACTIVATIONS
from nets.config import (
    ACTIVATION_NAMES,
    CONFIG_DIR,
    DEFAULT_MODEL_CONFIG,
    PROJECT_ROOT,
    RUNTIME_CONFIG,
    default_thresholds,
    load_model_config,
)
from nets.model import PerceptionNet
from nets.weights import WeightsError, load_model
from train.augment import AugmentParams
from train.datasets import build_dataset
from train.recipe import load_train_config


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data))
    return path


# ---------------------------------------------------------------------------- the mechanism


def test_closest_key_is_difflibs_best_match():
    assert closest_key("optimiser", ["optimizer", "schedule", "epochs"]) == "optimizer"
    assert closest_key("activaton", ["activation", "scale"]) == "activation"
    assert closest_key("zzz", ["activation", "scale"]) is None


def test_validate_checks_keys_kinds_open_maps_and_alternatives():
    schema = {"lr": NUMBER, "name": str, "colors": Open(list), "ema": Either(type(None), {"decay": NUMBER})}
    good = {"lr": 1, "name": "x", "colors": {"truck": [1, 2, 3]}, "ema": None}
    assert validate(good, schema, "f.yaml") is good
    for data, message in [
        ({"lr": True}, r"f.yaml: 'lr' must be a number, got True \(bool\)"),
        ({"nme": "x"}, r"f.yaml: unknown key 'nme' \(did you mean 'name'\?\)"),
        ({"colors": {"truck": 5}}, r"'colors.truck' must be a list"),
        ({"ema": {"decoy": 0.9}}, r"unknown key 'decoy' in 'ema' \(did you mean 'decay'\?\)"),
        ({"ema": 3}, r"'ema' must be a mapping"),
    ]:
        with pytest.raises(ConfigError, match=message) as e:
            validate(data, schema, "f.yaml")
        assert isinstance(e.value, UserError) and isinstance(e.value, ValueError)


def test_schema_from_example_takes_kinds_from_the_defaults():
    schema = schema_from_example({"a": {"n": 1, "x": 0.5, "flag": True, "names": {"car": [1]}}},
                                 open_paths=("a.names",))
    validate({"a": {"n": 2, "x": 1, "flag": False, "names": {"bus": [2]}}}, schema, "s")
    with pytest.raises(ConfigError, match="'a.n' must be an integer"):
        validate({"a": {"n": 2.5}}, schema, "s")


# ---------------------------------------------------------------------------- the files


def test_every_shipped_config_passes():
    for path in sorted((CONFIG_DIR / "model").glob("*.yaml")):
        load_model_config(path)
    for path in sorted((CONFIG_DIR / "train").rglob("*.yaml")):
        recipe = load_train_config(path)
        data = recipe["data"]["train"]
        data = yaml.safe_load((PROJECT_ROOT / data).read_text()) if isinstance(data, str) else data
        if "augment" in data:  # the recipe's augmentation over its data config's: every key known, every value valid
            AugmentParams.from_config({**data["augment"], **recipe.get("augment", {})}, str(path))
    load_runtime_config(RUNTIME_CONFIG)  # the defaults file validates against itself
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the example camera is a plausible one
        for path in sorted((CONFIG_DIR / "camera").glob("*.yaml")):
            load_camera_geometry(path)


def test_a_misspelt_activation_no_longer_builds_a_silu_network(tmp_path):
    cfg = yaml.safe_load(DEFAULT_MODEL_CONFIG.read_text())
    cfg["activaton"] = cfg.pop("activation")
    path = write_yaml(tmp_path / "model.yaml", cfg)
    with pytest.raises(ConfigError, match=r"model\.yaml: unknown key 'activaton' \(did you mean 'activation'\?\)"):
        load_model_config(path)
    cfg["activation"] = cfg.pop("activaton")
    cfg["activation"] = "gelu"
    with pytest.raises(ConfigError, match="activation 'gelu' is not one of silu, relu"):
        load_model_config(write_yaml(tmp_path / "model.yaml", cfg))


def test_the_activation_names_the_config_accepts_are_the_ones_the_blocks_build():
    assert set(ACTIVATION_NAMES) == set(ACTIVATIONS)


def test_a_model_config_of_the_wrong_kind_is_a_clear_error(tmp_path):
    cfg = yaml.safe_load(DEFAULT_MODEL_CONFIG.read_text())
    cfg["road_decoder"] = 64
    with pytest.raises(ConfigError, match="'road_decoder' must be a mapping"):
        load_model_config(write_yaml(tmp_path / "model.yaml", cfg))
    cfg = yaml.safe_load(DEFAULT_MODEL_CONFIG.read_text())
    cfg["input_size"] = [384, 640, 3]
    with pytest.raises(ConfigError, match=r"input_size must be \[height, width\]"):
        load_model_config(write_yaml(tmp_path / "model.yaml", cfg))


def test_a_checkpoint_with_a_misspelt_embedded_config_is_named(tmp_path):
    import torch

    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    cfg = {**net.cfg, "activaton": "relu"}
    torch.save({"model_config": cfg, "model": net.state_dict()}, tmp_path / "m.pt")
    with pytest.raises(WeightsError, match=r"m\.pt \(embedded config\): unknown key 'activaton'"):
        load_model(tmp_path / "m.pt")


def recipe(tmp_path, **changes):
    cfg = yaml.safe_load((CONFIG_DIR / "train" / "tiny_smoke.yaml").read_text())
    cfg.update(changes)
    return write_yaml(tmp_path / "recipe.yaml", cfg)


def test_a_misspelt_optimizer_no_longer_trains_adamw(tmp_path):
    path = recipe(tmp_path, optimiser={"name": "sgd"})
    with pytest.raises(ConfigError, match=r"recipe\.yaml: unknown key 'optimiser' \(did you mean 'optimizer'\?\)"):
        load_train_config(path)


@pytest.mark.parametrize("changes, message", [
    ({"optimizer": {"name": "sgd", "learning_rate": 0.1}}, r"unknown key 'learning_rate' in 'optimizer'"),
    ({"optimizer": "sgd"}, r"'optimizer' must be a mapping"),
    ({"optimizer": {"name": "adam"}}, r"optimizer.name 'adam' is not one of adamw, sgd"),
    ({"schedule": {"name": "linear"}}, r"schedule.name 'linear' is not one of cosine, poly"),
    ({"loss": {"roads": 1.0}}, r"unknown key 'roads' in 'loss' \(did you mean 'road'\?\)"),
    ({"epochs": "ten"}, r"'epochs' must be an integer, got 'ten'"),
    ({"amp": "yes"}, r"'amp' must be true or false"),
    ({"imgsz": [100, 100]}, r"imgsz must be \[height, width\], positive multiples of 32"),
    ({"val": {"every": 1, "fitnes": {}}}, r"unknown key 'fitnes' in 'val' \(did you mean 'fitness'\?\)"),
])
def test_recipe_mistakes_are_named(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        load_train_config(recipe(tmp_path, **changes))


def test_a_recipe_without_ema_is_allowed(tmp_path):
    assert load_train_config(recipe(tmp_path, ema=None))["ema"] is None


def test_data_and_augment_keys_get_a_suggestion(tmp_path):
    data = yaml.safe_load((CONFIG_DIR / "data" / "camvid.yaml").read_text())
    data["augment"]["flip_probability"] = data["augment"].pop("flip_prob")
    path = write_yaml(tmp_path / "data.yaml", {**data, "root": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"data\.yaml \(camvid\): augment: unknown key 'flip_probability' "
                                          r"\(did you mean 'flip_prob'\?\)"):
        build_dataset(path, "train", (64, 96), ["road"], ["car"], augment=True)
    mix = write_yaml(tmp_path / "mix.yaml", {"datasets": [str(path)], "sed": 1})
    with pytest.raises(ConfigError, match=r"mix\.yaml: unknown key 'sed' \(did you mean 'seed'\?\)"):
        build_dataset(mix, "train", (64, 96), ["road"], ["car"], augment=False)


# ---------------------------------------------------------------------------- runtime


@pytest.mark.parametrize("data, message", [
    ({"pipeline": 5}, r"'pipeline' must be a mapping \(a section of keys\), got 5 \(int\)"),
    ({"thresholds": {"confidence": 0.3}}, r"unknown key 'confidence' in 'thresholds' \(did you mean 'conf'\?\)"),
    ({"threshold": {"conf": 0.3}}, r"unknown key 'threshold' \(did you mean 'thresholds'\?\)"),
    ({"pipeline": {"queue_size": {"live": "one"}}}, r"'pipeline.queue_size.live' must be an integer"),
    ({"thresholds": {"conf": 3}}, r"threshold conf must be a number in \[0, 1\], got 3"),
])
def test_runtime_config_mistakes_are_named(tmp_path, data, message):
    path = write_yaml(tmp_path / "rt.yaml", data)
    with pytest.raises(ConfigError, match=r"runtime config .*rt\.yaml: " + message):
        load_runtime_config(path)


def test_a_partial_runtime_config_keeps_the_rest_and_may_name_new_classes(tmp_path):
    path = write_yaml(tmp_path / "rt.yaml", {"thresholds": {"conf": 0.4},
                                            "overlay": {"class_colors": {"truck": [1, 2, 3]}}})
    config = load_runtime_config(path)
    assert Thresholds.from_config(config) == Thresholds(conf=0.4, iou=0.5, road=0.5)
    assert config["overlay"]["class_colors"]["truck"] == [1, 2, 3]
    assert config["overlay"]["class_colors"]["car"] == load_runtime_config()["overlay"]["class_colors"]["car"]


def test_the_detection_threshold_default_lives_in_runtime_yaml_only():
    from nets.predictor import Predictor

    from_file = yaml.safe_load(RUNTIME_CONFIG.read_text())["thresholds"]
    assert default_thresholds() == {k: float(from_file[k]) for k in ("conf", "iou", "road")}
    assert Thresholds() == Thresholds.from_config({}) == Thresholds(**default_thresholds())

    class NoBackend:
        name = "none"

    p = Predictor(NoBackend())
    assert (p.conf, p.iou) == (from_file["conf"], from_file["iou"])


# ---------------------------------------------------------------------------- camera


def dashcam(**mounting):
    return {"image_size": [1280, 720], "intrinsics": {"fx": 1150.0, "fy": 1150.0, "cx": 639.5, "cy": 359.5},
            "mounting": {"height_m": 1.25, "pitch_deg": 1.5, **mounting}}


@pytest.mark.parametrize("mounting, message", [
    ({"pitch_deg": -40.0}, r"points at the sky: the horizon falls at row 1324, below the image \(720 rows\)"),
    ({"pitch_deg": 120.0}, r"pitch_deg 120 must lie between -90 and 90"),
    ({"height_m": 125.0}, r"height_m 125 is not a plausible camera height .*the unit is metres"),
    ({"height_m": 0.05}, r"height_m 0.05 is not a plausible camera height"),
])
def test_an_impossible_camera_is_rejected(mounting, message):
    with pytest.raises(ConfigError, match=message):
        parse_camera_config(dashcam(**mounting), source="cam.yaml")


@pytest.mark.parametrize("mounting, message", [
    ({"pitch_deg": -12.0}, r"pitch_deg -12 is unusual .*is the sign flipped"),
    ({"height_m": 6.0}, r"height_m 6 m is unusual"),
])
def test_an_unusual_camera_is_warned_about(mounting, message):
    with pytest.warns(ImplausibleCameraWarning, match=message):
        geometry = parse_camera_config(dashcam(**mounting), source="cam.yaml")
    assert geometry.homography is not None


def test_a_misspelt_camera_key_is_named():
    data = dashcam()
    data["mounting"]["pitch"] = data["mounting"].pop("pitch_deg")
    with pytest.raises(ConfigError, match=r"unknown key 'pitch' in 'mounting' \(did you mean 'pitch_deg'\?\)"):
        parse_camera_config(data, source="cam.yaml")
    with pytest.raises(ConfigError, match=r"unknown key 'intrinsic' \(did you mean 'intrinsics'\?\)"):
        parse_camera_config({**dashcam(), "intrinsic": {}}, source="cam.yaml")


# ---------------------------------------------------------------------------- run.py: user errors vs bugs


def test_run_prints_a_user_error_as_one_line_and_exits_2(tmp_path, capsys):
    import run

    path = recipe(tmp_path, optimiser={"name": "sgd"})
    assert run.main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "did you mean 'optimizer'?" in err and "\n" not in err


def test_run_lets_a_bug_keep_its_traceback(monkeypatch):
    """A ValueError (or OSError) that is not a UserError is ours to fix: it is not swallowed."""
    import app.cli
    import run

    def buggy(args):
        raise ValueError("a bug, not the user's input")

    monkeypatch.setattr(app.cli, "run_default", buggy)
    with pytest.raises(ValueError, match="a bug"):
        run.main([])

    def user_mistake(args):
        raise BadInputError("bad input")

    monkeypatch.setattr(app.cli, "run_default", user_mistake)
    assert run.main([]) == 2


def test_the_user_error_types_keep_their_old_bases():
    from app.sources import SourceError
    from nets.backends.base import BackendUnavailableError

    assert issubclass(ConfigError, ValueError) and issubclass(BadInputError, ValueError)
    assert issubclass(InputNotFoundError, FileNotFoundError) and issubclass(OutputError, OSError)
    assert issubclass(MissingDependencyError, ImportError) and issubclass(BackendUnavailableError, ImportError)
    assert issubclass(SourceError, OSError) and issubclass(WeightsError, ValueError)
    for cls in (ConfigError, BadInputError, InputNotFoundError, OutputError, MissingDependencyError,
                BackendUnavailableError, SourceError, WeightsError):
        assert issubclass(cls, UserError)


def test_user_facing_raise_sites_use_user_errors(tmp_path):
    """Known answers from each package: a missing file, a bad value, an unreadable calib."""
    from calib.kitti_calib import load_kitti_calib
    from nets.predictor import load_predictor

    with pytest.raises(InputNotFoundError):
        load_predictor(tmp_path / "missing.pt")
    with pytest.raises(BadInputError, match="unknown backend 'tensorflow'"):
        load_predictor(backend="tensorflow")
    (tmp_path / "calib.txt").write_text("P2: 1 2 three\n")
    with pytest.raises(BadInputError, match="calib file"):
        load_kitti_calib(tmp_path / "calib.txt")
    with pytest.raises(InputNotFoundError):
        load_camera_geometry(tmp_path / "nope.yaml")


def test_a_homography_that_sees_no_road_ahead_is_rejected():
    from calib.camera import mounted_camera_homography

    good = mounted_camera_homography(1150.0, 1150.0, 639.5, 359.5, height_m=1.25, pitch_deg=1.5)
    parse_camera_config({"image_size": [1280, 720], "homography": good.tolist()}, source="cam.yaml")
    sky = mounted_camera_homography(1150.0, 1150.0, 639.5, 359.5, height_m=1.25, pitch_deg=-40.0)
    with pytest.raises(ConfigError, match="shows none of the road straight ahead"):
        parse_camera_config({"image_size": [1280, 720], "homography": sky.tolist()}, source="cam.yaml")
