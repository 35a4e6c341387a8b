# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Follow-controller math, free of ROS: angular image error -> gimbal yaw/pitch rates.

Conventions (the same as PX4's gimbal manager and MAVLink's gimbal messages):

* **yaw rate** positive pans the camera to the right (clockwise seen from above);
* **pitch rate** positive tilts the camera up.

So a target right of the image centre (offset x > 0) asks for a positive yaw rate, a target
below the centre (offset y > 0) for a negative pitch rate.

The error is an angle in radians, taken from the tracker's bearing ray (exact, needs
CameraInfo) or from its normalised offset and the camera's field of view (an approximation
that is exact for an undistorted pinhole camera). Gains are therefore in (rad/s) per rad.

:class:`FollowController` adds the safety logic around one :class:`AxisPid` per axis: deadzone,
rate and acceleration limits, hold (zero rates) while idle, after ``lost_timeout`` seconds of
``lost``, and when no measurement arrived for ``stale_timeout`` seconds (watchdog). When the
gimbal reports its attitude (:meth:`FollowController.set_attitude`), a share ``feedforward`` of
the target's estimated angular rate (:mod:`.feedforward`) is added to the PID output, so a
moving target is followed without most of the PID's lag.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple, Optional, Tuple

from vil_tracker_ros.control.feedforward import RateFeedforward

HOLD_REASONS = ('no_status', 'idle', 'lost', 'no_input', 'stale')


@dataclasses.dataclass(frozen=True)
class FollowConfig:
    """Controller settings; :meth:`validate` raises ValueError naming the bad field."""

    kp: float = 2.5                  # (rad/s) per rad of error
    ki: float = 0.8                  # (rad/s) per (rad * s)
    kd: float = 0.0                  # (rad/s) per (rad/s)
    integral_limit: float = 0.15     # largest |ki * integral| in rad/s (anti-windup)
    deadzone: float = 0.01           # rad: smaller errors count as zero (continuous: e - dz)
    max_rate: float = 1.0            # rad/s, per axis
    max_accel: float = 6.0           # rad/s^2, per axis; 0 disables the slew limit
    lost_timeout: float = 0.5        # s of status 'lost' before holding
    stale_timeout: float = 0.5       # s without a measurement before holding
    hfov: float = math.radians(60.0)  # rad, horizontal field of view (offset -> angle)
    vfov: float = math.radians(45.0)  # rad, vertical field of view
    feedforward: float = 1.0         # share of the target's estimated rate added; 0: PID only
    feedforward_tau: float = 0.5     # s, low-pass time constant of that rate estimate

    def validate(self) -> 'FollowConfig':
        for name in ('kp', 'ki', 'kd', 'integral_limit', 'deadzone', 'max_accel',
                     'feedforward'):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f'{name} must be a finite number >= 0, got {value!r}')
        for name in ('max_rate', 'lost_timeout', 'stale_timeout', 'feedforward_tau'):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f'{name} must be a finite number > 0, got {value!r}')
        for name in ('hfov', 'vfov'):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 < value < math.pi:
                raise ValueError(f'{name} must be in (0, pi) rad, got {value!r}')
        if self.deadzone >= math.pi / 2:
            raise ValueError(f'deadzone must be < pi/2 rad, got {self.deadzone!r}')
        return self


class Command(NamedTuple):
    """One setpoint: rates in rad/s, and why it holds (empty while following)."""

    yaw_rate: float
    pitch_rate: float
    hold_reason: str = ''

    @property
    def holding(self) -> bool:
        return bool(self.hold_reason)


def apply_deadzone(error: float, deadzone: float) -> float:
    """Zero inside ``[-deadzone, deadzone]``, shifted outside, so the output has no jump."""
    if abs(error) <= deadzone:
        return 0.0
    return math.copysign(abs(error) - deadzone, error)


def offset_to_angles(x: float, y: float, hfov: float, vfov: float) -> Tuple[float, float]:
    """Normalised offset (right, down positive, [-1, 1]) -> (yaw error, pitch error) in rad."""
    yaw = math.atan(x * math.tan(hfov / 2.0))
    pitch = -math.atan(y * math.tan(vfov / 2.0))
    return yaw, pitch


def bearing_to_angles(x: float, y: float, z: float) -> Tuple[float, float]:
    """Turn a unit ray (optical frame: x right, y down, z forward) into (yaw, pitch) errors."""
    yaw = math.atan2(x, z)
    pitch = -math.atan2(y, math.hypot(x, z))
    return yaw, pitch


class AxisPid:
    """PID on one axis; the integral is clamped so that ``|ki * integral| <= limit``."""

    def __init__(self, kp: float, ki: float, kd: float, integral_limit: float) -> None:
        self.kp, self.ki, self.kd = kp, ki, kd
        self.integral_limit = integral_limit
        self.reset()

    def reset(self) -> None:
        self.integral = 0.0
        self._previous: Optional[float] = None

    def update(self, error: float, dt: Optional[float]) -> float:
        """Return the output for ``error``; ``dt`` None or <= 0 skips the I and D terms' update."""
        derivative = 0.0
        if dt is not None and dt > 0:
            self.integral += error * dt
            if self.ki > 0:
                bound = self.integral_limit / self.ki
                self.integral = min(max(self.integral, -bound), bound)
            if self._previous is not None:
                derivative = (error - self._previous) / dt
        self._previous = error
        return self.kp * error + self.ki * self.integral + self.kd * derivative


