#!/usr/bin/env python3
"""Forward-collision warnings on noisy distances: false alarms on a still object, timing on real approaches.

    python -m benchmarks.warning_noise                                  # the runtime's filter and warning settings
    python -m benchmarks.warning_noise --sigmas 0 1 2 3 4 --noise 0.02 0.03 0.05 --runs 200 --json out/warn.json

A box's bottom edge jitters from frame to frame, so the distance the tracker measures does too. This simulates
that jitter (Gaussian, a share --noise of the distance, independent per frame, 25 frames a second) on
distances the app's own filter and warning rule (app/collision.py, configs/runtime.yaml) then process, for
each value of `warning.closing_speed_sigmas` (a TTC only for a closing speed of at least that many standard
deviations of its estimate; 0 = the speed at face value):

  still      an object standing 5.6 m ahead in the ego lane for 4 s (the distance of the shoulder box of
             test_video.mp4): every warning is false. The distance rule (min_distance_m) is off here: the
             question is what the speed's noise does.
  approach   objects closing in at 3, 6, 12 and 20 m/s from 2.7 s + 1.5 s of TTC away: each should warn
             once its true TTC reaches the threshold (2.7 s). Reported: how many runs warned, and the true
             TTC when they did, median and latest (smallest): a warning before 2.7 s of true TTC is early
             (noise made the object look faster), one far under it is late.

Nothing is measured on footage: it says what the rule does to noise of a known size, which is what can be
known without labelled approaches. The noise the filter assumes is tracking.filter.distance_noise_frac.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.report import write_json_report

FPS = 25.0
STILL_M, STILL_S = 5.6, 4.0
APPROACHES_MPS = (3.0, 6.0, 12.0, 20.0)


def first_warning(filter_config, warning, speed_mps: float, start_m: float, seconds: float, noise_frac: float,
                  rng: np.random.Generator) -> float | None:
    """The true TTC (s) at the first frame the rule warns on (inf for a still object), or None if it never does."""
    from app.collision import RangeFilter

    f = RangeFilter(filter_config)
    for i in range(int(seconds * FPS)):
        t = i / FPS
        z = start_m - speed_mps * t
        if z < 1.0:
            break
        f.update(t, 0.0, z + rng.normal(0.0, noise_frac * z))
        ttc = warning.time_to_collision(f.distance_m, f.closing_speed_mps, f.closing_speed_sd_mps or 0.0)
        if warning.warns(f.distance_m, ttc, in_corridor=True):
            return z / speed_mps if speed_mps > 0 else float("inf")
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 1.0, 2.0, 3.0, 4.0])
    ap.add_argument("--noise", type=float, nargs="+", default=[0.02, 0.03, 0.05],
                    help="distance noise, a share of the distance (the filter assumes distance_noise_frac)")
    ap.add_argument("--runs", type=int, default=200, help="simulated tracks per case")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from app.collision import FilterConfig, WarningConfig
    from app.frames import load_runtime_config

    config = load_runtime_config()
    filter_config = FilterConfig.from_config(config["tracking"]["filter"])
    base = replace(WarningConfig.from_config(config["warning"]), min_distance_m=0.0)
    print(f"filter {filter_config}; warning at TTC <= {base.ttc_s} s; {args.runs} runs a case, {FPS:g} FPS")
    rows = []
    for noise in args.noise:
        for sigmas in args.sigmas:
            warning = replace(base, closing_speed_sigmas=sigmas)
            # run r of case c meets the same noise whatever the setting: a paired comparison
            def noise_of(case: int, run: int) -> np.random.Generator:
                return np.random.default_rng((args.seed, case, run))

            still = [first_warning(filter_config, warning, 0.0, STILL_M, STILL_S, noise, noise_of(0, r))
                     for r in range(args.runs)]
            row = {"noise_frac": noise, "closing_speed_sigmas": sigmas,
                   "still_false_warning_runs": sum(w is not None for w in still), "approach": {}}
            parts = [f"noise {noise:.2f}  sigmas {sigmas:g}:  still object warned in "
                     f"{row['still_false_warning_runs']:>3}/{args.runs}"]
            for case, speed in enumerate(APPROACHES_MPS, 1):
                start = speed * (base.ttc_s + 1.5)
                ttcs = [first_warning(filter_config, warning, speed, start, base.ttc_s + 1.5, noise, noise_of(case, r))
                        for r in range(args.runs)]
                warned = [v for v in ttcs if v is not None]
                row["approach"][f"{speed:g}"] = {
                    "warned_runs": len(warned),
                    "ttc_at_warning_median_s": round(float(np.median(warned)), 3) if warned else None,
                    "ttc_at_warning_latest_s": round(float(min(warned)), 3) if warned else None}
                a = row["approach"][f"{speed:g}"]
                parts.append(f"{speed:g} m/s {a['warned_runs']:>3} warned, TTC {a['ttc_at_warning_median_s']} "
                             f"(latest {a['ttc_at_warning_latest_s']})")
            rows.append(row)
            print(";  ".join(parts), flush=True)
    if args.json:
        write_json_report(args.json, {"fps": FPS, "runs": args.runs, "seed": args.seed, "still_m": STILL_M,
                                      "still_s": STILL_S, "ttc_s": base.ttc_s, "filter": vars(filter_config),
                                      "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
