"""The viewer's collaborators without a window: which source plays (SessionManager), which model runs
(ModelManager), each frame's calibration (FrameGeometry), screenshots and recordings (Outputs), and the small
rules of the transport and status bar. Known answers: a stale request is dropped and its source closed, a failed
model load keeps the old model and says so, a calib folder without a frame's file gives no distance, and so on.

The slow calls run through a stand-in for run_in_background that holds each task until the test runs it, so the
order in which outcomes arrive is the test's choice. Real parts otherwise: real KITTI calib files, a real
RecordingSink writing a real video, real PNGs.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

pytest.importorskip("PyQt5")

from app.frames import Frame, load_runtime_config
from app.overlay import OverlayStyle
from app.viewer.frame_geometry import FrameGeometry
from app.viewer.model_manager import ModelManager
from app.viewer.outputs import Outputs, file_stem
from app.viewer.recording import RecordingSink
from app.viewer.session_manager import SessionManager
from app.viewer.settings import ViewerSettings
from app.viewer.status_bar import pace_text
from app.viewer.transport import next_speed
from core.config import ConfigError
from core.errors import UserError
from stand_ins import video_stamps

CALIBS = Path(__file__).parent / "fixtures" / "kitti_road_calib"


class HeldTasks:
    """run_in_background's stand-in: tasks wait until run(); their outcome is delivered at once then."""

    def __init__(self):
        self.tasks: list = []

    def __call__(self, fn, on_done, on_failed, name="task", parent=None):
        self.tasks.append((name, fn, on_done, on_failed))

    def names(self) -> list[str]:
        return [task[0] for task in self.tasks]

    def run(self, index: int = 0) -> None:
        _, fn, on_done, on_failed = self.tasks.pop(index)
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - delivered as run_in_background delivers it
            on_failed(e)
            return
        on_done(value)

    def run_all(self) -> None:
        while self.tasks:
            self.run()


