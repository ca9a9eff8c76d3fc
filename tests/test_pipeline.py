"""The threaded pipeline: lossless ordered replay, bounded-latency live, clean failure, viewer controls.

Frames carry their index as a binary code of black/white blocks in their pixels, so
the order of a written video is checked from the video itself. The predictor is a
stand-in (configurable sleep, can raise); test_cli_infer runs the real ONNX Runtime one.
The stand-ins live in tests/stand_ins.py, shared with the other app test modules.
"""

from __future__ import annotations

import _thread
import signal
import threading
import time

import numpy as np
import pytest

from app.frames import Thresholds
from app.pipeline import Pipeline, PipelineError
from app.sources import LiveSource, SourceLostError, open_source
from app.writers import VideoWriter
from stand_ins import FakeCamera, StandIn, read_stamp, stamped_image, video_stamps, wait_for, write_stamped_video


# --- replay ----------------------------------------------------------------------------------------------------
def test_replay_with_a_slow_predictor_writes_every_frame_in_order(tmp_path):
    n = 40
    clip = write_stamped_video(tmp_path / "clip.mp4", n)
    source = open_source(clip)
    assert not source.info.live
    predictor = StandIn(sleep=0.02)  # far slower than decoding: the capture thread must wait, not drop
    out = tmp_path / "out.mp4"
    pipeline = Pipeline(source, predictor, sinks=[VideoWriter(out, source.info.fps)])
    summary = pipeline.run()

    assert video_stamps(out) == list(range(n))
    assert summary.frames_in == summary.frames_out == n
    assert summary.frames_dropped == 0 and summary.frames_discarded == 0
    assert summary.state == "finished" and summary.error is None
    assert predictor.threads == {"pipeline-inference"}  # inference never on the caller's thread
    assert summary.latency_ms["infer"]["p50"] >= 20.0
    assert summary.fps["output"] > 0 and "FPS" in summary.format()
    assert not any(t.is_alive() for t in pipeline._threads)


# --- live ------------------------------------------------------------------------------------------------------
def test_live_source_faster_than_inference_drops_stale_frames_and_keeps_latency_bounded():
    n, interval, sleep = 300, 0.005, 0.025  # camera at 200 fps, inference at most 40 fps
    camera = FakeCamera(n, interval)
    results = []
    pipeline = Pipeline(camera, StandIn(sleep=sleep), render=False)
    assert pipeline.live
    pipeline.on_result(results.append)
    summary = pipeline.run()

    # every frame is accounted for: delivered or dropped as stale, nothing else
    assert summary.frames_in == n
    assert summary.frames_out + summary.frames_dropped == n
    assert summary.frames_dropped > 0 and summary.frames_discarded == 0
    assert summary.frames_out == len(results) >= 5
    indices = [r.index for r in results]
    assert indices == sorted(indices)  # still in order, with gaps
    # Bounded latency. A blocking (replay) pipeline would fall ever further behind the camera: the last frames
    # would be ~n·sleep − n·interval ≈ 6 s old. Live, a frame waits for at most the inference in progress (one
    # queue slot), then its own inference and the output: bounded by a few inference times, whatever the load.
    infer_ms = pipeline.stats.latencies("infer")
    e2e = np.array([r.latency_ms for r in results])
    bound = 3 * infer_ms.max() + 5 * interval * 1e3 + 100
    assert e2e.max() <= bound, (e2e.max(), bound)
    first, last = np.median(e2e[:5]), np.median(e2e[-5:])
    assert last <= first + 2 * infer_ms.max() + 50  # no growth from start to end


def test_live_camera_lost_stops_pipeline_with_one_clear_error():
    class DeadAfter:
        def __init__(self, frames):
            self.frames = frames

        def isOpened(self):
            return True

        def read(self):
            if self.frames > 0:
                self.frames -= 1
                return True, stamped_image(0)
            return False, None

        def get(self, prop):
            return 30.0

        def release(self):
            pass

    opens = []

    def opener():
        opens.append(1)
        return DeadAfter(5 if len(opens) == 1 else 0)

    camera = LiveSource("camera", "7", opener, retry_s=0.3, backoff_s=(0.02, 0.1))
    errors = []
    pipeline = Pipeline(camera, StandIn(), render=False)
    pipeline.on_error(errors.append)
    with pytest.raises(PipelineError) as info:
        pipeline.run()
    assert info.value.stage == "capture"
    assert isinstance(info.value.__cause__, SourceLostError)
    assert "camera 7 stopped delivering frames" in str(info.value)
    assert errors == [info.value]
    s = pipeline.summary
    assert s.frames_in == 5 and s.frames_out + s.frames_dropped == 5 and s.state == "failed"
    assert len(opens) > 2  # it did retry


# --- failures and stopping -------------------------------------------------------------------------------------
def test_predictor_exception_stops_all_threads_within_a_second_and_surfaces_once(tmp_path):
    clip = write_stamped_video(tmp_path / "clip.mp4", 60)
    predictor = StandIn(sleep=0.005, fail_at=7)
    out = tmp_path / "out.mp4"
    errors, finished = [], []
    pipeline = Pipeline(open_source(clip), predictor, sinks=[VideoWriter(out, 25)])
    pipeline.on_error(errors.append)
    pipeline.on_finished(finished.append)
    with pytest.raises(PipelineError) as info:
        pipeline.run()
    returned = time.perf_counter()

    err = info.value
    assert err.stage == "inference" and err.frame_index == 7
    assert isinstance(err.__cause__, RuntimeError) and "stand-in backend exploded" in str(err)
    assert returned - predictor.failed_at < 1.0
    assert not any(t.is_alive() for t in pipeline._threads)
    assert errors == [err]  # reported once
    assert len(finished) == 1 and finished[0].state == "failed" and "exploded" in finished[0].error
    stamps = video_stamps(out)  # the writer was closed: a valid file with the frames before the failure, in order
    assert stamps == list(range(len(stamps))) and len(stamps) <= 7
    with pytest.raises(PipelineError):  # result() keeps answering with the same error
        pipeline.result()


