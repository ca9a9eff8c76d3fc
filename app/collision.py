"""Per-track range, closing speed, time to collision and the forward-collision warning.

Each tracked object's road position (X lateral, Z forward, metres, from its box's
bottom edge through the road-plane homography) is noisy from frame to frame: a
pixel of bottom edge is ~0.1 m at 10 m and ~1 m at 40 m. A small constant-velocity
Kalman filter per axis smooths it and gives its velocity, using the frames' own
time stamps (not their index), so a dropped frame or a live source's uneven rate
does not corrupt the speed. The closing speed is how fast the distance shrinks;
the time to collision (TTC) is distance / closing speed while it shrinks.

A warning is raised, as the literature on forward-collision warning does, on TTC
rather than on distance alone: an object in the ego corridor (|X| ≤ half the
corridor width) with TTC ≤ `ttc_s`, or closer than `min_distance_m`. A TTC needs a
closing speed the filter is sure of: at least `closing_speed_sigmas` standard
deviations of its estimate. The first frames of a still box 5.6 m ahead whose bottom
edge jitters by ±0.1 m can read "closing at 2.5 m/s" with a standard deviation of
1.6 m/s: no evidence of closing, yet a TTC of 2.2 s, a warning
(benchmarks/warning_noise.py measures both sides of the rule on simulated noise).
Settings come from configs/runtime.yaml (`warning:` and `tracking.filter:`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import UserError


def _positive(section: dict, key: str, where: str, allow_zero: bool = False) -> float:
    value = section[key]  # the merged runtime config holds every key: configs/runtime.yaml is its one default
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UserError(f"runtime config {where}.{key} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise UserError(f"runtime config {where}.{key} must be a {'non-negative' if allow_zero else 'positive'} "
                        f"number, got {value}")
    return value


@dataclass(frozen=True)
class FilterConfig:
    """accel_noise_mps2: how hard an object may change speed (the filter's process noise, m/s²).
    distance_noise_frac: measurement noise as a share of the distance (a bottom-edge pixel grows with distance²,
        a box's jitter in pixels shrinks with distance: about proportional overall). min_noise_m: its floor.
    speed_min_samples: measurements before a speed (and so a TTC) is reported."""

    # no defaults here: configs/runtime.yaml tracking.filter is their one home (`from_config`)
    accel_noise_mps2: float
    distance_noise_frac: float
    min_noise_m: float
    speed_min_samples: int

    @classmethod
    def from_config(cls, section: dict) -> FilterConfig:
        s, w = section, "tracking.filter"
        return cls(_positive(s, "accel_noise_mps2", w), _positive(s, "distance_noise_frac", w),
                   _positive(s, "min_noise_m", w), int(_positive(s, "speed_min_samples", w)))


@dataclass(frozen=True)
class WarningConfig:
    """ttc_s: warn when the time to collision is at most this (2.7 s: the NHTSA NCAP FCW test's latest alert).
    min_distance_m: also warn when an object in the corridor is closer than this, however slow (0: never).
    corridor_width_m: width of the ego corridor centred on the camera.
    min_closing_speed_mps: below this the object is not closing and has no TTC.
    closing_speed_sigmas: nor below this many standard deviations of the closing-speed estimate (noise is not
        closing: an estimate with Gaussian noise is 3 of them above zero by chance in one frame of ~740).
    hold_s: a warning stays on this long after the last frame that raised it (one unmeasured frame or a TTC
        wobbling around the threshold must not blink it off and on: each start is an event the user hears)."""

    # no defaults here: configs/runtime.yaml warning: is their one home (`from_config`)
    ttc_s: float
    min_distance_m: float
    corridor_width_m: float
    min_closing_speed_mps: float
    closing_speed_sigmas: float
    hold_s: float

    @classmethod
    def from_config(cls, section: dict) -> WarningConfig:
        s, w = section, "warning"
        return cls(_positive(s, "ttc_s", w), _positive(s, "min_distance_m", w, True),
                   _positive(s, "corridor_width_m", w), _positive(s, "min_closing_speed_mps", w),
                   _positive(s, "closing_speed_sigmas", w, True), _positive(s, "hold_s", w, True))

    def in_corridor(self, x_m: float) -> bool:
        return abs(x_m) <= self.corridor_width_m / 2

    def time_to_collision(self, distance_m: float, closing_speed_mps: float | None,
                          closing_speed_sd_mps: float = 0.0) -> float | None:
        """distance / closing speed while the object closes in faster than min_closing_speed_mps and than
        closing_speed_sigmas standard deviations of the speed's estimate (`closing_speed_sd_mps`), else None."""
        if closing_speed_mps is None:
            return None
        if closing_speed_mps < max(self.min_closing_speed_mps, self.closing_speed_sigmas * closing_speed_sd_mps):
            return None
        return distance_m / closing_speed_mps

    def warns(self, distance_m: float, ttc_s: float | None, in_corridor: bool) -> bool:
        if not in_corridor:
            return False
        return (ttc_s is not None and ttc_s <= self.ttc_s) or distance_m < self.min_distance_m


class _Axis:
    """A 1-D constant-velocity Kalman filter: state (position, velocity), covariance as four floats."""

    __slots__ = ("p", "v", "pp", "pv", "vv")

    def __init__(self, position: float, noise: float, speed_var: float):
        self.p, self.v = position, 0.0
        self.pp, self.pv, self.vv = noise * noise, 0.0, speed_var

    def predict(self, dt: float, q: float) -> None:
        self.p += self.v * dt
        # P = F P Fᵀ + Q with F = [[1, dt], [0, 1]], Q = q² [[dt⁴/4, dt³/2], [dt³/2, dt²]] (white acceleration)
        pp = self.pp + 2 * dt * self.pv + dt * dt * self.vv + q * q * dt ** 4 / 4
        pv = self.pv + dt * self.vv + q * q * dt ** 3 / 2
        self.pp, self.pv, self.vv = pp, pv, self.vv + q * q * dt * dt

    def update(self, z: float, noise: float) -> None:
        s = self.pp + noise * noise
        kp, kv = self.pp / s, self.pv / s
        r = z - self.p
        self.p += kp * r
        self.v += kv * r
        self.pp, self.pv, self.vv = (1 - kp) * self.pp, (1 - kp) * self.pv, self.vv - kv * self.pv


class RangeFilter:
    """One object's road position (X, Z) and velocity, smoothed over time stamps in seconds."""

    INITIAL_SPEED_SD = 15.0  # m/s: nothing is known about the speed before the second measurement

    def __init__(self, config: FilterConfig):
        self.config = config
        self._x: _Axis | None = None
        self._z: _Axis | None = None
        self.t: float | None = None
        self.samples = 0

    def _noise(self, z_m: float) -> float:
        return max(self.config.min_noise_m, self.config.distance_noise_frac * abs(z_m))

    def predict_to(self, t: float) -> None:
        """Move the estimate to time t (no measurement at t: the object was not seen or not measurable)."""
        if self._z is None or self.t is None or t <= self.t:
            return
        dt, q = t - self.t, self.config.accel_noise_mps2
        self._x.predict(dt, q)
        self._z.predict(dt, q)
        self.t = t

    def update(self, t: float, x_m: float, z_m: float) -> None:
        """Add the measurement (x_m, z_m) seen at time t (seconds, increasing)."""
        noise = self._noise(z_m)
        if self._z is None:
            var = self.INITIAL_SPEED_SD ** 2
            self._x, self._z, self.t = _Axis(x_m, noise, var), _Axis(z_m, noise, var), t
        else:
            self.predict_to(t)
            self._x.update(x_m, noise)
            self._z.update(z_m, noise)
        self.samples += 1

    @property
    def position(self) -> tuple[float, float] | None:
        """Smoothed (X, Z) in metres, None before the first measurement."""
        return None if self._z is None else (self._x.p, self._z.p)

    @property
    def distance_m(self) -> float | None:
        pos = self.position
        return None if pos is None else math.hypot(*pos)

    @property
    def closing_speed_mps(self) -> float | None:
        """How fast the distance shrinks (m/s, positive = approaching), once speed_min_samples were measured."""
        if self._z is None or self.samples < self.config.speed_min_samples:
            return None
        d = math.hypot(self._x.p, self._z.p)
        if d <= 1e-6:
            return None
        return -(self._x.p * self._x.v + self._z.p * self._z.v) / d

    @property
    def closing_speed_sd_mps(self) -> float | None:
        """The closing speed's standard deviation (m/s) from the filter's covariance, with closing_speed_mps.
        It is the velocity's along the line of sight; the two axes' filters are independent."""
        if self.closing_speed_mps is None:
            return None
        d = math.hypot(self._x.p, self._z.p)
        return math.sqrt(self._x.p ** 2 * self._x.vv + self._z.p ** 2 * self._z.vv) / d
