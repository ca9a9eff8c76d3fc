"""The benchmark behind `run.py bench`: per-step latency and FPS of a predictor on real frames, and optionally
of the threaded pipeline on the same frames.

Plain arguments in, a report dict out, so a script or a test runs the same benchmark
as the command line: `run_bench(...)` does it all (load, time, describe), and its parts
(`load_bench_predictor`, `bench_model`, `bench_pipeline`, `percentiles`) stand alone.
`format_bench_report` turns a report into the lines the command prints. Heavy modules
load inside the functions.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import BadInputError

# the least timed frames for percentiles that are more than noise
MIN_FRAMES = 100


def percentiles(values) -> dict:
    """{"p50", "p90", "mean"} of `values` (ms), rounded to 0.01; numpy's linear-interpolation percentiles."""
    import numpy as np

    a = np.asarray(values, dtype=np.float64)
    p50, p90 = np.percentile(a, (50, 90))
    return {"p50": round(float(p50), 2), "p90": round(float(p90), 2), "mean": round(float(a.mean()), 2)}


def model_config_of(predictor, weights: Path) -> dict | None:
    """The resolved model config behind a predictor: the PyTorch model's, the ONNX metadata, or a sibling file's."""
    backend = predictor.backend
    cfg = getattr(getattr(backend, "model", None), "cfg", None) or getattr(backend, "config", None)
    if isinstance(cfg, dict):
        return cfg
    pt, onnx_path = weights.with_suffix(".pt"), weights.with_suffix(".onnx")
    if pt.is_file():
        from nets.weights import read_checkpoint

        return read_checkpoint(pt)["model_config"]
    if onnx_path.is_file():
        import json

        import onnx

        meta = {p.key: p.value for p in onnx.load(str(onnx_path), load_external_data=False).metadata_props}
        if "perception" in meta:
            return json.loads(meta["perception"])
    return None


def load_bench_predictor(tmpdir, weights=None, model_config=None, backend: str = "auto", device: str | None = None,
                         precision: str = "auto"):
    """(predictor, model config or None, what was loaded) for a weights file, or for a model YAML with random
    weights (speed only; its checkpoint and ONNX export go into `tmpdir`, which must outlive the predictor)."""
    from nets.config import DEFAULT_WEIGHTS, load_model_config
    from nets.predictor import load_predictor

    if weights and model_config:
        raise BadInputError("give --weights or --config, not both: a weights file carries its own model config")
    if model_config:
        from nets.deploy.onnx_export import export_onnx
        from nets.model import PerceptionNet
        from nets.weights import save_checkpoint

        net = PerceptionNet(load_model_config(model_config))
        pt = save_checkpoint(Path(tmpdir) / "random.pt", net)
        if backend != "torch":
            export_onnx(net, pt.with_suffix(".onnx"))
        predictor = load_predictor(pt, backend=backend, device=device, precision=precision)
        return predictor, net.cfg, f"{model_config} (random weights: speed only)"
    weights = Path(weights) if weights else DEFAULT_WEIGHTS
    predictor = load_predictor(weights, backend=backend, device=device, precision=precision)
    return predictor, model_config_of(predictor, weights), str(weights)


def bench_model(predictor, source, n: int, warmup: int) -> dict:
    """Time the predictor alone on n frames read from `source` (looping a short source); decode is not timed.

    Returns frames, warmup, distinct_frames, input_size, latency_ms {pre, infer, post, infer+post, total, call}
    (each `percentiles`) and fps {infer+post, total} from the mean step times.
    """
    import time

    distinct = set()

    def next_image():
        frame = source.read()
        if frame is None and source.info.seekable:
            source.seek(0)
            frame = source.read()
        if frame is None:
            raise BadInputError(f"source {source.info.name} gave no more frames for the benchmark")
        distinct.add(frame.index)
        return frame.image

    for _ in range(warmup):
        predictor(next_image())
    steps = {"pre": [], "infer": [], "post": []}
    wall = []
    for _ in range(n):
        image = next_image()
        t0 = time.perf_counter()
        result = predictor(image)
        wall.append((time.perf_counter() - t0) * 1e3)
        for k in steps:
            steps[k].append(result.timings.get(k, 0.0))
    infer_post = [i + p for i, p in zip(steps["infer"], steps["post"], strict=True)]
    total = [a + b for a, b in zip(steps["pre"], infer_post, strict=True)]
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    return {
        "frames": n, "warmup": warmup, "distinct_frames": len(distinct),
        "input_size": list(predictor.input_size),
        "latency_ms": {**{k: percentiles(v) for k, v in steps.items()}, "infer+post": percentiles(infer_post),
                       "total": percentiles(total), "call": percentiles(wall)},
        "fps": {"infer+post": round(1e3 / mean(infer_post), 2), "total": round(1e3 / mean(total), 2)},
    }


