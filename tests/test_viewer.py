"""The PyQt5 viewer, offscreen: it plays a clip to its end with matching counters, the sliders and toggles change
the picture on screen, it records and saves screenshots, errors leave it usable, the backend switches live, and
a calibration gives the bird's-eye view; plus `run.py view` / `run.py` choosing viewer or headless.

Predictors are stand-ins (tests/test_pipeline.py's, built through a stand-in provider), except one test that
loads a tiny real ONNX model through the same worker-thread path the real viewer uses. Frames carry their index
in their pixels (test_pipeline's stamps), so a recording's order is read back from the video itself.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

pytest.importorskip("PyQt5")

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

import run
from app import cli
from app import sources as app_sources
from app.sources import open_source
from app.viewer.bridge import PipelineBridge
from app.viewer.pacing import PacedSource
from app.viewer.predictors import PredictorProvider
from app.viewer.status_bar import STATE_TEXT
from calib.camera import load_camera_geometry
from stand_ins import BLOCK, FakeCamera, H, StandIn, W, read_stamp, video_stamps
from viewer_support import KITTI_CALIB, WAIT_MS, N, StandInProvider, next_frame, play, wait_first_frame, wait_state


# --- playing --------------------------------------------------------------------------------------------------------
def test_plays_a_clip_to_its_end_with_counters_matching_and_inference_off_the_gui_thread(qtbot, make_window, clip):
    window = make_window()
    play(window, clip)
    wait_state(qtbot, window, "ended")
    qtbot.waitUntil(lambda: window.last_frame.result.index == N - 1, timeout=WAIT_MS)

    snapshot = window.session.pipeline.snapshot()
    assert snapshot.frames_in == snapshot.frames_out == snapshot.frame_count == N
    assert snapshot.frames_dropped == 0
    qtbot.waitUntil(lambda: window.stats.values["frames"].text() == f"in {N} · out {N} / {N} · dropped 0",
                    timeout=WAIT_MS)
    assert window.dropped_label.text() == "dropped 0"
    assert window.transport.position.text().startswith(f"{N} / {N}")
    assert window.transport.seek.value() == N - 1
    assert window.state_label.text() == STATE_TEXT["ended"]
    assert read_stamp(window.video.current_image()) == N - 1  # the pixels on screen are the last frame's
    assert window.windowTitle().startswith("clip.mp4")
    assert window.predictor.threads == {"viewer-inference"}  # never the GUI thread
    assert window.provider.build_threads == ["viewer-load-model"]


def test_replay_speed_paces_the_clip_without_losing_frames(qtbot, make_window, clip):
    window = make_window(speed=4.0)  # 16 frames at 4 x 25 fps: at least 15 frame periods of 10 ms
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    start = time.perf_counter()
    window.play()
    wait_state(qtbot, window, "ended")
    assert time.perf_counter() - start >= (N - 1) / 100 * 0.9
    assert window.session.pipeline.snapshot().frames_out == N
    assert window.session.speed == 4.0
    assert 0 < len(window.stats.graph.values) <= N  # one latency per frame shown while playing
    window.transport.speed.setCurrentIndex(window.transport.speed.findData(0.5))
    assert window.speed == 0.5 and window.session.speed == 0.5


def test_keyboard_space_pauses_and_plays_and_right_arrow_steps(qtbot, make_window, clip):
    window = make_window(speed=1.0)
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
    assert window.last_frame.result.index == 0
    result = next_frame(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key_Right))
    assert result.index == 1 and window.session.state == "paused"
    result = next_frame(qtbot, window, lambda: window.transport.seek.setValue(10), until=lambda r: r.index == 10)
    assert read_stamp(result.frame.image) == 10 and window.session.state == "paused"
    result = next_frame(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key_Left), until=lambda r: r.index == 9)
    assert window.transport.position.text().startswith(f"10 / {N}")
    qtbot.keyClick(window, Qt.Key_Space)
    assert window.session.state == "running"
    qtbot.keyClick(window, Qt.Key_Space)
    assert window.session.state == "paused"


def test_live_source_has_no_seek_or_speed_and_its_dropped_frames_show_in_the_status_bar(qtbot, make_window,
                                                                                        monkeypatch):
    monkeypatch.setattr(app_sources, "open_source", lambda spec, **kwargs: FakeCamera(60, 0.005))  # 200 fps
    window = make_window(StandInProvider(sleep=0.02))  # 50 fps at best: a live source must drop
    play(window, "0")
    wait_state(qtbot, window, "finished")  # the fake camera's 60 frames are over
    snapshot = window.session.pipeline.snapshot()
    assert snapshot.live and snapshot.frames_dropped > 0
    assert snapshot.frames_out + snapshot.frames_dropped == snapshot.frames_in == 60
    qtbot.waitUntil(lambda: window.dropped_label.text() == f"dropped {snapshot.frames_dropped}", timeout=WAIT_MS)
    assert window.session.paced is None
    assert not window.transport.seek.isEnabled() and not window.transport.speed.isEnabled()
    assert window.transport.position.text().startswith("frame ")


# --- thresholds and layers --------------------------------------------------------------------------------------------
ROAD_REGION = (slice(H // 2, H - BLOCK), slice(W // 2, W))  # lower right: no HUD, box or frame stamp there
BOX_REGION = (slice(4, 31), slice(4, 41))  # the stand-in's box
HUD_REGION = (slice(0, 20), slice(50, 150))  # the HUD bar, right of the box


def test_threshold_sliders_change_the_picture_on_the_next_frame_also_when_paused(qtbot, make_window, clip):
    window = make_window()
    play(window, clip, paused=True)  # the stand-in's road probability is 0.6 everywhere
    wait_first_frame(qtbot, window)
    shown, raw = window.video.current_image(), window.last_frame.result.frame.image
    assert window.session.state == "paused"
    assert not np.array_equal(shown[ROAD_REGION], raw[ROAD_REGION])  # road drawn at 0.5

    result = next_frame(qtbot, window, lambda: window.controls.road.slider.setValue(70),
                        until=lambda r: r.road_threshold == 0.7)
    assert result.index == 0  # the paused frame, drawn again
    assert np.array_equal(window.video.current_image()[ROAD_REGION], result.frame.image[ROAD_REGION])  # no road

    result = next_frame(qtbot, window, lambda: window.controls.conf.slider.setValue(60),
                        until=lambda r: r.perception.boxes[0, 4] == pytest.approx(0.6))  # stand-in's score = conf
    assert result.index == 0 and window.thresholds.conf == 0.6 and window.predictor.conf == 0.6


def test_layer_toggles_hide_and_show_each_layer(qtbot, make_window, clip):
    window = make_window()
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    boxes = window.controls.layer_boxes

    def drawn(region=(slice(None), slice(None))) -> bool:
        """Does the picture on screen differ from the raw frame there?"""
        shown, raw = window.video.current_image(), window.last_frame.result.frame.image
        return not np.array_equal(shown[region], raw[region])

    assert drawn(ROAD_REGION) and drawn(BOX_REGION) and drawn(HUD_REGION)
    for box in boxes.values():
        box.setChecked(False)
    qtbot.waitUntil(lambda: not drawn(), timeout=WAIT_MS)  # nothing drawn at all, on the paused frame
    assert window.last_frame.result.index == 0
    for layer, region in (("road", ROAD_REGION), ("boxes", BOX_REGION), ("hud", HUD_REGION)):
        boxes[layer].setChecked(True)
        qtbot.waitUntil(lambda region=region: drawn(region), timeout=WAIT_MS)
        boxes[layer].setChecked(False)
        qtbot.waitUntil(lambda: not drawn(), timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_R)  # the View menu's shortcut toggles the same check box
    assert boxes["road"].isChecked() and window.layers.road
    qtbot.waitUntil(lambda: drawn(ROAD_REGION), timeout=WAIT_MS)


# --- outputs --------------------------------------------------------------------------------------------------------
def test_record_writes_every_frame_of_the_overlaid_stream_to_a_playable_video(qtbot, make_window, clip, tmp_path):
    window = make_window(speed=0.0)
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    path = window.set_recording(True, tmp_path / "recording.mp4")
    assert path == tmp_path / "recording.mp4"
    assert window.transport.record.isChecked() and window.actions["record"].isChecked()
    qtbot.waitUntil(lambda: window.record_label.text().startswith("● REC"), timeout=WAIT_MS)

    window.play()
    wait_state(qtbot, window, "ended")
    qtbot.waitUntil(lambda: window.last_frame.result.index == N - 1, timeout=WAIT_MS)
    assert window.set_recording(False) == path
    assert not window.transport.record.isChecked() and window.record_label.text() == ""
    assert f"saved {path} ({N} frames)" in window.statusBar().currentMessage()

    assert video_stamps(path) == list(range(N))  # every frame, in order, from the first one on screen
    cap = cv2.VideoCapture(str(path))
    ok, first = cap.read()
    cap.release()
    assert ok and first.shape == (H, W, 3)
    assert first[ROAD_REGION][..., 1].mean() > first[ROAD_REGION][..., 0].mean() + 30  # the overlay, road green


def test_screenshot_saves_the_frame_on_screen_as_png(qtbot, make_window, clip, tmp_path):
    window = make_window()
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    window.actions["screenshot"].trigger()
    path = tmp_path / "out" / "clip_frame000001.png"  # frame 1 of N, as the position counter says
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert window.statusBar().currentMessage() == f"saved {path.resolve()}"
    assert np.array_equal(cv2.imread(str(path)), window.video.current_image())
    assert window.save_screenshot(tmp_path / "chosen.png") == tmp_path / "chosen.png"


# --- errors ---------------------------------------------------------------------------------------------------------
def test_unreadable_file_shows_one_error_and_the_window_stays_usable(qtbot, make_window, clip, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video " * 64)
    window = make_window()
    play(window, broken)
    qtbot.waitUntil(lambda: window.errors.last is not None, timeout=WAIT_MS)
    title, message = window.errors.last
    assert "broken.mp4" in title and "cannot decode" in message
    assert window.errors.box.isVisible() and not window.errors.box.isModal()  # never blocks the window
    assert "broken.mp4" in window.statusBar().currentMessage()
    assert window.session is None

    window.open_source(clip)  # usable: a good file plays to its end
    wait_state(qtbot, window, "ended")
    assert window.session.pipeline.snapshot().frames_out == N

    window.open_source(tmp_path / "missing.mp4")  # a second error replaces the first box's text
    qtbot.waitUntil(lambda: window.errors.count == 2, timeout=WAIT_MS)
    assert "not found" in window.errors.last[1] and window.session.state == "ended"  # the clip is still there


def test_a_failing_stage_is_reported_once_and_play_opens_the_source_again(qtbot, make_window, clip):
    window = make_window()
    window.predictor = StandIn(fail_at=3, name="fragile")  # its fourth call raises
    window.open_source(clip)
    wait_state(qtbot, window, "failed")
    qtbot.waitUntil(lambda: window.errors.last is not None, timeout=WAIT_MS)
    assert window.errors.last[0] == "Playback stopped" and "stand-in backend exploded" in window.errors.last[1]
    # the status bar follows the session on the stats timer
    qtbot.waitUntil(lambda: window.state_label.text() == STATE_TEXT["failed"], timeout=WAIT_MS)
    assert window.errors.count == 1
    window.predictor.fail_at = None  # the cause is gone (a camera plugged back in, say)
    window.toggle_play()  # after an error, play opens the source again
    wait_state(qtbot, window, "ended")
    assert window.errors.count == 1


def test_weights_that_fail_to_load_are_reported_and_the_current_model_keeps_running(qtbot, make_window, clip):
    window = make_window(StandInProvider(backends=("first", "broken"), broken={"broken"}))
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    window.controls.backend.setCurrentText("broken")
    qtbot.waitUntil(lambda: window.errors.last is not None, timeout=WAIT_MS)
    assert "Cannot load the model (broken" in window.errors.last[0] and "corrupt" in window.errors.last[1]
    assert window.predictor.backend_name == "first" and window.controls.backend.currentText() == "first"
    result = next_frame(qtbot, window, window.step)
    assert result.index == 1 and result.perception.backend == "first"


# --- model ----------------------------------------------------------------------------------------------------------
def test_backend_switch_builds_off_the_gui_thread_and_takes_over_on_the_next_frame(qtbot, make_window, clip):
    provider = StandInProvider(backends=("first", "second"))
    window = make_window(provider)
    play(window, clip, paused=True)
    wait_first_frame(qtbot, window)
    combo = window.controls.backend
    assert [combo.itemText(i) for i in range(combo.count())] == ["first", "second"] and combo.isEnabled()
    assert combo.currentText() == "first" and window.controls.weights.text() == "stand-in.pt"
    first = window.predictor

    result = next_frame(qtbot, window, lambda: combo.setCurrentText("second"),
                        until=lambda r: r.perception.backend == "second")
    assert result.index == 0  # the paused frame, re-run by the new backend
    assert window.predictor.backend_name == "second" and first.closed
    assert provider.build_threads == ["viewer-load-model", "viewer-load-model"]
    window.play()
    wait_state(qtbot, window, "ended")
    assert window.last_frame.result.perception.backend == "second"


def test_real_onnx_model_loads_in_the_background_and_plays_the_clip(qtbot, make_window, clip, tiny_onnx):
    window = make_window(PredictorProvider(tiny_onnx))
    play(window, clip)
    wait_state(qtbot, window, "ended")
    assert window.predictor.backend_name == "onnxruntime"
    assert window.controls.backend.currentText() == "onnxruntime"
    assert window.session.pipeline.snapshot().frames_out == N
    assert window.last_frame.result.perception.road_probs.shape == (1, H, W)


# --- bird's-eye view ------------------------------------------------------------------------------------------------
def test_calibration_gives_a_bev_panel_with_the_road_and_vehicle_footprints(qtbot, make_window, tmp_path):
    folder = tmp_path / "kitti_frames"  # frames of the size the KITTI calib belongs to
    folder.mkdir()
    # five frames: "Nearest" counts a track once it is confirmed (tracking.confirm_frames in runtime.yaml)
    for i in range(5):
        cv2.imwrite(str(folder / f"{i:06d}.png"), np.full((375, 1242, 3), 80 + 20 * i, np.uint8))
    car = [560.0, 200.0, 690.0, 300.0, 0.9, 0.0]  # bottom edge on the road ahead
    window = make_window(StandInProvider(boxes=[car], road=0.6))
    assert not window.bev_box.isVisible() and not window.controls.layer_boxes["distance"].isEnabled()
    assert window.open_calibration(KITTI_CALIB)
    assert window.bev_box.isVisible() and window.controls.layer_boxes["distance"].isEnabled()
    play(window, folder)
    wait_state(qtbot, window, "ended")
    qtbot.waitUntil(lambda: window.bev.frame is not None, timeout=WAIT_MS)

    bev = window.bev.frame
    assert bev.image.shape == (800, 400, 3)
    b, g, r = (bev.image[..., i].astype(int) for i in range(3))
    assert ((g > r + 40) & (g > b + 40)).sum() > 10_000  # the road layer, warped
    expected = load_camera_geometry(KITTI_CALIB).box_distances(np.array([car[:4]]), (1242, 375))[0]
    assert len(bev.footprints) == 1
    footprint = bev.footprints[0]
    assert footprint.class_name == "car" and 3 < expected < 40
    assert footprint.distance_m == pytest.approx(expected)
    assert window.summary.rows["nearest"].text().startswith(f"car at {expected:.1f} m")

    painted = window.bev.grab().toImage()
    centre = window.bev.to_widget(footprint.x_m, footprint.z_m + footprint.length_m / 2)
    colour = painted.pixelColor(int(centre.x()), int(centre.y()))
    assert colour.blue() > colour.red() + 60  # the car colour (BGR 255,144,30) painted over the footprint

    window.actions["show_bev"].trigger()  # F2 hides the panel (and the BEV work on the output thread)
    assert not window.bev_box.isVisible() and window.session.bridge.prepare is None


def test_a_bad_calibration_is_reported_and_changes_nothing(qtbot, make_window, tmp_path):
    bad = tmp_path / "calib.txt"
    bad.write_text("P2: 1 2 3\n")
    window = make_window()
    assert not window.open_calibration(bad)
    assert "calib.txt" in window.errors.last[0] and window.camera is None and not window.bev_box.isVisible()


# --- parts --------------------------------------------------------------------------------------------------------
def test_bridge_hands_the_gui_only_the_newest_frame_when_it_falls_behind(qtbot):
    class FakePipeline:
        def __init__(self):
            self.callbacks = []

        def on_result(self, fn):
            self.callbacks.append(fn)

        on_error = on_finished = on_result

        def remove_callback(self, fn):
            self.callbacks.remove(fn)

    pipeline, got = FakePipeline(), []
    bridge = PipelineBridge(prepare=lambda r: r.index * 10)
    bridge.attach(pipeline)
    bridge.frame.connect(got.append)

    class Result:
        def __init__(self, index):
            self.index = index

    worker = threading.Thread(target=lambda: [pipeline.callbacks[0](Result(i)) for i in range(5)])
    worker.start()
    worker.join()  # five frames delivered while the GUI thread was busy
    qtbot.waitUntil(lambda: len(got) == 1, timeout=WAIT_MS)
    QApplication.processEvents()
    assert len(got) == 1 and got[0].result.index == 4 and got[0].extra == 40
    assert bridge.frames_received == 5 and bridge.frames_shown == 1
    bridge.detach()
    assert pipeline.callbacks == []


def test_paced_source_is_lossless_paces_by_speed_and_stops_at_once(clip):
    source = PacedSource(open_source(clip), speed=2.0)  # 25 fps clip at 2x: one frame each 20 ms
    start = time.perf_counter()
    frames = list(iter(source.read, None))
    assert [f.index for f in frames] == list(range(N))
    assert time.perf_counter() - start >= (N - 1) * 0.02 * 0.9
    source.seek(3)
    assert source.read().index == 3  # a seek restarts the clock: no wait, no burst
    source.close()

    slow = PacedSource(open_source(clip), speed=0.01)  # 4 s per frame
    assert slow.read().index == 0
    threading.Timer(0.1, slow.interrupt).start()
    start = time.perf_counter()
    assert slow.read() is None and time.perf_counter() - start < 2.0
    slow.close()


# --- command line ---------------------------------------------------------------------------------------------------
def test_view_without_a_display_is_one_clear_line(monkeypatch, capsys):
    for name in cli.DISPLAY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert run.main(["view"]) == 2
    assert "needs a display" in capsys.readouterr().err


def test_run_alone_opens_the_viewer_with_a_display_and_runs_headless_without(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(cli, "cmd_view", lambda args: calls.append(("view", args.source)) or 0)
    monkeypatch.setattr(cli, "cmd_infer", lambda args: calls.append(("infer", args.out)) or 0)
    from app.viewer import preflight

    for name in cli.DISPLAY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", ":7")
    # whether this machine has Qt's X libraries must not decide the test: first they are all there ...
    monkeypatch.setattr(preflight, "missing_libraries", lambda binary: [])
    assert run.main([]) == 0 and calls[-1] == ("view", None)
    assert "opening the viewer on the bundled sample clip (display: DISPLAY=:7)" in capsys.readouterr().out
    # ... then one is missing (a minimal install): headless, and the line names the package to install
    monkeypatch.setattr(preflight, "missing_libraries", lambda binary: ["libxcb-icccm.so.4"])
    assert run.main([]) == 0 and calls[-1] == ("infer", "out/sample_annotated.mp4")
    out = capsys.readouterr().out
    assert "libxcb-icccm.so.4" in out and "sudo apt-get install -y libxcb-icccm4" in out
    assert "running headless inference on the bundled sample clip" in out
    monkeypatch.delenv("DISPLAY")
    assert run.main([]) == 0 and calls[-1] == ("infer", "out/sample_annotated.mp4")
    assert capsys.readouterr().out.startswith("no display (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM unset): "
                                              "running headless inference")
