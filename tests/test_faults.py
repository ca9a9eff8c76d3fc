"""Issue 10, the output half: nothing lost, nothing overwritten. Real files, real ONNX Runtime, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import run
from core.atomic import atomic_folder, atomic_open, atomic_path, atomic_write_text
from core.output_paths import UnsafeOutputError, refuse_unsafe_outputs
from nets.config import load_model_config
from nets.deploy.onnx_export import export_onnx
from nets.model import PerceptionNet
from stand_ins import StandIn, stamped_image, video_stamps, write_stamped_video

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    torch.manual_seed(0)
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    return export_onnx(net, tmp_path_factory.mktemp("tiny") / "tiny.onnx")


@pytest.fixture()
def clip(tmp_path):
    return write_stamped_video(tmp_path / "in.mp4", 12)


def _infer(tiny_onnx, *args) -> int:
    return run.main(["infer", "--weights", str(tiny_onnx), "--backend", "onnxruntime", *map(str, args)])


# --- core.atomic ------------------------------------------------------------------------------------------------------
def test_atomic_path_replaces_on_success_and_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "results.csv"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("half of the new")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".mp4" and tmp.name != "clip.mp4"  # cv2 picks by suffix
        write_stamped_video(tmp, 3)
    assert video_stamps(tmp_path / "clip.mp4") == [0, 1, 2]


def test_the_next_write_removes_the_partial_file_a_sigkilled_writer_left(tmp_path):
    """SIGKILL gives no chance to clean up: the hidden partial file stays until the next write of that output."""
    target = tmp_path / "summary.json"
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from core.atomic import atomic_open\n"
        "with atomic_open(sys.argv[2]) as f:\n    f.write('half'); f.flush(); print('writing', flush=True); "
        "time.sleep(60)"), str(Path(run.__file__).parent), str(target)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    writer.kill()
    writer.wait(timeout=10)
    leftover = tmp_path / f".summary.json.partial-{writer.pid}.json"
    assert leftover.exists() and not target.exists()
    alive = tmp_path / f".summary.json.partial-{os.getppid()}.json"  # a live writer's (here: pytest's parent)
    alive.write_text("live")
    old = time.time() - 3600
    for p in (leftover, alive):
        os.utime(p, (old, old))
    atomic_write_text(target, "{}")  # the dead writer's aged file goes; the live one's stays
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "summary.json"])
    fresh = tmp_path / f".summary.json.partial-{writer.pid}.json"
    fresh.write_text("just killed")  # recent: kept (its owner may be a process on another machine)
    atomic_write_text(target, "{}")
    assert fresh.exists() and alive.exists() and target.read_text() == "{}"


def test_a_mask_folder_is_swept_once_when_its_writer_opens(tmp_path, monkeypatch):
    """A mask writer names thousands of files: it clears killed writers' leftovers once, not once a frame."""
    import app.writers
    import core.atomic
    from app.frames import Frame, FrameResult

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=30)
    leftover = tmp_path / f".000007.png.partial-{gone.pid}.png"
    leftover.write_bytes(b"half a png")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    listed, real_sweep = [], core.atomic.sweep_stale_partials

    def counting_sweep(*args, **kwargs):
        listed.append(args)
        return real_sweep(*args, **kwargs)

    monkeypatch.setattr(core.atomic, "sweep_stale_partials", counting_sweep)
    monkeypatch.setattr(app.writers, "sweep_stale_partials", counting_sweep)
    writer = app.writers.MaskWriter(tmp_path)
    assert not leftover.exists() and listed == [(tmp_path,)]
    for i in range(5):
        writer.write(FrameResult(Frame(i, 0.0, stamped_image(i)), StandIn()(stamped_image(i))))
    assert listed == [(tmp_path,)] and sorted(p.name for p in tmp_path.iterdir()) == [f"{i:06d}.png" for i in range(5)]


def test_atomic_folder_appears_whole_or_not_at_all_and_refuses_a_populated_one(tmp_path):
    out = tmp_path / "sub"
    with pytest.raises(RuntimeError), atomic_folder(out) as tmp:
        (tmp / "a.png").write_bytes(b"x")
        raise RuntimeError("fails halfway")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with atomic_folder(out) as tmp:
        (tmp / "a.png").write_bytes(b"x")
    assert [p.name for p in out.iterdir()] == ["a.png"]
    with pytest.raises(UnsafeOutputError, match="already holds files"), atomic_folder(out):
        pass
    assert (out / "a.png").read_bytes() == b"x"