def test_exception_in_a_result_callback_stops_the_pipeline(tmp_path):
    clip = write_stamped_video(tmp_path / "clip.mp4", 20)
    pipeline = Pipeline(open_source(clip), StandIn())

    @pipeline.on_result
    def broken(result):
        if result.index == 3:
            raise ValueError("viewer went away")

    with pytest.raises(PipelineError, match="output stage failed on frame 3: ValueError: viewer went away"):
        pipeline.run()


def test_stop_and_ctrl_c_stop_every_thread_promptly(tmp_path):
    clip = write_stamped_video(tmp_path / "clip.mp4", 200)
    out = tmp_path / "out.mp4"
    pipeline = Pipeline(open_source(clip), StandIn(sleep=0.02), sinks=[VideoWriter(out, 25)])
    pipeline.start()
    assert wait_for(lambda: pipeline.stats.frames_out >= 3)
    t0 = time.perf_counter()
    pipeline.stop()
    assert pipeline.join()
    assert time.perf_counter() - t0 < 1.0
    assert pipeline.state == "stopped" and pipeline.result().state == "stopped"
    assert video_stamps(out) == list(range(pipeline.summary.frames_out))

    pipeline = Pipeline(open_source(clip), StandIn(sleep=0.02))

    def ctrl_c_once_frames_flow():  # Ctrl-C while run() waits in the main thread, mid-clip
        if wait_for(lambda: pipeline.stats.frames_out >= 3):
            _thread.interrupt_main()

    # Python's own Ctrl-C handler, whatever this process inherited: a shell starts background jobs with
    # SIGINT ignored, and then interrupt_main() does nothing (seen running `.ci/run &`)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupter = threading.Thread(target=ctrl_c_once_frames_flow)
    interrupter.start()
    try:
        pipeline.run()
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
    finally:
        interrupter.join()
        signal.signal(signal.SIGINT, previous)
    summary = pipeline.summary
    assert interrupted, f"run() returned ({summary.state if summary else 'no summary'}, " \
                        f"{summary.frames_out if summary else '?'} frames) instead of raising the Ctrl-C"
    assert not any(t.is_alive() for t in pipeline._threads)
    assert pipeline.summary.state == "stopped"


# --- controls for the viewer ----------------------------------------------------------------------------------
def test_pause_step_seek_thresholds_and_predictor_swap(tmp_path):
    clip = write_stamped_video(tmp_path / "clip.mp4", 30)
    first, second = StandIn(name="first"), StandIn(name="second")
    got = []
    pipeline = Pipeline(open_source(clip), first, at_end="pause")
    pipeline.on_result(got.append)
    pipeline.pause()
    pipeline.start()
    time.sleep(0.2)
    assert got == [] and pipeline.state == "paused"

    pipeline.step(3)
    assert wait_for(lambda: len(got) == 3)
    time.sleep(0.2)  # the inference thread runs ahead, but nothing more is delivered while paused
    assert [r.index for r in got] == [0, 1, 2]
    assert [read_stamp(r.frame.image) for r in got] == [0, 1, 2]

    pipeline.set_thresholds(conf=0.7, road=0.9)  # frames already inferred ahead are re-run: next frame shows it
    pipeline.step()
    assert wait_for(lambda: len(got) == 4)
    assert got[3].index == 3 and got[3].perception.boxes[0, 4] == pytest.approx(0.7)
    assert got[3].road_threshold == 0.9 and pipeline.thresholds == Thresholds(0.7, 0.5, 0.9)
    with pytest.raises(ValueError, match="conf"):
        pipeline.set_thresholds(conf=1.5)

    pipeline.seek(20)  # while paused: shows frame 20
    assert wait_for(lambda: len(got) == 5)
    assert got[4].index == 20 and read_stamp(got[4].frame.image) == 20

    pipeline.set_predictor(second)
    pipeline.step()
    assert wait_for(lambda: len(got) == 6)
    assert got[5].index == 21 and got[5].perception.backend == "second"
    assert first.closed and pipeline.predictor is second
    assert second.conf == 0.7  # thresholds carry over to the new predictor

    pipeline.refresh()  # the frame on screen again (e.g. after a change while paused)
    assert wait_for(lambda: len(got) == 7)
    assert got[6].index == 21

    snap = pipeline.snapshot()
    assert snap.state == "paused" and snap.frames_out == 7 and snap.backend == "second"
    assert snap.frame_count == 30 and not snap.live

    pipeline.resume()  # to the end; at_end="pause" keeps the pipeline alive for further seeks
    assert wait_for(lambda: pipeline.state == "ended")
    assert [r.index for r in got[7:]] == list(range(22, 30))
    pipeline.seek(0)
    assert wait_for(lambda: got[-1].index == 29 and len(got) == 7 + 8 + 30)
    pipeline.stop()
    assert pipeline.join()
    s = pipeline.summary
    assert s.frames_in == s.frames_out + s.frames_discarded and s.frames_dropped == 0
