#!/usr/bin/env python3
"""FP32 vs FP16 vs INT8 ONNX: accuracy on real frames and CPU latency (ONNX Runtime).

    # trained weights: export fp32/fp16/int8 beside them, then compare
    python benchmarks/precision_accuracy.py --weights weights/perception_n.pt --json out/precision.json
    # already exported files (siblings perception_n.fp16.onnx / .int8.onnx are found)
    python benchmarks/precision_accuracy.py --onnx weights/perception_n.onnx
    # no weights yet: a random-init model (BatchNorm settled on real frames so outputs are not flat)
    python benchmarks/precision_accuracy.py --random-init

Accuracy is agreement with the FP32 file on the same pre-processed frames:
  road IoU     IoU of the road maps thresholded at 0.5 (summed over frames)
  road |diff|  max and mean absolute difference of road probabilities
  boxes        fraction of FP32 boxes (after NMS at --conf) that the other file
               also finds: same class, IoU >= 0.5
Latency is ONNX Runtime CPU inference only (no pre/post), p50 over --runs calls
after warm-up, the files taking turns so load from other processes hits all alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nets  # noqa: E402,F401  (before ultralytics: offline settings)
from nets.config import PROJECT_ROOT  # noqa: E402

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
    for (det_r, road_r), (det_o, road_o) in zip(ref_outputs, outputs):
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
            "box_agreement": hits / n_ref if n_ref else float("nan")}


# ----------------------------------------------------------------------------- models

def settled_random_model(frames, input_size=None, config=None, seed=0):
    """A random-init PerceptionNet whose outputs vary with the image, for use before trained weights exist.

    Random convs make features fade layer by layer, so a plain random model
    outputs a flat road map (~0.3 everywhere) and no box above 0.01: every
    precision then "agrees" trivially. Settling BatchNorm statistics on real
    frames (as at the start of training) restores unit-scale features, and the
    class-score biases are raised so some anchors pass a 0.05 threshold.
    """
    import torch

    from nets.config import load_model_config
    from nets.deploy.calibration_frames import calibration_batches
    from nets.model import PerceptionNet

    torch.manual_seed(seed)
    model = PerceptionNet(load_model_config(config, input_size=input_size))
    x = torch.from_numpy(np.concatenate(list(calibration_batches(frames, model.input_size))))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the frames
    for branch in model.detect.cv3:
        branch[-1].bias.data.fill_(-5.0)
    model.road.logits.bias.data.fill_(0.0)
    with torch.no_grad():
        model.train()
        model(x)
    return model.eval()


def export_all(model_or_weights, workdir: Path, calib: Path, calib_frames: int, method: str,
               int8_cpu: bool) -> dict[str, Path]:
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
    return files


# ----------------------------------------------------------------------------- main

def latency_p50(backends: dict, x: np.ndarray, runs: int, warmup: int) -> dict[str, float]:
    for b in backends.values():
        for _ in range(warmup):
            b.infer(x)
    times = {k: [] for k in backends}
    for _ in range(runs):
        for k, b in backends.items():  # take turns: background load hits every file alike
            t0 = time.perf_counter()
            b.infer(x)
            times[k].append((time.perf_counter() - t0) * 1e3)
    return {k: float(np.percentile(v, 50)) for k, v in times.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--onnx", type=Path, help="fp32 ONNX; its .fp16.onnx/.int8.onnx siblings are compared")
    src.add_argument("--weights", type=Path, help=".pt checkpoint: export fp32/fp16/int8 first (to --workdir)")
    src.add_argument("--random-init", action="store_true", help="a random-init model with settled BatchNorm")
    ap.add_argument("--config", help="model YAML for --random-init")
    ap.add_argument("--imgsz", type=int, nargs=2, metavar=("H", "W"), help="input size for --random-init")
    ap.add_argument("--workdir", type=Path, help="where exported files go (default: a temporary folder)")
    ap.add_argument("--frames", type=Path, nargs="+", default=DEFAULT_FRAMES, help="videos/folders to evaluate on")
    ap.add_argument("--frames-per-source", type=int, default=20)
    ap.add_argument("--calib-source", type=Path, default=DEFAULT_CALIB)
    ap.add_argument("--calib-frames", type=int, default=64)
    ap.add_argument("--calib-method", default="minmax", choices=("minmax", "percentile", "entropy"))
    ap.add_argument("--int8-cpu", action="store_true", help="also an asymmetric-uint8 INT8 file (CPU only)")
    ap.add_argument("--conf", type=float, default=0.05, help="score threshold for box agreement (low on purpose)")
    ap.add_argument("--iou", type=float, default=0.5, help="NMS IoU")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: its default)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    from nets.backends.onnxruntime_backend import OnnxRuntimeBackend
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
            model_note = str(args.onnx)
        else:
            if args.weights:
                source, model_note = args.weights, str(args.weights)
            else:
                calib_frames = read_calibration_frames(args.calib_source, 16)
                source = settled_random_model(calib_frames, args.imgsz, args.config)
                model_note = "random init (BatchNorm settled on 16 calibration frames)"
            files = export_all(source, workdir, args.calib_source, args.calib_frames, args.calib_method,
                               args.int8_cpu)

        backends = {k: OnnxRuntimeBackend(p, providers=["CPUExecutionProvider"], threads=args.threads or None)
                    for k, p in files.items()}
        size = backends["fp32"].input_size
        batches = list(calibration_batches(frames, size))
        outputs = {k: [b.infer(x) for x in batches] for k, b in backends.items()}
        latency = latency_p50(backends, batches[0], args.runs, args.warmup)
        rows = {}
        for k in backends:
            rows[k] = {"file": str(files[k]), "latency_ms_p50": latency[k], "fps": 1e3 / latency[k],
                       **({} if k == "fp32" else compare(outputs["fp32"], outputs[k], args.conf, args.iou)),
                       "converter": backends[k].session.get_modelmeta().custom_metadata_map.get("converter", "")}
    result = {"model": model_note, "input_size": list(size), "frames": len(batches),
              "frame_sources": [str(s) for s in args.frames], "conf": args.conf, "runs": args.runs,
              "calibration": {"source": str(args.calib_source), "frames": args.calib_frames,
                              "method": args.calib_method}, "results": rows}
    print_table(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def print_table(result: dict) -> None:
    h, w = result["input_size"]
    print(f"{result['model']} at {h}x{w}, {result['frames']} frames, boxes at conf {result['conf']}")
    print(f"{'precision':<10}{'p50 ms':>8}{'FPS':>7}{'road IoU':>10}{'max|d|':>9}{'mean|d|':>10}"
          f"{'boxes':>12}{'agree':>7}")
    for k, r in result["results"].items():
        if k == "fp32":
            print(f"{k:<10}{r['latency_ms_p50']:>8.1f}{r['fps']:>7.1f}{'(ref)':>10}")
            continue
        boxes = f"{r['boxes']}/{r['boxes_fp32']}"
        print(f"{k:<10}{r['latency_ms_p50']:>8.1f}{r['fps']:>7.1f}{r['road_iou']:>10.4f}{r['road_max_abs']:>9.4f}"
              f"{r['road_mean_abs']:>10.5f}{boxes:>12}{r['box_agreement']:>7.3f}")


if __name__ == "__main__":
    sys.exit(main())
