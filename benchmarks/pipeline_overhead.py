#!/usr/bin/env python3
"""The pipeline's own cost per frame: its three threads, queues, replay gates and bookkeeping, with a predictor
that costs nothing and a source that reads from memory, so nothing else is timed.

    python -m benchmarks.pipeline_overhead [--frames 2000] [--runs 5] [--render] [--json out.json]

Prints the median and spread over `runs` of the frames per second through a replay pipeline (lossless,
blocking queues) and the microseconds per frame. To compare two versions of app/pipeline.py, run it in each
checkout on the same machine, taking turns (other processes' load changes between runs).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from app.frames import Frame, runtime_config_with
from app.pipeline import Pipeline
from app.sources import SourceInfo
from nets.result import Perception


class MemorySource:
    """A replay source (app.contracts.SeekableSource) of `n` copies of one small image."""

    def __init__(self, n: int, image: np.ndarray):
        self.n, self.image = n, image
        h, w = image.shape[:2]
        self.info = SourceInfo("images", "memory", w, h, 25.0, n, live=False)
        self.position, self.state = 0, "ok"

    def read(self) -> Frame | None:
        if self.position >= self.n:
            return None
        frame = Frame(self.position, time.perf_counter(), self.image, self.position / 25.0)
        self.position += 1
        return frame

    def seek(self, index: int) -> None:
        self.position = index

    def interrupt(self) -> None:
        pass

    def close(self) -> None:
        self.state = "closed"


class FreePredictor:
    """An app.contracts.Predictor that answers at once with one prepared Perception."""

    backend_name = "free"

    def __init__(self, perception: Perception):
        self.perception, self.conf, self.iou = perception, 0.25, 0.5

    def __call__(self, image: np.ndarray) -> Perception:
        return self.perception

    def close(self) -> None:
        pass


def one_run(frames: int, render: bool, config: dict) -> float:
    """Seconds for `frames` frames through a replay pipeline, start to finish."""
    image = np.full((96, 160, 3), 90, np.uint8)
    perception = Perception(np.zeros((1, 96, 160), np.float32), np.array([[4, 4, 40, 30, 0.9, 0]], np.float32),
                            ["car", "pedestrian", "cyclist"], backend="free")
    pipeline = Pipeline(MemorySource(frames, image), FreePredictor(perception), render=render, config=config,
                        name="overhead")
    t0 = time.perf_counter()
    summary = pipeline.run()
    elapsed = time.perf_counter() - t0
    assert summary.frames_out == frames, summary
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--render", action="store_true", help="draw the overlay too (OverlayRenderer)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    config = runtime_config_with({"road_smoothing": {"enabled": False}})  # the free predictor has no road map
    one_run(min(args.frames, 200), args.render, config)  # warm-up: imports, first thread starts
    seconds = [one_run(args.frames, args.render, config) for _ in range(args.runs)]
    fps = sorted(args.frames / s for s in seconds)
    us = sorted(s / args.frames * 1e6 for s in seconds)
    report = {"frames": args.frames, "runs": args.runs, "render": args.render,
              "fps": {"median": round(statistics.median(fps), 1), "min": round(fps[0], 1), "max": round(fps[-1], 1)},
              "us_per_frame": {"median": round(statistics.median(us), 1), "min": round(us[0], 1),
                               "max": round(us[-1], 1)}}
    print(f"{args.frames} frames x {args.runs} runs (render={args.render}): "
          f"{report['fps']['median']:.0f} FPS median ({report['fps']['min']:.0f}-{report['fps']['max']:.0f}), "
          f"{report['us_per_frame']['median']:.0f} us/frame median")
    if args.json:
        from benchmarks.report import write_json_report

        write_json_report(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
