"""app.bench's public functions, called as a script would: known answers and the tiny model's real ONNX Runtime
session on a real (written, then decoded) video."""

from __future__ import annotations

import pytest

from app.bench import (
    MIN_FRAMES,
    bench_model,
    format_bench_report,
    load_bench_predictor,
    model_config_of,
    percentiles,
)
from core.errors import BadInputError
from stand_ins import write_stamped_video


def test_percentiles_known_answers():
    # numpy's linear interpolation: p50 of 1..10 is 5.5, p90 is 1 + 0.9 * 9 = 9.1
    assert percentiles(range(1, 11)) == {"p50": 5.5, "p90": 9.1, "mean": 5.5}
    assert percentiles([2.0]) == {"p50": 2.0, "p90": 2.0, "mean": 2.0}
    # rounded to 0.01 ms
    assert percentiles([1.0, 1.0, 1.004]) == {"p50": 1.0, "p90": 1.0, "mean": 1.0}
    assert percentiles([0.0, 10.0]) == {"p50": 5.0, "p90": 9.0, "mean": 5.0}


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    return write_stamped_video(tmp_path_factory.mktemp("bench_clip") / "five.mp4", 5)


@pytest.fixture
def tiny_predictor(tiny_onnx, tmp_path):
    predictor, cfg, loaded = load_bench_predictor(tmp_path, weights=tiny_onnx, backend="onnxruntime")
    yield predictor, cfg, loaded
    predictor.close()


def test_bench_model_loops_a_short_source_and_times_every_step(tiny_predictor, short_clip):
    from app.sources import open_source

    predictor = tiny_predictor[0]
    source = open_source(short_clip)
    try:
        report = bench_model(predictor, source, n=12, warmup=2)  # 14 reads of a 5-frame clip: it loops
    finally:
        source.close()
    assert report["frames"] == 12 and report["warmup"] == 2 and report["distinct_frames"] == 5
    assert report["input_size"] == [64, 96]
    lat = report["latency_ms"]
    assert set(lat) == {"pre", "infer", "post", "infer+post", "total", "call"}
    for figures in lat.values():
        assert set(figures) == {"p50", "p90", "mean"} and figures["p90"] >= figures["p50"] >= 0
    assert report["fps"]["total"] > 0 and report["fps"]["infer+post"] >= report["fps"]["total"]


def test_bench_model_reuses_the_one_image_of_a_folder(tiny_predictor, tmp_path):
    import cv2
    import numpy as np

    from app.sources import open_source

    folder = tmp_path / "one"
    folder.mkdir()
    cv2.imwrite(str(folder / "000000.png"), np.zeros((64, 96, 3), np.uint8))
    source = open_source(folder)
    try:
        report = bench_model(tiny_predictor[0], source, n=3, warmup=1)
    finally:
        source.close()
    assert report["frames"] == 3 and report["distinct_frames"] == 1


def test_the_model_config_comes_from_the_onnx_metadata(tiny_predictor, tiny_onnx):
    predictor, cfg, loaded = tiny_predictor
    assert loaded == str(tiny_onnx)
    assert cfg["input_size"] == [64, 96] and cfg == model_config_of(predictor, tiny_onnx)
    assert set(cfg["classes"]) and cfg["scale"]


def test_weights_and_a_model_config_together_are_refused(tmp_path, tiny_onnx):
    with pytest.raises(BadInputError, match="give --weights or --config, not both"):
        load_bench_predictor(tmp_path, weights=tiny_onnx, model_config="configs/model/perception_n.yaml")


def test_run_bench_refuses_too_few_frames_before_loading_anything(tmp_path):
    from app.bench import run_bench

    with pytest.raises(BadInputError, match=f"at least {MIN_FRAMES}"):
        run_bench(weights=tmp_path / "absent.onnx", frames=MIN_FRAMES - 1)
    with pytest.raises(BadInputError, match="--warmup must be 0 or more"):
        run_bench(weights=tmp_path / "absent.onnx", frames=MIN_FRAMES, warmup=-1)


def test_format_bench_report_prints_the_figures_it_is_given():
    step = {"p50": 1.25, "p90": 2.5, "mean": 1.5}
    report = {"backend": "onnxruntime", "choice": "onnxruntime requested", "description": "CPU", "weights": "w.onnx",
              "input_size": [64, 96], "source": "clip.mp4", "frames": 100, "distinct_frames": 24, "warmup": 2,
              "cpus": 2, "machine": "x86_64", "fps": {"infer+post": 400.0, "total": 250.0},
              "latency_ms": {k: step for k in ("pre", "infer", "post", "infer+post", "total", "call")}}
    lines = format_bench_report(report).splitlines()
    assert lines[0] == "backend: onnxruntime (onnxruntime requested); CPU"
    assert lines[2] == "input: 64x96 (HxW); source: clip.mp4"
    assert lines[3] == "100 timed frames (24 distinct) after 2 warm-up, 2 CPUs (x86_64)"
    assert lines[5] == "         pre     1.25     2.50     1.50"
    assert lines[-1] == "FPS: 400.0 (infer+post), 250.0 (pre+infer+post)"
    assert not any(line.startswith(("model:", "pipeline")) for line in lines)  # neither was measured
