# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Stateless constant-velocity Kalman filter on a box (cx, cy, w, h) and its rates.

State ``x = [cx, cy, w, h, vcx, vcy, vw, vh]`` in pixels and pixels per second;
measurement ``z = [cx, cy, w, h]``. The filter object holds only configuration:
every method takes ``(mean, cov)`` and returns new arrays, so a caller can try
an update and throw it away without corrupting its track.

Noise model (all standard deviations are relative to the box size
``s = sqrt(w * h)``, so the same numbers work for a 20 px and a 400 px target):

* process noise Q, per axis, for an elapsed time ``dt`` seconds::

      Q_pp = (std_position * s)^2 * dt + (std_velocity * s)^2 * dt^3 / 3
      Q_pv = (std_velocity * s)^2 * dt^2 / 2
      Q_vv = (std_velocity * s)^2 * dt

  i.e. a position random walk plus continuous white-noise acceleration, so the
  uncertainty grows with the real time between frames, not the frame count.
  At 30 fps the position defaults reproduce the classic per-frame values (1/20,
  1/160). The size axes (w, h) take ``std_size`` in place of ``std_position``: the
  network's size error persists from frame to frame, so the size needs more
  smoothing than the position;
* measurement noise R = ``(std_measurement * s)^2`` per component, plus
  ``uncertainty_scale`` times the model's predicted variance (from ``log_var``).

With ``size_velocity`` off (the default), ``predict`` first forgets the size rates
(mean and covariance rows set to zero), so the size is a random walk: a network that
overestimates the size on every frame cannot build up a growth rate that runs the
box away (weights/README.md, session 6). The rates are still estimated within a step,
so the state keeps its eight components.

Motion noise (Q and the initial velocity spread) uses ``max(s, floor)`` instead of
``s``, with one floor for the position axes and one for the size axes
(:class:`MotionFloor`, pixels): camera motion moves a small target as many pixels as a
large one, so a 15 px target seen from a panning drone must not be held to a 15 px
scale. Zoom and approach change a box's size in proportion to that size, so the size
axes may take a lower floor. The tracker passes ``min_motion_scale`` and
``min_size_motion_scale`` times the frame's shorter side; ``MotionFloor()`` (zeros)
keeps the pure box-size scale.

Time steps (``dt`` comes from image stamps, chosen by the caller):

* ``dt < 0`` or non-finite: ``ValueError``. Out-of-order frames must be caught
  by the caller (the tracker raises its own ``StampError`` before calling us);
* ``dt == 0``: identity (no time passed, nothing to predict);
* ``dt > max_dt``: the velocity estimate is stale. The position is *not*
  extrapolated (over a long gap the last position is the better guess), the
  velocity mean is reset to zero with its initial variance, the position/
  velocity cross-covariance is cleared, and the position variance grows by
  the process noise over the whole ``dt`` plus the distance an initial-variance
  velocity could cover in ``max_dt``.

The update uses a Cholesky solve for the gain and the Joseph form, then
re-symmetrises, so the covariance stays symmetric positive definite.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple

import numpy as np

from vil_tracker_ros.config import KalmanConfig

NDIM = 4
STATE_DIM = 2 * NDIM
_MIN_SIZE = 1.0            # px; noise scale floor so a collapsing box keeps some noise
_LOG_VAR_RANGE = (-30.0, 30.0)   # clamp the model's log-variance before exp()

_H = np.hstack([np.eye(NDIM), np.zeros((NDIM, NDIM))])
_SIZE_RATES = [NDIM + 2, NDIM + 3]   # vw, vh in the state


class MotionFloor(NamedTuple):
    """Smallest scale (px) of the motion noise on the position and on the size axes."""

    position: float = 0.0
    size: float = 0.0


def chi2_quantile(p: float, dof: int) -> float:
    """Quantile of the chi-square distribution (inverse CDF).

    Uses scipy when it is installed; otherwise the closed-form CDF for even
    ``dof`` (``1 - exp(-x/2) * sum_{k < dof/2} (x/2)^k / k!``) inverted by
    bisection, which covers the 4-dof gate and the 8-dof NEES checks.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f'chi2 probability must be in (0, 1), got {p!r}')
    if dof < 1:
        raise ValueError(f'chi2 degrees of freedom must be >= 1, got {dof!r}')
    try:
        from scipy.stats import chi2
    except ImportError:
        return chi2_quantile_even_dof(p, dof)
    return float(chi2.ppf(p, dof))


def chi2_cdf_even_dof(x: float, dof: int) -> float:
    """Closed-form chi-square CDF for an even number of degrees of freedom."""
    if dof % 2 or dof < 2:
        raise ValueError(f'closed-form chi2 CDF needs an even dof >= 2, got {dof}')
    if x <= 0.0:
        return 0.0
    half = 0.5 * x
    term, total = 1.0, 1.0
    for k in range(1, dof // 2):
        term *= half / k
        total += term
    return 1.0 - math.exp(-half) * total


def chi2_quantile_even_dof(p: float, dof: int) -> float:
    """Invert ``chi2_cdf_even_dof`` by bisection to ~1e-12 relative precision."""
    if not 0.0 < p < 1.0:
        raise ValueError(f'chi2 probability must be in (0, 1), got {p!r}')
    lo, hi = 0.0, float(max(dof, 1))
    while chi2_cdf_even_dof(hi, dof) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if chi2_cdf_even_dof(mid, dof) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


def _cho_solve(s_mat: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``S X = B`` for symmetric positive definite S via its Cholesky factor."""
    try:
        chol = np.linalg.cholesky(s_mat)
    except np.linalg.LinAlgError as exc:
        raise ValueError(f'innovation covariance is not positive definite: {exc}') from exc
    y = np.linalg.solve(chol, b)
    return np.linalg.solve(chol.T, y)


