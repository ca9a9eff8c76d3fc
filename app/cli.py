"""Subcommands of the app package: view, infer, bench; and `run_default` (what `python run.py` alone does).

Only argument definitions and the `cmd_*` handlers: the work is in app.headless (infer),
app.bench (bench) and app.viewer (view). Heavy modules (numpy, cv2, torch, onnxruntime)
are imported inside the handlers so `run.py --help` stays instant.
"""

from __future__ import annotations

import argparse

from core.errors import MissingDependencyError
from nets.cli_options import predictor_options, threshold_options

SOURCE_HELP = ("camera index (0), /dev/videoN, video file, image folder or glob, or rtsp/http URL "
               "(default: the bundled sample clip)")


def _source_options() -> argparse.ArgumentParser:
    """--source and --runtime-config: what view and infer read frames from, and their settings."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--source", help=SOURCE_HELP)
    p.add_argument("--runtime-config", metavar="YAML", help="runtime settings over configs/runtime.yaml")
    return p


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="the desktop viewer: watch, tune and record the perception live (PyQt5)",
                       parents=[_source_options(), predictor_options(
                           backend_help="inference engine to start with; the window switches between those available"),
                           threshold_options()],
                       description="Plays a video, image folder, camera or stream through the network in a window: "
                                   "play/pause/step/seek, replay speed, thresholds and layers live, backend switch, "
                                   "FPS/latency figures, recording, screenshots, and a bird's-eye view with --calib.")
    p.add_argument("--calib", metavar="PATH",
                   help="KITTI calib file, camera YAML, or a folder of KITTI calib files matched to the frames by "
                        "name (um_000012.png ↔ um_000012.txt): vehicle distances and the bird's-eye view panel")
    p.add_argument("--paused", action="store_true", help="open on the first frame, paused")
    p.set_defaults(func=cmd_view)

    p = sub.add_parser("infer", help="run the network on a video, camera, stream or image folder (headless)",
                       parents=[_source_options(), predictor_options(), threshold_options()],
                       description="Threaded capture → inference → overlay on any source; writes an annotated "
                                   "video (and optionally road masks and JSON lines) and prints FPS and latency.")
    p.add_argument("--out", help="annotated video to write (default: out/<source name>_annotated.mp4)")
    p.add_argument("--no-video", action="store_true", help="write no annotated video")
    p.add_argument("--save-masks", metavar="DIR", help="write each frame's road mask as DIR/<frame>.png")
    p.add_argument("--json", metavar="FILE", help="per-frame detections as JSON lines, then a summary line")
    p.add_argument("--show", action="store_true",
                   help="show the annotated frames in an OpenCV window (q quits; needs OpenCV with GUI support, "
                        "else use `run.py view`)")
    p.add_argument("--calib", metavar="FILE",
                   help="KITTI calib file or camera YAML: adds the road distance of each vehicle")
    p.add_argument("--realtime", action="store_true",
                   help="play a video file at its own FPS as a live source (stale frames dropped, like a camera)")
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument("--no-tracking", action="store_true",
                   help="no track ids, distances over time or collision warnings (configs/runtime.yaml tracking:)")
    p.set_defaults(func=cmd_infer)

    p = sub.add_parser("bench", help="per-step latency and FPS of a backend on real frames (--pipeline: end to end)",
                       parents=[predictor_options()],
                       description="Model benchmark: pre/infer/post p50/p90 ms and FPS over >= 100 real frames "
                                   "after warm-up, with parameters and GFLOPs; --pipeline also runs the same "
                                   "frames through the threaded pipeline and reports its overhead.")
    p.add_argument("--config", help="model YAML: benchmark this architecture with random weights (no --weights)")
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
    from .headless import override_thresholds
    from .viewer.launch import launch_viewer

    thresholds = override_thresholds(load_runtime_config(args.runtime_config), args.conf, args.iou,
                                     args.road_threshold)
    return launch_viewer(source=args.source, weights=args.weights, backend=args.backend, device=args.device,
                         precision=args.precision, calib=args.calib, thresholds=thresholds,
                         runtime_config=args.runtime_config, paused=args.paused)


# --- infer ----------------------------------------------------------------------------------------------------------
def cmd_infer(args) -> int:
    """`run.py infer`; SIGTERM and SIGHUP stop it like Ctrl-C (files finished), exit status 143 / 129."""
    import sys
    from dataclasses import fields

    from core.signals import Terminated, signals_as_interrupt

    from .headless import InferJob, run_infer

    job = InferJob(**{f.name: getattr(args, f.name) for f in fields(InferJob)})  # each field is the flag's value
    with signals_as_interrupt():
        try:
            return run_infer(job)
        except Terminated as e:
            if not getattr(e, "reported", False):  # stopped before the pipeline ran: nothing was written
                print(f"{e}", file=sys.stderr)
            return e.exit_code


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
def cmd_bench(args) -> int:
    import json

    from .bench import format_bench_report, run_bench

    report = run_bench(weights=args.weights, model_config=args.config, backend=args.backend, device=args.device,
                       precision=args.precision, source=args.source, frames=args.frames, warmup=args.warmup,
                       pipeline=args.pipeline, tracking=not args.no_tracking)
    print(format_bench_report(report))
    if args.json:
        from core.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0
