"""The viewer's figures, model panel, calibration and controls as a person meets them (issue 13): latency leaves
paused time out, the Model panel names the file that runs, a KITTI calib folder is matched to the frames by name,
the seek track jumps to a click, the bundled clip loops and the counters count one pass.

Same parts as tests/test_viewer.py (stand-in predictors, real videos, real ONNX Runtime, Qt offscreen).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("PyQt5")

from PyQt5.QtCore import QPoint, QRect, Qt

from app.viewer.launch import build_window
from app.viewer.predictors import PredictorProvider
from app.viewer.settings import ViewerSettings
from app.viewer.shortcuts import SHORTCUTS
from app.viewer.status_bar import STATE_TEXT
from calib.camera import load_camera_geometry
from nets.config import load_model_config
from nets.deploy.onnx_export import export_onnx
from nets.model import PerceptionNet
from nets.weights import save_checkpoint
from stand_ins import read_stamp, write_stamped_video
from viewer_support import KITTI_CALIB, WAIT_MS, N, StandInProvider, next_frame, play, wait_first_frame, wait_state

PAUSE_MS = 2000  # a pause far longer than any frame's latency with a stand-in predictor


@pytest.fixture
def long_clip(tmp_path):
    return write_stamped_video(tmp_path / "long.mp4", 150)  # 6 s at 25 fps: it plays on while the test looks


# --- 1. latency after pause and step ------------------------------------------------------------------------------
def test_paused_time_is_no_latency_and_the_figures_read_dash_while_paused_or_stepping(qtbot, make_window,
                                                                                      long_clip):
    window = make_window(speed=1.0)
    play(window, long_clip)
    qtbot.waitUntil(lambda: window.stats.latency.text() != "–", timeout=WAIT_MS)  # playing: figures shown
    qtbot.waitUntil(lambda: not window.video.text.hud.startswith("–"), timeout=WAIT_MS)  # on the HUD too
    assert window.video.text.hud.split(" | ")[0].endswith(" FPS")

    window.pause()
    qtbot.wait(PAUSE_MS)
    for _ in range(3):  # each step shows a frame that waited through the pause
        next_frame(qtbot, window, window.step)
        assert window.session.state == "paused"
    qtbot.waitUntil(lambda: window.stats.latency.text() == "–", timeout=WAIT_MS)
    assert window.stats.fps.text() == "–" and window.stats.values["latency"].text() == "–"
    assert window.video.text.hud.startswith("– FPS | – ms")  # the HUD of a stepped frame
    assert STATE_TEXT["paused"] in window.state_label.text() and "⏸" not in window.state_label.text()

    shown = window.frames_displayed
    window.play()
    qtbot.waitUntil(lambda: window.frames_displayed > shown + 10, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.stats.latency.text() != "–", timeout=WAIT_MS)
    snapshot = window.session.pipeline.snapshot()
    # the live window restarted at the resume: none of the pause is in it (stepped frames are not sampled)
    assert 0 < snapshot.latency_ms["end_to_end"]["max"] < PAUSE_MS * 0.75
    assert float(window.stats.latency.text().split()[0]) < PAUSE_MS * 0.75
    assert max(window.stats.graph.values) < PAUSE_MS * 0.75


# --- 2. the Model panel names the file that runs ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A tiny model as a .pt with ONNX siblings: fp32 and an "int8cpu" one (a copy: the name is what counts)."""
    import torch

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("weights")
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    pt = save_checkpoint(folder / "tiny.pt", net)
    onnx = export_onnx(net, folder / "tiny.onnx")
    shutil.copy(onnx, folder / "tiny.int8cpu.onnx")
    return pt


