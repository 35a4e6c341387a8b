# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

import math

import numpy as np
import pytest

from vil_tracker_ros.config import ConfigError, KalmanConfig, replace
from vil_tracker_ros.core import kalman
from vil_tracker_ros.core.kalman import KalmanFilter, MotionFloor, STATE_DIM


def _is_spd(p):
    return np.allclose(p, p.T, atol=1e-9 * max(1.0, np.abs(p).max())) and \
        np.linalg.eigvalsh(p).min() > 0


def test_chi2_quantile_closed_form_matches_known_values():
    # Table values: chi2(4) 95% = 9.4877, chi2(2) 95% = 5.9915, chi2(8) 99% = 20.0902.
    assert kalman.chi2_quantile_even_dof(0.95, 4) == pytest.approx(9.487729, abs=1e-5)
    assert kalman.chi2_quantile_even_dof(0.95, 2) == pytest.approx(5.991465, abs=1e-5)
    assert kalman.chi2_quantile_even_dof(0.99, 8) == pytest.approx(20.090235, abs=1e-5)
    # 2 dof has the explicit inverse -2 ln(1 - p).
    assert kalman.chi2_quantile_even_dof(0.7, 2) == pytest.approx(-2 * math.log(0.3))
    with pytest.raises(ValueError):
        kalman.chi2_cdf_even_dof(1.0, 3)
    with pytest.raises(ValueError):
        kalman.chi2_quantile(1.0, 4)


def test_chi2_quantile_matches_scipy_when_present():
    stats = pytest.importorskip('scipy.stats', reason='scipy not installed: closed form only')
    for p in (0.5, 0.9, 0.95, 0.999):
        for dof in (2, 4, 8):
            assert kalman.chi2_quantile_even_dof(p, dof) == pytest.approx(
                stats.chi2.ppf(p, dof), rel=1e-8)


def test_gate_probability_is_configurable():
    kf95 = KalmanFilter(KalmanConfig())
    kf99 = KalmanFilter(KalmanConfig(gate_probability=0.99))
    assert kf95.gate_threshold == pytest.approx(9.4877, abs=1e-3)
    assert kf99.gate_threshold == pytest.approx(13.2767, abs=1e-3)
    with pytest.raises(ConfigError, match='gate_probability'):
        replace(KalmanConfig(), gate_probability=1.0)


def test_initiate_known_answer():
    cfg = KalmanConfig()
    kf = KalmanFilter(cfg)
    mean, cov = kf.initiate([100.0, 50.0, 40.0, 10.0])
    np.testing.assert_array_equal(mean, [100, 50, 40, 10, 0, 0, 0, 0])
    s = 20.0   # sqrt(40 * 10)
    np.testing.assert_allclose(np.diag(cov)[:4], (2 * cfg.std_measurement * s) ** 2)
    np.testing.assert_allclose(np.diag(cov)[4:], (cfg.std_initial_velocity * s) ** 2)
    with pytest.raises(ValueError, match='finite'):
        kf.initiate([np.nan, 0, 1, 1])


def test_predict_known_answer():
    cfg = KalmanConfig(std_position=0.5, std_velocity=2.0, size_velocity=True)
    kf = KalmanFilter(cfg)
    mean = np.array([10.0, 20.0, 4.0, 9.0, 3.0, -1.0, 0.5, 0.0])   # s = 6
    cov = np.eye(STATE_DIM)
    dt = 0.5
    m2, p2 = kf.predict(mean, cov, dt)
    np.testing.assert_allclose(m2, [11.5, 19.5, 4.25, 9.0, 3.0, -1.0, 0.5, 0.0])
    qp, qa = (0.5 * 6) ** 2, (2.0 * 6) ** 2
    # F I F^T gives 1 + dt^2 on the position diagonal, dt off-diagonal, 1 on velocity.
    assert p2[0, 0] == pytest.approx(1 + dt ** 2 + qp * dt + qa * dt ** 3 / 3)
    assert p2[0, 4] == pytest.approx(dt + qa * dt ** 2 / 2)
    assert p2[4, 4] == pytest.approx(1 + qa * dt)
    assert p2[0, 1] == 0.0


