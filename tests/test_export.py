"""nets.deploy.export, called as a script would: when an exported ONNX file counts as up to date, and an fp32
export written beside a copy of the tiny checkpoint."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.errors import BadInputError
from nets.deploy.export import export_weights, onnx_up_to_date


@pytest.fixture
def model_copy(tiny_model_files, tmp_path):
    """The tiny checkpoint and its ONNX export, copied so their times can be changed; the ONNX newer."""
    pt, onnx_path = (shutil.copy(p, tmp_path / p.name) for p in tiny_model_files)
    os.utime(pt, (1_000_000, 1_000_000))
    os.utime(onnx_path, (2_000_000, 2_000_000))
    return Path(pt), Path(onnx_path)


def test_an_onnx_file_is_up_to_date_when_newer_than_the_weights_and_of_the_asked_size(model_copy, tmp_path):
    pt, onnx_path = model_copy
    assert onnx_up_to_date(onnx_path, pt)
    assert onnx_up_to_date(onnx_path, pt, (64, 96)) and onnx_up_to_date(onnx_path, pt, [64, 96])
    assert not onnx_up_to_date(onnx_path, pt, (96, 160))  # another input size
    assert not onnx_up_to_date(tmp_path / "absent.onnx", pt)
    assert not onnx_up_to_date(onnx_path, tmp_path / "absent.pt")
    os.utime(pt, (3_000_000, 3_000_000))  # the weights changed after the export
    assert not onnx_up_to_date(onnx_path, pt)


def test_export_weights_writes_fp32_onnx_where_asked(model_copy, tmp_path, capsys):
    import onnx

    pt, _ = model_copy
    out = tmp_path / "exported" / "mine.onnx"
    assert export_weights(pt, out=out, imgsz=(32, 64)) == out
    assert f"wrote {out} (checked with onnx.checker)" in capsys.readouterr().out
    dims = onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [1, 3, 32, 64]


def test_a_tensorrt_engine_from_the_cpu_int8_file_is_refused_first(tmp_path):
    with pytest.raises(BadInputError, match="--int8-target cpu makes a file for ONNX Runtime"):
        export_weights(tmp_path / "none.pt", format="engine", precision="int8", int8_target="cpu")



@pytest.fixture
def engine_export(model_copy, tmp_path, monkeypatch):
    """No TensorRT here: the engine build is stood in for (a cached engine + sidecar); what is tested is the copy
    to --out, over an old engine at deploy/mine.engine. Returns (weights, out)."""
    import nets.deploy.engine as engine_mod
    import nets.deploy.export as export_mod

    pt, onnx_path = model_copy
    cached = tmp_path / "cache" / "model.engine"
    cached.parent.mkdir()
    cached.write_bytes(b"new engine")
    engine_mod.sidecar_path(cached).write_text('{"precision": "fp16"}')
    monkeypatch.setattr(export_mod, "export_onnx_precision", lambda *a, **k: onnx_path)
    monkeypatch.setattr(engine_mod, "ensure_engine", lambda *a, **k: cached)
    monkeypatch.setattr(engine_mod, "require_tensorrt_runtime", lambda: None)
    out = tmp_path / "deploy" / "mine.engine"
    out.parent.mkdir()
    out.write_bytes(b"old engine")
    return pt, out


def test_an_engine_copied_to_out_replaces_the_old_pair_through_temporary_files(engine_export):
    pt, out = engine_export
    assert export_weights(pt, format="engine", precision="fp16", out=out) == out
    assert out.read_bytes() == b"new engine"
    assert out.with_suffix(".json").read_text() == '{"precision": "fp16"}'
    assert sorted(p.name for p in out.parent.iterdir()) == ["mine.engine", "mine.json"]  # no temporary left


def test_a_copy_that_fails_midway_leaves_the_old_engine(engine_export, monkeypatch):
    pt, out = engine_export
    real_copy = shutil.copyfile

    def disk_full_on_engines(src, dst):
        if str(src).endswith(".engine"):
            Path(dst).write_bytes(b"ne")  # a torn write, then the disk is full
            raise OSError(28, "No space left on device")
        return real_copy(src, dst)

    monkeypatch.setattr(shutil, "copyfile", disk_full_on_engines)
    with pytest.raises(OSError, match="No space"):
        export_weights(pt, format="engine", precision="fp16", out=out)
    assert out.read_bytes() == b"old engine"
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []  # the temporary is gone
