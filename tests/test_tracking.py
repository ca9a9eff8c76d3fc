"""Tracking, road distance, closing speed, TTC and the forward-collision warning, with known answers.

The sequences are synthetic but the geometry is real: a car 1.8 m wide stands on the road plane of a real
KITTI Road calib file (tests/fixtures/kitti_road_calib) at a known (X, Z) that changes at a known speed; its
box is the projection of its footprint. The tracker must give back the distance, the closing speed and the
TTC that the motion implies, within the stated tolerances.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.collision import FilterConfig, RangeFilter, WarningConfig
from app.frames import Frame, FrameResult, load_runtime_config
from app.tracking import FCW, NO_CALIBRATION, ObjectTracker, TrackingConfig
from app.writers import JsonLinesWriter
from calib.camera import load_camera_geometry
from calib.ground_contact import box_ground_points, box_ground_width_m, ground_box
from core.errors import MissingDependencyError, UserError
from nets.result import Perception

CALIB = Path(__file__).parent / "fixtures" / "kitti_road_calib" / "um_000051.txt"
SIZE = (1242, 375)  # the KITTI frame this calib belongs to (width, height)
CLASSES = ["car", "pedestrian", "cyclist"]
FPS = 10.0  # KITTI's camera rate


@pytest.fixture(scope="module")
def homography():
    return load_camera_geometry(CALIB).homography_for(SIZE)


def perception(boxes, road: float = 1.0) -> Perception:
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 6)
    return Perception(np.full((1, SIZE[1], SIZE[0]), road, np.float32), b, CLASSES)


def car_row(h, x_m, z_m, score=0.9, cls=0):
    return [*ground_box(h, x_m, z_m, 1.8), score, cls]


def tracker(**changes) -> ObjectTracker:
    config = load_runtime_config()
    for key, value in changes.items():
        section, _, name = key.partition("__")
        config[section][name] = value
    return ObjectTracker(TrackingConfig.from_config(config))


# --- geometry --------------------------------------------------------------------------------------------------
def test_ground_box_round_trip_on_real_kitti_calib(homography):
    box = ground_box(homography, 1.0, 20.0, 1.8)
    x, z = box_ground_points(homography, box)
    # KITTI's road frame is turned against the camera: the footprint's front edge is not one image row, so a
    # box's bottom row (its mean) meets the road a few millimetres off, on a slanted line (width within 10 %)
    assert x[0] == pytest.approx(1.0, abs=0.01) and z[0] == pytest.approx(20.0, abs=0.01)
    assert box_ground_width_m(homography, box)[0] == pytest.approx(1.8, rel=0.1)
    assert box[3] > box[1] and box[2] > box[0]


# --- range filter --------------------------------------------------------------------------------------------------
def test_range_filter_converges_on_constant_closing_speed():
    f = RangeFilter(FilterConfig.from_config(load_runtime_config()["tracking"]["filter"]))
    for i in range(40):
        t = i / FPS
        f.update(t, 0.5, 40.0 - 8.0 * t)
    assert f.closing_speed_mps == pytest.approx(8.0, abs=0.05)
    assert f.distance_m == pytest.approx(math.hypot(0.5, 40.0 - 8.0 * 3.9), abs=0.05)


def test_range_filter_reports_no_speed_before_enough_samples():
    f = RangeFilter(replace(FilterConfig.from_config(load_runtime_config()["tracking"]["filter"]),
                            speed_min_samples=5))
    for i in range(4):
        f.update(i / FPS, 0.0, 30.0 - i)
    assert f.closing_speed_mps is None and f.distance_m is not None


def test_range_filter_speed_uncertainty_shrinks_and_a_jittering_still_box_is_not_closing():
    """The shoulder box of test_video.mp4 in numbers: an object standing still at 5.6 m whose bottom edge reads
    5.9, 5.8, 5.7, 5.6, 5.5 m in its first five frames (25 FPS), then jitters by +-0.1 m. Taken at face value that
    is closing at 2.5 m/s, TTC 2.2 s: a warning. The filter's standard deviation of that speed is 1.6 m/s, so two
    of them reach zero: no TTC, no warning, then or later. The uncertainty shrinks as measurements come."""
    f = RangeFilter(FilterConfig.from_config(load_runtime_config()["tracking"]["filter"]))
    w = WarningConfig.from_config(load_runtime_config()["warning"])
    naive = replace(w, closing_speed_sigmas=0.0)
    readings = [5.9, 5.8, 5.7, 5.6, 5.5] + [5.6 + (0.1 if i % 2 else -0.1) for i in range(20)]
    sds = []
    for i, z in enumerate(readings):
        f.update(i / 25, -1.6, z)
        if f.closing_speed_mps is None:
            continue
        speed, sd = f.closing_speed_mps, f.closing_speed_sd_mps
        if not sds:  # the first speed: what a rule without the uncertainty would have warned on
            assert speed == pytest.approx(2.5, abs=0.3) and sd == pytest.approx(1.6, abs=0.1)
            assert naive.time_to_collision(f.distance_m, speed) < w.ttc_s
        sds.append(sd)
        assert w.time_to_collision(f.distance_m, speed, sd) is None
    assert len(sds) == 21 and all(b < a for a, b in zip(sds, sds[1:], strict=False)) and sds[-1] < 0.5


def test_ttc_and_warning_rules():
    w = WarningConfig(ttc_s=2.7, min_distance_m=5.0, corridor_width_m=3.6, min_closing_speed_mps=0.5,
                      closing_speed_sigmas=2.0, hold_s=0.5)
    assert w.time_to_collision(20.0, 10.0) == pytest.approx(2.0)
    assert w.time_to_collision(20.0, 0.2) is None and w.time_to_collision(20.0, -3.0) is None
    # closing at 2.6 m/s give or take 1.6 (two standard deviations reach 0): no evidence it closes, no TTC
    assert w.time_to_collision(5.6, 2.6, 1.6) is None
    assert w.time_to_collision(5.6, 2.6, 1.2) == pytest.approx(5.6 / 2.6)
    assert w.warns(20.0, 2.0, True) and not w.warns(20.0, 2.0, False) and not w.warns(20.0, 3.0, True)
    assert w.warns(4.0, None, True)
    assert w.in_corridor(1.8) and not w.in_corridor(1.9)


# --- the tracker on known motion ----------------------------------------------------------------------------------
def run_sequence(tr, homography, positions, times, extra=()):
    states = []
    for i, ((x, z), t) in enumerate(zip(positions, times, strict=True)):
        rows = [car_row(homography, x, z)] if z is not None else []
        rows += [r for r in extra]
        states.append(tr.update(t, perception(rows), 0.5, homography, frame_index=i))
    return states


def test_distance_closing_speed_and_ttc_of_an_approaching_car(homography):
    """A car in our lane from 35 m closing at 6 m/s (21.6 km/h), 10 frames/s: after 2 s the filter must give
    distance within 0.3 m, closing speed within 0.3 m/s and TTC within 0.15 s of the truth."""
    speed, z0 = 6.0, 35.0
    times = [i / FPS for i in range(25)]
    positions = [(0.3, z0 - speed * t) for t in times]
    states = run_sequence(tracker(), homography, positions, times)
    last, t = states[-1].tracks[0], times[-1]
    z = z0 - speed * t
    assert last.measured and last.confirmed and last.in_corridor
    assert last.distance_m == pytest.approx(math.hypot(0.3, z), abs=0.3)
    assert last.closing_speed_mps == pytest.approx(speed, abs=0.3)
    assert last.ttc_s == pytest.approx(math.hypot(0.3, z) / speed, abs=0.15)
    assert len({s.tracks[0].track_id for s in states}) == 1


def test_dropped_frames_use_time_stamps_not_indices(homography):
    """A live source drops frames at random: speeds come from the frames' time stamps, so they stay right."""
    speed, z0 = 10.0, 45.0
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.choice([1, 1, 2, 3], size=25)) / 25.0  # 25 FPS camera, 0-2 frames dropped between
    positions = [(-0.5, z0 - speed * t) for t in times]
    last = run_sequence(tracker(), homography, positions, times)[-1].tracks[0]
    assert last.closing_speed_mps == pytest.approx(speed, abs=0.4)
    assert last.distance_m == pytest.approx(math.hypot(0.5, z0 - speed * times[-1]), abs=0.3)


