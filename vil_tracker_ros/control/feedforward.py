# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The target's angular rate in the world, for the follow controller's feedforward.

A PID alone chases a moving target with a lag of about ``target rate / kp`` (8 px at 4 deg/s
in the gimbal simulator). Adding the target's own rate to the command removes most of it.
The target's world angle is the camera's angle plus the image error, so its rate is
``d(gimbal angle + error)/dt`` between two measurements.

The gimbal angle must be the **measured** attitude at each frame's stamp, interpolated from
the gimbal's attitude reports. Reconstructing it from our own rate commands is not enough:
any delay between a command and the motion (transport, a loaded CPU, the gimbal's own loop)
then reads as target motion in the direction of the command, and the feedforward pushes the
loop into oscillation (seen in the closed-loop simulation under load). Without attitude
reports covering a measurement's stamp the estimate is zero and :attr:`aligned` turns False,
so the caller can say why it follows on the PID alone.
"""

from __future__ import annotations

import bisect
import math
from typing import List, Optional, Tuple

HISTORY_S = 5.0     # attitude reports kept; far longer than any tracker latency
EXTRAPOLATE_S = 0.1  # a measurement may arrive before the next attitude report: extrapolate


class RateFeedforward:
    """Low-pass estimate of the target's (yaw, pitch) angular rate in rad/s."""

    def __init__(self, tau: float, max_interval: float) -> None:
        self.tau = tau                       # s, time constant of the low-pass
        self.max_interval = max_interval     # s, longer gaps between measurements restart it
        self._times: List[float] = []
        self._angles: List[Tuple[float, float]] = []
        self.aligned = False                 # the last measurement had an attitude
        self.reset()

    def reset(self) -> None:
        """Forget the estimate and the last measurement (after a hold); keep the attitudes."""
        self.rate = (0.0, 0.0)
        self._last: Optional[Tuple[float, float, float]] = None

    def record_attitude(self, stamp: float, yaw: float, pitch: float) -> None:
        """Gimbal (yaw right +, pitch up +) in rad at ``stamp`` (the images' clock)."""
        if not all(math.isfinite(v) for v in (stamp, yaw, pitch)):
            return
        if self._times and stamp <= self._times[-1]:
            if stamp < self._times[-1] - HISTORY_S:
                self._times.clear()          # the clock jumped back (bag loop, sim restart)
                self._angles.clear()
            else:
                return                       # out of order or repeated: keep the history sorted
        self._times.append(stamp)
        self._angles.append((yaw, pitch))
        cut = bisect.bisect_left(self._times, stamp - HISTORY_S)
        if cut > 0:
            del self._times[:cut]
            del self._angles[:cut]

    def attitude_at(self, stamp: float) -> Optional[Tuple[float, float]]:
        """Gimbal angles at ``stamp``, linearly interpolated; None outside the reports.

        A stamp up to ``EXTRAPOLATE_S`` after the newest report is extrapolated from the last two.
        """
        times = self._times
        i = bisect.bisect_left(times, stamp)
        if i < len(times) and times[i] == stamp:
            return self._angles[i]
        if 0 < i < len(times):
            j = i                            # between reports j - 1 and j
        elif i == len(times) >= 2 and stamp - times[-1] <= EXTRAPOLATE_S:
            j = i - 1                        # just after the newest: the last two
        else:
            return None
        t0, t1 = times[j - 1], times[j]
        w = (stamp - t0) / (t1 - t0)
        (y0, p0), (y1, p1) = self._angles[j - 1], self._angles[j]
        return y0 + w * (y1 - y0), p0 + w * (p1 - p0)

    def update(self, stamp: float, yaw_error: float, pitch_error: float) -> None:
        """Take one measurement (rad, at ``stamp``) and refresh :attr:`rate`."""
        attitude = self.attitude_at(stamp)
        self.aligned = attitude is not None
        if attitude is None:
            self.rate, self._last = (0.0, 0.0), None    # no stale feedforward
            return
        world = (attitude[0] + yaw_error, attitude[1] + pitch_error)
        last = self._last
        if last is not None and stamp <= last[0]:
            return                           # out of order: the newer one stays the reference
        self._last = (stamp, world[0], world[1])
        if last is None:
            return
        dt = stamp - last[0]
        if dt > self.max_interval:
            self.rate = (0.0, 0.0)           # after a gap: start again
            return
        alpha = 1.0 - math.exp(-dt / self.tau)
        self.rate = (self.rate[0] + alpha * ((world[0] - last[1]) / dt - self.rate[0]),
                     self.rate[1] + alpha * ((world[1] - last[2]) / dt - self.rate[1]))