# --- outputs never destroy inputs -------------------------------------------------------------------------------------
def test_infer_refuses_out_equal_to_the_source_by_path_symlink_or_hard_link(tiny_onnx, clip, tmp_path, capsys):
    original = clip.read_bytes()
    os.link(clip, tmp_path / "hard.mp4")
    os.symlink(clip, tmp_path / "soft.mp4")
    for out in (clip, tmp_path / "hard.mp4", tmp_path / "soft.mp4", tmp_path / "." / "x" / ".." / "in.mp4"):
        assert _infer(tiny_onnx, "--source", clip, "--out", out) == 2
        err = capsys.readouterr().err
        assert "error: --out" in err and "is the source" in err and "nothing was written" in err
    assert clip.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.mp4", "in.mp4", "soft.mp4"]


def test_infer_refuses_json_over_the_source_or_the_weights_and_their_siblings(tiny_onnx, clip, capsys):
    sibling = tiny_onnx.with_suffix(".int8cpu.onnx")
    sibling.write_bytes(b"an exported sibling")
    weights_bytes = tiny_onnx.read_bytes()
    for target, what in ((clip, "the source"), (tiny_onnx, "the weights"), (sibling, "sibling tiny.int8cpu.onnx")):
        assert _infer(tiny_onnx, "--source", clip, "--no-video", "--json", target) == 2
        assert what in capsys.readouterr().err
    assert tiny_onnx.read_bytes() == weights_bytes and sibling.read_bytes() == b"an exported sibling"
    sibling.unlink()


def test_infer_refuses_masks_or_outputs_inside_an_image_folder_source(tiny_onnx, tmp_path, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i:06d}.png"), stamped_image(i))
    before = {p.name: p.read_bytes() for p in frames.iterdir()}
    assert _infer(tiny_onnx, "--source", frames, "--no-video", "--save-masks", frames) == 2
    assert "--save-masks" in capsys.readouterr().err
    assert _infer(tiny_onnx, "--source", frames, "--out", frames / "annotated.mp4") == 2
    assert "inside the source" in capsys.readouterr().err
    assert _infer(tiny_onnx, "--source", str(frames / "*.png"), "--no-video", "--json", frames / "d.jsonl") == 2
    assert {p.name: p.read_bytes() for p in frames.iterdir()} == before


def test_infer_refuses_a_video_extension_the_writer_cannot_produce(tiny_onnx, clip, tmp_path, capsys):
    assert _infer(tiny_onnx, "--source", clip, "--out", tmp_path / "x.png") == 2
    assert "cannot produce a .png file" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_refuse_unsafe_outputs_two_outputs_one_file(tmp_path):
    with pytest.raises(UnsafeOutputError, match="same file"):
        refuse_unsafe_outputs(files={"--out": tmp_path / "a.mp4", "--json": tmp_path / "a.mp4"})
    refuse_unsafe_outputs(files={"--out": tmp_path / "a.mp4"}, folders={"--save-masks": tmp_path / "m"},
                          inputs={"the source": tmp_path / "b.mp4"})  # nothing shared: no error


