"""Count what a data config yields and write a few augmented samples to eyeball alignment.

    python -m benchmarks.inspect_dataset [--config configs/data/camvid.yaml] [--split train]
                                         [--root DIR] [--num 6] [--out runs/inspect_dataset]

Counts are taken on the unaugmented frames at their source size: frames, road
coverage (road pixels / labelled pixels; void share), boxes per class (marked
"derived" when they come from masks). The PNGs show the network-size augmented
sample: road tinted green, void tinted purple, boxes with class names.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from nets.config import CONFIG_DIR, PROJECT_ROOT, load_model_config, load_yaml
from train.datasets import build_dataset
from train.sample import IGNORE, Sample

BOX_COLOURS = [(0, 200, 255), (255, 80, 0), (0, 0, 255), (255, 0, 255)]  # BGR per class


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=str(CONFIG_DIR / "data" / "camvid.yaml"), help="data config YAML")
    p.add_argument("--model-config", default=None, help="model YAML (input size and classes); default perception_n")
    p.add_argument("--split", default="train")
    p.add_argument("--root", default=None, help="override the config's dataset root")
    p.add_argument("--num", type=int, default=6, help="augmented samples to write")
    p.add_argument("--out", default=str(PROJECT_ROOT / "runs" / "inspect_dataset"))
    return p.parse_args(argv)


def count(dataset, class_names: list[str]) -> dict:
    """Frame, pixel and box counts over the unaugmented frames."""
    road_px = labelled_px = void_px = total_px = 0
    boxes = np.zeros(len(class_names), np.int64)
    box_areas = [[] for _ in class_names]
    with_road = with_boxes = 0
    for i in range(len(dataset)):
        s = dataset.load(i)
        if s.road is not None:
            with_road += 1
            channel = s.road[0]
            road_px += int(np.count_nonzero(channel == 1))
            labelled_px += int(np.count_nonzero(channel != IGNORE))
            void_px += int(np.count_nonzero(channel == IGNORE))
            total_px += channel.size
        if s.boxes is not None:
            with_boxes += 1
            boxes += np.bincount(s.classes, minlength=len(class_names))
            areas = (s.boxes[:, 2] - s.boxes[:, 0]) * (s.boxes[:, 3] - s.boxes[:, 1])
            for c, a in zip(s.classes, areas, strict=True):
                box_areas[c].append(float(a))
    return dict(frames=len(dataset), with_road=with_road, with_boxes=with_boxes,
                road_coverage=road_px / max(labelled_px, 1), void_share=void_px / max(total_px, 1),
                boxes=boxes.tolist(),
                median_box_area=[float(np.median(a)) if a else 0.0 for a in box_areas])


def draw(sample: Sample, class_names: list[str]) -> np.ndarray:
    image = sample.image.copy()
    if sample.road is not None:
        tint = np.zeros_like(image)
        tint[sample.road[0] == 1] = (0, 255, 0)
        tint[sample.road[0] == IGNORE] = (160, 0, 160)
        image = cv2.addWeighted(image, 1.0, tint, 0.4, 0)
    if sample.boxes is not None:
        for (x1, y1, x2, y2), c in zip(sample.boxes.round().astype(int), sample.classes, strict=True):
            colour = BOX_COLOURS[c % len(BOX_COLOURS)]
            cv2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), colour, 1)
            cv2.putText(image, class_names[c], (x1, max(y1 - 3, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1)
    return image


def main(argv=None) -> int:
    args = parse_args(argv)
    model = load_model_config(args.model_config)
    cfg = load_yaml(args.config)
    if args.root:
        cfg["root"] = args.root
    kwargs = dict(input_size=model["input_size"], road_classes=model["road_classes"], class_names=model["classes"])

    plain = build_dataset(cfg, args.split, augment=False, **kwargs)
    start = time.perf_counter()
    stats = count(plain, model["classes"])
    seconds = time.perf_counter() - start
    derived = " (derived from masks: approximate)" if plain.boxes_are_derived else ""
    print(f"{plain.describe()}")
    print(f"frames: {stats['frames']}  with road label: {stats['with_road']}  with box labels: {stats['with_boxes']}")
    print(f"road coverage: {stats['road_coverage']:.1%} of labelled pixels; void: {stats['void_share']:.1%} of all")
    print(f"boxes per class{derived}:")
    for name, n, area in zip(model["classes"], stats["boxes"], stats["median_box_area"], strict=True):
        print(f"  {name:12s} {n:6d}  ({n / max(stats['with_boxes'], 1):.2f} per frame, median area {area:.0f} px)")
    print(f"load time: {seconds / max(len(plain), 1) * 1000:.1f} ms per frame (read + labels, source size)")

    augmented = build_dataset(cfg, args.split, augment=True, **kwargs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    picks = np.linspace(0, len(augmented) - 1, num=min(args.num, len(augmented))).astype(int)
    start = time.perf_counter()
    for i in picks:
        sample = augmented[int(i)]
        cv2.imwrite(str(out / f"{args.split}_{i:04d}.png"), draw(sample, model["classes"]))
    per_sample = (time.perf_counter() - start) / max(len(picks), 1) * 1000
    print(f"wrote {len(picks)} augmented samples to {out} ({per_sample:.1f} ms per sample incl. augmentation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