def bench_pipeline(predictor, spec, n: int, warmup: int, config: dict, model_fps: float,
                   tracking: bool = True) -> dict:
    """The same frames through capture → inference → overlay threads (replay, lossless, no writer), with the
    tracker on the output thread unless tracking=False or configs/runtime.yaml switches it off."""
    from .pipeline import Pipeline
    from .sources import open_source
    from .tracking import ObjectTracker

    source = open_source(spec, config=config)
    if source.info.seekable and source.info.frame_count:
        source.seek(warmup % source.info.frame_count)  # the frames the model-only run timed
    tracker = ObjectTracker.from_config(config) if tracking else None
    pipeline = Pipeline(source, predictor, policy="replay", at_end="loop", max_frames=n, config=config,
                        name="bench", tracker=tracker)
    summary = pipeline.run()
    fps = summary.fps_end_to_end
    model_ms, pipe_ms = 1e3 / model_fps, (1e3 / fps if fps else float("inf"))
    # The same model's own time per frame inside this run: on a shared CPU the load changes between the two
    # runs, so the gap between the pipeline's frame period and this figure is the overhead free of that drift
    # (frames the inference thread waited for, and the bookkeeping between two predictor calls).
    in_run_ms = sum(summary.model_ms[k]["mean"] for k in ("pre", "infer", "post") if k in summary.model_ms)
    return {
        "frames": summary.frames_out, "fps_end_to_end": round(fps, 2), "fps_model_only": round(model_fps, 2),
        "overhead_pct": round((pipe_ms - model_ms) / model_ms * 100, 1), "target_overhead_pct": 10.0,
        "model_ms_in_pipeline": round(in_run_ms, 2),
        "overhead_vs_in_pipeline_model_pct": round((pipe_ms - in_run_ms) / in_run_ms * 100, 1) if in_run_ms else None,
        "latency_ms": summary.latency_ms, "fps_stages": summary.fps, "model_ms": summary.model_ms,
        "tracking": tracker.summary() if tracker is not None else None,
    }


def run_bench(weights=None, model_config=None, backend: str = "auto", device: str | None = None,
              precision: str = "auto", source=None, frames: int | None = None, warmup: int | None = None,
              pipeline: bool = False, tracking: bool = True) -> dict:
    """The whole `run.py bench`: the report dict it prints and writes as JSON.

    weights or model_config (a model YAML with random weights), not both; source: a video file or image folder
    (None: the bundled sample clip); frames (at least MIN_FRAMES) and warmup: None takes configs/runtime.yaml's
    bench: figures. pipeline=True adds "pipeline" (`bench_pipeline`, with the tracker unless tracking=False).
    """
    import os
    import platform
    import tempfile
    import time

    import nets  # noqa: F401  (offline ultralytics before anything imports it)
    from nets.config import SAMPLE_CLIP

    from .frames import load_runtime_config
    from .sources import open_source

    config = load_runtime_config()
    n = frames if frames is not None else int(config["bench"]["frames"])
    warmup = warmup if warmup is not None else int(config["bench"]["warmup"])
    if n < MIN_FRAMES:
        raise BadInputError(f"--frames must be at least {MIN_FRAMES} (percentiles over fewer frames are noise), "
                            f"got {n}")
    if warmup < 0:
        raise BadInputError(f"--warmup must be 0 or more, got {warmup}")
    spec = source or SAMPLE_CLIP
    frame_source = open_source(spec, config=config)  # fail on a bad source before loading a model
    with tempfile.TemporaryDirectory() as tmpdir:
        try:
            predictor, cfg, loaded = load_bench_predictor(tmpdir, weights, model_config, backend, device, precision)
        except BaseException:
            frame_source.close()
            raise
        # time the pre- and post-processing the pipeline deploys: exposure normalisation, per-class thresholds and
        # road-mask smoothing
        from nets.preprocess import ExposureNorm
        from nets.road_stability import RoadStabilizer

        from .frames import Thresholds

        predictor.class_conf = Thresholds.from_config(config).class_conf
        predictor.road_filter = RoadStabilizer.from_config(config.get("road_smoothing"))
        predictor.exposure = ExposureNorm.from_config(config["exposure"])
        try:
            report = bench_model(predictor, frame_source, n, warmup)
        finally:
            frame_source.close()
        report.update({"weights": loaded, "backend": predictor.backend_name, "choice": predictor.choice_reason,
                       "description": predictor.description,
                       "source": frame_source.info.describe(), "cpus": os.cpu_count(), "machine": platform.machine(),
                       "date": time.strftime("%Y-%m-%d %H:%M:%S")})
        if cfg is not None:
            from nets.info import describe
            from nets.model import PerceptionNet

            report["model"] = describe(PerceptionNet(cfg), tuple(predictor.input_size))
        if pipeline:
            report["pipeline"] = bench_pipeline(predictor, spec, n, warmup, config, report["fps"]["total"],
                                                tracking=tracking)
        predictor.close()
    return report