def test_model_panel_names_the_file_and_precision_running_and_what_a_failed_load_kept(qtbot, make_window, clip,
                                                                                      tiny_weights, tmp_path):
    window = make_window(PredictorProvider(tiny_weights))
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    qtbot.waitUntil(lambda: window.predictor is not None, timeout=WAIT_MS)
    # auto runs a .pt as its INT8 CPU sibling on the CPU: that file is named, not the .pt
    assert window.controls.weights.text() == "tiny.int8cpu.onnx · fp32"
    assert str(tiny_weights.with_name("tiny.int8cpu.onnx")) in window.controls.weights.toolTip()

    result = next_frame(qtbot, window, lambda: window.controls.backend.setCurrentText("torch"),
                        until=lambda r: r.perception.backend == "torch")
    assert result.index == 0 and window.controls.weights.text() == "tiny.pt · fp32"

    window.open_weights(tiny_weights.with_suffix(".onnx"))  # an .onnx, then torch: torch runs the .pt
    qtbot.waitUntil(lambda: window.controls.weights.text() == "tiny.onnx · fp32", timeout=WAIT_MS)
    window.controls.backend.setCurrentText("torch")
    qtbot.waitUntil(lambda: window.predictor.backend_name == "torch", timeout=WAIT_MS)
    assert window.controls.weights.text() == "tiny.pt · fp32"

    bad = tmp_path / "bad.pt"  # a broken checkpoint with a broken ONNX file beside it
    bad.write_bytes(b"not a checkpoint")
    bad.with_suffix(".onnx").write_bytes(b"not an onnx file")
    errors = window.errors.count
    window.open_weights(bad)
    qtbot.waitUntil(lambda: window.errors.count > errors, timeout=WAIT_MS)
    title, message = window.errors.last
    assert "bad.pt" in title and "bad.pt" in message and "tiny.pt (fp32) keeps running" in message
    assert window.controls.model_status.text() == "could not load bad.pt with auto; kept tiny.pt (fp32)"
    assert window.controls.weights.text() == "tiny.pt · fp32" and window.predictor.backend_name == "torch"
    result = next_frame(qtbot, window, window.step, until=lambda r: r.index == 1)
    assert result.perception.backend == "torch"  # the old model plays on


def test_a_broken_onnx_sibling_falls_back_to_the_checkpoint_with_torch(qtbot, make_window, clip, tiny_weights,
                                                                       tmp_path):
    pt = Path(shutil.copy(tiny_weights, tmp_path / "model.pt"))
    pt.with_suffix(".onnx").write_bytes(b"truncated download")
    window = make_window(PredictorProvider(pt, precision="fp32"))
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    assert window.predictor.backend_name == "torch" and window.controls.weights.text() == "model.pt · fp32"
    assert "model.onnx" in window.controls.model_status.toolTip() and window.errors.last is None


# --- 5. calibration ------------------------------------------------------------------------------------------------
def kitti_frames(folder: Path, names) -> Path:
    folder.mkdir()
    for i, name in enumerate(names):
        cv2.imwrite(str(folder / f"{name}.png"), np.full((375, 1242, 3), 80 + 20 * i, np.uint8))
    return folder


def test_a_kitti_calib_folder_gives_each_frame_the_calib_file_of_its_name(qtbot, make_window, tmp_path):
    fixtures = KITTI_CALIB.parent
    calib = tmp_path / "calib"
    calib.mkdir()
    for name in ("um_000051", "uu_000087"):
        shutil.copy(fixtures / f"{name}.txt", calib / f"{name}.txt")
    frames = kitti_frames(tmp_path / "image_2", ["um_000051", "uu_000087", "umm_000099"])  # the last has none
    car = [560.0, 200.0, 690.0, 300.0, 0.9, 0.0]
    window = make_window(StandInProvider(boxes=[car], road=0.6))
    # frames of different drives, one each: "Nearest" may count a track from its first frame here
    window.config["tracking"]["confirm_frames"] = 1
    assert window.open_calibration(calib)
    assert window.bev_box.isVisible() and window.controls.layer_boxes["distance"].isEnabled()
    assert "calib/ (2 files)" in window.bev_box.title()
    play(window, frames, paused=True)
    wait_first_frame(qtbot, window)

    expected = {name: load_camera_geometry(fixtures / f"{name}.txt").box_distances(np.array([car[:4]]),
                                                                                  (1242, 375))[0]
                for name in ("um_000051", "uu_000087")}
    assert abs(expected["um_000051"] - expected["uu_000087"]) > 0.05  # the two files differ where it shows
    for index, name in ((0, "um_000051"), (1, None), (2, "uu_000087")):  # frames in name order
        if index:
            next_frame(qtbot, window, window.step, until=lambda r, i=index: r.index == i)
        if name is None:  # umm_000099: the folder has no calib file of that name
            assert window.summary.rows["nearest"].text() == "no calib file for umm_000099"
            assert window.bev.frame is None and "umm_000099" in window.bev._placeholder
            continue
        assert window.summary.rows["nearest"].text().startswith(f"car at {expected[name]:.1f} m")
        assert window.video.text.labels[0][1].endswith(f"{expected[name]:.1f} m")  # the label on the box
        qtbot.waitUntil(lambda i=index: window.bev.frame is not None and window.bev.frame.index == i,
                        timeout=WAIT_MS)
        assert window.bev.frame.footprints[0].distance_m == pytest.approx(expected[name])
    assert window._calibration_dir() == str(calib)  # the calibration dialog opens where this one was


