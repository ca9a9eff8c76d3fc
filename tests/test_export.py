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
