"""A headless inference job (`run.py infer`): one source through the threaded pipeline into files, with a
progress bar, an optional OpenCV window, and the summary printed at the end.

`InferJob` holds what the command line asks for, as plain values; `run_infer(job)` runs
it and returns the exit status. A Ctrl-C (or a SIGTERM/SIGHUP turned into one by
core.signals) stops the stages, finishes the files written so far and is raised again
once reported. Heavy modules load inside the functions.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInputError, MissingDependencyError, UserError


@dataclass(frozen=True)
class InferJob:
    """One `run.py infer`: each field is the flag of that name (None: its default)."""

    source: str | None = None          # None: the bundled sample clip
    out: str | None = None             # None: out/<source name>_annotated.mp4
    no_video: bool = False
    save_masks: str | None = None
    json: str | None = None
    backend: str = "auto"
    weights: str | None = None
    precision: str = "auto"
    device: str | None = None
    show: bool = False
    conf: float | None = None          # thresholds: None keeps configs/runtime.yaml's
    iou: float | None = None
    road_threshold: float | None = None
    calib: str | None = None
    realtime: bool = False
    max_frames: int | None = None
    no_tracking: bool = False
    runtime_config: str | None = None


def override_thresholds(config: dict, conf: float | None = None, iou: float | None = None,
                        road: float | None = None):
    """The runtime config's Thresholds with the ones given (not None) put over them."""
    from dataclasses import replace

    from .frames import Thresholds

    return replace(Thresholds.from_config(config), **{k: v for k, v in (
        ("conf", conf), ("iou", iou), ("road", road)) if v is not None})


def default_video_path(source_spec, info) -> str:
    """out/<stem>_annotated.mp4: the file or folder name of a video or image source, else kind + name."""
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


class PreviewWindow:
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


def run_infer(job: InferJob) -> int:
    """Run the job; 0 when every frame went through. Bad input raises UserError; a Ctrl-C (or core.signals'
    Terminated) is raised again after the partial outputs are finished and reported (`reported` set on it)."""
    import nets  # noqa: F401  (offline ultralytics before anything imports it)
    from core.signals import Terminated
    from nets.config import SAMPLE_CLIP
    from nets.predictor import load_predictor

    from .frames import load_runtime_config
    from .output_paths import check_infer_outputs
    from .overlay import OverlayRenderer
    from .pipeline import Pipeline, PipelineError
    from .run_report import exit_now, source_shortfall, wait_for_stages
    from .sources import open_source
    from .tracking import ObjectTracker
    from .writers import JsonLinesWriter, MaskWriter, VideoWriter

    config = load_runtime_config(job.runtime_config)
    thresholds = override_thresholds(config, job.conf, job.iou, job.road_threshold)
    if job.max_frames is not None and job.max_frames < 1:
        raise BadInputError(f"--max-frames must be at least 1, got {job.max_frames}")
    spec = job.source if job.source is not None else SAMPLE_CLIP
    # outputs never destroy inputs: refused before the source is opened or anything is written
    check_infer_outputs(spec, job.weights, None if job.no_video else job.out, job.json, job.save_masks, config)
    source = open_source(spec, realtime=job.realtime, config=config)
    sinks, window, predictor, json_sink = [], None, None, None
    try:
        info = source.info
        video_path = None if job.no_video else (job.out or default_video_path(spec, info))
        if video_path and not job.out:  # the default name is known only now
            check_infer_outputs(spec, job.weights, video_path, job.json, job.save_masks, config)
        distance = camera_distance(job.calib, info.size) if job.calib else None
        if job.show:
            window = PreviewWindow(f"road perception: {info.name}")
        predictor = load_predictor(job.weights, backend=job.backend, device=job.device,
                                   conf=thresholds.conf, iou=thresholds.iou, precision=job.precision)
        if video_path:
            sinks.append(VideoWriter(video_path, info.fps, config=config))
        if job.save_masks:
            sinks.append(MaskWriter(job.save_masks, config=config))
        if job.json:
            json_sink = JsonLinesWriter(job.json)
            sinks.append(json_sink)
        print(f"source: {info.describe()}")
        print(f"backend: {predictor.backend_name} ({predictor.choice_reason}); "
              f"{predictor.description}; input {predictor.input_size[0]}x"
              f"{predictor.input_size[1]} (HxW)")
        predictor.warmup()
        tracker = None if job.no_tracking else ObjectTracker.from_config(config)
        pipeline = Pipeline(source, predictor, sinks=sinks, renderer=OverlayRenderer(distance=distance, config=config),
                            thresholds=thresholds, max_frames=job.max_frames, config=config, tracker=tracker)
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
        outcome = run_with_progress(pipeline, info, job.max_frames, window)
    except KeyboardInterrupt as e:
        interrupted = e
        stuck = not wait_for_stages(pipeline, info, config)
        if stuck:
            print("warning: a pipeline stage did not stop in time", file=sys.stderr)
        outcome = pipeline.error
    predictor.close()
    summary = pipeline.summary
    shortfall = None if interrupted is not None else source_shortfall(info, summary, job.max_frames)
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
            print_written(sinks, file=sys.stderr)
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
    print_written(sinks)
    if tracker is not None:
        t = tracker.summary()
        geometry = "" if distance is not None else " (no --calib: distances, TTC and warnings unavailable)"
        print(f"tracking: {t['tracks']} track ids, {t['warnings']} forward-collision warnings{geometry}; "
              f"tracker {t['track_ms']['p50']:.2f} ms/frame p50")
    return 0


def print_written(sinks, file=None) -> None:
    """One `wrote PATH (N frames)` line per sink."""
    for sink in sinks:
        where = getattr(sink, "path", None) or getattr(sink, "folder", None)
        print(f"wrote {where} ({sink.frames_written} frames)", file=file)


def run_with_progress(pipeline, info, max_frames, window):
    """Run in the caller's thread with a tqdm bar (ETA for files); the summary, or the PipelineError."""
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
