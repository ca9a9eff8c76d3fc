"""The pipeline's typed collaborators (app/contracts.py): every real implementation satisfies its protocol, a
collaborator that does not is refused at construction by name, and optional capabilities are decided once.

Real parts: a video written and read with OpenCV, an image folder, the tiny model in ONNX Runtime and PyTorch.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app import contracts
from app.frames import Frame, FrameResult, load_runtime_config
from app.overlay import GroundDistance, OverlayRenderer
from app.pipeline import Pipeline
from app.sources import LiveSource, SourceInfo, open_source
from app.tracking import ObjectTracker, TrackingConfig
from app.viewer.annotations import ShapesOnlyRenderer
from app.viewer.pacing import PacedSource
from app.viewer.recording import RecordingSink
from app.viewer.session import PassCounter
from app.writers import JsonLinesWriter, MaskWriter, VideoWriter
from nets.predictor import load_predictor
from nets.result import Perception
from stand_ins import FakeCamera, StandIn, stamped_image, write_stamped_video


class _OneFrameCapture:
    """cv2.VideoCapture stand-in for a LiveSource: always opened, always a frame."""

    def isOpened(self):
        return True

    def read(self):
        return True, stamped_image(0)

    def get(self, prop):
        return 25.0

    def release(self):
        pass


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_stamped_video(tmp_path_factory.mktemp("contracts") / "clip.mp4", 4)


def test_real_sources_are_sources_and_the_replay_ones_seekable(clip, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(2):
        assert cv2.imwrite(str(folder / f"{i:03d}.png"), stamped_image(i))
    video, images = open_source(clip), open_source(folder)
    live = LiveSource("camera", "fake", _OneFrameCapture, retry_s=0.1)
    try:
        for source in (video, images, PacedSource(open_source(clip), speed=0)):
            assert isinstance(source, contracts.SeekableSource) and source.info.seekable
        assert isinstance(live, contracts.Source) and not live.info.seekable
        assert isinstance(FakeCamera(1, 0.01), contracts.Source)  # the tests' stand-in too
    finally:
        for source in (video, images, live):
            source.close()


@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_real_predictors_satisfy_the_predictor_contract_and_its_capabilities(tiny_model_files, backend):
    checkpoint, onnx = tiny_model_files
    predictor = load_predictor(onnx if backend == "onnxruntime" else checkpoint, backend=backend)
    try:
        assert isinstance(predictor, contracts.Predictor)
        assert isinstance(predictor, contracts.PerClassThresholds)
        assert isinstance(predictor, contracts.StreamFiltered)
        assert predictor.backend_name == backend
    finally:
        predictor.close()


def test_real_sinks_renderers_and_tracker_satisfy_their_contracts(tmp_path):
    config = load_runtime_config()
    sinks = [VideoWriter(tmp_path / "out.mp4", 25), MaskWriter(tmp_path / "masks"),
             JsonLinesWriter(tmp_path / "out.jsonl"), RecordingSink(25.0, config), PassCounter(None, None)]
    try:
        assert all(isinstance(sink, contracts.Sink) for sink in sinks)
    finally:
        for sink in sinks:
            sink.close()
    assert isinstance(OverlayRenderer(config=config), contracts.Renderer)
    assert isinstance(ShapesOnlyRenderer(config=config), contracts.Renderer)
    assert isinstance(GroundDistance(np.eye(3)), contracts.RoadPlaneDistance)
    assert isinstance(ObjectTracker(TrackingConfig.from_config(config)), contracts.Tracker)


def test_a_collaborator_that_breaks_its_contract_is_refused_by_name():
    class NoRead:
        info = FakeCamera(1, 0.01).info
        position, state = 0, "ok"

        def interrupt(self):
            pass

        def close(self):
            pass

    with pytest.raises(TypeError, match=r"source NoRead is not a Source: it has no read"):
        Pipeline(NoRead(), StandIn(), render=False)

    class CannotSeek(NoRead):  # says it is a replay source, but has no seek()
        info = SourceInfo("video", "x", 16, 16, 25.0, 3, live=False)

        def read(self):
            return None

    with pytest.raises(TypeError, match=r"seekable source CannotSeek is not a SeekableSource: it has no seek"):
        Pipeline(CannotSeek(), StandIn(), render=False)

    class Untuned:  # a predictor without iou or backend_name
        conf = 0.25

        def __call__(self, image):
            raise AssertionError("never called")

        def close(self):
            pass

    with pytest.raises(TypeError, match=r"predictor Untuned is not a Predictor: it has no backend_name, iou"):
        Pipeline(FakeCamera(1, 0.01), Untuned(), render=False)
    with pytest.raises(TypeError, match=r"sink object is not a Sink: it has no close, write"):
        Pipeline(FakeCamera(1, 0.01), StandIn(), render=False, sinks=[object()])


def test_optional_predictor_capabilities_are_used_only_where_present():
    config = load_runtime_config()
    config["thresholds"]["class_conf"] = {"car": 0.4}
    plain = StandIn()  # neither per-class floors nor a road filter: left exactly as it is
    Pipeline(FakeCamera(2, 0.01), plain, render=False, config=config).run()
    assert not hasattr(plain, "class_conf") and not hasattr(plain, "road_filter")

    tuned = StandIn()
    tuned.class_conf = {}
    Pipeline(FakeCamera(2, 0.01), tuned, render=False, config=config).run()
    assert tuned.class_conf == {"car": 0.4}


def test_the_default_tracker_plane_is_the_renderers_road_plane_homography_if_any():
    class PlainDistance:  # a DistanceEstimator without a road plane
        def distance_m(self, u, v):
            return 10.0

    plane = object()
    renderer = OverlayRenderer(distance=GroundDistance(plane))
    pipeline = Pipeline(FakeCamera(1, 0.01), StandIn(), renderer=renderer)
    result = FrameResult(Frame(0, 0.0, stamped_image(0)), StandIn()(stamped_image(0)))
    assert pipeline.homography_for(result) is plane
    renderer.distance = PlainDistance()  # replaced between frames (the viewer does): looked at again
    assert pipeline.homography_for(result) is None
    renderer.distance = None
    assert pipeline.homography_for(result) is None
    assert Pipeline(FakeCamera(1, 0.01), StandIn(), render=False).homography_for(result) is None


def test_a_real_predictor_runs_a_real_video_through_the_pipeline(clip, tiny_onnx):
    predictor = load_predictor(tiny_onnx, backend="onnxruntime")
    got: list[FrameResult] = []
    pipeline = Pipeline(open_source(clip), predictor)
    pipeline.on_result(got.append)
    summary = pipeline.run()
    predictor.close()
    assert [r.index for r in got] == [0, 1, 2, 3] and summary.frames_out == 4
    for r in got:
        assert isinstance(r.perception, Perception) and r.perception.backend == "onnxruntime"
        # one size convention: (width, height) for the frame and its perception alike
        assert r.perception.image_size == r.frame.size == (r.frame.image.shape[1], r.frame.image.shape[0])
        assert r.overlay is not None and r.overlay.shape == r.frame.image.shape