def test_warning_on_ttc_in_corridor_only_with_events(homography):
    """Closing at 12 m/s from 40 m: TTC falls through 2.7 s at 32.4 m; warned once (one start event). The same
    motion one lane to the left (X = -3.5 m) never warns."""
    times = [i / FPS for i in range(20)]
    ahead = run_sequence(tracker(), homography, [(0.0, 40.0 - 12.0 * t) for t in times], times)
    warned = [s.tracks[0].warning for s in ahead]
    first = warned.index(True)
    z_first = 40.0 - 12.0 * times[first]
    assert z_first / 12.0 <= 2.7 + 0.3  # not later than the threshold allows, within the filter's tolerance
    assert all(warned[first:])
    starts = [e for s in ahead for e in s.events if e["type"] == FCW]
    assert len(starts) == 1 and starts[0]["ttc_s"] <= 2.7
    beside = run_sequence(tracker(), homography, [(-3.5, 40.0 - 12.0 * t) for t in times], times)
    assert not any(s.warning for s in beside) and beside[-1].tracks[0].in_corridor is False


def test_id_survives_a_two_frame_detection_gap(homography):
    times = [i / FPS for i in range(14)]
    positions = [(0.0, 30.0 - 2.0 * t) for t in times]
    positions[6] = positions[7] = (0.0, None)  # the detector missed the car twice
    other = car_row(homography, 3.5, 18.0)  # a second, parked car keeps its own id
    tr = tracker()
    states = run_sequence(tr, homography, positions, times, extra=[other])
    ids = [[t.track_id for t in s.tracks if t.box[0] < car_row(homography, 3.5, 18.0)[0] - 1] for s in states]
    assert all(len(i) == 1 for k, i in enumerate(ids) if k not in (6, 7))
    assert len({i[0] for i in ids if i}) == 1
    assert len({t.track_id for s in states for t in s.tracks}) == 2
    moving = next(t for t in states[-1].tracks if t.track_id == ids[0][0])
    assert moving.closing_speed_mps == pytest.approx(2.0, abs=0.4)