class Calls:
    """A listener that notes every call: (method name, args)."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, *args))

    def named(self, name: str) -> list[tuple]:
        return [call[1:] for call in self.calls if call[0] == name]


class FakeSource:
    def __init__(self, spec: str, live: bool = False):
        self.spec, self.closed, self.position = spec, False, 0
        self.info = SimpleNamespace(live=live, seekable=not live, name=spec, describe=lambda: spec)
        self.image = np.full((4, 6, 3), 7, np.uint8)

    def read(self):
        self.position += 1
        return SimpleNamespace(image=self.image)

    def seek(self, index: int) -> None:
        self.position = index

    def close(self) -> None:
        self.closed = True


class FakeSession:
    def __init__(self, spec: str, source, predictor=None):
        self.spec, self.source, self.predictor = spec, source, predictor
        self.started: bool | None = None  # the `paused` it started with
        self.closed = self.joined = self.done = False
        self.saved = None
        self.used: list = []

    def start(self, paused: bool = False) -> None:
        self.started = paused

    def close(self):
        self.closed = True
        return self.saved

    def join(self, timeout=None) -> bool:
        self.joined = True
        return True

    def runs(self, predictor) -> bool:
        return self.predictor is predictor

    def use_predictor(self, predictor) -> None:
        self.used.append(predictor)
        self.predictor = predictor


def session_manager(model_ready=True, make_session=None):
    tasks, listener, sources = HeldTasks(), Calls(), {}

    def open_source(spec):
        if spec.startswith("bad"):
            raise OSError(f"cannot decode {spec}")
        sources[spec] = FakeSource(spec, live=spec.startswith("rtsp"))
        return sources[spec]

    ready = {"ready": model_ready}
    manager = SessionManager(open_source, make_session or FakeSession, listener,
                             model_ready=lambda: ready["ready"], run=tasks)
    return manager, tasks, listener, sources, ready


# --- SessionManager -------------------------------------------------------------------------------------------------
def test_only_the_newest_open_request_plays_and_a_stale_source_is_closed():
    manager, tasks, listener, sources, _ = session_manager()
    manager.open("a.mp4")
    manager.open("b.mp4", paused=True)
    tasks.run(1)  # b opens first ...
    tasks.run(0)  # ... then a, which was asked for before it
    assert manager.session.spec == "b.mp4" and manager.session.started is True
    assert sources["a.mp4"].closed and not sources["b.mp4"].closed
    assert [spec for spec, _ in listener.named("source_opened")] == ["b.mp4"]
    assert [name for name, *_ in listener.calls] == ["source_opened", "session_began", "state_changed"]


def test_a_failure_is_reported_only_for_the_newest_request():
    manager, tasks, listener, _, _ = session_manager()
    manager.open("bad-old.mp4")
    manager.open("bad-new.mp4")
    tasks.run_all()
    failed = listener.named("source_failed")
    assert [spec for spec, _ in failed] == ["bad-new.mp4"] and "cannot decode bad-new.mp4" in str(failed[0][1])
    assert manager.session is None


def test_a_source_opened_before_the_model_waits_with_its_first_image_and_plays_once_the_model_is_there():
    manager, tasks, listener, sources, ready = session_manager(model_ready=False)
    manager.open("a.mp4")
    tasks.run()
    (source, preview), = listener.named("source_waiting")
    assert source is sources["a.mp4"] and preview.shape == (4, 6, 3)
    assert sources["a.mp4"].position == 0  # wound back after the preview: the replay loses no frame
    manager.open("rtsp://cam")  # a second source before the model: it replaces the first one waiting
    tasks.run()
    assert sources["a.mp4"].closed and manager.pending.spec == "rtsp://cam"
    assert listener.named("source_waiting")[1][1] is None  # a live source's frames are not kept for a preview
    assert manager.session is None

    ready["ready"] = True
    manager.start_pending()
    assert manager.session.spec == "rtsp://cam" and manager.pending is None
    manager.start_pending()  # nothing waits any more
    assert len(listener.named("session_began")) == 1


def test_a_replaced_session_is_retired_and_the_next_starts_once_it_has_stopped():
    manager, tasks, listener, sources, _ = session_manager()
    manager.open("a.mp4")
    tasks.run()
    first = manager.session
    first.saved = (Path("a_rec.mp4"), 12)
    manager.open("b.mp4")
    tasks.run()
    assert first.closed and manager.retiring == [first] and manager.session is None
    assert listener.named("session_retired") == [((Path("a_rec.mp4"), 12),)]  # its recording is saved and said
    assert tasks.names() == ["join-old-session"]  # b waits until a's threads are out of the shared predictor
    tasks.run()
    assert first.joined and manager.retiring == [] and manager.session.spec == "b.mp4"


def test_a_session_start_overtaken_while_the_old_one_winds_down_closes_its_source():
    manager, tasks, _, sources, _ = session_manager()
    manager.open("a.mp4")
    tasks.run()
    manager.open("b.mp4")
    tasks.run()  # b waits for a to stop
    manager.open("c.mp4")
    tasks.run(tasks.names().index("open-source"))  # c opens before a has stopped: it waits for a too
    tasks.run_all()
    assert sources["b.mp4"].closed and manager.session.spec == "c.mp4" and manager.retiring == []


def test_a_session_that_cannot_be_made_is_reported_and_its_source_closed():
    def broken(spec, source):
        raise KeyError("writers")

    manager, tasks, listener, sources, _ = session_manager(make_session=broken)
    manager.open("a.mp4")
    tasks.run()
    assert manager.session is None and sources["a.mp4"].closed
    assert [spec for spec, _ in listener.named("session_failed")] == ["a.mp4"]


def test_close_stops_every_session_closes_the_waiting_source_and_drops_late_outcomes():
    manager, tasks, _, sources, ready = session_manager()
    manager.open("a.mp4")
    tasks.run()
    playing = manager.session
    playing.saved = (Path("rec.mp4"), 3)
    ready["ready"] = False
    manager.open("b.mp4")
    tasks.run()
    manager.open("c.mp4")  # still opening when the window closes
    assert manager.close() == (Path("rec.mp4"), 3)
    assert playing.closed and playing.joined and sources["b.mp4"].closed and manager.pending is None
    tasks.run()
    assert sources["c.mp4"].closed and manager.session is None


# --- ModelManager ---------------------------------------------------------------------------------------------------
class FakePredictor:
    def __init__(self, backend: str, file: str, precision: str = "fp32"):
        self.backend_name, self.weights_file, self.precision = backend, Path(file), precision
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeProvider:
    """Builds FakePredictors; the backends in `broken` fail to build."""

    def __init__(self, weights="model.pt", backends=("onnxruntime", "torch"), broken=()):
        self.weights, self._backends, self.broken = Path(weights), list(backends), set(broken)
        self.builds: list[tuple] = []

    def backends(self):
        return list(self._backends)

    def build(self, backend, conf, iou, warmup=True):
        self.builds.append((backend, conf, iou, warmup))
        if backend in self.broken or self.weights.name.startswith("bad"):
            raise ValueError(f"{self.weights.name} is corrupt")
        name = self._backends[0] if backend == "auto" else backend
        suffix = ".pt" if name == "torch" else ".onnx"
        return FakePredictor(name, str(self.weights.with_suffix(suffix)))

    def with_weights(self, weights):
        return FakeProvider(weights, self._backends, self.broken)


def model_manager(provider=None, session=None):
    tasks, listener = HeldTasks(), Calls()
    sessions = SimpleNamespace(session=session, retiring=[], pending_started=0)
    sessions.start_pending = lambda: setattr(sessions, "pending_started", sessions.pending_started + 1)
    thresholds = SimpleNamespace(conf=0.3, iou=0.6)
    manager = ModelManager(provider or FakeProvider(), sessions, listener, thresholds=lambda: thresholds, run=tasks)
    return manager, tasks, listener, sessions


def test_a_failed_load_keeps_the_model_that_runs_and_says_which():
    manager, tasks, listener, sessions = model_manager(FakeProvider(broken={"torch"}))
    manager.load()
    tasks.run()
    running = manager.predictor
    assert running.backend_name == "onnxruntime" and sessions.pending_started == 1
    manager.switch_backend("torch")
    tasks.run()
    assert manager.predictor is running and not running.closed
    failure, = listener.named("model_failed")[0]
    assert failure.status == "could not load model.pt with torch; kept model.onnx (fp32)"
    assert failure.title == "Cannot load the model (torch, model.pt)"
    assert failure.message == ("model.pt is corrupt\n\nmodel.onnx (fp32) keeps running; choose another backend or "
                               "open weights with File ▸ Open weights…")
    assert failure.detail == "model.pt is corrupt"


def test_a_failed_first_load_says_no_model_is_loaded():
    manager, tasks, listener, _ = model_manager(FakeProvider(backends=("torch",)))
    manager.open_weights("bad.pt")
    tasks.run()
    failure, = listener.named("model_failed")[0]
    assert manager.predictor is None and failure.status == "could not load bad.pt with auto; no model loaded"
    assert failure.message == "bad.pt is corrupt\n\nopen weights with File ▸ Open weights…"  # one backend only


def test_only_the_newest_load_takes_effect_and_the_model_that_lost_is_closed():
    manager, tasks, listener, _ = model_manager()
    manager.load("onnxruntime")
    manager.load("torch")
    tasks.run(1)  # torch arrives first ...
    tasks.run(0)  # ... then the onnxruntime build that was asked for before it
    assert manager.predictor.backend_name == "torch"
    assert [p.backend_name for p, _ in listener.named("model_loaded")] == ["torch"]
    assert [name for name, *_ in listener.calls] == ["model_loading", "model_loading", "model_loaded"]


def test_the_first_model_is_not_warmed_up_and_the_next_ones_are():
    provider = FakeProvider()
    manager, tasks, _, _ = model_manager(provider)
    manager.load()
    tasks.run()
    manager.switch_backend("onnxruntime")  # runs already: nothing to do
    assert tasks.tasks == []
    manager.switch_backend("torch")
    tasks.run()
    assert provider.builds == [("auto", 0.3, 0.6, False), ("torch", 0.3, 0.6, True)]


def test_a_new_model_goes_to_the_playing_session_and_one_no_pipeline_runs_is_closed_once_idle():
    session = FakeSession("clip.mp4", None)
    manager, tasks, _, sessions = model_manager(session=session)
    manager.load()
    tasks.run()
    first = manager.predictor
    assert session.used == [first]
    session.predictor = None  # the switch has not reached the inference thread yet (a paused live source)
    manager.load("torch")
    tasks.run()
    assert session.used == [first, manager.predictor] and manager.superseded == [first] and not first.closed

    sessions.session = None  # no session plays: the replaced model waits for the retiring pipelines
    retiring = FakeSession("old.mp4", None)
    sessions.retiring.append(retiring)
    second = manager.predictor
    manager.load("onnxruntime")
    tasks.run()
    assert tasks.names() == ["close-model"] and not second.closed
    tasks.run()
    assert retiring.joined and second.closed
    manager.close()
    assert first.closed and manager.predictor is None and manager.superseded == []


def test_the_model_panel_names_the_file_that_runs():
    manager, tasks, _, _ = model_manager()
    assert manager.panel() == dict(weights=Path("model.pt"), backends=["onnxruntime", "torch"], current=None,
                                   precision="", description="")
    manager.load()
    tasks.run()
    assert manager.panel()["weights"] == Path("model.onnx") and manager.panel()["current"] == "onnxruntime"
    assert manager.running_text() == "model.onnx (fp32)"


# --- FrameGeometry --------------------------------------------------------------------------------------------------
def frame_result(index: int, size=(1242, 375)):
    return SimpleNamespace(index=index, frame=Frame(index, 0.0, np.zeros((size[1], size[0], 3), np.uint8)))


def geometry() -> FrameGeometry:
    settings = ViewerSettings()
    return FrameGeometry(OverlayStyle.from_config(load_runtime_config()), settings.footprint_m, settings.bev_dim)


def test_a_calib_folder_gives_each_frame_its_file_and_no_distance_where_it_has_none(tmp_path):
    folder = tmp_path / "calib"
    folder.mkdir()
    for name in ("um_000051", "uu_000087"):
        (folder / f"{name}.txt").write_text((CALIBS / f"{name}.txt").read_text())
    names = ["um_000051", "umm_000099", "uu_000087"]
    session = SimpleNamespace(frame_name=lambda i: names[i], renderer=SimpleNamespace(layers=None))
    g = geometry()
    assert g.distance_for(session, frame_result(0)) is None and g.bev_preparer(session) is None  # no calibration
    assert g.open(folder).is_folder and g.last_dir == str(folder)

    first, missing, third = (g.distance_for(session, frame_result(i)) for i in range(3))
    assert missing is None and first is not None and third is not None and first is not third
    assert g.distance_for(session, frame_result(0)) is first  # cached per camera and frame size
    assert g.distance_for(session, frame_result(0, (621, 188))) is not first
    assert g.bev_preparer(session)(frame_result(1)) is None  # nothing to draw without the frame's camera


def test_a_bad_calibration_raises_a_user_error_and_keeps_the_one_open(tmp_path):
    g = geometry()
    g.open(CALIBS / "um_000051.txt")
    assert g.last_dir == str(CALIBS)
    bad = tmp_path / "calib.txt"
    bad.write_text("P2: 1 2 3\n")
    with pytest.raises(UserError, match="calib.txt"):
        g.open(bad)
    with pytest.raises(UserError, match="calibration not found"):
        g.open(tmp_path / "missing")
    assert g.path == CALIBS / "um_000051.txt" and g.last_dir == str(CALIBS)


# --- Outputs --------------------------------------------------------------------------------------------------------
def test_output_names_follow_the_source():
    assert file_stem("/data/drive 1/clip.mp4", "video") == "clip"
    assert file_stem("/data/image_2", "images") == "image_2"
    assert file_stem("0", "camera") == "camera0"
    assert file_stem("rtsp://host/stream", "stream") == "stream"
    assert file_stem("/data/...", "video") == "source"


def outputs(tmp_path):
    said = Calls()
    return Outputs(tmp_path / "out", ("mp4v",), status=said.status, report=said.report,
                   show_recording=said.show_recording), said


def test_a_screenshot_is_the_png_of_the_frame_on_screen_numbered_from_one(tmp_path):
    out, said = outputs(tmp_path)
    session = SimpleNamespace(spec=str(tmp_path / "clip.mp4"), info=SimpleNamespace(kind="video"))
    image = np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)
    path = out.save_screenshot(image, 4, session)
    assert path == (tmp_path / "out" / "clip_frame000005.png").resolve()
    assert np.array_equal(cv2.imread(str(path)), image) and said.named("status")[-1] == (f"saved {path}", 6000)
    assert out.save_screenshot(None, 0, session) is None and said.named("status")[-1] == ("nothing to save yet", 4000)
    (tmp_path / "taken.png").mkdir()  # a folder where the file should go: OpenCV cannot write it
    assert out.save_screenshot(image, 0, session, tmp_path / "taken.png") is None
    (title, message), = said.named("report")
    assert title == "Cannot save the screenshot" and message == f"cannot write {tmp_path / 'taken.png'} (is the " \
                                                                "folder writable?)"


def test_recording_starts_from_the_frame_on_screen_and_stopping_says_where_it_went(tmp_path):
    out, said = outputs(tmp_path)
    assert out.set_recording(None, True) is None
    assert said.named("status") == [("open a source first, then record", 4000)]
    assert said.named("show_recording") == [(False,)]

    from stand_ins import stamped_image

    recorder = RecordingSink(25.0, load_runtime_config())
    session = SimpleNamespace(spec="clip.mp4", info=SimpleNamespace(kind="video"), recorder=recorder)
    recorder.write(SimpleNamespace(image=stamped_image(3)))  # the frame on screen
    path = out.set_recording(session, True)
    assert path.parent == (tmp_path / "out").resolve() and path.name.startswith("clip_") and path.suffix == ".mp4"
    assert said.named("show_recording")[-1] == (True,)
    assert said.named("status")[-1] == (f"recording to {path} (MPEG-4 Part 2)", 8000)
    assert out.set_recording(session, True) == path  # already recording: the same file
    recorder.write(SimpleNamespace(image=stamped_image(4)))
    assert out.poll(session) == 2
    assert out.set_recording(session, False) == path
    assert said.named("status")[-1] == (f"saved {path} (2 frames)", 8000) and said.named("show_recording")[-1] == (
        False,)
    assert video_stamps(path) == [3, 4]
    assert out.poll(session) is None


def test_a_recording_that_fails_while_writing_is_reported_once(tmp_path):
    out, said = outputs(tmp_path)
    recorder = SimpleNamespace(error="recording to x.mp4 stopped: disk full", recording=False, frames_written=0)
    session = SimpleNamespace(recorder=recorder)
    assert out.poll(session) is None and out.poll(session) is None
    assert said.named("report") == [("Recording stopped", "recording to x.mp4 stopped: disk full")]
    assert said.named("show_recording") == [(False,)]


# --- transport and status bar rules ---------------------------------------------------------------------------------
def test_faster_and_slower_step_through_the_speeds_and_max_is_the_fastest():
    speeds = (0.25, 0.5, 1.0, 2.0, 4.0, 0.0)
    assert next_speed(speeds, 1.0, +1) == 2.0 and next_speed(speeds, 1.0, -1) == 0.5
    assert next_speed(speeds, 4.0, +1) == 0.0  # past the fastest paced speed: as fast as possible
    assert next_speed(speeds, 0.0, +1) == 0.0 and next_speed(speeds, 0.0, -1) == 4.0  # max stays max
    assert next_speed(speeds, 0.25, -1) is None
    assert next_speed((0.5, 1.0), 1.0, +1) is None  # no "max" offered


def test_the_pace_warning_says_when_a_replay_falls_behind_its_speed():
    def pace(playing=True, live=False, speed=1.0, fps=25.0, out=50, actual=10.0):
        session = SimpleNamespace(playing=playing, speed=speed, info=SimpleNamespace(fps=fps, live=live))
        return pace_text(session, SimpleNamespace(frames_out=out, fps_end_to_end=actual))

    assert pace() == "⚠ behind real time: 10.0 of 25 FPS"
    assert pace(speed=0.25) == "" and pace(actual=23.0) == ""  # keeps up (within 10 %)
    assert pace(playing=False) == pace(live=True) == pace(speed=0.0) == pace(out=5) == ""


# --- the window's questions and drops reach the collaborators -------------------------------------------------------


class AskedDialogs:
    """QFileDialog and CameraDialog stand-ins: each question is noted and answered from `answers` ("" = Cancel)."""

    def __init__(self):
        self.asked: list[tuple] = []
        self.answers: list[str] = []
        owner = self

        class FileDialog:
            @staticmethod
            def getOpenFileName(parent, title, start, filters):
                owner.asked.append((title, start))
                return owner.answers.pop(0), ""

            @staticmethod
            def getExistingDirectory(parent, title, start):
                owner.asked.append((title, start))
                return owner.answers.pop(0)

        class CameraDialog:
            def __init__(self, last, parent):
                owner.asked.append(("camera", last))

            def exec_(self):
                return 1

            def spec(self):
                return owner.answers.pop(0)

        self.file_dialog, self.camera_dialog = FileDialog, CameraDialog


def test_the_file_menu_asks_where_the_last_choice_was_and_opens_what_was_chosen(qtbot, make_window, tmp_path,
                                                                               monkeypatch):
    from app.viewer import dialogs

    fake = AskedDialogs()
    monkeypatch.setattr(dialogs, "QFileDialog", fake.file_dialog)
    monkeypatch.setattr(dialogs, "CameraDialog", fake.camera_dialog)
    window = make_window()
    opened = []
    for name in ("open_source", "open_calibration", "open_weights"):
        monkeypatch.setattr(window, name, lambda path, name=name: opened.append((name, str(path))))
    videos, calib = tmp_path / "videos", tmp_path / "calib" / "um_000051.txt"

    fake.answers = [str(videos / "a.mp4"), "", str(calib), "0", str(tmp_path / "w" / "m.onnx")]
    window.actions["open_file"].trigger()
    window.controls.open_requested.emit("folder")  # the side panel's Open buttons ask the same questions
    window.actions["open_calib"].trigger()
    window.actions["open_camera"].trigger()
    window.controls.open_weights_requested.emit()
    assert [title for title, _ in fake.asked] == ["Open a video or an image", "Open a folder of images",
                                                  "Open a camera calibration", "camera", "Open weights"]
    assert [start for _, start in fake.asked][1:4] == [str(videos), str(videos), ""]  # no live source: no camera
    assert opened == [("open_source", str(videos / "a.mp4")), ("open_calibration", str(calib)),
                      ("open_source", "0"), ("open_weights", str(tmp_path / "w" / "m.onnx"))]  # Cancel: nothing


def test_a_dropped_calib_file_opens_as_a_calibration_and_anything_else_as_a_source(qtbot, make_window, tmp_path,
                                                                                   monkeypatch):
    from PyQt5.QtCore import QMimeData, QPoint, Qt, QUrl
    from PyQt5.QtGui import QDropEvent

    window = make_window()
    opened = []
    monkeypatch.setattr(window, "open_source", lambda path: opened.append(("source", path)))
    monkeypatch.setattr(window, "open_calibration", lambda path: opened.append(("calibration", path)))
    for name in ("um_000051.txt", "camera.YAML", "clip.mp4"):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(tmp_path / name))])
        window.dropEvent(QDropEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert opened == [("calibration", str(tmp_path / "um_000051.txt")), ("calibration", str(tmp_path / "camera.YAML")),
                      ("source", str(tmp_path / "clip.mp4"))]


def test_runtime_yaml_states_every_viewer_default():
    """configs/runtime.yaml's viewer section is where users look for the viewer's settings: it names every one,
    with the value the code falls back to (so the YAML and the dataclass cannot drift apart)."""
    from dataclasses import fields

    section = load_runtime_config()["viewer"]
    assert set(section) == {f.name for f in fields(ViewerSettings)}
    assert ViewerSettings.from_config({"viewer": section}) == ViewerSettings()


def test_unknown_viewer_setting_is_named():
    with pytest.raises(ConfigError, match="unknown key 'widow_size' \\(did you mean 'window_size'\\?\\)"):
        ViewerSettings.from_config({"viewer": {"widow_size": [800, 600]}})
