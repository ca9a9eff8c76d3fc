"""Subcommands of the app package: view, infer, bench; and `run_default` (what `python run.py` alone does).

Heavy modules (numpy, cv2, torch, onnxruntime) are imported inside the handlers so
`run.py --help` stays instant.
"""

from __future__ import annotations

import argparse

from core.errors import BadInputError, MissingDependencyError, UserError
from nets.config import BACKENDS as BACKEND_CHOICES
from nets.config import PRECISIONS as PRECISION_CHOICES

PRECISION_HELP = ("which exported file a .pt runs as: auto = the INT8 CPU file (.int8cpu.onnx) for ONNX Runtime on "
                  "a CPU when it exists, else fp32; an .onnx/.engine file runs as it is")
SOURCE_HELP = ("camera index (0), /dev/videoN, video file, image folder or glob, or rtsp/http URL "
               "(default: the bundled sample clip)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="the desktop viewer: watch, tune and record the perception live (PyQt5)",
                       description="Plays a video, image folder, camera or stream through the network in a window: "
                                   "play/pause/step/seek, replay speed, thresholds and layers live, backend switch, "
                                   "FPS/latency figures, recording, screenshots, and a bird's-eye view with --calib.")
    p.add_argument("--source", help=SOURCE_HELP)
    p.add_argument("--weights", help="weights .pt/.onnx/.engine (default weights/perception_n.pt)")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto", help=PRECISION_HELP)
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="inference engine to start with; the window switches between those available")
    p.add_argument("--device", help="e.g. cpu or cuda:0 (default: the backend's choice)")
    p.add_argument("--calib", metavar="PATH",
                   help="KITTI calib file, camera YAML, or a folder of KITTI calib files matched to the frames by "
                        "name (um_000012.png ↔ um_000012.txt): vehicle distances and the bird's-eye view panel")
    p.add_argument("--conf", type=float, help="detection score threshold (default configs/runtime.yaml)")
    p.add_argument("--iou", type=float, help="NMS IoU threshold")
    p.add_argument("--road-threshold", type=float, help="road probability drawn as road")
    p.add_argument("--paused", action="store_true", help="open on the first frame, paused")
    p.add_argument("--runtime-config", metavar="YAML", help="runtime settings over configs/runtime.yaml")
    p.set_defaults(func=cmd_view)

    p = sub.add_parser("infer", help="run the network on a video, camera, stream or image folder (headless)",
                       description="Threaded capture → inference → overlay on any source; writes an annotated "
                                   "video (and optionally road masks and JSON lines) and prints FPS and latency.")
    p.add_argument("--source", help=SOURCE_HELP)
    p.add_argument("--out", help="annotated video to write (default: out/<source name>_annotated.mp4)")
    p.add_argument("--no-video", action="store_true", help="write no annotated video")
    p.add_argument("--save-masks", metavar="DIR", help="write each frame's road mask as DIR/<frame>.png")
    p.add_argument("--json", metavar="FILE", help="per-frame detections as JSON lines, then a summary line")
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="inference engine (auto: TensorRT, else ONNX Runtime, else PyTorch)")
    p.add_argument("--weights", help="weights .pt/.onnx/.engine (default weights/perception_n.pt)")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto", help=PRECISION_HELP)
    p.add_argument("--device", help="e.g. cpu or cuda:0 (default: the backend's choice)")
    p.add_argument("--show", action="store_true",
                   help="show the annotated frames in an OpenCV window (q quits; needs OpenCV with GUI support, "
                        "else use `run.py view`)")
    p.add_argument("--conf", type=float, help="detection score threshold (default configs/runtime.yaml)")
    p.add_argument("--iou", type=float, help="NMS IoU threshold")
    p.add_argument("--road-threshold", type=float, help="road probability drawn and written as road")
    p.add_argument("--calib", metavar="FILE",
                   help="KITTI calib file or camera YAML: adds the road distance of each vehicle")
    p.add_argument("--realtime", action="store_true",
                   help="play a video file at its own FPS as a live source (stale frames dropped, like a camera)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--no-tracking", action="store_true",
                   help="no track ids, distances over time or collision warnings (configs/runtime.yaml tracking:)")
    p.add_argument("--runtime-config", metavar="YAML", help="runtime settings over configs/runtime.yaml")
    p.set_defaults(func=cmd_infer)

    p = sub.add_parser("bench", help="per-step latency and FPS of a backend on real frames (--pipeline: end to end)",
                       description="Model benchmark: pre/infer/post p50/p90 ms and FPS over >= 100 real frames "
                                   "after warm-up, with parameters and GFLOPs; --pipeline also runs the same "
                                   "frames through the threaded pipeline and reports its overhead.")
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto")
    p.add_argument("--weights", help="weights .pt/.onnx/.engine (default weights/perception_n.pt)")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto", help=PRECISION_HELP)
    p.add_argument("--config", help="model YAML: benchmark this architecture with random weights (no --weights)")
    p.add_argument("--device", help="e.g. cpu or cuda:0")
    p.add_argument("--source", help="video file or image folder of real frames (default: the bundled sample clip)")
    p.add_argument("--frames", type=int, help="timed frames, at least 100 (default configs/runtime.yaml)")
    p.add_argument("--warmup", type=int, help="untimed frames first (default configs/runtime.yaml)")
    p.add_argument("--json", metavar="FILE", help="also write the figures to this JSON file")
    p.add_argument("--pipeline", action="store_true",
                   help="also run the frames through the threaded pipeline: end-to-end vs model-only FPS")
    p.add_argument("--no-tracking", action="store_true",
                   help="--pipeline without the tracker (to compare: it reports the tracker's ms per frame)")
    p.set_defaults(func=cmd_bench)


