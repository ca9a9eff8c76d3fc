#!/usr/bin/env python3
"""FP32 vs FP16 vs INT8 ONNX: accuracy on real frames and CPU latency (ONNX Runtime).

    # trained weights: export fp32/fp16/int8 beside them, then compare
    python -m benchmarks.precision_accuracy --weights weights/perception_n.pt --json out/precision.json
    # already exported files (siblings perception_n.fp16.onnx / .int8.onnx are found)
    python -m benchmarks.precision_accuracy --onnx weights/perception_n.onnx

Accuracy is agreement with the FP32 file on the same pre-processed frames:
  road IoU     IoU of the road maps thresholded at 0.5 (summed over frames), on the
               network's own output grid (stride 4)
  road |diff|  max and mean absolute difference of road probabilities
  boxes        fraction of FP32 boxes (after NMS at --conf) that the other file
               also finds: same class, IoU >= 0.5
INT8 accuracy is given twice. "exact": ONNX Runtime with graph optimizations
off runs every Q/DQ pair as written (quantize, dequantize, float op), which is
the arithmetic TensorRT implements with int8 kernels and int32 accumulation;
this is the figure that predicts the engine. "ort-cpu": ONNX Runtime's fused
int8 CPU kernels; on x86 CPUs without VNNI (AVX2 only, like the 2-core
development machines) they multiply u8 x s8 into int16 and saturate, so this
figure is lower there and says nothing about TensorRT.

Latency is ONNX Runtime CPU inference only (no pre/post), all optimizations on,
p50 over --runs calls after warm-up, the files taking turns in blocks so that
load from other processes hits all of them alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nets.config import PROJECT_ROOT  # importing nets also makes ultralytics offline

DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_FRAMES = [DATA / "video" / "solidWhiteRight.mp4", DATA / "kitti_road" / "training" / "image_2"]
DEFAULT_CALIB = DATA / "video" / "project_video_cut.mp4"  # other footage than the evaluation frames


# ----------------------------------------------------------------------------- metrics

def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,4) x (M,4) xyxy → (N,M) IoU."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.clip(br - tl, 0, None).prod(-1)
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def matched_boxes(ref: np.ndarray, other: np.ndarray, iou_thr: float = 0.5) -> int:
    """How many reference boxes (N,6: xyxy, score, class) have a same-class match at IoU >= iou_thr.

    Greedy by reference score, each other box used once.
    """
    if len(ref) == 0 or len(other) == 0:
        return 0
    ious = box_iou(ref[:, :4], other[:, :4])
    ious[ref[:, 5][:, None] != other[:, 5][None, :]] = 0
    used, hits = set(), 0
    for i in np.argsort(-ref[:, 4]):
        for j in np.argsort(-ious[i]):
            if ious[i, j] < iou_thr:
                break
            if j not in used:
                used.add(j)
                hits += 1
                break
    return hits


def compare(ref_outputs, outputs, conf: float, iou: float) -> dict:
    from nets.postprocess import detections_from_output

    inter = union = 0
    diffs = []
    n_ref = n_other = hits = 0
    for (det_r, road_r), (det_o, road_o) in zip(ref_outputs, outputs, strict=True):
        a, b = road_r >= 0.5, road_o >= 0.5
        inter += int(np.logical_and(a, b).sum())
        union += int(np.logical_or(a, b).sum())
        diffs.append(np.abs(road_r - road_o).ravel())
        boxes_r = detections_from_output(det_r, conf, iou)[0]
        boxes_o = detections_from_output(det_o, conf, iou)[0]
        n_ref, n_other = n_ref + len(boxes_r), n_other + len(boxes_o)
        hits += matched_boxes(boxes_r, boxes_o)
    d = np.concatenate(diffs)
    return {"road_iou": inter / union if union else 1.0, "road_max_abs": float(d.max()),
            "road_mean_abs": float(d.mean()), "boxes_fp32": n_ref, "boxes": n_other,
            "box_agreement": hits / n_ref if n_ref else None}  # None: FP32 found no box to agree with


# ----------------------------------------------------------------------------- models

def export_all(model_or_weights, workdir: Path, calib: Path, calib_frames: int, method: str,
               int8_cpu: bool, int8_stem_too: bool = False) -> dict[str, Path]:
    from nets.deploy import precision as prec
    from nets.deploy.onnx_export import export_onnx
    from nets.weights import load_model

    model = load_model(model_or_weights) if isinstance(model_or_weights, (str, Path)) else model_or_weights
    fp32 = export_onnx(model, workdir / "model.onnx")
    files = {"fp32": fp32, "fp16": prec.convert_fp16(fp32, prec.sibling_path(fp32, "fp16")),
             "int8": prec.quantize_int8(fp32, prec.sibling_path(fp32, "int8"), calib, calib_frames, method)}
    if int8_cpu:
        files["int8-cpu"] = prec.quantize_int8(fp32, workdir / "model.int8cpu.onnx", calib, calib_frames, method,
                                               target="cpu")
    if int8_stem_too:  # the same files with the stem's first conv quantized too (before 2026-12-03)
        for key, target in (("int8", "tensorrt"), ("int8-cpu", "cpu")):
            if key in files:
                files[f"{key}-stem8"] = prec.quantize_int8(fp32, workdir / f"model.{key}-stem8.onnx", calib,
                                                           calib_frames, method, target=target, first_conv_float=False)
    return files


# ----------------------------------------------------------------------------- main

class Runner:
    """An ONNX Runtime CPU session on one file; exact=True disables graph optimizations (plain Q/DQ math)."""

    def __init__(self, path: Path, exact: bool = False, threads: int = 0):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        if exact:
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.meta = self.session.get_modelmeta().custom_metadata_map
        self.input_size = tuple(int(d) for d in self.session.get_inputs()[0].shape[2:])

    def infer(self, x: np.ndarray):
        det, road = self.session.run(["det", "road"], {"images": x})
        return det.astype(np.float32), road.astype(np.float32)


def latency_p50(backends: dict, x: np.ndarray, runs: int, warmup: int, rounds: int = 5) -> dict[str, float]:
    """p50 ms per file. Files take turns in blocks (rounds x runs/rounds calls each), so background load
    hits every file alike; not call by call, because a session's thread pool spins for a while after
    each call and would steal the cores from the next file's call (that tripled the figures)."""
    for b in backends.values():
        for _ in range(warmup):
            b.infer(x)
    times = {k: [] for k in backends}
    per_block = max(runs // rounds, 1)
    for _ in range(rounds):
        for k, b in backends.items():
            b.infer(x)  # untimed: the previous file's threads settle meanwhile
            for _ in range(per_block):
                t0 = time.perf_counter()
                b.infer(x)
                times[k].append((time.perf_counter() - t0) * 1e3)
    return {k: float(np.percentile(v, 50)) for k, v in times.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--onnx", type=Path, help="fp32 ONNX (default weights/perception_n.onnx); its "
                                               ".fp16.onnx/.int8.onnx (and .int8cpu.onnx) siblings are compared")
    src.add_argument("--weights", type=Path, help=".pt checkpoint: export fp32/fp16/int8 first (to --workdir)")
    ap.add_argument("--workdir", type=Path, help="where exported files go (default: a temporary folder)")
    ap.add_argument("--frames", type=Path, nargs="+", default=DEFAULT_FRAMES, help="videos/folders to evaluate on")
    ap.add_argument("--frames-per-source", type=int, default=20)
    ap.add_argument("--calib-source", type=Path, default=DEFAULT_CALIB)
    ap.add_argument("--calib-frames", type=int, default=64)
    ap.add_argument("--calib-method", default="minmax", choices=("minmax", "percentile"))
    ap.add_argument("--int8-cpu", action="store_true", help="also an asymmetric-uint8 INT8 file (CPU only)")
    ap.add_argument("--int8-stem-too", action="store_true",
                    help="with --weights: also INT8 files whose first conv is quantized too (key *-stem8)")
    ap.add_argument("--conf", type=float, default=0.05, help="score threshold for box agreement (low on purpose)")
    ap.add_argument("--iou", type=float, default=0.5, help="NMS IoU")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: its default)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if not (args.onnx or args.weights):
        from nets.config import DEFAULT_ONNX

        args.onnx = DEFAULT_ONNX

    from nets.deploy.calibration_frames import calibration_batches, read_calibration_frames
    from nets.deploy.precision import sibling_path

    frames = [f for s in args.frames for f in read_calibration_frames(s, args.frames_per_source)]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.onnx:
            files = {p: sibling_path(args.onnx, p) for p in ("fp32", "fp16", "int8")}
            missing = [str(f) for f in files.values() if not f.is_file()]
            if missing:
                raise SystemExit(f"missing {', '.join(missing)}: write them with `run.py export --precision ...`")
            if sibling_path(args.onnx, "int8cpu").is_file():  # written by export --int8-target cpu
                files["int8-cpu"] = sibling_path(args.onnx, "int8cpu")
            model_note = str(args.onnx)
        else:
            model_note = str(args.weights)
            files = export_all(args.weights, workdir, args.calib_source, args.calib_frames, args.calib_method,
                               args.int8_cpu, args.int8_stem_too)

        import torch

        torch.set_num_threads(1)  # torch only runs the NMS here; its spinning workers would slow ONNX Runtime
        runners = {k: Runner(p, threads=args.threads) for k, p in files.items()}
        size = runners["fp32"].input_size
        batches = list(calibration_batches(frames, size))
        outputs = {k: [r.infer(x) for x in batches] for k, r in runners.items()}
        latency = latency_p50(runners, batches[0], args.runs, args.warmup)
        rows = {}
        for k, r in runners.items():
            rows[k] = {"file": str(files[k]), "converter": r.meta.get("converter", ""),
                       "int8_target": r.meta.get("int8_target"),
                       "latency_ms_p50": latency[k], "fps": 1e3 / latency[k]}
            if k == "fp32":
                continue
            rows[k]["accuracy"] = {"ort-cpu": compare(outputs["fp32"], outputs[k], args.conf, args.iou)}
            if k.startswith("int8"):
                exact = Runner(files[k], exact=True, threads=args.threads)
                rows[k]["accuracy"]["exact"] = compare(outputs["fp32"], [exact.infer(x) for x in batches],
                                                       args.conf, args.iou)
    result = {"model": model_note, "input_size": list(size), "frames": len(batches),
              "frame_sources": [str(s) for s in args.frames], "conf": args.conf, "runs": args.runs,
              "calibration": {"source": str(args.calib_source), "frames": args.calib_frames,
                              "method": args.calib_method}, "results": rows}
    print_table(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_table(result: dict) -> None:
    h, w = result["input_size"]
    print(f"{result['model']} at {h}x{w}, {result['frames']} frames, boxes at conf {result['conf']}; "
          f"ONNX Runtime CPU, p50 of {result['runs']} runs")
    print(f"{'precision':<10}{'p50 ms':>8}{'FPS':>7}  {'accuracy':<8}{'road IoU':>9}{'max|d|':>9}{'mean|d|':>10}"
          f"{'boxes':>12}{'agree':>7}")
    for k, r in result["results"].items():
        head = f"{k:<10}{r['latency_ms_p50']:>8.1f}{r['fps']:>7.1f}"
        if k == "fp32":
            print(f"{head}  (reference)")
            continue
        for i, (mode, a) in enumerate(sorted(r["accuracy"].items())):
            boxes = f"{a['boxes']}/{a['boxes_fp32']}"
            print(f"{head if i == 0 else ' ' * len(head)}  {mode:<8}{a['road_iou']:>9.4f}{a['road_max_abs']:>9.4f}"
                  f"{a['road_mean_abs']:>10.5f}{boxes:>12}{_fmt(a['box_agreement']):>7}")


if __name__ == "__main__":
    sys.exit(main())
