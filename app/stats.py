"""Pipeline statistics: FPS per stage and end to end, latency percentiles per stage, frame counts.

The pipeline's threads record into one `PipelineStats`; any thread (the viewer's
GUI timer, the CLI's progress bar) takes a `snapshot()` — a frozen, plain-data
`StatsSnapshot` over the recent window — and the pipeline's final `summary()`
is the same type over the whole run.

Latency stages (ms), from the frame's stamps:
    capture      source read
    infer_wait   waiting in the capture → infer queue
    infer        the predictor call (pre + network + post)
    output_wait  waiting in the infer → output queue
    overlay      drawing the overlay
    output       sinks (writers) and callbacks
    end_to_end   capture → output done
FPS stages: capture (frames read), infer (frames inferred), output (frames
finished = end-to-end FPS).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field

import numpy as np

LATENCY_STAGES = ("capture", "infer_wait", "infer", "output_wait", "overlay", "output", "end_to_end")
FPS_STAGES = ("capture", "infer", "output")
MODEL_STEPS = ("pre", "infer", "post")


def _percentiles(values) -> dict[str, float]:
    if len(values) == 0:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "max": 0.0}
    a = np.asarray(values, dtype=np.float64)
    p50, p95 = np.percentile(a, (50, 95))
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "mean": round(float(a.mean()), 2),
            "max": round(float(a.max()), 2)}


class _Series:
    """Recent values (live percentiles), a longer bounded window (the summary's percentiles), and exact
    whole-run count, sum and max.

    Keeping every sample grew by ~200 MB a day for a 30 fps camera; the summary's p50/p95 come from the
    latest `summary_window` values, its mean, max and count from the whole run.
    """

    __slots__ = ("recent", "window", "count", "total", "max")

    def __init__(self, window: int, summary_window: int):
        self.recent: deque[float] = deque(maxlen=window)
        self.window: deque[float] = deque(maxlen=max(window, summary_window))
        self.count, self.total, self.max = 0, 0.0, float("-inf")

    def add(self, value: float) -> None:
        self.recent.append(value)
        self.window.append(value)
        self.count += 1
        self.total += value
        self.max = max(self.max, value)

    def __len__(self) -> int:
        return self.count

    def summary(self) -> dict[str, float]:
        """Percentiles over the bounded window; mean and max over every value of the run."""
        out = _percentiles(self.window)
        if self.count:
            out["mean"] = round(self.total / self.count, 2)
            out["max"] = round(self.max, 2)
        return out


class _Ticks:
    """Times a stage finished a frame: the recent ones for a rolling FPS, first/last/count for the run's FPS."""

    __slots__ = ("recent", "first", "last", "count")

    def __init__(self):
        self.recent: deque[float] = deque(maxlen=4096)
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0

    def add(self, t: float) -> None:
        self.recent.append(t)
        if self.first is None:
            self.first = t
        self.last = t
        self.count += 1

    def rolling_fps(self, now: float, window_s: float) -> float:
        lo, n, first = now - window_s, 0, None
        for t in reversed(self.recent):
            if t < lo:
                break
            n, first = n + 1, t
        if n < 2 or self.last <= first:
            return 0.0
        return (n - 1) / (self.last - first)

    def run_fps(self) -> float:
        if self.count < 2 or self.last <= self.first:
            return 0.0
        return (self.count - 1) / (self.last - self.first)


@dataclass(frozen=True)
class StatsSnapshot:
    """Plain-data statistics: live (recent window) or the final summary (whole run, final=True).

    fps: {"capture", "infer", "output"} frames per second; "output" is the end-to-end FPS.
    latency_ms: {stage: {"p50", "p95", "mean", "max"}} for LATENCY_STAGES.
    model_ms: {"pre", "infer", "post": {"p50", "p95", "mean", "max"}} from the predictor's own timings.
    dropped: {"infer_queue", "output_queue"}: stale frames dropped (live sources only).
    frames_discarded: in-flight frames thrown away by a seek (not drops).
    state: "starting", "running", "paused", "ended", "finished", "stopped", "failed".
    source_state: "ok", "retrying" (a live source reconnecting), "lost", "closed".
    position: index of the next frame the source delivers; frame_count: its length where known.
    """

    elapsed_s: float
    frames_in: int
    frames_inferred: int
    frames_out: int
    frames_dropped: int
    dropped: dict[str, int]
    frames_discarded: int
    fps: dict[str, float]
    latency_ms: dict[str, dict[str, float]]
    model_ms: dict[str, dict[str, float]]
    backend: str = ""
    live: bool = False
    state: str = ""
    source_state: str = ""
    position: int | None = None
    frame_count: int | None = None
    last_index: int | None = None
    final: bool = False
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def fps_end_to_end(self) -> float:
        return self.fps.get("output", 0.0)

    @property
    def latency_p50_ms(self) -> float:
        return self.latency_ms.get("end_to_end", {}).get("p50", 0.0)

    @property
    def latency_p95_ms(self) -> float:
        return self.latency_ms.get("end_to_end", {}).get("p95", 0.0)

    def to_dict(self) -> dict:
        return asdict(self)

    def format(self) -> str:
        """A few human lines (the CLI's summary)."""
        lat = self.latency_ms
        lines = [
            f"frames: {self.frames_in} in, {self.frames_out} out, {self.frames_dropped} dropped"
            + (f" ({self.dropped['infer_queue']} before inference, {self.dropped['output_queue']} before output)"
               if self.frames_dropped else "")
            + (f", {self.frames_discarded} discarded by seeks" if self.frames_discarded else "")
            + f" in {self.elapsed_s:.1f} s",
            f"FPS: end-to-end {self.fps.get('output', 0):.1f} (capture {self.fps.get('capture', 0):.1f}, "
            f"inference {self.fps.get('infer', 0):.1f})",
            "latency ms p50/p95: " + ", ".join(
                f"{name} {lat[k]['p50']:.1f}/{lat[k]['p95']:.1f}" for k, name in
                (("capture", "capture"), ("infer_wait", "queue"), ("infer", "inference"), ("overlay", "overlay"),
                 ("output", "output"), ("end_to_end", "capture-to-output")) if k in lat),
            "model ms p50: " + ", ".join(f"{k} {self.model_ms[k]['p50']:.1f}" for k in MODEL_STEPS
                                         if k in self.model_ms) + (f" ({self.backend})" if self.backend else ""),
        ]
        lines += self.notes
        if self.error:
            lines.append(f"stopped by an error: {self.error}")
        return "\n".join(lines)


class PipelineStats:
    """Thread-safe counters and timings; the pipeline's stages record, anyone snapshots."""

    def __init__(self, window: int = 300, fps_window_s: float = 2.0, summary_window: int = 36000):
        self.window = int(window)
        self.summary_window = int(summary_window)
        self.fps_window_s = float(fps_window_s)
        self._lock = threading.Lock()
        self.t_start = time.perf_counter()
        self.t_end: float | None = None
        self._latency = {k: _Series(self.window, self.summary_window) for k in LATENCY_STAGES}
        self._model = {k: _Series(self.window, self.summary_window) for k in MODEL_STEPS}
        self._ticks = {k: _Ticks() for k in FPS_STAGES}
        self.frames_in = 0
        self.frames_inferred = 0
        self.frames_out = 0
        self.dropped = {"infer_queue": 0, "output_queue": 0}
        self.frames_discarded = 0
        self.backend = ""
        self.last_index: int | None = None
        self.notes: list[str] = []

    # --- recording (stage threads) ---------------------------------------------------------------------------
    def captured(self, read_ms: float, t: float) -> None:
        with self._lock:
            self.frames_in += 1
            self._latency["capture"].add(read_ms)
            self._ticks["capture"].add(t)

    def drop(self, where: str, n: int = 1) -> None:
        with self._lock:
            self.dropped[where] += n

    def discard(self, n: int = 1) -> None:
        with self._lock:
            self.frames_discarded += n

    def inferred(self, wait_ms: float, infer_ms: float, timings: dict, t: float, backend: str) -> None:
        with self._lock:
            self.frames_inferred += 1
            self._latency["infer_wait"].add(wait_ms)
            self._latency["infer"].add(infer_ms)
            for k in MODEL_STEPS:
                if k in timings:
                    self._model[k].add(float(timings[k]))
            self._ticks["infer"].add(t)
            self.backend = backend

    def output(self, stage_ms: dict[str, float], t: float, index: int, sample: bool = True) -> None:
        """sample=False: count the frame but keep its times out of the figures (a frame stepped while paused:
        its latency is the length of the pause, and one step is no frame rate)."""
        with self._lock:
            self.frames_out += 1
            self.last_index = index
            if not sample:
                return
            for k in ("output_wait", "overlay", "output", "end_to_end"):
                if k in stage_ms:
                    self._latency[k].add(stage_ms[k])
            self._ticks["output"].add(t)

    def restart_window(self) -> None:
        """Forget the recent latencies and frame times (the live figures start again; the run's totals stay):
        after a pause, a step or a seek the frames before it say nothing about playback from here."""
        with self._lock:
            for series in self._latency.values():
                series.recent.clear()
            for ticks in self._ticks.values():
                ticks.recent.clear()

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    # --- reading (any thread) ------------------------------------------------------------------------------------
    def hud_figures(self) -> tuple[float, float]:
        """(end-to-end FPS, recent median capture-to-output latency ms): cheap, for the per-frame HUD."""
        with self._lock:
            fps = self._ticks["output"].rolling_fps(time.perf_counter(), self.fps_window_s)
            recent = list(self._latency["end_to_end"].recent)[-30:]
        return fps, float(np.median(recent)) if recent else 0.0

    def snapshot(self, final: bool = False, **extra) -> StatsSnapshot:
        """Statistics now: over the recent window, or over the whole run when final=True."""
        with self._lock:
            now = time.perf_counter()
            end = self.t_end if (final and self.t_end is not None) else now
            if final:
                fps = {k: round(t.run_fps(), 2) for k, t in self._ticks.items()}
                lat = {k: s.summary() for k, s in self._latency.items()}
                model = {k: s.summary() for k, s in self._model.items() if len(s)}
            else:
                fps = {k: round(t.rolling_fps(now, self.fps_window_s), 2) for k, t in self._ticks.items()}
                lat = {k: _percentiles(s.recent) for k, s in self._latency.items()}
                model = {k: _percentiles(s.recent) for k, s in self._model.items() if len(s.recent)}
            return StatsSnapshot(
                elapsed_s=round(end - self.t_start, 3), frames_in=self.frames_in,
                frames_inferred=self.frames_inferred, frames_out=self.frames_out,
                frames_dropped=sum(self.dropped.values()), dropped=dict(self.dropped),
                frames_discarded=self.frames_discarded, fps=fps, latency_ms=lat, model_ms=model,
                backend=self.backend, last_index=self.last_index, final=final, notes=list(self.notes), **extra)

    def latencies(self, stage: str) -> np.ndarray:
        """The recorded latencies of one stage, ms: every one up to summary_window, then the latest (tests,
        benchmarks)."""
        with self._lock:
            return np.asarray(self._latency[stage].window, dtype=np.float64)