def test_no_calibration_means_no_distance_and_no_warning(homography):
    tr = tracker()
    times = [i / FPS for i in range(15)]
    for i, t in enumerate(times):
        state = tr.update(t, perception([car_row(homography, 0.0, 20.0 - 10.0 * t)]), 0.5, None, i)
    assert state.geometry_note == NO_CALIBRATION and not state.warning and state.nearest() is None
    track = state.tracks[0]
    assert track.distance_m is None and track.ttc_s is None and track.unmeasured == "no calibration"
    assert state.to_json()["collision"] == {"available": False, "note": NO_CALIBRATION, "warning": False,
                                            "nearest_id": None}
    assert tr.warning_events == 0


def test_confirmation_and_plausibility_gate_nearest(homography):
    tr = tracker(tracking__confirm_frames=3)
    wide = [*ground_box(homography, 0.0, 15.0, 6.0), 0.9, 0]  # 6 m wide at 15 m: a facade, not a car
    low = car_row(homography, 3.0, 12.0, score=0.46)  # below distance_conf
    states = [tr.update(i / FPS, perception([car_row(homography, 0.0, 25.0), wide, low]), 0.5, homography, i)
              for i in range(4)]
    assert states[0].nearest() is None and states[1].nearest() is None  # not confirmed yet
    by_reason = {t.unmeasured for t in states[3].tracks}
    assert "low score" in by_reason and any(r and r.startswith("implausible width") for r in by_reason)
    assert states[3].nearest().distance_m == pytest.approx(25.0, abs=0.2)
    off_road = tracker(tracking__confirm_frames=1).update(0.0, perception([car_row(homography, 0.0, 25.0)], road=0.0),
                                                         0.5, homography, 0)
    assert off_road.tracks[0].unmeasured == "not on the road" and off_road.nearest() is None