def test_view_accepts_a_calib_folder_and_a_missing_one_is_named(qtbot, tmp_path):
    calib = tmp_path / "calib"
    calib.mkdir()
    shutil.copy(KITTI_CALIB, calib / KITTI_CALIB.name)
    settings = ViewerSettings(output_dir=str(tmp_path / "out"))
    window = build_window(source=str(tmp_path / "none.mp4"), calib=str(calib), provider=StandInProvider(),
                          settings=settings)
    qtbot.addWidget(window)
    assert window.calibration is not None and window.calibration.is_folder
    assert not window.open_calibration(tmp_path / "missing")
    assert "calibration not found" in window.errors.last[1] and "missing" in window.errors.last[1]


def test_f2_and_d_without_a_calibration_say_why_in_the_status_bar(qtbot, make_window, clip):
    window = make_window()
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_F2)
    assert "needs a calibration" in window.statusBar().currentMessage()
    assert not window.actions["show_bev"].isChecked() and window.bev_box.isHidden()
    window.statusBar().clearMessage()
    qtbot.keyClick(window, Qt.Key_D)
    assert "distance layer needs a calibration" in window.statusBar().currentMessage()
    assert window.controls.layer_boxes["distance"].isChecked() == window.layers.distance  # nothing toggled


# --- 6. seek click, counters, help -----------------------------------------------------------------------------
def test_clicking_the_seek_track_jumps_to_the_frame_under_the_click(qtbot, make_window, long_clip):
    window = make_window()
    play(window, long_clip, paused=True)
    wait_first_frame(qtbot, window)
    seek = window.transport.seek
    seek.resize(600, seek.height())
    x = int(seek.width() * 0.75)
    result = next_frame(qtbot, window, lambda: qtbot.mouseClick(seek, Qt.LeftButton, pos=QPoint(x, seek.height() // 2)),
                        until=lambda r: r.index > 0)
    # a plain slider would move one page (10 frames) towards the click; this one lands under it
    assert abs(result.index - 0.75 * 149) <= 6 and abs(seek.value() - result.index) <= 1
    assert window.session.state == "paused"


def test_replays_and_loops_count_one_pass_and_the_default_clip_loops(qtbot, make_window, clip):
    window = make_window()
    play(window, clip)
    wait_state(qtbot, window, "ended")
    qtbot.waitUntil(lambda: window.stats.values["frames"].text() == "in 16 · out 16 / 16 · dropped 0",
                    timeout=WAIT_MS)
    window.toggle_play()  # at the end: from the start
    wait_state(qtbot, window, "ended")
    qtbot.waitUntil(lambda: window.stats.values["frames"].text() == "in 16 · out 16 / 16 · dropped 0",
                    timeout=WAIT_MS)
    assert window.session.pipeline.snapshot().frames_out >= 32

    window.set_loop(True)  # Ctrl+L
    assert window.session.loop and window.actions["loop"].isChecked()
    window.toggle_play()
    qtbot.waitUntil(lambda: window.session.pipeline.snapshot().frames_out >= 32 + 16 + 4, timeout=WAIT_MS)
    assert window.session.state == "running"  # past the end: no END
    window.pause()
    qtbot.wait(200)  # the figures' timer
    frames_in, frames_out = (int(window.stats.values["frames"].text().split()[i]) for i in (1, 4))
    # this pass, not all of them; "in" runs ahead of "out" by the frames in flight (two queues, three stages)
    assert 0 <= frames_out <= 16 and frames_out <= frames_in <= frames_out + 6


def test_the_help_lists_every_shortcut_the_window_has(qtbot, make_window):
    window = make_window()
    listed = " ".join(key for key, _ in SHORTCUTS)
    for action in window.actions.values():
        key = action.shortcut().toString()
        if key and key not in ("Right", "Left", "]", "[", "R", "B", "L", "D", "H"):
            assert key in listed, key
    for key in ("F1", "F2", "Ctrl+Q", "Home", "Ctrl+Shift+O", "Ctrl+Shift+C"):
        assert key in listed


# --- 4. small windows and text size --------------------------------------------------------------------------------
def test_a_small_window_gives_the_bev_and_figures_room_to_the_video_and_no_panel_overlaps(qtbot, make_window,
                                                                                          clip):
    window = make_window()
    assert window.open_calibration(KITTI_CALIB)
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    window.resize(1024, 600)
    qtbot.waitUntil(lambda: window.performance.isHidden() and window.bev_box.isHidden(), timeout=WAIT_MS)
    qtbot.wait(50)  # the layout settles

    def rect(widget) -> QRect:
        return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())

    video = rect(window.video)
    for other in (window.transport, window.side):
        assert not video.intersects(rect(other)), other
    assert window.video.width() >= 600  # 450 px before: the panels took the rest
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: not window.performance.isHidden() and not window.bev_box.isHidden(), timeout=WAIT_MS)


