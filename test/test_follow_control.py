# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The ROS-free follow-controller math and the gimbal camera simulator."""

import math

import numpy as np
import pytest
from vil_tracker_ros.control.feedforward import EXTRAPOLATE_S, RateFeedforward
from vil_tracker_ros.control.follow import apply_deadzone, AxisPid, bearing_to_angles
from vil_tracker_ros.control.follow import FollowConfig, FollowController, offset_to_angles
from vil_tracker_ros.control.gimbal_sim import GimbalCamera, RateCommands, SimConfig, TargetPath


def _following(cfg=FollowConfig(), status='tracking'):
    ctl = FollowController(cfg)
    ctl.set_status(status, 0.0)
    return ctl


def test_signs_target_right_and_below_pans_right_and_tilts_down():
    ctl = _following(FollowConfig(ki=0.0, max_accel=0.0, deadzone=0.0))
    yaw, pitch = offset_to_angles(0.5, 0.5, math.radians(60), math.radians(45))
    assert yaw > 0 and pitch < 0
    ctl.set_error(yaw, pitch, stamp=0.0, now=0.0)
    cmd = ctl.step(0.01)
    assert not cmd.holding
    assert cmd.yaw_rate == pytest.approx(FollowConfig().kp * yaw)
    assert cmd.pitch_rate == pytest.approx(FollowConfig().kp * pitch)


def test_offset_and_bearing_give_the_same_angles_for_a_pinhole_camera():
    hfov, vfov = math.radians(60), 2 * math.atan(120 / 277.0)
    x, y = 0.3, -0.4
    f = 160 / math.tan(hfov / 2)
    ray = np.array([x * 160 / f, y * 120 / 277.0, 1.0])
    ray /= np.linalg.norm(ray)
    yaw_o, _ = offset_to_angles(x, y, hfov, vfov)
    yaw_b, pitch_b = bearing_to_angles(*ray)
    assert yaw_b == pytest.approx(yaw_o, abs=1e-9)
    assert pitch_b > 0                        # the target is above the centre: tilt up
    assert bearing_to_angles(0.0, 0.0, 1.0) == (0.0, 0.0)


def test_deadzone_is_continuous():
    assert apply_deadzone(0.005, 0.01) == 0.0
    assert apply_deadzone(-0.01, 0.01) == 0.0
    assert apply_deadzone(0.03, 0.01) == pytest.approx(0.02)
    assert apply_deadzone(-0.03, 0.01) == pytest.approx(-0.02)


def test_pid_integral_is_clamped_and_derivative_uses_dt():
    pid = AxisPid(kp=1.0, ki=2.0, kd=0.5, integral_limit=0.1)
    assert pid.update(0.2, None) == pytest.approx(0.2)        # first sample: P only
    out = pid.update(0.4, 0.1)
    assert out == pytest.approx(0.4 + 2.0 * 0.04 + 0.5 * (0.2 / 0.1))
    for _ in range(100):
        out = pid.update(1.0, 0.1)
    assert pid.ki * pid.integral == pytest.approx(0.1)        # anti-windup
    assert out == pytest.approx(1.0 + 0.1)


def test_rate_and_acceleration_limits():
    ctl = _following(FollowConfig(kp=10.0, ki=0.0, max_rate=0.5, max_accel=2.0, deadzone=0.0))
    ctl.set_error(1.0, -1.0, 0.0, 0.0)
    first = ctl.step(0.0)
    assert first.yaw_rate == 0.0                              # no dt yet: slew from 0
    rates = []
    for i in range(1, 40):
        ctl.set_error(1.0, -1.0, i * 0.01, i * 0.01)
        rates.append(ctl.step(i * 0.01))
    steps = np.diff([0.0] + [c.yaw_rate for c in rates])
    assert np.all(steps <= 2.0 * 0.01 + 1e-12)
    assert rates[-1].yaw_rate == pytest.approx(0.5) and rates[-1].pitch_rate == pytest.approx(-0.5)


def test_holds_while_idle_and_without_status_or_input():
    ctl = FollowController(FollowConfig())
    assert ctl.step(0.0).hold_reason == 'no_status'
    ctl.set_status('idle', 0.0)
    ctl.set_error(0.3, 0.0, 0.0, 0.0)
    assert ctl.step(0.1) == (0.0, 0.0, 'idle')
    ctl = _following()
    assert ctl.step(0.0).hold_reason == 'no_input'


def test_lost_timeout_then_hold_and_recovery_restarts_the_integrator():
    cfg = FollowConfig(kp=1.0, ki=1.0, max_accel=0.0, deadzone=0.0, lost_timeout=0.5,
                       stale_timeout=10.0)
    ctl = _following(cfg)
    for i in range(20):
        ctl.set_error(0.2, 0.0, i * 0.05, i * 0.05)
        ctl.step(i * 0.05)
    ctl.set_status('lost', 1.0)
    ctl.set_error(0.2, 0.0, 1.05, 1.05)
    assert not ctl.step(1.2).holding                       # lost for 0.2 s: coast
    assert ctl.step(1.5) == (0.0, 0.0, 'lost')            # lost for 0.5 s: hold
    ctl.set_status('tracking', 1.6)
    ctl.set_error(0.2, 0.0, 1.6, 1.6)
    cmd = ctl.step(1.6)
    assert cmd.yaw_rate == pytest.approx(0.2)             # integral and dt restarted