# --- view -----------------------------------------------------------------------------------------------------------
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def display_available(environ=None) -> str | None:
    """Why a window can open here ("DISPLAY=:0"), or None when there is no display to open it on."""
    import os

    environ = os.environ if environ is None else environ
    for name in DISPLAY_VARIABLES:
        if environ.get(name):
            return f"{name}={environ[name]}"
    return None


def _thresholds(args, config):
    from dataclasses import replace

    from .frames import Thresholds

    return replace(Thresholds.from_config(config), **{k: v for k, v in (
        ("conf", args.conf), ("iou", args.iou), ("road", args.road_threshold)) if v is not None})


def cmd_view(args) -> int:
    import importlib.util

    if importlib.util.find_spec("PyQt5") is None:
        raise MissingDependencyError("the viewer needs PyQt5: pip install PyQt5 (or run headless: `run.py infer`)")
    if display_available() is None:
        raise MissingDependencyError(
            "the viewer needs a display and none is set (DISPLAY, WAYLAND_DISPLAY or QT_QPA_PLATFORM); "
            "run it on a desktop, under `xvfb-run -a python run.py view`, or headless with `run.py infer`")
    from .viewer.preflight import check_qt_platform

    check_qt_platform()  # Qt would abort (exit 134) without naming the missing libraries
    import nets  # noqa: F401  (offline ultralytics before anything imports it)

    from .frames import load_runtime_config
    from .viewer.launch import launch_viewer

    thresholds = _thresholds(args, load_runtime_config(args.runtime_config))
    return launch_viewer(source=args.source, weights=args.weights, backend=args.backend, device=args.device,
                         precision=args.precision, calib=args.calib, thresholds=thresholds,
                         runtime_config=args.runtime_config, paused=args.paused)


# --- infer ----------------------------------------------------------------------------------------------------------
def _default_video_path(source_spec, info) -> str:
    from pathlib import Path

    stem = Path(str(source_spec)).stem if info.kind in ("video", "images") else f"{info.kind}{info.name}"
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem) or "source"
    return str(Path("out") / f"{stem}_annotated.mp4")


def camera_distance(calib_path, frame_size: tuple[int, int]):
    """A DistanceEstimator (distance_m(u, v)) from a KITTI calib file or camera YAML, for frames of
    frame_size = (width, height)."""
    from calib.camera import load_camera_geometry

    from .overlay import GroundDistance

    geometry = load_camera_geometry(calib_path)
    if hasattr(geometry, "distance_m"):
        return geometry
    return GroundDistance(geometry.homography_for(frame_size))