class KalmanFilter:
    """Constant-velocity Kalman filter; pure functions of (mean, cov) plus config."""

    def __init__(self, cfg: Optional[KalmanConfig] = None) -> None:
        self.cfg = cfg if cfg is not None else KalmanConfig()
        self.cfg.validate()
        self.gate_threshold = chi2_quantile(self.cfg.gate_probability, NDIM)
        self._walk_std = np.array([self.cfg.std_position] * 2 + [self.cfg.std_size] * 2)

    # -------------------------------------------------------------- helpers

    @staticmethod
    def _size_scale(mean_or_z: np.ndarray) -> float:
        w = max(float(mean_or_z[2]), _MIN_SIZE)
        h = max(float(mean_or_z[3]), _MIN_SIZE)
        return math.sqrt(w * h)

    @staticmethod
    def _check_state(mean: np.ndarray, cov: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        mean = np.asarray(mean, dtype=np.float64)
        cov = np.asarray(cov, dtype=np.float64)
        if mean.shape != (STATE_DIM,) or cov.shape != (STATE_DIM, STATE_DIM):
            raise ValueError(f'state must be mean ({STATE_DIM},) and cov ({STATE_DIM}, '
                             f'{STATE_DIM}), got {mean.shape} and {cov.shape}')
        return mean, cov

    @staticmethod
    def _check_measurement(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (NDIM,) or not np.all(np.isfinite(z)):
            raise ValueError(f'measurement must be 4 finite numbers (cx, cy, w, h), got {z!r}')
        return z

    def motion_floor(self, height: int, width: int) -> MotionFloor:
        """``min_motion_scale`` / ``min_size_motion_scale`` of the shorter side, in pixels."""
        short = min(height, width)
        return MotionFloor(self.cfg.min_motion_scale * short,
                           self.cfg.min_size_motion_scale * short)

    def _motion_scales(self, mean_or_z: np.ndarray, floor: MotionFloor) -> np.ndarray:
        """Per-axis motion noise scale (cx, cy, w, h) in pixels."""
        s = self._size_scale(mean_or_z)
        position, size = max(s, floor.position), max(s, floor.size)
        return np.array([position, position, size, size])

    def initial_velocity_var(self, scales: np.ndarray) -> np.ndarray:
        """Velocity variance per axis at (re)initialisation, from the motion scales."""
        return (self.cfg.std_initial_velocity * np.asarray(scales, dtype=np.float64)) ** 2

    # ------------------------------------------------------------ the filter

    def initiate(self, z: np.ndarray, motion_floor: MotionFloor = MotionFloor()
                 ) -> Tuple[np.ndarray, np.ndarray]:
        """Start a track at measurement ``z`` (cx, cy, w, h) with zero velocity."""
        z = self._check_measurement(z)
        s = self._size_scale(z)
        mean = np.concatenate([z, np.zeros(NDIM)])
        pos_var = np.full(NDIM, (2.0 * self.cfg.std_measurement * s) ** 2)
        vel_var = self.initial_velocity_var(self._motion_scales(z, motion_floor))
        return mean, np.diag(np.concatenate([pos_var, vel_var]))

    def process_noise(self, mean: np.ndarray, dt: float,
                      motion_floor: MotionFloor = MotionFloor()) -> np.ndarray:
        """Q for ``dt`` seconds, scaled per axis by the box size of ``mean`` (>= the floors)."""
        scales = self._motion_scales(mean, motion_floor)   # (4,) px
        qp = (self._walk_std * scales) ** 2
        qa = (self.cfg.std_velocity * scales) ** 2
        q = np.zeros((STATE_DIM, STATE_DIM))
        idx = np.arange(NDIM)
        q[idx, idx] = qp * dt + qa * dt ** 3 / 3.0
        q[idx, idx + NDIM] = q[idx + NDIM, idx] = qa * dt ** 2 / 2.0
        q[idx + NDIM, idx + NDIM] = qa * dt
        return q

    def predict(self, mean: np.ndarray, cov: np.ndarray, dt: float,
                motion_floor: MotionFloor = MotionFloor()) -> Tuple[np.ndarray, np.ndarray]:
        """Propagate the state by ``dt`` seconds (see the module docstring for edge cases)."""
        mean, cov = self._check_state(mean, cov)
        if not math.isfinite(dt) or dt < 0.0:
            raise ValueError(f'dt must be a finite number >= 0 seconds, got {dt!r}')
        if dt == 0.0:
            return mean.copy(), cov.copy()
        if not self.cfg.size_velocity:
            mean, cov = mean.copy(), cov.copy()
            mean[_SIZE_RATES] = 0.0
            cov[_SIZE_RATES, :] = 0.0
            cov[:, _SIZE_RATES] = 0.0
        if dt > self.cfg.max_dt:
            return self._reseed_velocity(mean, cov, dt, motion_floor)
        f = np.eye(STATE_DIM)
        f[np.arange(NDIM), np.arange(NDIM) + NDIM] = dt
        new_mean = f @ mean
        new_cov = f @ cov @ f.T + self.process_noise(mean, dt, motion_floor)
        return new_mean, 0.5 * (new_cov + new_cov.T)

    def _reseed_velocity(self, mean: np.ndarray, cov: np.ndarray, dt: float,
                         motion_floor: MotionFloor) -> Tuple[np.ndarray, np.ndarray]:
        vel_var = np.diag(self.initial_velocity_var(self._motion_scales(mean, motion_floor)))
        new_mean = mean.copy()
        new_mean[NDIM:] = 0.0
        q = self.process_noise(mean, dt, motion_floor)
        new_cov = np.zeros_like(cov)
        new_cov[:NDIM, :NDIM] = (cov[:NDIM, :NDIM] + q[:NDIM, :NDIM]
                                 + vel_var * self.cfg.max_dt ** 2)
        new_cov[NDIM:, NDIM:] = vel_var
        return new_mean, 0.5 * (new_cov + new_cov.T)

    def measurement_noise(self, mean: np.ndarray, log_var: Optional[np.ndarray] = None,
                          scale_px: float = 1.0) -> np.ndarray:
        """R for a measurement of the box ``mean`` describes.

        ``log_var`` is the model's predicted log-variance of (cx, cy, w, h) in
        units where ``scale_px`` pixels equal 1 (the tracker passes the search
        crop side in image pixels, since the model predicts in normalised crop
        coordinates). Non-finite ``log_var`` is a ``ValueError``.
        """
        s = self._size_scale(mean)
        var = np.full(NDIM, (self.cfg.std_measurement * s) ** 2)
        if log_var is not None and self.cfg.uncertainty_scale > 0.0:
            lv = np.asarray(log_var, dtype=np.float64).reshape(-1)
            if lv.shape != (NDIM,) or not np.all(np.isfinite(lv)):
                raise ValueError(f'log_var must be 4 finite numbers, got {log_var!r}')
            lv = np.clip(lv, *_LOG_VAR_RANGE)
            var = var + self.cfg.uncertainty_scale * np.exp(lv) * float(scale_px) ** 2
        return np.diag(var)

    def project(self, mean: np.ndarray, cov: np.ndarray,
                r_mat: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Measurement-space mean and innovation covariance ``S = H P H^T + R``."""
        mean, cov = self._check_state(mean, cov)
        s_mat = _H @ cov @ _H.T + np.asarray(r_mat, dtype=np.float64)
        return _H @ mean, 0.5 * (s_mat + s_mat.T)

    def gating_distance(self, mean: np.ndarray, cov: np.ndarray, z: np.ndarray,
                        r_mat: np.ndarray) -> float:
        """Squared Mahalanobis distance of ``z`` from the predicted measurement."""
        z = self._check_measurement(z)
        z_mean, s_mat = self.project(mean, cov, r_mat)
        innov = z - z_mean
        return float(innov @ _cho_solve(s_mat, innov))

    def gate(self, distance: float) -> bool:
        """Accept (True) a gating distance inside the chi-square threshold."""
        return distance <= self.gate_threshold

    def update(self, mean: np.ndarray, cov: np.ndarray, z: np.ndarray,
               r_mat: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Correct the state with measurement ``z`` of noise ``r_mat`` (Joseph form)."""
        z = self._check_measurement(z)
        r_mat = np.asarray(r_mat, dtype=np.float64)
        z_mean, s_mat = self.project(mean, cov, r_mat)
        mean, cov = self._check_state(mean, cov)
        # K = P H^T S^-1, computed as (S^-1 H P)^T since S and P are symmetric.
        gain = _cho_solve(s_mat, _H @ cov).T
        new_mean = mean + gain @ (z - z_mean)
        i_kh = np.eye(STATE_DIM) - gain @ _H
        new_cov = i_kh @ cov @ i_kh.T + gain @ r_mat @ gain.T
        return new_mean, 0.5 * (new_cov + new_cov.T)