def test_without_size_velocity_the_size_is_a_random_walk():
    kf = KalmanFilter(KalmanConfig(std_position=0.5, std_velocity=2.0))
    assert not kf.cfg.size_velocity                    # the default
    mean = np.array([10.0, 20.0, 4.0, 9.0, 3.0, -1.0, 0.5, 2.0])
    cov = np.eye(STATE_DIM)
    m2, p2 = kf.predict(mean, cov, 0.5)
    np.testing.assert_allclose(m2, [11.5, 19.5, 4.0, 9.0, 3.0, -1.0, 0.0, 0.0])
    q = kf.process_noise(mean, 0.5)
    # The size forgets its rate and its rate's variance: only the process noise is added.
    np.testing.assert_allclose(p2[2, 2], 1.0 + q[2, 2])
    np.testing.assert_allclose(p2[6, 6], q[6, 6])
    np.testing.assert_allclose(p2[2, 6], q[2, 6])
    assert _is_spd(p2)
    # A network that reports 5 % too large on every frame: the random walk lags it by a
    # bounded amount; a size rate compounds it into a faster run-away.
    grown = {}
    for rate in (False, True):
        kf = KalmanFilter(KalmanConfig(size_velocity=rate))
        m, p = kf.initiate([100.0, 100.0, 40.0, 40.0])
        for _ in range(30):
            m, p = kf.predict(m, p, 1 / 30)
            m, p = kf.update(m, p, np.r_[m[:2], m[2:4] * 1.05], kf.measurement_noise(m))
        grown[rate] = m[2] / 40.0
    assert 1.0 < grown[False] < grown[True]


def test_std_size_sets_the_size_random_walk_alone():
    mean = np.array([10.0, 20.0, 4.0, 9.0, 3.0, -1.0, 0.5, 2.0])   # s = 6
    dt = 0.5
    same = KalmanFilter(KalmanConfig(std_position=0.5, std_size=0.5)).process_noise(mean, dt)
    low = KalmanFilter(KalmanConfig(std_position=0.5, std_size=0.1)).process_noise(mean, dt)
    qa = (KalmanConfig().std_velocity * 6) ** 2
    assert low[2, 2] == pytest.approx((0.1 * 6) ** 2 * dt + qa * dt ** 3 / 3)
    assert same[2, 2] == pytest.approx((0.5 * 6) ** 2 * dt + qa * dt ** 3 / 3)
    # Only the size axes' random walk changes; position and the rates keep their noise.
    keep = np.ones_like(low, dtype=bool)
    keep[2, 2] = keep[3, 3] = False
    np.testing.assert_array_equal(low[keep], same[keep])
    # A size measurement that jitters +-10 % frame to frame: a lower size noise smooths it
    # more, while the position follows its measurements the same way.
    spread = {}
    for std_size in (0.5, 0.05):
        kf = KalmanFilter(KalmanConfig(std_size=std_size))
        m, p = kf.initiate([100.0, 100.0, 40.0, 40.0])
        sizes = []
        for i in range(60):
            m, p = kf.predict(m, p, 1 / 30)
            z = np.r_[100.0, 100.0, np.full(2, 40.0 * (1.1 if i % 2 else 0.9))]
            m, p = kf.update(m, p, z, kf.measurement_noise(m))
            sizes.append(m[2])
        spread[std_size] = np.std(sizes[30:])
    assert spread[0.05] < 0.5 * spread[0.5]
    with pytest.raises(ValueError, match='std_size'):
        KalmanConfig(std_size=0.0).validate()


def test_motion_floor_raises_only_the_motion_noise_of_small_boxes():
    cfg = KalmanConfig(std_position=0.5, std_velocity=2.0)
    kf = KalmanFilter(cfg)
    z = [100.0, 50.0, 4.0, 9.0]                        # s = 6
    floor = MotionFloor(position=30.0, size=12.0)
    mean, cov = kf.initiate(z, floor)
    np.testing.assert_allclose(np.diag(cov)[:4], (2 * cfg.std_measurement * 6) ** 2)
    np.testing.assert_allclose(np.diag(cov)[4:],
                               (cfg.std_initial_velocity * np.array([30, 30, 12, 12])) ** 2)
    # Q is the box-size Q with s = 30 on the position axes and s = 12 on the size axes.
    q = kf.process_noise(mean, 0.5, floor)
    ratio = np.array([30, 30, 12, 12, 30, 30, 12, 12]) / 6.0
    np.testing.assert_allclose(q, kf.process_noise(mean, 0.5) * np.outer(ratio, ratio))
    # A floor below s changes nothing.
    np.testing.assert_array_equal(kf.process_noise(mean, 0.5, MotionFloor(5.0, 5.0)),
                                  kf.process_noise(mean, 0.5))
    m2, p2 = kf.predict(mean, cov, 0.5, floor)
    np.testing.assert_allclose(p2, kf.predict(mean, cov, 0.5)[1] - kf.process_noise(mean, 0.5)
                               + q)
    # Past max_dt the re-seeded velocity takes the floors too.
    _, p_big = kf.predict(mean, cov, 10.0, floor)
    np.testing.assert_allclose(np.diag(p_big)[4:], kf.initial_velocity_var([30, 30, 12, 12]))
    # The tracker's floors: min_motion_scale / min_size_motion_scale of the shorter side.
    cfg2 = KalmanConfig(min_motion_scale=0.25, min_size_motion_scale=0.1)
    assert KalmanFilter(cfg2).motion_floor(240, 320) == MotionFloor(60.0, 24.0)
    # The measurement noise stays on the box's own scale.
    np.testing.assert_allclose(np.diag(kf.measurement_noise(mean)), (cfg.std_measurement * 6) ** 2)