class _Window:
    """--show: the newest overlay, drawn by the main thread (GUI calls never happen on a pipeline thread)."""

    def __init__(self, title: str):
        import cv2

        self.cv2, self.title, self.latest = cv2, title, None
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        except cv2.error:
            raise MissingDependencyError("--show needs OpenCV with GUI support and a display; this OpenCV has none "
                                         "(opencv-python-headless). Use `python run.py view` (the PyQt5 viewer) "
                                         "or write a video with --out") from None

    def offer(self, result) -> None:  # output thread
        self.latest = result.image

    def pump(self) -> bool:  # main thread; False when the user closed it (q or Esc)
        image, self.latest = self.latest, None
        if image is not None:
            self.cv2.imshow(self.title, image)
        return self.cv2.waitKey(1) & 0xFF not in (ord("q"), 27)

    def close(self) -> None:
        self.cv2.destroyWindow(self.title)


def cmd_infer(args) -> int:
    """`run.py infer`; SIGTERM and SIGHUP stop it like Ctrl-C (files finished), exit status 143 / 129."""
    import sys

    from core.signals import Terminated, signals_as_interrupt

    with signals_as_interrupt():
        try:
            return _infer(args)
        except Terminated as e:
            if not getattr(e, "reported", False):  # stopped before the pipeline ran: nothing was written
                print(f"{e}", file=sys.stderr)
            return e.exit_code