def format_bench_report(r: dict) -> str:
    """The lines `run.py bench` prints for a `run_bench` report."""
    lat = r["latency_ms"]
    lines = [f"backend: {r['backend']} ({r['choice']}); {r['description']}", f"weights: {r['weights']}"]
    if "model" in r:
        m = r["model"]
        lines.append(f"model: {m['name']} scale {m['scale']}, {m['params'] / 1e6:.2f} M params "
                     f"({m['params_inference'] / 1e6:.2f} M at inference), {m['gflops']:.2f} GFLOPs")
    h, w = r["input_size"]
    lines.append(f"input: {h}x{w} (HxW); source: {r['source']}")
    lines.append(f"{r['frames']} timed frames ({r['distinct_frames']} distinct) after {r['warmup']} warm-up, "
                 f"{r['cpus']} CPUs ({r['machine']})")
    lines.append(f"{'ms':>12} {'p50':>8} {'p90':>8} {'mean':>8}")
    for k in ("pre", "infer", "post", "infer+post", "total"):
        lines.append(f"{k:>12} {lat[k]['p50']:8.2f} {lat[k]['p90']:8.2f} {lat[k]['mean']:8.2f}")
    lines.append(f"FPS: {r['fps']['infer+post']:.1f} (infer+post), {r['fps']['total']:.1f} (pre+infer+post)")
    if "pipeline" in r:
        p = r["pipeline"]
        pl = p["latency_ms"]
        verdict = "within" if p["overhead_pct"] <= p["target_overhead_pct"] else "over"
        lines.append(f"pipeline: {p['fps_end_to_end']:.1f} FPS end to end vs {p['fps_model_only']:.1f} model-only: "
                     f"overhead {p['overhead_pct']:+.1f} % ({verdict} the {p['target_overhead_pct']:g} % target)")
        if p["overhead_vs_in_pipeline_model_pct"] is not None:
            lines.append(f"pipeline frame period {1e3 / p['fps_end_to_end']:.1f} ms vs the model's own "
                         f"{p['model_ms_in_pipeline']:.1f} ms in the same run: "
                         f"{p['overhead_vs_in_pipeline_model_pct']:+.1f} % (free of load changes between the two "
                         "runs)")
        lines.append("pipeline ms p50: " + ", ".join(f"{k} {pl[k]['p50']:.1f}" for k in
                                                     ("capture", "infer", "overlay", "output", "end_to_end")))
        tr = p.get("tracking")
        lines.append("tracking: off" if tr is None else
                     f"tracking (output thread, in the overlay figure): {tr['track_ms']['p50']:.2f} ms p50, "
                     f"{tr['track_ms']['p90']:.2f} ms p90 per frame, {tr['tracks']} track ids over {tr['frames']} "
                     "frames")
    return "\n".join(lines)
