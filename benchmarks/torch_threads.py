#!/usr/bin/env python3
"""torch's threads beside ONNX Runtime: infer and post p50 with the NMS on one torch thread or on all.

    python -m benchmarks.torch_threads [--weights weights/perception_n.pt] [--frames 60] [--blocks 8]

With an ONNX Runtime (or TensorRT) backend torch runs only the NMS; its idle
OpenMP workers would then spin on the cores ONNX Runtime needs. The Predictor
therefore runs the NMS inside `torch_threads(1)`. This compares, in one process
and taking turns in blocks so that load from other processes hits all alike:
  process-wide 1   torch set to one thread for the whole process (the old way)
  scoped           the process keeps its threads; one thread around the NMS only
  unscoped         the NMS on all of torch's threads (what the scoping avoids)
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from pathlib import Path

import torch

import nets.predictor
from benchmarks.clips import read_first_frames
from nets.config import DEFAULT_WEIGHTS, SAMPLE_CLIP
from nets.predictor import load_predictor
from nets.torch_threads import torch_threads

MODES = ("process-wide 1", "scoped", "unscoped")




def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    ap.add_argument("--source", type=Path, default=SAMPLE_CLIP)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--blocks", type=int, default=8)
    args = ap.parse_args(argv)

    frames = read_first_frames(args.source, args.frames)
    predictor = load_predictor(args.weights, backend="onnxruntime")
    threads = torch.get_num_threads()
    torch.randn(256, 256) @ torch.randn(256, 256)  # torch's worker pool exists, as after any torch work
    for frame in frames[:10]:
        predictor(frame)
    times = {mode: {"infer": [], "post": []} for mode in MODES}
    per_block = max(1, len(frames) // args.blocks)
    for block in range(args.blocks):
        chunk = frames[block * per_block:(block + 1) * per_block]
        for mode in MODES:
            torch.set_num_threads(1 if mode == "process-wide 1" else threads)
            nets.predictor.torch_threads = (lambda n: contextlib.nullcontext()) if mode == "unscoped" else torch_threads
            for frame in chunk:
                result = predictor(frame)
                for stage in ("infer", "post"):
                    times[mode][stage].append(result.timings[stage])
    nets.predictor.torch_threads = torch_threads
    torch.set_num_threads(threads)

    print(f"{predictor.description}; torch threads {threads}; {per_block * args.blocks} frames per mode "
          f"in {args.blocks} blocks taking turns")
    for mode, t in times.items():
        print(f"  {mode:15s} infer p50 {statistics.median(t['infer']):6.2f} ms   "
              f"post p50 {statistics.median(t['post']):5.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