def _infer(args) -> int:
    import sys
    from dataclasses import replace

    import nets  # noqa: F401  (offline ultralytics before anything imports it)
    from core.signals import Terminated
    from nets.config import SAMPLE_CLIP
    from nets.predictor import load_predictor

    from .frames import Thresholds, load_runtime_config
    from .output_paths import check_infer_outputs
    from .overlay import OverlayRenderer
    from .pipeline import Pipeline, PipelineError
    from .run_report import exit_now, source_shortfall, wait_for_stages
    from .sources import open_source
    from .tracking import ObjectTracker
    from .writers import JsonLinesWriter, MaskWriter, VideoWriter

    config = load_runtime_config(args.runtime_config)
    thresholds = replace(Thresholds.from_config(config), **{k: v for k, v in (
        ("conf", args.conf), ("iou", args.iou), ("road", args.road_threshold)) if v is not None})
    if args.max_frames is not None and args.max_frames < 1:
        raise BadInputError(f"--max-frames must be at least 1, got {args.max_frames}")
    spec = args.source if args.source is not None else SAMPLE_CLIP
    # outputs never destroy inputs: refused before the source is opened or anything is written
    check_infer_outputs(spec, args.weights, None if args.no_video else args.out, args.json, args.save_masks, config)
    source = open_source(spec, realtime=args.realtime, config=config)
    sinks, window, predictor, json_sink = [], None, None, None
    try:
        info = source.info
        video_path = None if args.no_video else (args.out or _default_video_path(spec, info))
        if video_path and not args.out:  # the default name is known only now
            check_infer_outputs(spec, args.weights, video_path, args.json, args.save_masks, config)
        distance = camera_distance(args.calib, info.size) if args.calib else None
        if args.show:
            window = _Window(f"road perception: {info.name}")
        predictor = load_predictor(args.weights, backend=args.backend, device=args.device,
                                   conf=thresholds.conf, iou=thresholds.iou, precision=args.precision)
        if video_path:
            sinks.append(VideoWriter(video_path, info.fps, config=config))
        if args.save_masks:
            sinks.append(MaskWriter(args.save_masks, config=config))
        if args.json:
            json_sink = JsonLinesWriter(args.json)
            sinks.append(json_sink)
        print(f"source: {info.describe()}")
        print(f"backend: {predictor.backend_name} ({predictor.choice_reason}); "
              f"{predictor.description}; input {predictor.input_size[0]}x"
              f"{predictor.input_size[1]} (HxW)")
        predictor.warmup()
        tracker = None if args.no_tracking else ObjectTracker.from_config(config)
        pipeline = Pipeline(source, predictor, sinks=sinks, renderer=OverlayRenderer(distance=distance, config=config),
                            thresholds=thresholds, max_frames=args.max_frames, config=config, tracker=tracker)
    except BaseException:
        source.close()
        for sink in sinks:
            getattr(sink, "discard", sink.close)()  # nothing ran: no partial files left behind
        if predictor is not None:
            predictor.close()
        raise
    if window is not None:
        pipeline.on_result(window.offer)
    interrupted, stuck = None, False
    try:  # Ctrl-C, SIGTERM, SIGHUP: stop the stages, then finish the files below
        outcome = _run_with_progress(pipeline, info, args.max_frames, window)
    except KeyboardInterrupt as e:
        interrupted = e
        stuck = not wait_for_stages(pipeline, info, config)
        if stuck:
            print("warning: a pipeline stage did not stop in time", file=sys.stderr)
        outcome = pipeline.error
    predictor.close()
    summary = pipeline.summary
    shortfall = None if interrupted is not None else source_shortfall(info, summary, args.max_frames)
    if shortfall is not None:
        print(f"warning: {shortfall['message']}", file=sys.stderr)
    if json_sink is not None:  # the summary line closes the file, also after an error (its "error" field says so)
        line = {"summary": summary.to_dict(), "source": info.describe(), "backend": predictor.backend_name,
                "choice": predictor.choice_reason}
        if tracker is not None:
            line["tracking"] = tracker.summary()
        if shortfall is not None:
            line["source_frames"] = {k: shortfall[k] for k in ("expected", "decoded")}
        if interrupted is not None:
            line["interrupted"] = str(interrupted) or "KeyboardInterrupt"
        json_sink.commit(line)
    if interrupted is not None:
        print(summary.format(), file=sys.stderr)
        if isinstance(outcome, PipelineError):  # e.g. the video could not be finished: say so, not "wrote"
            print(f"error: {outcome}", file=sys.stderr)
        else:
            _print_written(sinks, file=sys.stderr)
        code = interrupted.exit_code if isinstance(interrupted, Terminated) else 130
        print(f"{interrupted or 'interrupted'}: partial outputs finished", file=sys.stderr)
        if stuck:
            exit_now(code)
        interrupted.reported = True
        raise interrupted
    if isinstance(outcome, PipelineError):
        print(summary.format(), file=sys.stderr)
        if isinstance(outcome.cause, UserError):  # bad input: one line from run.py; a bug keeps its traceback
            raise UserError(str(outcome)) from outcome
        raise outcome
    print(summary.format())
    _print_written(sinks)
    if tracker is not None:
        t = tracker.summary()
        geometry = "" if distance is not None else " (no --calib: distances, TTC and warnings unavailable)"
        print(f"tracking: {t['tracks']} track ids, {t['warnings']} forward-collision warnings{geometry}; "
              f"tracker {t['track_ms']['p50']:.2f} ms/frame p50")
    return 0


def _print_written(sinks, file=None) -> None:
    for sink in sinks:
        where = getattr(sink, "path", None) or getattr(sink, "folder", None)
        print(f"wrote {where} ({sink.frames_written} frames)", file=file)


def _run_with_progress(pipeline, info, max_frames, window):
    """Run in the caller's thread with a tqdm bar (ETA for files); the summary, or the PipelineError."""
    import sys

    from tqdm import tqdm

    from .pipeline import PipelineError

    total = info.frame_count if not info.live else None
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    bar = tqdm(total=total, unit="frame", dynamic_ncols=True, mininterval=0.5, file=sys.stderr,
               disable=None if total is None else False)
    shown = 0
    pipeline.start()
    try:
        while not pipeline.wait(0.03 if window else 0.25):
            done = pipeline.stats.frames_out
            if done > shown:
                bar.update(done - shown)
                shown = done
                bar.set_postfix_str(f"{pipeline.stats.hud_figures()[0]:.1f} FPS", refresh=False)
            if window is not None and not window.pump():
                pipeline.stop()
        bar.update(pipeline.stats.frames_out - shown)
    except KeyboardInterrupt:
        pipeline.stop()  # the caller waits for the stages, finishes the files and reports
        bar.close()
        raise
    finally:
        bar.close()
        if window is not None:
            window.close()
    try:
        return pipeline.result()
    except PipelineError as e:
        return e