def test_update_known_answer_scalar_case():
    # With diagonal P and R and no cross terms, each position component is a
    # scalar Kalman update: m' = m + p/(p+r) (z-m), p' = p r / (p + r).
    kf = KalmanFilter(KalmanConfig())
    mean = np.array([0.0, 0.0, 10.0, 10.0, 0, 0, 0, 0])
    cov = np.diag([4.0, 4.0, 4.0, 4.0, 1.0, 1.0, 1.0, 1.0])
    r = np.diag([1.0, 4.0, 1.0, 4.0])
    m2, p2 = kf.update(mean, cov, [5.0, 5.0, 10.0, 10.0], r)
    np.testing.assert_allclose(m2[:4], [4.0, 2.5, 10.0, 10.0])
    np.testing.assert_allclose(np.diag(p2)[:4], [0.8, 2.0, 0.8, 2.0])
    np.testing.assert_allclose(m2[4:], 0.0)


def test_dt_edge_cases():
    kf = KalmanFilter(KalmanConfig(max_dt=0.5))
    mean, cov = kf.initiate([50.0, 50.0, 10.0, 10.0])
    mean[4:6] = [20.0, -10.0]
    # dt = 0: identity, and the result does not alias the input.
    m0, p0 = kf.predict(mean, cov, 0.0)
    np.testing.assert_array_equal(m0, mean)
    np.testing.assert_array_equal(p0, cov)
    m0[0] = -1
    assert mean[0] == 50.0
    for bad in (-0.01, float('nan'), float('inf')):
        with pytest.raises(ValueError, match='dt'):
            kf.predict(mean, cov, bad)
    # dt > max_dt: no extrapolation, velocity reset to zero with initial variance.
    m_big, p_big = kf.predict(mean, cov, 10.0)
    np.testing.assert_array_equal(m_big[:4], mean[:4])
    np.testing.assert_array_equal(m_big[4:], 0.0)
    np.testing.assert_allclose(np.diag(p_big)[4:], kf.initial_velocity_var([10.0] * 4))
    assert np.all(np.diag(p_big)[:4] > np.diag(cov)[:4])
    np.testing.assert_array_equal(p_big[:4, 4:], 0.0)
    assert _is_spd(p_big)
    # Just under max_dt is an ordinary constant-velocity step.
    m_ok, _ = kf.predict(mean, cov, 0.5)
    assert m_ok[0] == pytest.approx(60.0)


def test_measurement_noise_from_log_var():
    cfg = KalmanConfig(std_measurement=0.1, uncertainty_scale=2.0)
    kf = KalmanFilter(cfg)
    mean = np.array([0, 0, 10.0, 10.0, 0, 0, 0, 0])
    base = (0.1 * 10) ** 2
    np.testing.assert_allclose(np.diag(kf.measurement_noise(mean)), base)
    lv = np.log([1e-4, 4e-4, 1e-4, 1e-4])
    r = kf.measurement_noise(mean, lv, scale_px=200.0)
    np.testing.assert_allclose(np.diag(r), base + 2.0 * np.exp(lv) * 200.0 ** 2)
    # uncertainty_scale 0 ignores the model.
    kf0 = KalmanFilter(KalmanConfig(uncertainty_scale=0.0))
    np.testing.assert_allclose(kf0.measurement_noise(mean, lv, 200.0),
                               kf0.measurement_noise(mean))
    with pytest.raises(ValueError, match='log_var'):
        kf.measurement_noise(mean, [np.nan, 0, 0, 0], 1.0)
    # Extreme log_var is clamped, never inf.
    assert np.all(np.isfinite(kf.measurement_noise(mean, [1e6] * 4, 1.0)))