def test_labels_and_hud_are_text_over_the_scaled_frame_and_drawn_into_screenshots(qtbot, make_window, clip,
                                                                                   tmp_path):
    window = make_window(StandInProvider(boxes=[[20, 30, 80, 70, 0.9, 0]]))
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    text = window.video.text
    assert [label for _, label, _ in text.labels] == ["car 0.90"] and text.hud.startswith("– FPS | – ms")
    raw_overlay = window.last_frame.result.image  # the pipeline's: shapes only
    saved = cv2.imread(str(window.save_screenshot(tmp_path / "shot.png")))
    assert not np.array_equal(saved[:20], raw_overlay[:20])  # the HUD bar, drawn at the frame's resolution
    painted = window.video.grab().toImage()
    target = window.video.image_rect()
    tag = painted.pixelColor(int(target.x() + 20 * target.width() / 160 + 3), int(target.y() + 30 *
                                                                              target.height() / 96) - 4)
    assert tag.blue() > tag.red() + 60  # the car colour's label tag, painted by Qt above the box


# --- 3. the demo -----------------------------------------------------------------------------------------------------
def test_a_replay_slower_than_its_speed_says_it_is_behind_real_time(qtbot, make_window, long_clip):
    window = make_window(StandInProvider(sleep=0.1), speed=1.0)  # at most 10 FPS against the clip's 25
    play(window, long_clip)
    qtbot.waitUntil(lambda: window.pace_label.text() != "", timeout=WAIT_MS)
    assert window.pace_label.text().startswith("⚠ behind real time:") and "of 25 FPS" in window.pace_label.text()
    window.set_speed(0.25)  # 6.25 FPS asked: it keeps up
    qtbot.waitUntil(lambda: window.pace_label.text() == "", timeout=WAIT_MS)


# --- 7. time to first frame ----------------------------------------------------------------------------------------
class SlowLoadingProvider(StandInProvider):
    """A model that takes a while to load, as the real one does (imports, session, warm-up)."""

    def __init__(self, load_s: float, **kwargs):
        super().__init__(**kwargs)
        self.load_s = load_s
        self.warmups: list[bool] = []

    def build(self, backend, conf, iou, warmup=True):
        self.warmups.append(warmup)
        time.sleep(self.load_s)
        return super().build(backend, conf, iou)