def run_default(args) -> int:
    """`python run.py` alone: the viewer on the bundled sample clip with the bundled weights when a display is
    available, else headless inference on it (one line says which and why)."""
    import importlib.util

    parser = argparse.ArgumentParser(prog="run.py")
    add_commands(parser.add_subparsers(dest="command"))
    display = display_available()
    qt_problem = None
    if display and importlib.util.find_spec("PyQt5") is not None:
        from .viewer.preflight import check_qt_platform

        try:
            check_qt_platform()
        except ImportError as e:  # Qt's platform libraries are missing: say which, then run headless
            qt_problem = str(e)
        else:
            print(f"opening the viewer on the bundled sample clip (display: {display}); "
                  "`run.py infer` runs headless")
            return cmd_view(parser.parse_args(["view"]))
    why = qt_problem or ("PyQt5 is not installed" if display else
                         "no display (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM unset)")
    print(f"{why}: running headless inference on the bundled sample clip -> out/sample_annotated.mp4")
    return cmd_infer(parser.parse_args(["infer", "--out", "out/sample_annotated.mp4"]))


# --- bench ----------------------------------------------------------------------------------------------------------
def _bench_predictor(args, tmpdir):
    """(predictor, model config, what was loaded) for --weights or a random-init --config."""
    from pathlib import Path

    from nets.config import DEFAULT_WEIGHTS, load_model_config
    from nets.predictor import load_predictor

    if args.weights and args.config:
        raise BadInputError("give --weights or --config, not both: a weights file carries its own model config")
    if args.config:
        from nets.deploy.onnx_export import export_onnx
        from nets.model import PerceptionNet
        from nets.weights import save_checkpoint

        net = PerceptionNet(load_model_config(args.config))
        pt = save_checkpoint(Path(tmpdir) / "random.pt", net)
        if args.backend != "torch":
            export_onnx(net, pt.with_suffix(".onnx"))
        predictor = load_predictor(pt, backend=args.backend, device=args.device, precision=args.precision)
        return predictor, net.cfg, f"{args.config} (random weights: speed only)"
    weights = Path(args.weights) if args.weights else DEFAULT_WEIGHTS
    predictor = load_predictor(weights, backend=args.backend, device=args.device, precision=args.precision)
    return predictor, _model_config_of(predictor, weights), str(weights)


def _model_config_of(predictor, weights):
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


def _pcts(values) -> dict:
    import numpy as np

    a = np.asarray(values, dtype=np.float64)
    p50, p90 = np.percentile(a, (50, 90))
    return {"p50": round(float(p50), 2), "p90": round(float(p90), 2), "mean": round(float(a.mean()), 2)}


