#!/usr/bin/env python3
"""Same-machine, same-moment latency: our ONNX files vs an ultralytics YOLO11n-seg at the same input.

    python -m benchmarks.compare_yolo11n_seg [--runs 40] [--rounds 3]

Absolute FPS on a shared 2-core machine moves a lot from minute to minute, so
a target like "faster than YOLO11n-seg" is only meaningful measured side by side:
the files take turns, round after round. YOLO11n-seg is built from ultralytics'
own model YAML (random weights: latency does not depend on them; nothing is
downloaded) and exported at the same input size. Raw ONNX Runtime CPU
inference only; neither model's pre/post-processing is included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from nets.config import PROJECT_ROOT  # importing nets also makes ultralytics offline


def export_yolo11n_seg(path: Path, input_size: tuple[int, int]) -> Path:
    import torch
    from ultralytics.nn.tasks import SegmentationModel

    model = SegmentationModel("yolo11n-seg.yaml", nc=80, verbose=False).eval()
    for m in model.modules():
        if hasattr(m, "export"):
            m.export = True  # heads return plain tensors, as in ultralytics' own ONNX export
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.zeros(1, 3, *input_size), str(path), opset_version=17,
                          input_names=["images"], dynamo=False)
    return path


def median_ms(session, x: np.ndarray, runs: int) -> float:
    feed = {session.get_inputs()[0].name: x}
    for _ in range(5):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--onnx", type=Path, nargs="+",
                    default=[PROJECT_ROOT / "weights/perception_n.onnx",
                             PROJECT_ROOT / "weights/perception_n.int8cpu.onnx"])
    ap.add_argument("--imgsz", type=int, nargs=2, default=(384, 640), metavar=("H", "W"))
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        files = {"yolo11n-seg": export_yolo11n_seg(Path(tmp) / "yolo11n-seg.onnx", tuple(args.imgsz))}
        files.update({p.name: p for p in args.onnx if p.is_file()})
        sessions = {k: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for k, p in files.items()}
        x = np.random.default_rng(0).random((1, 3, *args.imgsz), dtype=np.float32)
        rounds = {k: [] for k in sessions}
        for _ in range(args.rounds):
            for k, s in sessions.items():
                rounds[k].append(median_ms(s, x, args.runs))
    ref = np.median(rounds["yolo11n-seg"])
    print(f"ONNX Runtime CPU, input {args.imgsz[0]}x{args.imgsz[1]}, median of {args.runs} runs per round, "
          f"{args.rounds} rounds taking turns")
    for k, r in rounds.items():
        ms = float(np.median(r))
        print(f"  {k:<28} {ms:6.1f} ms  {1e3 / ms:5.1f} FPS  x{ref / ms:.2f} vs yolo11n-seg   rounds: "
              + " ".join(f"{v:.1f}" for v in r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