def test_gating_rejects_far_outlier_and_accepts_near():
    kf = KalmanFilter(KalmanConfig())
    mean, cov = kf.initiate([100.0, 100.0, 20.0, 20.0])
    mean, cov = kf.predict(mean, cov, 1 / 30)
    r = kf.measurement_noise(mean)
    near = kf.gating_distance(mean, cov, [101.0, 99.0, 20.5, 19.5], r)
    far = kf.gating_distance(mean, cov, [300.0, 100.0, 20.0, 20.0], r)
    assert kf.gate(near)
    assert not kf.gate(far)
    assert far > 100 * kf.gate_threshold


def _simulate_nees(cfg, runs, steps, dt, seed):
    """Monte Carlo NEES of the filter against trajectories drawn from its own model."""
    rng = np.random.default_rng(seed)
    kf = KalmanFilter(cfg)
    nees = np.zeros((runs, steps))
    for r in range(runs):
        truth = np.array([200.0, 150.0, 60.0, 40.0, 30.0, -20.0, 1.0, -0.5])
        r_mat = kf.measurement_noise(truth)
        z0 = truth[:4] + rng.multivariate_normal(np.zeros(4), r_mat)
        mean, cov = kf.initiate(z0)
        # Start the truth from the filter's own prior so the first step is consistent.
        truth = mean + rng.multivariate_normal(np.zeros(STATE_DIM), cov)
        for k in range(steps):
            q = kf.process_noise(truth, dt)
            truth = truth.copy()
            truth[:4] += dt * truth[4:]
            truth = truth + rng.multivariate_normal(np.zeros(STATE_DIM), q)
            r_mat = kf.measurement_noise(truth)
            z = truth[:4] + rng.multivariate_normal(np.zeros(4), r_mat)
            mean, cov = kf.predict(mean, cov, dt)
            mean, cov = kf.update(mean, cov, z, kf.measurement_noise(mean))
            err = truth - mean
            nees[r, k] = err @ np.linalg.solve(cov, err)
    return nees


def test_nees_inside_chi2_band():
    # The simulated truth moves at constant velocity on all four axes.
    cfg = KalmanConfig(std_position=0.1, std_velocity=0.3, size_velocity=True)
    runs, steps = 40, 60
    nees = _simulate_nees(cfg, runs, steps, dt=1 / 30, seed=7)
    # Average over runs at each step: runs * mean ~ chi2(runs * 8).
    lo = kalman.chi2_quantile(0.025, runs * STATE_DIM) / runs
    hi = kalman.chi2_quantile(0.975, runs * STATE_DIM) / runs
    avg = nees.mean(axis=0)
    inside = np.mean((avg >= lo) & (avg <= hi))
    assert inside >= 0.85, (inside, lo, hi, avg.min(), avg.max())
    assert 7.0 < nees.mean() < 9.0


def test_covariance_symmetric_pd_after_1000_steps():
    kf = KalmanFilter(KalmanConfig())
    rng = np.random.default_rng(3)
    mean, cov = kf.initiate([320.0, 240.0, 50.0, 30.0])
    for k in range(1000):
        dt = float(rng.choice([1 / 60, 1 / 30, 0.1, 0.0, 2.0]))
        mean, cov = kf.predict(mean, cov, dt)
        if k % 7 != 3:   # some coasting steps in between
            z = mean[:4] + rng.normal(0, 1, 4)
            z[2:] = np.maximum(z[2:], 5.0)
            lv = rng.uniform(-12, -2, 4)
            mean, cov = kf.update(mean, cov, z, kf.measurement_noise(mean, lv, 256.0))
        assert np.array_equal(cov, cov.T)
    assert _is_spd(cov)
    assert np.all(np.isfinite(mean))


def test_bad_inputs():
    kf = KalmanFilter(KalmanConfig())
    mean, cov = kf.initiate([1.0, 1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match='state'):
        kf.predict(mean[:4], cov, 0.1)
    with pytest.raises(ValueError, match='measurement'):
        kf.update(mean, cov, [1.0, np.inf, 2, 2], np.eye(4))
    with pytest.raises(ValueError, match='positive definite'):
        kf.update(mean, np.zeros((8, 8)), [1.0, 1, 2, 2], -np.eye(4))
