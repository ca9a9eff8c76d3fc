"""Multi-object tracking with road distance, closing speed, TTC and the forward-collision warning.

    tracker = ObjectTracker.from_config(config)            # configs/runtime.yaml: tracking:, warning:
    state = tracker.update(frame, perception, road_threshold, homography)   # once per frame, in order
    state.tracks[0].track_id, .distance_m, .ttc_s, .warning; state.events; state.to_json()

Association is ultralytics' BYTETracker (a maintained ByteTrack: Kalman-predicted
boxes matched by IoU, high-score detections first, then low-score ones to keep
tracks alive through weak frames; lost tracks are kept `track_buffer` frames).
On top of it, per track id:
- confirmation: a track counts for "Nearest", distances and warnings only after
  it was matched in `confirm_frames` frames (one-frame false positives never warn);
- plausibility: its score must reach `distance_conf`, its bottom edge must stand
  on the road (road probability just below it) and its footprint must be as wide
  as such an object can be at that distance (`plausible_width_m`), and its box as
  tall (`plausible_height_m`: a car box on a knee-high barrier is not a car);
- range: a RangeFilter (app/collision.py) on its road position, over the frames'
  time stamps, gives the smoothed distance, the closing speed and the TTC.
Without a road-plane homography there are IDs but no distance, speed, TTC or
warning, and the state says so (`geometry_note`): nothing is guessed.

The tracker expects frames in time order. A seek (time goes back) or a gap longer
than `reset_gap_s` starts it afresh: a car seen before a jump is another
observation, not the same motion.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from calib.ground_contact import box_ground_points, box_ground_width_m
from core.errors import MissingDependencyError, UserError
from nets.result import Perception

from .collision import FilterConfig, RangeFilter, WarningConfig

NO_CALIBRATION = "no calibration: distances, speeds and TTC unavailable"
FCW = "forward_collision_warning"

_BYTETRACK_KEYS = ("track_high_thresh", "track_low_thresh", "new_track_thresh", "track_buffer", "match_thresh",
                   "fuse_score")


def _bytetrack_class():
    """ultralytics' BYTETracker, imported only once `lap` is known to be there: ultralytics' matching module
    would otherwise call check_requirements("lap"), which tries a pip install (nothing installs at run time)."""
    if importlib.util.find_spec("lap") is None:
        raise MissingDependencyError("tracking needs the 'lap' package (pinned in requirements.txt): "
                                     "pip install -r requirements.txt, or switch tracking off "
                                     "(tracking: {enabled: false} in a --runtime-config file)")
    from ultralytics.trackers.byte_tracker import BYTETracker

    import nets  # noqa: F401  (ultralytics offline first)

    return BYTETracker


@dataclass(frozen=True)
class TrackingConfig:
    # no field has a default: they come from configs/runtime.yaml (`from_config`), their one home
    bytetrack: dict
    confirm_frames: int
    distance_conf: float
    plausible_width_m: tuple[tuple[str, float, float], ...]
    plausible_height_m: tuple[tuple[str, float, float], ...]
    require_on_road: bool
    road_probe_rows: int
    road_min_fraction: float
    trail_length: int
    reset_gap_s: float
    filter: FilterConfig
    warning: WarningConfig

    @classmethod
    def from_config(cls, config: dict) -> TrackingConfig:
        # every key is read from the merged runtime config: configs/runtime.yaml is the one home of the defaults
        t = config["tracking"]
        bt = {k: t[k] for k in _BYTETRACK_KEYS}
        ranges = {}
        for key in ("plausible_width_m", "plausible_height_m"):
            ranges[key] = []
            for name, pair in t[key].items():
                if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                        and 0 <= float(pair[0]) < float(pair[1])):
                    raise UserError(f"runtime config tracking.{key}.{name} must be [min, max] metres with "
                                    f"0 <= min < max, got {pair!r}")
                ranges[key].append((str(name), float(pair[0]), float(pair[1])))
        try:
            out = cls(bytetrack=bt, confirm_frames=int(t["confirm_frames"]),
                      distance_conf=float(t["distance_conf"]), plausible_width_m=tuple(ranges["plausible_width_m"]),
                      plausible_height_m=tuple(ranges["plausible_height_m"]),
                      require_on_road=bool(t["require_on_road"]),
                      road_probe_rows=int(t["road_probe_rows"]),
                      road_min_fraction=float(t["road_min_fraction"]),
                      trail_length=int(t["trail_length"]),
                      reset_gap_s=float(t["reset_gap_s"]), filter=FilterConfig.from_config(t["filter"]),
                      warning=WarningConfig.from_config(config["warning"]))
        except (TypeError, ValueError) as e:
            raise UserError(f"runtime config tracking: {e}") from None
        if (out.confirm_frames < 1 or out.trail_length < 0 or out.road_probe_rows < 1 or out.reset_gap_s <= 0
                or not 0 < out.road_min_fraction <= 1):
            raise UserError("runtime config tracking: confirm_frames and road_probe_rows must be at least 1, "
                            "trail_length at least 0, reset_gap_s positive, road_min_fraction in (0, 1]")
        return out

    def width_range(self, class_name: str) -> tuple[float, float] | None:
        return _range_of(self.plausible_width_m, class_name)

    def height_range(self, class_name: str) -> tuple[float, float] | None:
        return _range_of(self.plausible_height_m, class_name)


def _range_of(ranges: tuple[tuple[str, float, float], ...], class_name: str) -> tuple[float, float] | None:
    for name, lo, hi in ranges:
        if name == class_name:
            return lo, hi
    return None


@dataclass
class Track:
    """One tracked object in one frame. Distances are None where they are not measured (`unmeasured` says why)."""

    track_id: int
    box: np.ndarray  # x1, y1, x2, y2 of the matched detection, frame pixels
    score: float
    class_id: int
    class_name: str
    hits: int  # frames this id was matched in
    confirmed: bool
    trail: list[tuple[float, float]] = field(default_factory=list)  # recent bottom centres, oldest first
    measured: bool = False  # its distance counts (confirmed, plausible, calibrated)
    unmeasured: str | None = None
    x_m: float | None = None
    z_m: float | None = None
    distance_m: float | None = None
    closing_speed_mps: float | None = None
    ttc_s: float | None = None
    in_corridor: bool | None = None
    warning: bool = False

    def to_json(self) -> dict:
        r = lambda v, n=2: None if v is None else round(float(v), n)  # noqa: E731
        return {"id": self.track_id, "class": self.class_name, "score": round(self.score, 4),
                "xyxy": [round(float(v), 1) for v in self.box], "hits": self.hits, "confirmed": self.confirmed,
                "measured": self.measured, "unmeasured": self.unmeasured, "x_m": r(self.x_m), "z_m": r(self.z_m),
                "distance_m": r(self.distance_m), "closing_speed_mps": r(self.closing_speed_mps),
                "ttc_s": r(self.ttc_s), "in_corridor": self.in_corridor, "warning": self.warning}


@dataclass
class TrackFrame:
    """The tracker's view of one frame: its tracks, warning events and whether distances exist at all."""

    tracks: list[Track]
    events: list[dict]
    geometry: bool  # a road-plane homography was there: distances, speeds and TTC can be measured
    track_ms: float = 0.0

    @property
    def geometry_note(self) -> str | None:
        return None if self.geometry else NO_CALIBRATION

    @property
    def warning(self) -> bool:
        return any(t.warning for t in self.tracks)

    def nearest(self) -> Track | None:
        """The nearest measured track (confirmed, plausible, on a calibrated road plane), or None."""
        measured = [t for t in self.tracks if t.measured and t.distance_m is not None]
        return min(measured, key=lambda t: t.distance_m) if measured else None

    def most_urgent(self) -> Track | None:
        """The warning track with the smallest TTC (or distance), or None."""
        warned = [t for t in self.tracks if t.warning]  # a held warning may have no measurement this frame

        def urgency(t: Track) -> tuple[float, float]:
            return (math.inf if t.ttc_s is None else t.ttc_s, math.inf if t.distance_m is None else t.distance_m)

        return min(warned, key=urgency) if warned else None

    def to_json(self) -> dict:
        nearest = self.nearest()
        return {"tracks": [t.to_json() for t in self.tracks], "events": self.events,
                "collision": {"available": self.geometry, "note": self.geometry_note, "warning": self.warning,
                              "nearest_id": None if nearest is None else nearest.track_id},
                "track_ms": round(self.track_ms, 3)}


