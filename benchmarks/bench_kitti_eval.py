"""How long the KITTI Road evaluation takes for the whole training split (289 frames), on synthetic frames.

    python -m benchmarks.bench_kitti_eval [--frames 289] [--no-decode]

Each frame gets its own calib (random, around real KITTI values), so every frame
builds its BEV maps as in a real run; the mask and prediction are KITTI-sized
(1242×375) PNGs decoded per frame, then scored in BEV and perspective exactly as
`eval --dataset kitti-road` does. Only the model is left out. A handful of
distinct images is cycled: the cost does not depend on their content.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from calib.kitti_calib import parse_kitti_calib, parse_kitti_road_name
from calib.road_plane import RoadPlaneHomography
from train.kitti_road_eval import KittiRoadAccumulator

WIDTH, HEIGHT = 1242, 375
SPLIT = {"um": 95, "umm": 96, "uu": 98}  # the real training split: 289 frames


def rotation(pitch_deg: float, yaw_deg: float, roll_deg: float) -> np.ndarray:
    p, y, r = np.radians([pitch_deg, yaw_deg, roll_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def random_calib_text(rng: np.random.Generator) -> str:
    """A calib file like KITTI's: focal 707–722 px, principal point near (605, 180), camera 1.4–1.7 m high."""
    f = rng.uniform(707, 722)
    p2 = np.array([[f, 0, rng.uniform(601, 610), 44.86], [0, f, rng.uniform(172, 186), 0.216], [0, 0, 1, 0.0027]])
    r0 = rotation(*rng.uniform(-0.6, 0.6, 3))
    cam_to_road = np.hstack([rotation(*rng.uniform(-1.5, 1.5, 3)),
                             [[rng.uniform(-0.05, 0.05)], [-rng.uniform(1.4, 1.7)], [rng.uniform(0.2, 0.35)]]])
    rows = {"P2": p2, "R0_rect": r0, "Tr_cam_to_road": cam_to_road}
    return "\n".join(f"{key}: " + " ".join(f"{v:.12e}" for v in m.ravel()) for key, m in rows.items()) + "\n"


def synthetic_pngs(rng: np.random.Generator, count: int) -> list[tuple[bytes, bytes]]:
    """(mask PNG, prediction PNG) pairs: road below a horizon, void sky, a noisy confidence map."""
    pairs = []
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    for _ in range(count):
        horizon = rng.integers(160, 200)
        centre, spread = rng.uniform(500, 740), rng.uniform(0.6, 1.4)
        road = (rows > horizon) & (np.abs(cols - centre) < spread * (rows - horizon) * 2.5)
        mask = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        mask[rows > horizon - 20] = (0, 0, 255)
        mask[road] = (255, 0, 255)
        noise = rng.normal(0, 0.2, (HEIGHT, WIDTH))
        prediction = np.clip(np.where(road, 0.8, 0.2) + noise, 0, 1)
        pairs.append((cv2.imencode(".png", mask)[1].tobytes(),
                      cv2.imencode(".png", np.round(prediction * 255).astype(np.uint8))[1].tobytes()))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=sum(SPLIT.values()))
    parser.add_argument("--distinct-images", type=int, default=6)
    parser.add_argument("--no-decode", action="store_true", help="keep images decoded: time warping and scoring only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    categories = [c for c, n in SPLIT.items() for _ in range(n)]
    names = [parse_kitti_road_name(f"{categories[i % len(categories)]}_road_{i:06d}") for i in range(args.frames)]
    calibs = [random_calib_text(rng) for _ in range(args.frames)]
    pngs = synthetic_pngs(rng, args.distinct_images)
    decoded = [(cv2.imdecode(np.frombuffer(m, np.uint8), cv2.IMREAD_UNCHANGED),
                cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_UNCHANGED)) for m, p in pngs]

    accumulator = KittiRoadAccumulator()
    start, start_cpu = time.perf_counter(), time.process_time()
    for i, name in enumerate(names):
        homography = RoadPlaneHomography.from_kitti(parse_kitti_calib(calibs[i], source=f"synthetic {i}"))
        if args.no_decode:
            mask, prediction = decoded[i % len(decoded)]
        else:
            mask_png, prediction_png = pngs[i % len(pngs)]
            mask = cv2.imdecode(np.frombuffer(mask_png, np.uint8), cv2.IMREAD_UNCHANGED)
            prediction = cv2.imdecode(np.frombuffer(prediction_png, np.uint8), cv2.IMREAD_UNCHANGED)
        accumulator.add(name, mask, prediction, homography)  # builds this calib's BEV maps, warps, counts both views
    scores = accumulator.scores()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu

    what = "warp + score" + ("" if args.no_decode else " + PNG decode of mask and prediction")
    print(f"{args.frames} frames {WIDTH}x{HEIGHT}, one calib each: {what}: {elapsed:.2f} s "
          f"({1000 * elapsed / args.frames:.1f} ms/frame; CPU time {cpu:.2f} s: wall time grows on a shared machine)")
    for view, by_category in scores.items():
        print(f"  {view:<12}" + "  ".join(f"{c} MaxF {100 * s.MaxF:.1f}%" for c, s in by_category.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