def test_stale_watchdog_holds_when_measurements_stop():
    ctl = _following(FollowConfig(stale_timeout=0.3, max_accel=0.0))
    ctl.set_error(0.2, 0.1, 0.0, 0.0)
    assert not ctl.step(0.1).holding
    assert ctl.step(0.31) == (0.0, 0.0, 'stale')
    assert not ctl.set_error(math.nan, 0.0, 0.4, 0.4)   # NaN is refused, still stale
    assert ctl.step(0.5).hold_reason == 'stale'


@pytest.mark.parametrize('field,value', [('kp', -1.0), ('max_rate', 0.0), ('hfov', 4.0),
                                         ('stale_timeout', math.nan), ('deadzone', 2.0)])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        FollowConfig(**{field: value}).validate()


@pytest.mark.parametrize('deadzone,bound_px', [(0.0, 1.0), (0.01, 6.0)])
def test_closed_loop_on_the_true_error_converges_and_holds_on_idle(deadzone, bound_px):
    """The controller alone against the simulator, fed the exact angle: no tracker.

    With a deadzone the error settles inside it (per axis: deadzone * focal px, so the radial
    bound is sqrt(2) * 0.01 * 277 = 3.9 px, plus a slowly decaying integral overshoot).
    """
    cam = GimbalCamera(SimConfig(path=TargetPath(amp_az=0.0, amp_el=0.0)))
    ctl = _following(FollowConfig(deadzone=deadzone))
    dt = 0.05
    errors = []
    for i in range(400):
        t = i * dt
        ex, ey = cam.true_error_px(t)
        f = cam.cfg.focal_px
        ctl.set_error(*bearing_to_angles(ex / f, ey / f, 1.0), t, t)
        cmd = ctl.step(t)
        cam.integrate(cmd.yaw_rate, cmd.pitch_rate, dt)
        errors.append(math.hypot(ex, ey))
    assert errors[0] > 30
    assert max(errors[-100:]) < bound_px
    ctl.set_status('idle', 20.0)
    assert ctl.step(20.0) == (0.0, 0.0, 'idle')


def test_simulator_renders_the_target_at_its_projection():
    cam = GimbalCamera(SimConfig(path=TargetPath(az0=0.0, el0=0.0, amp_az=0.0, amp_el=0.0)))
    frame, box = cam.render(0.0)
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    x, y, w, h = box
    assert x + w / 2 == pytest.approx(160, abs=1) and y + h / 2 == pytest.approx(120, abs=1)
    cam.integrate(math.radians(10), 0.0, 1.0)            # pan right 10 deg: target moves left
    _, box = cam.render(0.0)
    assert box[0] + box[2] / 2 == pytest.approx(160 - 277 * math.tan(math.radians(10)), abs=1.5)
    cam.integrate(0.0, math.radians(5), 1.0)             # tilt up: target moves down
    ex, ey = cam.true_error_px(0.0)
    assert ey > 20
    cam.integrate(100.0, 100.0, 1.0)                     # limits
    assert cam.yaw == cam.cfg.max_yaw and cam.pitch == cam.cfg.max_pitch
    cam.visible = False
    assert cam.render(0.0)[1] is None


# ---------------------------------------------------------------- feedforward


def test_attitude_is_interpolated_and_briefly_extrapolated():
    ff = RateFeedforward(tau=0.5, max_interval=0.5)
    assert ff.attitude_at(1.0) is None
    ff.record_attitude(1.0, 0.10, -0.20)
    ff.record_attitude(1.2, 0.30, -0.10)
    assert ff.attitude_at(1.1) == pytest.approx((0.20, -0.15))
    assert ff.attitude_at(1.25) == pytest.approx((0.35, -0.075))    # 50 ms past the newest
    assert ff.attitude_at(1.2 + EXTRAPOLATE_S + 0.01) is None
    assert ff.attitude_at(0.9) is None
    ff.record_attitude(1.1, 9.0, 9.0)                               # out of order: ignored
    assert ff.attitude_at(1.1) == pytest.approx((0.20, -0.15))


def test_feedforward_estimates_the_targets_world_rate():
    """Camera turning at 0.1 rad/s, target drifting in the image at 0.02 rad/s: 0.12 rad/s."""
    ff = RateFeedforward(tau=0.5, max_interval=0.5)
    for i in range(60):                         # 3 s at 20 Hz
        t = i * 0.05
        ff.record_attitude(t, 0.1 * t, -0.05 * t)
        ff.update(t, 0.02 * t, 0.01 * t)
    assert ff.aligned
    assert ff.rate == pytest.approx((0.12, -0.04), rel=0.01)


