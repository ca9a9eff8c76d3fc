"""The tracker inside the real pipeline: a real video written and read with OpenCV, frames in order on the
output thread, tracks in FrameResult, the JSON lines and the overlay (banner, note), and a live source that
drops frames."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from app.frames import load_runtime_config
from app.overlay import GroundDistance, OverlayRenderer
from app.pipeline import Pipeline
from app.sources import open_source
from app.tracking import FCW, NO_CALIBRATION, ObjectTracker
from app.writers import JsonLinesWriter
from calib.camera import load_camera_geometry
from calib.ground_contact import ground_box
from nets.result import Perception
from stand_ins import FakeCamera, read_stamp, write_stamped_video

CALIB = Path(__file__).parent / "fixtures" / "kitti_road_calib" / "um_000051.txt"
W, H, FPS = 1242, 375, 10.0
SPEED, Z0 = 10.0, 30.0  # a car in our lane closing at 10 m/s from 30 m: TTC 3.0 s at the start, 1.6 s at frame 14


class ApproachingCar:
    """A predictor stand-in that reads the frame number stamped in the image and returns the box of a car
    standing on the KITTI road plane at Z0 - SPEED·t, t = frame / FPS (frame 7 and 8 missed)."""

    def __init__(self, homography, missed=(7, 8)):
        self.homography, self.missed = homography, set(missed)
        self.conf, self.iou, self.backend_name = 0.32, 0.5, "stand-in"

    def __call__(self, image):
        index = read_stamp(image)
        boxes = np.empty((0, 6), np.float32)
        if index not in self.missed:
            box = ground_box(self.homography, 0.0, Z0 - SPEED * index / FPS, 1.8)
            boxes = np.array([[*box, 0.9, 0]], np.float32)
        return Perception(np.ones((1, *image.shape[:2]), np.float32), boxes, ["car", "pedestrian", "cyclist"],
                          timings={"pre": 0.0, "infer": 0.0, "post": 0.0}, backend="stand-in")

    def close(self):
        pass


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_stamped_video(tmp_path_factory.mktemp("track") / "approach.mp4", 15, FPS, W, H)


def run(clip, tmp_path, calibrated: bool):
    config = load_runtime_config()
    homography = load_camera_geometry(CALIB).homography_for((W, H))
    renderer = OverlayRenderer(distance=GroundDistance(homography) if calibrated else None, config=config)
    json_path = tmp_path / "tracks.jsonl"
    results = []
    writer = JsonLinesWriter(json_path)
    pipeline = Pipeline(open_source(clip), ApproachingCar(homography), sinks=[writer],
                        renderer=renderer, config=config, tracker=ObjectTracker.from_config(config))
    pipeline.on_result(results.append)
    pipeline.run()
    writer.commit()  # the file keeps its temporary name until then (app/writers.py)
    lines = [json.loads(line) for line in json_path.read_text().splitlines()]
    return results, lines


def red_pixels(image) -> int:
    b, g, r = (image[..., i].astype(int) for i in range(3))
    return int(((r > 200) & (g < 40) & (b < 40)).sum())


def test_pipeline_tracks_measures_and_warns_on_a_real_video(clip, tmp_path):
    results, lines = run(clip, tmp_path, calibrated=True)
    assert [r.index for r in results] == list(range(15))
    ids = {t.track_id for r in results for t in r.tracks.tracks}
    assert ids == {1}  # one car, one id, through the two missed frames
    assert [len(r.tracks.tracks) for r in results][7:9] == [0, 0]
    last = results[-1].tracks.tracks[0]
    z = Z0 - SPEED * 14 / FPS
    assert last.distance_m == pytest.approx(z, abs=0.4) and last.closing_speed_mps == pytest.approx(SPEED, abs=0.5)
    assert last.ttc_s == pytest.approx(z / SPEED, abs=0.15) and last.warning
    events = [e for line in lines for e in line["events"]]
    assert [e["type"] for e in events].count(FCW) >= 1 and all(e["track_id"] == 1 for e in events)
    assert lines[-1]["tracks"][0]["id"] == 1 and lines[-1]["collision"]["warning"] is True
    # the banner: a red bar in the top rows of a warning frame, none before the first warning
    first = next(i for i, r in enumerate(results) if r.tracks.warning)
    assert red_pixels(results[-1].overlay[:80]) > 2000
    assert red_pixels(results[first - 1].overlay[:80]) == 0


def test_pipeline_without_calibration_has_ids_but_no_distances_and_says_so(clip, tmp_path):
    results, lines = run(clip, tmp_path, calibrated=False)
    assert {t.track_id for r in results for t in r.tracks.tracks} == {1}
    assert not any(r.tracks.warning for r in results)
    assert all(line["collision"] == {"available": False, "note": NO_CALIBRATION, "warning": False,
                                     "nearest_id": None} for line in lines)
    assert all(t["distance_m"] is None and t["ttc_s"] is None for line in lines for t in line["tracks"])
    # the note is drawn in the bottom-left corner (white text on grey) on frames with tracks
    corner = results[-1].overlay[H - 30:, :300].astype(int)
    assert ((corner == 60).all(axis=2)).sum() > 500


def test_live_source_dropping_frames_keeps_one_id():
    """A camera faster than the pipeline drops frames; the tracker sees the survivors in order and keeps the id."""

    class Slow:
        conf, iou, backend_name = 0.32, 0.5, "slow"

        def __call__(self, image):
            time.sleep(0.03)
            h, w = image.shape[:2]
            return Perception(np.ones((1, h, w), np.float32), np.array([[40, 20, 90, 60, 0.9, 0]], np.float32),
                              ["car"], backend="slow")

        def close(self):
            pass

    config = load_runtime_config()
    results = []
    pipeline = Pipeline(FakeCamera(40, 0.01), Slow(), config=config, tracker=ObjectTracker.from_config(config))
    pipeline.on_result(results.append)
    summary = pipeline.run()
    assert summary.frames_dropped > 0
    assert {t.track_id for r in results for t in r.tracks.tracks} == {1}
    assert results[-1].tracks.tracks[0].hits == len(results)