def test_a_box_too_low_for_a_car_drives_no_distance(homography):
    """The box's height in metres is its ground width times its pixel aspect: a car 1.8 m wide whose box is
    0.5 of that tall stands 0.9 m high (under car's 1.1 m floor), at 0.7 of it 1.26 m (a car). A median
    barrier boxed as a car, 2.4 m wide and a quarter of that tall, is the case from the sample clip."""
    def measured(x_m, z_m, width_m, ratio):
        tr = tracker(tracking__confirm_frames=1)
        row = [*ground_box(homography, x_m, z_m, width_m, height_ratio=ratio), 0.9, 0]
        return tr.update(0.0, perception([row]), 0.5, homography, 0).tracks[0]

    assert measured(0.0, 12.0, 1.8, 0.5).unmeasured == "implausible height 0.9 m"
    car = measured(0.0, 12.0, 1.8, 0.7)
    assert car.measured and car.distance_m == pytest.approx(12.0, abs=0.2)
    barrier = measured(-1.0, 4.4, 2.4, 0.25)
    assert barrier.unmeasured == "implausible height 0.6 m" and not barrier.measured
    assert measured(0.0, 12.0, 1.8, 3.0).unmeasured.startswith("implausible height 5.")  # ~5.4 m: no car is that tall


def test_seek_back_starts_the_tracker_afresh(homography):
    tr = tracker()
    for i in range(5):
        tr.update(1.0 + i / FPS, perception([car_row(homography, 0.0, 20.0)]), 0.5, homography, i)
    state = tr.update(0.2, perception([car_row(homography, 0.0, 20.0)]), 0.5, homography, 2)
    assert tr.resets == 1 and state.tracks[0].hits == 1


def test_json_line_schema(homography):
    tr = tracker()
    for i in range(10):  # 10 m closing at 4 m/s: TTC < 2.7 s, warned from when the speed is known (5 samples)
        state = tr.update(i / FPS, perception([car_row(homography, 0.0, 10.0 - 4.0 * i / FPS)]), 0.5, homography, i)
        if state.events:
            break
    p = perception([car_row(homography, 0.0, 8.0)])
    result = FrameResult(Frame(5, 0.0, np.zeros((SIZE[1], SIZE[0], 3), np.uint8), timestamp=0.5), p, tracks=state)
    line = json.loads(json.dumps(JsonLinesWriter.record(result)))
    assert {"tracks", "events", "collision", "track_ms"} <= set(line)
    track = line["tracks"][0]
    assert set(track) == {"id", "class", "score", "xyxy", "hits", "confirmed", "measured", "unmeasured", "x_m", "z_m",
                          "distance_m", "closing_speed_mps", "ttc_s", "in_corridor", "warning"}
    assert track["id"] == 1 and track["class"] == "car" and track["warning"] is True
    assert line["collision"]["warning"] is True and line["collision"]["nearest_id"] == 1
    assert any(e["type"] == FCW and e["track_id"] == 1 for e in line["events"])
    plain = JsonLinesWriter.record(FrameResult(result.frame, p))
    assert "tracks" not in plain