class _Boxes:
    """The detections in the form BYTETracker reads (conf, cls, xywh, boolean indexing), without torch."""

    def __init__(self, boxes: np.ndarray):
        self.data = boxes

    @property
    def conf(self):
        return self.data[:, 4]

    @property
    def cls(self):
        return self.data[:, 5]

    @property
    def xywh(self):
        b = self.data
        return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return _Boxes(self.data[index])


@dataclass
class _Memory:
    """What the tracker keeps per track id between frames."""

    hits: int = 0
    last_t: float = 0.0
    trail: deque = field(default_factory=deque)
    range: RangeFilter | None = None
    warning: bool = False
    warn_until: float = -math.inf  # the warning is held on until then (WarningConfig.hold_s)


class ObjectTracker:
    """Track ids, distances and warnings over a sequence of frames (call update once per frame, in time order)."""

    def __init__(self, config: TrackingConfig):
        self.config = config
        self._bytetrack_class = _bytetrack_class()
        self._memory: dict[int, _Memory] = {}
        self._last_t: float | None = None
        self._tracker = None
        self.frames = 0
        self.resets = 0
        self.warning_events = 0
        self.track_ids: set[int] = set()
        self.cost_ms: list[float] = []
        self.reset()

    @classmethod
    def from_config(cls, config: dict) -> ObjectTracker | None:
        """A tracker per configs/runtime.yaml `tracking:`, or None when tracking.enabled is false."""
        if not config["tracking"]["enabled"]:
            return None
        return cls(TrackingConfig.from_config(config))

    def reset(self) -> None:
        """Forget every track (ids start again at 1)."""
        self._tracker = self._bytetrack_class(SimpleNamespace(**self.config.bytetrack))
        self._memory.clear()
        self._last_t = None

    def summary(self) -> dict:
        cost = np.asarray(self.cost_ms) if self.cost_ms else np.zeros(1)
        return {"frames": self.frames, "tracks": len(self.track_ids), "warnings": self.warning_events,
                "resets": self.resets, "track_ms": {"p50": round(float(np.percentile(cost, 50)), 3),
                                                    "p90": round(float(np.percentile(cost, 90)), 3),
                                                    "mean": round(float(cost.mean()), 3)}}

    # --- one frame ---------------------------------------------------------------------------------------------
    def update(self, t: float, perception: Perception, road_threshold: float = 0.5, homography=None,
               frame_index: int | None = None) -> TrackFrame:
        """The tracks of the frame seen at time t (seconds; media time or wall clock, increasing).

        homography: the road-plane homography for this frame's size (calib.road_plane.RoadPlaneHomography), or
        None without a calibration.
        """
        t0 = time.perf_counter()
        # the same time again is the same frame re-run (a paused viewer refreshing after a threshold change)
        if self._last_t is not None and (t < self._last_t or t - self._last_t > self.config.reset_gap_s):
            self.reset()
            self.resets += 1
        self._last_t = t
        boxes = np.asarray(perception.boxes, dtype=np.float32).reshape(-1, 6)
        out = self._tracker.update(_Boxes(boxes))
        out = np.asarray(out, dtype=np.float64).reshape(-1, 8)  # x1 y1 x2 y2 id score cls idx
        names = perception.class_names
        tracks, events = [], []
        seen = set()
        for row in out:
            track_id, idx = int(row[4]), int(row[7])
            det = boxes[idx] if 0 <= idx < len(boxes) else row[[0, 1, 2, 3, 5, 6]]
            memory = self._memory.setdefault(track_id, _Memory())
            memory.hits += 1
            memory.last_t = t
            seen.add(track_id)
            self.track_ids.add(track_id)
            bottom = (float(det[0] + det[2]) / 2, float(det[3]))
            if self.config.trail_length:
                memory.trail.append(bottom)
                while len(memory.trail) > self.config.trail_length:
                    memory.trail.popleft()
            cls = int(det[5])
            track = Track(track_id, np.asarray(det[:4], dtype=np.float64), float(det[4]), cls,
                          names[cls] if 0 <= cls < len(names) else str(cls), memory.hits,
                          memory.hits >= self.config.confirm_frames, list(memory.trail))
            self._measure(track, memory, t, perception, road_threshold, homography)
            if track.warning:
                memory.warn_until = t + self.config.warning.hold_s
            elif memory.warning and t <= memory.warn_until:
                track.warning = True  # held: raised moments ago
            if track.warning and not memory.warning:
                self.warning_events += 1
                events.append({"type": FCW, "track_id": track_id, "frame": frame_index, "t": round(t, 4),
                               "ttc_s": track.to_json()["ttc_s"], "distance_m": track.to_json()["distance_m"],
                               "closing_speed_mps": track.to_json()["closing_speed_mps"]})
            elif memory.warning and not track.warning:
                events.append({"type": FCW + "_end", "track_id": track_id, "frame": frame_index, "t": round(t, 4)})
            memory.warning = track.warning
            tracks.append(track)
        self._forget(t, seen, events, frame_index)
        ms = (time.perf_counter() - t0) * 1e3
        self.frames += 1
        self.cost_ms.append(ms)
        return TrackFrame(tracks, events, homography is not None, ms)

    def _forget(self, t: float, seen: set, events: list, frame_index) -> None:
        """Tracks not matched this frame stop warning once the hold is over; their memory goes once BYTETracker
        has dropped them."""
        alive = {tr.track_id for tr in self._tracker.tracked_stracks + self._tracker.lost_stracks}
        for track_id in list(self._memory):
            if track_id in seen:
                continue
            memory = self._memory[track_id]
            if memory.warning and t > memory.warn_until:
                memory.warning = False
                events.append({"type": FCW + "_end", "track_id": track_id, "frame": frame_index, "t": round(t, 4)})
            if track_id not in alive:
                if memory.warning:
                    events.append({"type": FCW + "_end", "track_id": track_id, "frame": frame_index,
                                   "t": round(t, 4)})
                del self._memory[track_id]

    def _measure(self, track: Track, memory: _Memory, t: float, perception: Perception, road_threshold: float,
                 homography) -> None:
        cfg = self.config
        widths = cfg.width_range(track.class_name)
        if homography is None:
            track.unmeasured = "no calibration"
            return
        if widths is None:
            track.unmeasured = f"no distance for {track.class_name}"
            return
        reason = None
        x, z = (float(v[0]) for v in box_ground_points(homography, track.box))
        if not (math.isfinite(x) and math.isfinite(z)):
            reason = "above the horizon"
        elif track.score < cfg.distance_conf:
            reason = "low score"
        else:
            width = float(box_ground_width_m(homography, track.box)[0])
            heights = cfg.height_range(track.class_name)
            # the box's height in metres at the depth of its bottom edge: there a pixel spans as many metres
            # up as across (square pixels), and the ground width gives metres per pixel across. A box on a
            # knee-high barrier or a kerb is as wide as a car but far too low for one. (A box cut by the
            # frame's top still measures above the camera's mounting height: the top ray climbs.)
            x1, y1, x2, y2 = (float(v) for v in track.box)
            height = width * (y2 - y1) / max(x2 - x1, 1e-6)
            if not widths[0] <= width <= widths[1]:
                reason = f"implausible width {width:.1f} m"
            elif heights is not None and not heights[0] <= height <= heights[1]:
                reason = f"implausible height {height:.1f} m"
            elif cfg.require_on_road and not self._on_road(track.box, perception, road_threshold):
                reason = "not on the road"
        if memory.range is None:
            memory.range = RangeFilter(cfg.filter)
        if reason is not None:
            memory.range.predict_to(t)
            track.unmeasured = reason
            return
        # a plausible measurement feeds the filter from the first frame, so the speed is ready when the track
        # is confirmed; it is shown (and may warn) only once confirmed
        memory.range.update(t, x, z)
        if not track.confirmed:
            track.unmeasured = "unconfirmed"
            return
        track.measured = True
        track.x_m, track.z_m = memory.range.position
        track.distance_m = memory.range.distance_m
        track.closing_speed_mps = memory.range.closing_speed_mps
        track.ttc_s = cfg.warning.time_to_collision(track.distance_m, track.closing_speed_mps,
                                                    memory.range.closing_speed_sd_mps or 0.0)
        track.in_corridor = cfg.warning.in_corridor(track.x_m)
        track.warning = cfg.warning.warns(track.distance_m, track.ttc_s, track.in_corridor)

    def _on_road(self, box: np.ndarray, perception: Perception, threshold: float) -> bool:
        """Road in at least road_min_fraction of the strip just below the box's bottom edge (middle half of its
        width): where the object stands. (On the bundled clips real cars have 1.0 there; a guard rail box 0.35.)
        A box cut off by the frame's bottom edge shows no ground contact: not on the road as far as we can see."""
        if not perception.road_probs.size:
            return True  # no road map from this model: the check cannot be made
        road = perception.road
        h, w = road.shape
        x1, _, x2, y2 = box
        top = int(math.floor(y2)) + 1
        if top >= h:
            return False
        bottom = min(h, top + self.config.road_probe_rows)
        left = int(max(0, x1 + (x2 - x1) / 4))
        right = int(min(w, max(left + 1, x2 - (x2 - x1) / 4)))
        return bool((road[top:bottom, left:right] >= threshold).mean() >= self.config.road_min_fraction)