def _clamp(value: float, bound: float) -> float:
    return min(max(value, -bound), bound)


class FollowController:
    """Rates from angular errors, with the hold logic; time is any monotonic clock in s.

    Feed it with :meth:`set_status` (tracker status) and :meth:`set_error` (each new
    measurement, with the measurement's own stamp for the PID's dt and the arrival time for
    the watchdog), and call :meth:`step` at the output rate. The feedforward also needs
    :meth:`set_attitude` (the gimbal's measured angles, stamped on the measurements' clock).
    """

    def __init__(self, cfg: FollowConfig) -> None:
        self.cfg = cfg.validate()
        self._yaw = AxisPid(cfg.kp, cfg.ki, cfg.kd, cfg.integral_limit)
        self._pitch = AxisPid(cfg.kp, cfg.ki, cfg.kd, cfg.integral_limit)
        self.feedforward = RateFeedforward(cfg.feedforward_tau, cfg.stale_timeout)
        self.status: Optional[str] = None
        self._lost_since: Optional[float] = None
        self._last_input: Optional[float] = None
        self._last_stamp: Optional[float] = None
        self._raw = (0.0, 0.0)
        self._output = (0.0, 0.0)
        self._last_step: Optional[float] = None
        self._was_holding = True

    def reconfigure(self, cfg: FollowConfig) -> None:
        """Apply new settings; the integrators restart."""
        self.cfg = cfg.validate()
        for pid in (self._yaw, self._pitch):
            pid.kp, pid.ki, pid.kd = cfg.kp, cfg.ki, cfg.kd
            pid.integral_limit = cfg.integral_limit
            pid.reset()
        self.feedforward.tau = cfg.feedforward_tau
        self.feedforward.max_interval = cfg.stale_timeout
        self.feedforward.reset()

    def set_status(self, status: str, now: float) -> None:
        if status == 'lost' and self.status != 'lost':
            self._lost_since = now
        elif status != 'lost':
            self._lost_since = None
        self.status = status

    def set_error(self, yaw_error: float, pitch_error: float, stamp: float,
                  now: float) -> bool:
        """Take one measurement (rad); False (and ignored) when it is not finite."""
        if not (math.isfinite(yaw_error) and math.isfinite(pitch_error) and math.isfinite(stamp)):
            return False
        dt = None
        if self._last_stamp is not None:
            dt = stamp - self._last_stamp
            if dt <= 0 or dt > self.cfg.stale_timeout:
                dt = None            # out of order or after a gap: no I/D update
        self._last_stamp = stamp
        self._last_input = now
        dz = self.cfg.deadzone
        self.feedforward.update(stamp, yaw_error, pitch_error)
        self._raw = (self._yaw.update(apply_deadzone(yaw_error, dz), dt),
                     self._pitch.update(apply_deadzone(pitch_error, dz), dt))
        return True

    def hold_reason(self, now: float) -> str:
        """Why the controller holds at ``now`` ('' when it follows)."""
        if self.status is None:
            return 'no_status'
        if self.status == 'idle':
            return 'idle'
        if self.status == 'lost' and self._lost_since is not None \
                and now - self._lost_since >= self.cfg.lost_timeout:
            return 'lost'
        if self._last_input is None:
            return 'no_input'
        if now - self._last_input >= self.cfg.stale_timeout:
            return 'stale'
        return ''

    def set_attitude(self, stamp: float, yaw: float, pitch: float) -> None:
        """Gimbal angles (rad; yaw right +, pitch up +) at ``stamp``, for the feedforward."""
        self.feedforward.record_attitude(stamp, yaw, pitch)

    def step(self, now: float) -> Command:
        """Return the setpoint at ``now``: held at zero, or PID + feedforward within the limits."""
        reason = self.hold_reason(now)
        dt = None if self._last_step is None else max(0.0, now - self._last_step)
        self._last_step = now
        if reason:
            if not self._was_holding:
                self._yaw.reset()
                self._pitch.reset()
                self.feedforward.reset()
                self._last_stamp = None
            self._was_holding = True
            self._output = (0.0, 0.0)
            return Command(0.0, 0.0, reason)
        self._was_holding = False
        cfg = self.cfg
        ff = self.feedforward.rate
        target = [_clamp(v + cfg.feedforward * f, cfg.max_rate) for v, f in zip(self._raw, ff)]
        if cfg.max_accel > 0:
            step = cfg.max_accel * (dt or 0.0)   # the first step after a hold starts at 0
            target = [prev + _clamp(t - prev, step) for prev, t in zip(self._output, target)]
        self._output = (target[0], target[1])
        return Command(target[0], target[1], '')
