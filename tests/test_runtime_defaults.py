"""configs/runtime.yaml is the one home of every runtime default: the app's readers index the merged config
(no `.get(key, <a default of its own>)`), so a key the code reads but the YAML lacks fails loudly.

Real parts: the readers themselves (overlay, tracking with its filter and warning, the pipeline with a stand-in
camera and predictor, the video and mask writers, the stop wait, infer's output check), built from the shipped
config while every key they read is recorded; then from copies with each of those keys deleted.
"""

from __future__ import annotations

import copy

import pytest

from app.frames import load_runtime_config, runtime_config_with
from app.output_paths import check_infer_outputs
from app.overlay import OverlayRenderer, OverlayStyle, layers_from_config
from app.pipeline import Pipeline
from app.run_report import wait_for_stages
from app.tracking import ObjectTracker, TrackingConfig
from app.writers import MaskWriter, VideoWriter
from core.config import ConfigError
from stand_ins import FakeCamera, StandIn


class RecordingConfig(dict):
    """A config section that records the path of every key read from it (sub-sections too): by indexing in
    `seen`, by .get() in `got`."""

    def __init__(self, data: dict, seen: set, got: set, prefix: tuple = ()):
        super().__init__(data)
        self._seen, self._got, self._prefix = seen, got, prefix

    def _wrap(self, key, value):
        return RecordingConfig(value, self._seen, self._got, (*self._prefix, key)) if isinstance(value, dict) else value

    def __getitem__(self, key):
        self._seen.add((*self._prefix, key))
        return self._wrap(key, super().__getitem__(key))

    def get(self, key, default=None):
        self._got.add((*self._prefix, key))
        return self._wrap(key, super().get(key, default))


class _Stopped:
    def wait(self, timeout):
        return True


class _Live:
    live = True


def build_readers(config: dict, tmp_path) -> None:
    """Every reader of the runtime config in app/ that has a setting of its own."""
    OverlayStyle.from_config(config)
    layers_from_config(config)
    OverlayRenderer(config=config)
    TrackingConfig.from_config(config)
    ObjectTracker.from_config(config)
    Pipeline(FakeCamera(1, 0.01), StandIn(), config=config, tracker=ObjectTracker.from_config(config))
    VideoWriter(tmp_path / "out.mp4", 25, config=config)
    MaskWriter(tmp_path / "masks", config=config)
    wait_for_stages(_Stopped(), _Live(), config)
    check_infer_outputs(None, None, video=tmp_path / "check.mp4", config=config)


def keys_read(tmp_path) -> tuple[set[tuple], set[tuple]]:
    """The key paths the readers index, and those they read with .get()."""
    seen: set[tuple] = set()
    got: set[tuple] = set()
    build_readers(RecordingConfig(load_runtime_config(), seen, got), tmp_path)
    return seen, got


def test_the_readers_read_their_settings_from_the_runtime_yaml(tmp_path):
    seen, got = keys_read(tmp_path)
    # the only .get() reads: Thresholds.from_config, whose defaults are runtime.yaml's thresholds already
    # (nets.config.default_thresholds) and which takes a partial {"thresholds": {...}} by design
    assert got <= {("thresholds",), ("thresholds", "class_conf")}, got
    # known answers: one key of each reader (each would have had its own default in code before)
    for path in [("overlay", "road_alpha"), ("overlay", "hud", "background_alpha"), ("overlay", "layers"),
                 ("tracking", "confirm_frames"), ("tracking", "track_buffer"), ("tracking", "filter", "min_noise_m"),
                 ("tracking", "enabled"), ("warning", "hold_s"), ("warning", "color"), ("pipeline", "policy"),
                 ("pipeline", "summary_window"), ("writers", "stall_check_frames"), ("writers", "png_compression"),
                 ("writers", "video_suffixes"), ("sources", "stream_timeout_s")]:
        assert path in seen, path
    shipped = load_runtime_config()
    for path in seen:  # every key the code reads is in configs/runtime.yaml
        node = shipped
        for key in path:
            assert isinstance(node, dict) and key in node, f"{'.'.join(path)} is read but not in runtime.yaml"
            node = node[key]


def test_a_key_missing_from_the_runtime_yaml_fails_loudly_instead_of_a_default_in_code(tmp_path):
    # thresholds: read with Thresholds' own YAML-backed defaults (see above)
    paths = sorted(p for p in keys_read(tmp_path)[0] if p[0] != "thresholds")
    assert len(paths) > 40
    for path in paths:
        config = load_runtime_config()
        section = config
        for key in path[:-1]:
            section = section[key]
        del section[path[-1]]
        with pytest.raises(KeyError) as err:
            build_readers(config, tmp_path)
            pytest.fail(f"{'.'.join(path)} deleted: the readers fell back to a default of their own")
        assert err.value.args[0] == path[-1], f"{'.'.join(path)} deleted, {err.value!r} raised"


def test_runtime_config_with_lays_an_override_over_the_shipped_config():
    shipped = load_runtime_config()
    config = runtime_config_with({"overlay": {"road_alpha": 0.6, "hud": {"font_scale": 1.0}}})
    assert config["overlay"]["road_alpha"] == 0.6 and config["overlay"]["hud"]["font_scale"] == 1.0
    assert config["overlay"]["hud"]["color"] == shipped["overlay"]["hud"]["color"]
    expected = copy.deepcopy(shipped)
    expected["overlay"]["road_alpha"], expected["overlay"]["hud"]["font_scale"] = 0.6, 1.0
    assert config == expected
    assert load_runtime_config() == shipped  # the shipped defaults are not changed by an override
    assert OverlayStyle.from_config(config).road_alpha == 0.6
    with pytest.raises(ConfigError, match="road_alpa"):  # checked like a --runtime-config file
        runtime_config_with({"overlay": {"road_alpa": 0.6}})
