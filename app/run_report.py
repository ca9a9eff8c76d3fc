"""What a headless run tells the user at its end: a source that ended early; waiting for the stages to stop.

Kept apart from the CLI so the rules have one home and their tests need no command line.
"""

from __future__ import annotations


def source_shortfall(info, summary, max_frames: int | None = None) -> dict | None:
    """{"expected", "decoded", "message"} when a file source delivered fewer frames than its container says
    (a truncated or damaged file), else None. Live sources, a --max-frames limit and runs that stopped for
    another reason (an error, a stop) are not shortfalls."""
    expected = getattr(info, "frame_count", None)
    if summary is None or getattr(info, "live", True) or not expected:
        return None
    if summary.error or summary.state not in ("finished", ""):
        return None
    limit = expected if max_frames is None else min(expected, max_frames)
    decoded = summary.frames_in
    if decoded >= limit:
        return None
    return {"expected": int(expected), "decoded": int(decoded),
            "message": f"source {info.name} ended early: {decoded} of {expected} frames decoded "
                       "(the file is truncated or damaged); the outputs hold the frames decoded"}


def wait_for_stages(pipeline, info, config: dict) -> bool:
    """After stop(): wait until every stage thread has returned, so the writers are finished and no thread is
    inside OpenCV when the interpreter exits (a capture thread blocked in a stalled stream's read then
    aborted the process: "terminate called without an active exception").

    A stream read returns within its read timeout (configs/runtime.yaml sources.stream_timeout_s); the wait
    is that plus the pipeline's stop timeout. True when all stages stopped.
    """
    import sys

    stop_s = float(config["pipeline"]["stop_timeout_s"])
    read_s = float(config["sources"]["stream_timeout_s"]) if getattr(info, "live", False) else 0.0
    if pipeline.wait(stop_s):
        return True
    # writers finish the video (release + read back) in the output stage: give them time on a loaded machine
    limit = max(stop_s + read_s, 10.0)
    print(f"stopping: waiting up to {limit - stop_s:.0f} s more for a blocked read or write to return",
          file=sys.stderr)
    return pipeline.join(timeout=limit - stop_s)


def exit_now(code: int) -> None:
    """Leave without interpreter shutdown: the last resort when a stage thread is still inside native code
    (a stalled OpenCV read). Finalising Python under it aborts the process ("terminate called without an
    active exception", exit 134) and loses the exit code. The files are finished before this is called."""
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