def cmd_bench(args) -> int:
    import json
    import os
    import platform
    import tempfile
    import time

    import nets  # noqa: F401
    from nets.config import SAMPLE_CLIP

    from .frames import load_runtime_config
    from .sources import open_source

    config = load_runtime_config()
    n = args.frames if args.frames is not None else int(config["bench"]["frames"])
    warmup = args.warmup if args.warmup is not None else int(config["bench"]["warmup"])
    if n < 100:
        raise BadInputError(f"--frames must be at least 100 (percentiles over fewer frames are noise), got {n}")
    if warmup < 0:
        raise BadInputError(f"--warmup must be 0 or more, got {warmup}")
    spec = args.source or SAMPLE_CLIP
    source = open_source(spec, config=config)  # fail on a bad source before loading a model
    with tempfile.TemporaryDirectory() as tmpdir:
        try:
            predictor, cfg, loaded = _bench_predictor(args, tmpdir)
        except BaseException:
            source.close()
            raise
        # time the post-processing the pipeline deploys: per-class thresholds and road-mask smoothing
        from nets.road_stability import RoadStabilizer

        from .frames import Thresholds
        predictor.class_conf = Thresholds.from_config(config).class_conf
        predictor.road_filter = RoadStabilizer.from_config(config.get("road_smoothing"))
        try:
            report = _bench_model(predictor, source, n, warmup)
        finally:
            source.close()
        report.update({"weights": loaded, "backend": predictor.backend_name, "choice": predictor.choice_reason,
                       "description": predictor.description,
                       "source": source.info.describe(), "cpus": os.cpu_count(), "machine": platform.machine(),
                       "date": time.strftime("%Y-%m-%d %H:%M:%S")})
        if cfg is not None:
            from nets.info import describe
            from nets.model import PerceptionNet

            report["model"] = describe(PerceptionNet(cfg), tuple(predictor.input_size))
        if args.pipeline:
            report["pipeline"] = _bench_pipeline(predictor, spec, n, warmup, config, report["fps"]["total"],
                                                 tracking=not args.no_tracking)
        predictor.close()
    _print_bench(report)
    if args.json:
        from core.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def _bench_model(predictor, source, n: int, warmup: int) -> dict:
    """Time the predictor alone on n frames read from `source` (looping a short source); decode is not timed."""
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
    infer_post = [i + p for i, p in zip(steps["infer"], steps["post"])]
    total = [a + b for a, b in zip(steps["pre"], infer_post)]
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    return {
        "frames": n, "warmup": warmup, "distinct_frames": len(distinct),
        "input_size": list(predictor.input_size),
        "latency_ms": {**{k: _pcts(v) for k, v in steps.items()}, "infer+post": _pcts(infer_post),
                       "total": _pcts(total), "call": _pcts(wall)},
        "fps": {"infer+post": round(1e3 / mean(infer_post), 2), "total": round(1e3 / mean(total), 2)},
    }


def _bench_pipeline(predictor, spec, n: int, warmup: int, config: dict, model_fps: float,
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


def _print_bench(r: dict) -> None:
    lat = r["latency_ms"]
    print(f"backend: {r['backend']} ({r['choice']}); {r['description']}")
    print(f"weights: {r['weights']}")
    if "model" in r:
        m = r["model"]
        print(f"model: {m['name']} scale {m['scale']}, {m['params'] / 1e6:.2f} M params "
              f"({m['params_inference'] / 1e6:.2f} M at inference), {m['gflops']:.2f} GFLOPs")
    h, w = r["input_size"]
    print(f"input: {h}x{w} (HxW); source: {r['source']}")
    print(f"{r['frames']} timed frames ({r['distinct_frames']} distinct) after {r['warmup']} warm-up, "
          f"{r['cpus']} CPUs ({r['machine']})")
    print(f"{'ms':>12} {'p50':>8} {'p90':>8} {'mean':>8}")
    for k in ("pre", "infer", "post", "infer+post", "total"):
        print(f"{k:>12} {lat[k]['p50']:8.2f} {lat[k]['p90']:8.2f} {lat[k]['mean']:8.2f}")
    print(f"FPS: {r['fps']['infer+post']:.1f} (infer+post), {r['fps']['total']:.1f} (pre+infer+post)")
    if "pipeline" in r:
        p = r["pipeline"]
        pl = p["latency_ms"]
        verdict = "within" if p["overhead_pct"] <= p["target_overhead_pct"] else "over"
        print(f"pipeline: {p['fps_end_to_end']:.1f} FPS end to end vs {p['fps_model_only']:.1f} model-only: "
              f"overhead {p['overhead_pct']:+.1f} % ({verdict} the {p['target_overhead_pct']:g} % target)")
        if p["overhead_vs_in_pipeline_model_pct"] is not None:
            print(f"pipeline frame period {1e3 / p['fps_end_to_end']:.1f} ms vs the model's own "
                  f"{p['model_ms_in_pipeline']:.1f} ms in the same run: "
                  f"{p['overhead_vs_in_pipeline_model_pct']:+.1f} % (free of load changes between the two runs)")
        print("pipeline ms p50: " + ", ".join(f"{k} {pl[k]['p50']:.1f}" for k in
                                                ("capture", "infer", "overlay", "output", "end_to_end")))
        tr = p.get("tracking")
        print("tracking: off" if tr is None else
              f"tracking (output thread, in the overlay figure): {tr['track_ms']['p50']:.2f} ms p50, "
              f"{tr['track_ms']['p90']:.2f} ms p90 per frame, {tr['tracks']} track ids over {tr['frames']} frames")