def test_the_first_frame_shows_at_once_while_the_model_loads(qtbot, make_window, clip):
    provider = SlowLoadingProvider(1.5)
    window = make_window(provider)
    play(window, clip)
    qtbot.waitUntil(lambda: window.video.current_image() is not None, timeout=WAIT_MS)
    assert window.last_frame is None and window.predictor is None  # before the model is there
    assert read_stamp(window.video.current_image()) == 0 and window.video._badge == "LOADING MODEL"
    cap = cv2.VideoCapture(str(clip))
    first = cap.read()[1]
    cap.release()
    assert np.array_equal(window.video.current_image(), first)  # the frame as decoded, no overlay yet
    wait_first_frame(qtbot, window)
    assert window.first_image_at < window.first_annotated_at
    wait_state(qtbot, window, "ended")
    assert window.session.pipeline.snapshot().frames_out == N  # the preview read cost the replay no frame
    assert provider.warmups == [False]  # the first model warms up on the first frames, not before them


# --- the flaky keyboard test's cause ------------------------------------------------------------------------------
def test_step_back_steps_from_the_frame_on_screen_even_before_the_output_thread_stamps_it(qtbot, make_window, clip,
                                                                                          monkeypatch):
    """The output thread hands a frame to the window, then stamps it as the last delivered; a key pressed in
    between stepped back from the frame before it (seek to 10, ← showed 0 instead of 9 and the keyboard test
    waited 20 s for frame 9). Stamping late on purpose makes that window wide."""
    from app.stats import PipelineStats

    stamp = PipelineStats.output

    def late_stamp(self, *args, **kwargs):
        time.sleep(0.3)
        return stamp(self, *args, **kwargs)

    monkeypatch.setattr(PipelineStats, "output", late_stamp)
    window = make_window()
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    next_frame(qtbot, window, window.step, until=lambda r: r.index == 1)
    next_frame(qtbot, window, lambda: window.seek(10), until=lambda r: r.index == 10)
    result = next_frame(qtbot, window, window.step_back)  # at once, while frame 10 is not stamped yet
    assert result.index == 9


# --- 6. recordings' codec ------------------------------------------------------------------------------------------
def test_recordings_use_the_first_codec_opencv_writes_here_and_say_which(qtbot, make_window, clip, tmp_path):
    from app.viewer.codecs import can_write, recording_codec

    assert recording_codec(("mp4v",)) == ("mp4v", "")
    codec, note = recording_codec(("none", "mp4v"))  # "none" is no codec: the fallback, said
    assert codec == "mp4v" and note == "MPEG-4 Part 2 (mp4v): this OpenCV build cannot write none"
    with pytest.raises(OSError, match="none of the codecs"):
        recording_codec(("none",))

    window = make_window()
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    path = window.set_recording(True, tmp_path / "rec.mp4")
    message = window.statusBar().currentMessage()
    assert message.startswith(f"recording to {path.resolve()} (")
    assert ("H.264" in message) if can_write("avc1") else ("mp4v" in message and "cannot write H.264" in message)
    window.set_recording(False)
    cap = cv2.VideoCapture(str(path))
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode(errors="replace")
    cap.release()
    # FFmpeg reads MPEG-4 Part 2 back as FMP4
    assert fourcc.lower() in (("avc1", "h264") if can_write("avc1") else ("mp4v", "fmp4"))


def test_a_codec_probe_that_fails_prints_nothing_here(capfd):
    """A codec OpenCV cannot write makes FFmpeg print errors from C; the probe's child process keeps them."""
    from app.viewer.codecs import can_write

    can_write.cache_clear()
    assert can_write("none") is False and can_write("mp4v") is True
    assert can_write("avc1") in (True, False)  # no H.264 encoder in the pip wheels: FFmpeg's errors, kept away
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
