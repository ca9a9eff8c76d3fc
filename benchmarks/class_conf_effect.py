#!/usr/bin/env python3
"""Per-class confidence thresholds: their effect on labelled CamVid frames and on unlabelled clips.

    python -m benchmarks.class_conf_effect --root ../shared/data/camvid --split val \
        --clips assets/sample_clip.mp4 ../shared/data/video/*.mp4 --every 10 --dump out/class_conf
    python -m benchmarks.class_conf_effect --weights runs/camvid_n_heldout/last.onnx \
        --root ../shared/data/camvid --split train,val --sequences 0001TP --sweep   # floors on an unseen drive

Two settings are compared, both with the runtime's NMS IoU:
  global   every class at thresholds.conf of configs/runtime.yaml (or --conf)
  class    max(conf, class_conf[c]) per class (thresholds.class_conf, or --class-conf car=0.47,...)
Labelled frames (CamVid, boxes derived from masks: approximate): per class precision,
recall and F1 at IoU 0.5, false boxes per frame, and AP50 of the thresholded boxes.
Clips: boxes per frame per class on every --every-th frame; --dump writes those
frames with both settings' boxes (left: global, right: class) for counting false
boxes by eye.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.report import write_json_report


def parse_class_conf(text: str) -> dict[str, float]:
    out = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        out[name.strip()] = float(value)
    return out


def floors(class_names, conf, class_conf) -> np.ndarray:
    return np.array([max(conf, class_conf.get(n, 0.0)) for n in class_names], np.float32)


def labelled_scores(raw, class_names, thresholds) -> dict:
    """raw: [(boxes at conf 0.001, gt boxes, gt classes)] → per class P/R/F1@0.5, false boxes/frame, AP50."""
    from nets.postprocess import apply_class_conf
    from train.metrics import DetectionScore

    det = DetectionScore(class_names)
    for pred, gt, gcls in raw:
        det.update(apply_class_conf(pred, thresholds), gt, gcls)
    tp = np.concatenate(det.stats["tp"])[:, 0] if det.stats["tp"] else np.zeros(0, bool)
    pred_cls, target_cls = np.concatenate(det.stats["pred_cls"]), np.concatenate(det.stats["target_cls"])
    ap = det.compute()["per_class"]
    out = {}
    for c, name in enumerate(class_names):
        mine = pred_cls == c
        hits, n_pred, n_gt = int(tp[mine].sum()), int(mine.sum()), int((target_cls == c).sum())
        p, r = hits / max(n_pred, 1), hits / max(n_gt, 1)
        out[name] = {"threshold": float(thresholds[c]), "P": round(p, 4), "R": round(r, 4),
                     "F1": round(2 * p * r / max(p + r, 1e-9), 4),
                     "false_per_frame": round((n_pred - hits) / len(raw), 3), "AP50": round(ap[name]["AP50"], 4)}
    return out


def sweep_floors(raw, class_names, conf, floors_to_try) -> dict:
    """Per class, the scores at each floor (other classes at `conf`) and the floor where F1 peaks.

    Choosing a class's floor on frames of drives the model never trained on is the point
    (issue 11): a floor picked where the model has seen the drive rewards memorised scores.
    """
    floors_to_try = [conf] + [f for f in floors_to_try if f > conf]  # a floor below conf changes nothing
    out = {}
    for c, name in enumerate(class_names):
        rows = []
        for floor in floors_to_try:
            t = np.full(len(class_names), conf, np.float32)
            t[c] = max(conf, floor)
            rows.append(labelled_scores(raw, class_names, t)[name])
        best = max(rows, key=lambda r: r["F1"])
        out[name] = {"rows": rows, "best_F1_threshold": best["threshold"], "best_F1": best["F1"]}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--backend", default="onnxruntime")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--root", type=Path, help="CamVid root (labelled part; skipped without it)")
    ap.add_argument("--split", default="val")
    ap.add_argument("--sequences", help="CamVid sequences to score (default: all of the split)")
    ap.add_argument("--clips", nargs="*", default=[], help="videos for the unlabelled box counts")
    ap.add_argument("--every", type=int, default=10, help="every n-th clip frame is counted")
    ap.add_argument("--conf", type=float, help="global threshold (default configs/runtime.yaml)")
    ap.add_argument("--class-conf", type=parse_class_conf, help="car=0.47,... (default configs/runtime.yaml)")
    ap.add_argument("--dump", type=Path, help="write the counted clip frames with both settings' boxes here")
    ap.add_argument("--sweep", action="store_true",
                    help="also sweep each class's floor over 0.25-0.70 on the labelled frames and print where F1 peaks")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import cv2

    from app.frames import Thresholds, load_runtime_config
    from nets.postprocess import apply_class_conf
    from nets.predictor import load_predictor

    th = Thresholds.from_config(load_runtime_config())
    conf = th.conf if args.conf is None else args.conf
    class_conf = th.class_conf if args.class_conf is None else args.class_conf
    predictor = load_predictor(args.weights, backend=args.backend, conf=0.001, iou=th.iou, precision=args.precision)
    names = predictor.class_names
    settings = {"global": floors(names, conf, {}), "class": floors(names, conf, class_conf)}
    print(f"{predictor.description}; global conf {conf}; class_conf {class_conf}")
    report = {"model": predictor.description, "conf": conf, "class_conf": class_conf}

    if args.root:
        from nets.config import load_yaml
        from train.datasets import build_dataset
        from train.sequences import frames_per_sequence

        cfg = load_yaml("configs/data/camvid.yaml")
        cfg.update(root=str(args.root), splits={args.split: args.split.split(",")})
        if args.sequences:
            cfg["sequences"] = args.sequences
        ds = build_dataset(cfg, args.split, predictor.input_size, predictor.road_classes, names, augment=False)
        raw = []
        for i in range(len(ds)):
            s = ds.load(i)
            raw.append((predictor(s.image).boxes, s.boxes, s.classes))
        report["camvid"] = {"split": args.split, "sequences": frames_per_sequence(ds),
                            **{k: labelled_scores(raw, names, t) for k, t in settings.items()}}
        print(f"CamVid {args.split} {report['camvid']['sequences']} (derived boxes: approximate)")
        for k in settings:
            for name, v in report["camvid"][k].items():
                print(f"  {k:<6} {name:<10} thr {v['threshold']:.2f}  P {v['P']:.3f}  R {v['R']:.3f}  "
                      f"F1 {v['F1']:.3f}  false/frame {v['false_per_frame']:.2f}  AP50 {v['AP50']:.3f}")
        if args.sweep:
            sweep = sweep_floors(raw, names, conf, np.round(np.arange(0.25, 0.701, 0.05), 2).tolist())
            report["camvid"]["sweep"] = sweep
            for name, v in sweep.items():
                print(f"  sweep  {name:<10} " + "  ".join(
                    f"{r['threshold']:.2f}:F1 {r['F1']:.3f}/fp {r['false_per_frame']:.2f}" for r in v["rows"]))
                print(f"         {name:<10} F1 peaks at {v['best_F1_threshold']:.2f} (F1 {v['best_F1']:.3f})")

    clips = {}
    for clip in args.clips:
        cap = cv2.VideoCapture(str(clip))
        counts = {k: np.zeros(len(names), int) for k in settings}
        frames = 0
        index = -1
        while True:
            ok, image = cap.read()
            if not ok:
                break
            index += 1
            if index % args.every:
                continue
            frames += 1
            boxes = predictor(image).boxes
            drawn = []
            for k, t in settings.items():
                kept = apply_class_conf(boxes, t)
                counts[k] += np.bincount(kept[:, 5].astype(int), minlength=len(names))
                if args.dump:
                    canvas = image.copy()
                    for x1, y1, x2, y2, score, c in kept:
                        cv2.rectangle(canvas, (int(x1), int(y1)), (int(x2), int(y2)), (0, 255, 255), 2)
                        cv2.putText(canvas, f"{names[int(c)][:3]} {score:.2f}", (int(x1), max(int(y1) - 4, 10)),
                                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1)
                    cv2.putText(canvas, k, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
                    drawn.append(canvas)
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                out = args.dump / f"{Path(clip).stem}_{index:04d}.png"
                if not cv2.imwrite(str(out), cv2.resize(np.hstack(drawn), None, fx=0.5, fy=0.5)):
                    raise OSError(f"could not write {out}")
        cap.release()
        per_frame = {k: (c / max(frames, 1)).round(2).tolist() for k, c in counts.items()}
        clips[str(clip)] = {"frames": frames, **{k: dict(zip(names, v, strict=True)) for k, v in per_frame.items()}}
        print(f"{clip}: {frames} frames; boxes per frame " +
              "; ".join(f"{k}: {clips[str(clip)][k]}" for k in settings))
    report["clips"] = clips
    if args.json:
        write_json_report(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