def test_bad_tracking_config_is_a_user_error():
    config = load_runtime_config()
    config["warning"]["ttc_s"] = -1
    with pytest.raises(UserError, match="warning.ttc_s"):
        TrackingConfig.from_config(config)
    config = load_runtime_config()
    config["tracking"]["plausible_width_m"] = {"car": [3, 1]}
    with pytest.raises(UserError, match="plausible_width_m.car"):
        TrackingConfig.from_config(config)
    config = load_runtime_config()
    config["tracking"]["plausible_height_m"] = {"pedestrian": [2.0]}
    with pytest.raises(UserError, match="plausible_height_m.pedestrian"):
        TrackingConfig.from_config(config)


def test_missing_lap_is_reported_not_installed(monkeypatch):
    """Without lap, ultralytics would call check_requirements (a pip install): we stop before that, and say so."""
    import importlib.util

    from app import tracking

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lap" else real(name, *a))
    calls = []
    monkeypatch.setattr(subprocess, "check_output", lambda *a, **k: calls.append(a))
    with pytest.raises(MissingDependencyError, match="lap"):
        tracking.ObjectTracker(TrackingConfig.from_config(load_runtime_config()))
    assert calls == []


def test_on_road_needs_road_under_most_of_the_bottom_edge(homography):
    """Road under a quarter of the strip below the box (a guard rail box on the shoulder) is not enough."""
    row = car_row(homography, 0.0, 20.0)
    x1, _, x2, y2 = row[:4]
    tr = tracker(tracking__confirm_frames=1)
    p = perception([row], road=0.0)
    mid = int(x1 + (x2 - x1) / 4)
    p.road_probs[0, int(y2) + 1:, mid:mid + int((x2 - x1) / 8)] = 1.0  # road under a quarter of the strip only
    assert tr.update(0.0, p, 0.5, homography, 0).tracks[0].unmeasured == "not on the road"
    p.road_probs[0, int(y2) + 1:, :] = 1.0
    assert tr.update(0.1, p, 0.5, homography, 1).tracks[0].measured


def test_a_warning_is_held_through_a_frame_without_a_measurement(homography):
    """One frame in which the car is not measurable (no road under it) must not end the warning and start it
    again: one start event, the warning on in that frame too (held for warning.hold_s)."""
    tr = tracker()
    states = []
    for i in range(20):
        t = i / FPS
        road = 0.0 if i == 14 else 1.0
        states.append(tr.update(t, perception([car_row(homography, 0.0, 30.0 - 10.0 * t)], road=road), 0.5,
                                homography, i))
    assert states[14].tracks[0].unmeasured == "not on the road" and states[14].tracks[0].warning
    from app.overlay import OverlayRenderer
    from app.track_overlay import banner_text, nearest_text

    assert banner_text(states[14]) == "FORWARD COLLISION WARNING  #1 car"  # no figures to show in that frame
    assert nearest_text(states[14]).startswith("⚠ FORWARD COLLISION WARNING")
    image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    assert OverlayRenderer(config=load_runtime_config()).render(image, perception([]), tracks=states[14]).any()
    assert states[13].warning and states[15].warning
    assert [e["type"] for s in states for e in s.events] == [FCW]


def test_warning_noise_benchmark_reports_fewer_false_warnings_with_the_significance_rule(tmp_path):
    """benchmarks/warning_noise.py on a small run: at 5 % distance noise a still object warns falsely less often
    with three standard deviations than at face value, and every simulated approach still warns."""
    import json

    from benchmarks import warning_noise

    out = tmp_path / "warn.json"
    assert warning_noise.main(["--sigmas", "0", "3", "--noise", "0.05", "--runs", "40", "--json", str(out)]) == 0
    face_value, sure = json.loads(out.read_text())["rows"]
    assert (face_value["closing_speed_sigmas"], sure["closing_speed_sigmas"]) == (0.0, 3.0)
    assert sure["still_false_warning_runs"] < face_value["still_false_warning_runs"]
    for row in (face_value, sure):
        assert all(a["warned_runs"] == 40 for a in row["approach"].values())