def test_feedforward_without_attitude_is_zero_and_says_so():
    ff = RateFeedforward(tau=0.5, max_interval=0.5)
    for i in range(10):
        ff.record_attitude(i * 0.05, 0.1 * i * 0.05, 0.0)
        ff.update(i * 0.05, 0.0, 0.0)
    assert ff.rate[0] > 0.05
    ff.update(5.0, 0.0, 0.0)                    # no attitude around t = 5 s (clocks differ)
    assert not ff.aligned and ff.rate == (0.0, 0.0)


def test_feedforward_ignores_out_of_order_and_restarts_after_a_gap():
    ff = RateFeedforward(tau=0.5, max_interval=0.5)
    for i in range(40):
        ff.record_attitude(i * 0.05, 0.2 * i * 0.05, 0.0)
    for i in range(20):
        ff.update(i * 0.05, 0.0, 0.0)
    rate = ff.rate
    ff.update(0.5, 5.0, 5.0)                    # older than the last measurement: ignored
    assert ff.rate == rate
    ff.update(1.9, 0.0, 0.0)                    # 0.95 s gap > max_interval
    assert ff.rate == (0.0, 0.0)


def _follow_moving_target(cfg, latency=0.1, seconds=14.0):
    """Steady-state errors (px) against the simulator's moving target; the measurement of a
    frame arrives ``latency`` s later and the gimbal reports its attitude at each frame."""
    cam = GimbalCamera(SimConfig())
    f = cam.cfg.focal_px
    ctl = _following(cfg)
    step_dt = 1.0 / 60.0
    pending, errors = [], []
    rates = (0.0, 0.0)
    for i in range(int(seconds / step_dt)):
        t = i * step_dt
        cam.integrate(rates[0], rates[1], step_dt)
        if i % 4 == 0:                                   # a 15 Hz frame
            ex, ey = cam.true_error_px(t)
            errors.append((t, math.hypot(ex, ey)))
            ctl.set_attitude(t, cam.yaw, cam.pitch)
            pending.append((t + latency, t, ex, ey))
        while pending and pending[0][0] <= t + 1e-9:
            _, stamp, ex, ey = pending.pop(0)
            ctl.set_error(*bearing_to_angles(ex / f, ey / f, 1.0), stamp, t)
        cmd = ctl.step(t)
        rates = (cmd.yaw_rate, cmd.pitch_rate)
    return [e for t, e in errors if t >= seconds / 2]


def test_feedforward_removes_most_of_the_lag_on_a_moving_target():
    """The PID alone lags the 4 deg/s target by 4.5 px (no deadzone); the feedforward by 1.4.

    The deadzone adds its own 3 px to both (the PID sees nothing inside it): the feedforward
    still takes the lag part off.
    """
    pid_only = _follow_moving_target(FollowConfig(feedforward=0.0, deadzone=0.0))
    with_ff = _follow_moving_target(FollowConfig(deadzone=0.0))
    assert np.median(pid_only) > 3.5
    assert np.median(with_ff) < 0.4 * np.median(pid_only)
    assert max(with_ff) < max(pid_only)
    pid_only = _follow_moving_target(FollowConfig(feedforward=0.0))
    with_ff = _follow_moving_target(FollowConfig())
    assert np.median(with_ff) < np.median(pid_only) - 2.5
    assert max(with_ff) < max(pid_only)


def test_hold_resets_the_feedforward():
    ctl = _following(FollowConfig(ki=0.0, deadzone=0.0, max_accel=0.0))
    for i in range(60):
        t = i * 0.05
        ctl.set_attitude(t, 0.2 * t, 0.0)
        ctl.set_error(0.0, 0.0, t, t)
        ctl.step(t)
    assert ctl.step(3.0).yaw_rate == pytest.approx(0.2, rel=0.01)  # all feedforward
    ctl.set_status('idle', 3.0)
    assert ctl.step(3.05).holding
    assert ctl.feedforward.rate == (0.0, 0.0)


def test_gimbal_turns_by_each_setpoint_from_its_arrival():
    cam = GimbalCamera(SimConfig())
    commands = RateCommands(timeout=0.5, start=0.0)
    commands.command(0.05, 1.0, -0.5)           # arrives halfway through the frame interval
    commands.advance(cam, 0.1)
    assert (cam.yaw, cam.pitch) == pytest.approx((0.05, -0.025))
    commands.command(0.12, -1.0, 0.0)           # two setpoints in one interval
    commands.command(0.16, 0.0, 0.0)
    commands.advance(cam, 0.2)
    assert (cam.yaw, cam.pitch) == pytest.approx((0.05 + 0.02 - 0.04, -0.025 - 0.01))


def test_gimbal_watchdog_stops_a_stale_setpoint():
    cam = GimbalCamera(SimConfig())
    commands = RateCommands(timeout=0.5, start=0.0)
    commands.command(0.0, 0.2, 0.0)
    commands.advance(cam, 2.0)                  # no new setpoint: it counts for 0.5 s only
    assert cam.yaw == pytest.approx(0.1)
    commands.command(1.0, 5.0, 0.0)             # stamped before the last advance: from now on
    commands.advance(cam, 2.1)
    assert cam.yaw == pytest.approx(0.1 + 0.5)
