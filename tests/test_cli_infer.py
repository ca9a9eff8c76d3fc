"""`run.py infer` and `run.py bench` end to end with the real ONNX Runtime predictor on a tiny model."""

from __future__ import annotations

import json

import cv2
import pytest

import run
from stand_ins import read_stamp, write_stamped_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_stamped_video(tmp_path_factory.mktemp("clip") / "clip.mp4", 24)


def test_infer_writes_every_frame_masks_and_json_lines(tiny_onnx, clip, tmp_path, capsys):
    out, masks, lines = tmp_path / "out" / "annotated.mp4", tmp_path / "masks", tmp_path / "det.jsonl"
    code = run.main(["infer", "--source", str(clip), "--weights", str(tiny_onnx), "--backend", "onnxruntime",
                     "--out", str(out), "--save-masks", str(masks), "--json", str(lines),
                     "--conf", "0.3", "--road-threshold", "0.6"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "backend: onnxruntime (onnxruntime requested)" in printed
    assert "24 in, 24 out, 0 dropped" in printed and "FPS: end-to-end" in printed

    cap = cv2.VideoCapture(str(out))
    assert cap.get(cv2.CAP_PROP_FPS) == 25.0
    stamps = []
    while (frame := cap.read())[0]:
        stamps.append(read_stamp(frame[1]))
    assert stamps == list(range(24))

    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["frame"] for r in records[:-1]] == list(range(24))
    first = records[0]
    assert first["backend"] == "onnxruntime" and first["road_threshold"] == 0.6
    assert set(first["timings_ms"]) == {"pre", "infer", "post"} and isinstance(first["boxes"], list)
    assert first["timestamp"] == 0.0 and records[1]["timestamp"] == pytest.approx(0.04)
    summary = records[-1]["summary"]
    assert summary["frames_out"] == 24 and summary["state"] == "finished" and summary["fps"]["output"] > 0
    assert sorted(p.name for p in masks.iterdir()) == [f"{i:06d}.png" for i in range(24)]
    mask = cv2.imread(str(masks / "000000.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (96, 160) and set(mask.ravel().tolist()) <= {0, 255}


def test_infer_bad_input_is_one_line_exit_2(tiny_onnx, tmp_path, capsys):
    assert run.main(["infer", "--source", str(tmp_path / "nope.mp4"), "--weights", str(tiny_onnx)]) == 2
    assert "error: source not found" in capsys.readouterr().err
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"garbage" * 100)
    assert run.main(["infer", "--source", str(bad), "--weights", str(tiny_onnx)]) == 2
    assert f"error: cannot decode video file {bad}" in capsys.readouterr().err
    assert run.main(["infer", "--source", "96", "--weights", str(tiny_onnx)]) == 2
    assert "error: camera 96 cannot be opened" in capsys.readouterr().err


def test_bench_with_pipeline_reports_model_and_pipeline_figures(tiny_onnx, clip, tmp_path, capsys):
    report_path = tmp_path / "bench.json"
    code = run.main(["bench", "--backend", "onnxruntime", "--weights", str(tiny_onnx), "--source", str(clip),
                     "--frames", "100", "--warmup", "2", "--pipeline", "--json", str(report_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "GFLOPs" in printed and "pipeline:" in printed and "overhead" in printed
    r = json.loads(report_path.read_text())
    assert r["frames"] == 100 and r["distinct_frames"] == 24 and r["input_size"] == [64, 96]
    assert r["model"]["params"] > 0 and r["model"]["gflops"] > 0
    for step in ("pre", "infer", "post"):
        assert r["latency_ms"][step]["p90"] >= r["latency_ms"][step]["p50"] >= 0
    assert r["fps"]["total"] > 0 and r["pipeline"]["frames"] == 100 and r["pipeline"]["fps_end_to_end"] > 0
    assert run.main(["bench", "--weights", str(tiny_onnx), "--frames", "50"]) == 2
    assert "at least 100" in capsys.readouterr().err