# --- writes are atomic and checked ------------------------------------------------------------------------------------
@pytest.fixture()
def small_disk(tmp_path):
    """A 48 KiB tmpfs: a real full disk (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "small_disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(disk)], check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_fails_the_run_with_the_file_named(tiny_onnx, small_disk, tmp_path, capsys):
    big = write_stamped_video(tmp_path / "big.mp4", 60, width=320, height=192)
    out = small_disk / "annotated.mp4"
    assert _infer(tiny_onnx, "--source", big, "--out", out) == 2
    captured = capsys.readouterr()
    assert f"cannot write video {out}" in captured.err or f"video {out} is incomplete" in captured.err
    assert "wrote" not in captured.out  # before: "wrote annotated.mp4 (60 frames)" for an unplayable file
    if out.exists():  # only what plays is kept
        assert 0 < len(video_stamps(out)) < 60
    assert not [p for p in small_disk.iterdir() if ".partial-" in p.name]


def test_a_full_disk_stops_a_long_run_early(tiny_onnx, small_disk, tmp_path, capsys):
    big = write_stamped_video(tmp_path / "big.mp4", 300, width=320, height=192)
    settings = tmp_path / "runtime.yaml"
    settings.write_text("writers:\n  stall_check_frames: 20\n")
    lines = tmp_path / "d.jsonl"
    out = small_disk / "annotated.mp4"
    assert _infer(tiny_onnx, "--source", big, "--out", out, "--json", lines, "--runtime-config", settings) == 2
    assert f"cannot write video {out}: the file stopped growing" in capsys.readouterr().err
    summary = json.loads(lines.read_text().splitlines()[-1])["summary"]
    assert summary["state"] == "failed" and summary["frames_out"] < 300  # it did not run to the end


def test_a_finished_run_leaves_no_partial_files_and_json_ends_with_the_summary(tiny_onnx, clip, tmp_path, capsys):
    out, lines, masks = tmp_path / "o" / "a.mp4", tmp_path / "o" / "d.jsonl", tmp_path / "o" / "masks"
    lines.parent.mkdir()
    lines.write_text("an older run's lines\n")
    assert _infer(tiny_onnx, "--source", clip, "--out", out, "--json", lines, "--save-masks", masks) == 0
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["a.mp4", "d.jsonl", "masks"]
    assert not [p for p in masks.iterdir() if ".partial-" in p.name] and len(list(masks.iterdir())) == 12
    records = [json.loads(x) for x in lines.read_text().splitlines()]
    assert len(records) == 13 and records[-1]["summary"]["frames_out"] == 12
    assert video_stamps(out) == list(range(12))


def _start_infer(args, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    env.pop("DISPLAY", None)
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "infer", *map(str, args)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_finish_the_video_and_the_json_summary(tiny_onnx, tmp_path, signum, code):
    source = write_stamped_video(tmp_path / "long.mp4", 400)
    out, lines = tmp_path / "annotated.mp4", tmp_path / "det.jsonl"
    proc = _start_infer(["--source", source, "--realtime", "--weights", tiny_onnx, "--backend", "onnxruntime",
                         "--out", out, "--json", lines], tmp_path)
    try:
        for line in proc.stdout:  # the pipeline starts right after this line
            if line.startswith("backend:"):
                break
        time.sleep(2.0)  # some frames through a 25 fps real-time source
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert f"stopped by {signal.Signals(signum).name}" in err
    stamps = video_stamps(out)  # playable: the mp4 has its index (a live source may drop stale frames)
    assert len(stamps) > 0 and stamps == sorted(set(stamps))
    records = [json.loads(x) for x in lines.read_text().splitlines()]
    assert [r["frame"] for r in records[:-1]] == stamps  # the same frames in both outputs, none half-written
    assert records[-1]["summary"]["frames_out"] == len(stamps) and "interrupted" in records[-1]
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_a_truncated_source_is_reported_with_both_counts(tiny_onnx, tmp_path, capsys):
    source = tmp_path / "cut.mkv"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (160, 96))
    for i in range(40):
        writer.write(stamped_image(i))
    writer.release()
    with open(source, "r+b") as f:
        f.truncate(source.stat().st_size // 2)
    lines = tmp_path / "d.jsonl"
    assert _infer(tiny_onnx, "--source", source, "--no-video", "--json", lines) == 0
    err = capsys.readouterr().err
    summary = json.loads(lines.read_text().splitlines()[-1])
    decoded = summary["source_frames"]["decoded"]
    assert summary["source_frames"]["expected"] == 40 and 0 < decoded < 40
    assert f"ended early: {decoded} of 40 frames decoded" in err


# --- train into an existing run ---------------------------------------------------------------------------------------
def test_train_refuses_an_out_dir_holding_a_run_unless_resume_or_exist_ok(tmp_path, capsys):
    from train import engine

    out = tmp_path / "run"
    out.mkdir()
    (out / "best.pt").write_bytes(b"a better model")
    (out / "results.csv").write_text("epoch,mAP50\n1,0.9\n")
    with pytest.raises(UnsafeOutputError, match=r"already holds a training run \(best.pt, results.csv\)"):
        engine.refuse_existing_run(out, resume=False, exist_ok=False)
    engine.refuse_existing_run(out, resume=False, exist_ok=True)
    engine.refuse_existing_run(out, resume=True, exist_ok=False)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"model: {ROOT / 'configs/model/perception_n.yaml'}\ndata: {{train: none.yaml}}\n"
                      f"epochs: 1\nbatch: 1\nimgsz: [64, 96]\nout_dir: {out}\n")
    assert run.main(["train", "--config", str(recipe)]) == 2
    assert "--exist-ok" in capsys.readouterr().err
    assert (out / "best.pt").read_bytes() == b"a better model"
    assert (out / "results.csv").read_text() == "epoch,mAP50\n1,0.9\n"


# --- submit-kitti: a whole folder, or nothing -------------------------------------------------------------------------
def test_submission_refuses_a_populated_out_and_leaves_nothing_when_it_fails_halfway(tmp_path):
    from test_kitti_road_eval import StandInPredictor, make_data_root

    from train.kitti_road_eval import SUBMISSION_ZIP, write_submission

    root = tmp_path / "data_road"
    make_data_root(root, split="testing", stems=("um_000051", "umm_000023", "uu_000087"))
    populated = tmp_path / "old_submission"
    populated.mkdir()
    (populated / "um_road_000051.png").write_bytes(b"last week's map")
    with pytest.raises(UnsafeOutputError, match="already holds files"):
        write_submission(root, StandInPredictor(), populated)
    assert [p.read_bytes() for p in populated.iterdir()] == [b"last week's map"]
    with pytest.raises(UnsafeOutputError, match="overlaps the dataset"):
        write_submission(root, StandInPredictor(), root / "testing" / "sub")

    (root / "testing" / "calib" / "uu_000087.txt").unlink()  # the last frame fails, after two were written
    with pytest.raises(FileNotFoundError, match=r"uu_000087\.txt"):
        write_submission(root, StandInPredictor(), tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data_road", "old_submission"]  # no half folder
    make_data_root(root, split="testing", stems=("uu_000087",))
    archive = write_submission(root, StandInPredictor(), tmp_path / "new")
    assert archive == tmp_path / "new" / SUBMISSION_ZIP and len(list((tmp_path / "new").iterdir())) == 5


# --- export: a complete file with its metadata, or the old one --------------------------------------------------------
def test_an_interrupted_onnx_export_keeps_the_old_file_and_leaves_no_partial(tmp_path, monkeypatch):
    import onnxruntime as ort

    from nets.deploy import onnx_export

    torch.manual_seed(0)
    net = PerceptionNet(load_model_config(input_size=[64, 96]))
    target = export_onnx(net, tmp_path / "perception_n.onnx", simplify=False)
    good = target.read_bytes()

    def interrupted(proto):  # Ctrl-C after torch wrote the graph, before the metadata is in
        raise KeyboardInterrupt

    monkeypatch.setattr(onnx_export, "_slim", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_onnx(net, target, simplify=True)
    assert target.read_bytes() == good and [p.name for p in tmp_path.iterdir()] == ["perception_n.onnx"]
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert "perception" in session.get_modelmeta().custom_metadata_map


# --- long runs --------------------------------------------------------------------------------------------------------
def test_stats_keep_bounded_windows_with_exact_whole_run_means():
    from app.stats import PipelineStats

    stats = PipelineStats(window=10, summary_window=1000)
    for i in range(100_000):  # an hour of a 30 fps camera is 108 000 frames
        stats.captured(float(i), t=i / 30.0)
    assert len(stats.latencies("capture")) == 1000  # bounded, not 100 000
    summary = stats.snapshot(final=True).latency_ms["capture"]
    assert summary["mean"] == 49999.5 and summary["max"] == 99999.0  # whole run, exact
    assert summary["p50"] == 99499.5  # the latest 1000 values
    assert stats.snapshot().latency_ms["capture"]["p50"] == 99994.5  # live: the latest 10
    assert stats.snapshot(final=True).frames_in == 100_000


def test_a_lost_live_source_gives_up_within_the_time_its_message_says():
    from app.sources import LiveSource, SourceLostError

    class DeadStream:  # delivers one frame, then every read fails
        def __init__(self, frames):
            self.frames = frames

        def isOpened(self):
            return True

        def read(self):
            if self.frames:
                self.frames -= 1
                return True, np.zeros((8, 8, 3), np.uint8)
            return False, None

        def get(self, prop):
            return 25.0

        def release(self):
            pass

    timeouts = []

    def opener(timeout_s=None):  # like FFmpeg on a dead host: each re-open blocks for its whole open timeout
        if timeout_s is None:
            return DeadStream(1)
        timeouts.append(timeout_s)
        time.sleep(timeout_s)
        return DeadStream(0)

    source = LiveSource("stream", "rtsp://cam", opener, retry_s=0.6, backoff_s=(0.05, 0.1))
    assert source.read() is not None
    with pytest.raises(SourceLostError, match=r"within 0.6 s \(\d+ reconnect attempts\)"):
        source.read()
    # every re-open was given only the time left, so the waits and opens together fit in retry_s
    assert timeouts and all(0 < t <= 0.6 for t in timeouts)
    assert sum(timeouts) + 0.05 * len(timeouts) <= 0.6 + 1e-9


# --- the viewer where Qt's platform libraries are missing -------------------------------------------------------------
def test_qt_platform_preflight_names_the_packages_to_install(capsys, monkeypatch):
    from app.viewer import preflight

    assert preflight.apt_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert preflight.apt_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert preflight.apt_package("libxcb-render-util.so.0") == "libxcb-render-util0"
    assert preflight.qt_platform({}) == "xcb" and preflight.qt_platform({"QT_QPA_PLATFORM": "offscreen"}) == "offscreen"
    assert preflight.missing_libraries(sys.executable) == []  # a binary whose libraries are all there
    plugin = preflight.platform_plugin("xcb")
    assert plugin is not None and preflight.platform_plugin("offscreen") is not None
    preflight.check_qt_platform({"QT_QPA_PLATFORM": "offscreen"})  # offscreen needs no X libraries
    missing = preflight.missing_libraries(plugin)
    if not missing:  # this machine has them: stand in for ldd with what a minimal install lacks
        missing = ["libxcb-icccm.so.4", "libxkbcommon-x11.so.0"]
        monkeypatch.setattr(preflight, "missing_libraries", lambda binary: missing)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM")
    assert run.main(["view"]) == 2  # before: Qt aborted the process (exit 134) with a generic message
    err = capsys.readouterr().err
    assert "sudo apt-get install -y " + " ".join(preflight.apt_package(m) for m in missing) in err


def test_an_interrupt_waits_for_a_capture_thread_blocked_in_a_stalled_read(tmp_path):
    from app.frames import Frame, load_runtime_config
    from app.pipeline import Pipeline
    from app.run_report import wait_for_stages
    from app.sources import SourceInfo
    from stand_ins import StandIn

    class StalledStream:  # one frame, then a read that blocks 1.5 s whatever interrupt() says (like FFmpeg's)
        info = SourceInfo("stream", "stalled", 160, 96, 25.0, None, live=True)
        position, state = 0, "ok"

        def read(self):
            if self.position == 0:
                self.position = 1
                return Frame(0, time.perf_counter(), stamped_image(0), time.time())
            time.sleep(1.5)
            return None

        def interrupt(self):
            pass

        def close(self):
            self.state = "closed"

    config = load_runtime_config()
    config["pipeline"]["stop_timeout_s"] = 0.2
    config["sources"]["stream_timeout_s"] = 3.0
    source = StalledStream()
    pipeline = Pipeline(source, StandIn(), config=config).start()
    time.sleep(0.3)  # the capture thread is inside the blocked read
    pipeline.stop()
    assert wait_for_stages(pipeline, source.info, config)  # before: join(stop_timeout_s) left it running
    assert source.state == "closed" and not [t for t in pipeline._threads if t.is_alive()]


def test_calibrate_refuses_a_bev_out_over_its_input_image(tmp_path, capsys):
    frame = tmp_path / "uu_000087.png"
    cv2.imwrite(str(frame), np.full((370, 1224, 3), 90, np.uint8))
    before = frame.read_bytes()
    calib = ROOT / "tests" / "fixtures" / "kitti_road_calib" / "uu_000087.txt"
    assert run.main(["calibrate", str(calib), "--image", str(frame), "--bev-out", str(frame)]) == 2
    assert "--bev-out" in capsys.readouterr().err and frame.read_bytes() == before
    assert run.main(["calibrate", str(calib), "--image", str(frame), "--bev-out", str(tmp_path / "bev.png")]) == 0
    assert cv2.imread(str(tmp_path / "bev.png")).shape == (800, 400, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bev.png", "uu_000087.png"]


def test_kitti_eval_refuses_to_save_predictions_into_the_dataset(tmp_path, capsys):
    from test_kitti_road_eval import make_data_root

    root = tmp_path / "data_road"
    make_data_root(root, stems=("um_000051",))
    gt = root / "training" / "gt_image_2"
    before = {p.name: p.read_bytes() for p in gt.iterdir()}
    assert run.main(["eval", "--dataset", "kitti-road", "--root", str(root), "--save-predictions", str(gt)]) == 2
    assert "--save-predictions" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in gt.iterdir()} == before
