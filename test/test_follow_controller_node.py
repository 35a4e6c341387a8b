# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""follow_controller as a real process over DDS, fed by this test in place of the tracker.

Signs and gains of the setpoints from offsets and from bearings, hold on idle, on lost after
lost_timeout and on stale input (watchdog), bad inputs ignored, runtime parameters validated
on set, a bad start-up parameter refused with exit code 2, and a zero command on SIGINT.
"""

import collections
import math
import threading
import time

from geometry_msgs.msg import Vector3Stamped
import pytest
from rcl_interfaces.srv import SetParameters
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String
from vil_tracker_ros.ros.processes import ModuleProcess, wait_for

MODULE = 'vil_tracker_ros.ros.follow_controller'
HFOV, VFOV = 1.0, 0.8
KP = 2.0


class Feeder:
    """Plays the tracker: publishes status/offset/bearing and records the controller."""

    def __init__(self):
        self.context = rclpy.context.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('follow_test_feeder', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.lock = threading.Lock()
        self.rates = collections.deque(maxlen=2000)
        self.states = []
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        n = self.node
        self.status_pub = n.create_publisher(String, '/vil_tracker/status', latched)
        self.offset_pub = n.create_publisher(Vector3Stamped, '/vil_tracker/target_offset', 10)
        self.bearing_pub = n.create_publisher(Vector3Stamped, '/vil_tracker/target_bearing', 10)
        self.attitude_pub = n.create_publisher(Vector3Stamped, '/gimbal_attitude', 10)
        n.create_subscription(Vector3Stamped, '/follow_controller/gimbal_rate', self._on_rate,
                              50)
        n.create_subscription(String, '/follow_controller/state', self._on_state, latched)
        self.params = n.create_client(SetParameters, '/follow_controller/set_parameters')
        self.feed = None            # ('offset' | 'bearing' | 'both', x, y) published at 20 Hz
        self.attitude = None        # (yaw rate, pitch rate): a gimbal turning at these rates
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._spin, daemon=True),
                         threading.Thread(target=self._publish_loop, daemon=True)]
        for t in self._threads:
            t.start()

    def _spin(self):
        while self.context.ok() and not self._stop.is_set():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # noqa: B902  context shut down under us
                return

    def _msg(self, x, y, z):
        msg = Vector3Stamped()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.vector.x, msg.vector.y, msg.vector.z = x, y, z
        return msg

    def _publish_loop(self):
        start = time.monotonic()
        while not self._stop.is_set():
            attitude = self.attitude
            if attitude is not None:      # reported just before the measurement, as a gimbal
                t = time.monotonic() - start
                self.attitude_pub.publish(self._msg(0.0, attitude[1] * t, attitude[0] * t))
            feed = self.feed
            if feed is not None:
                kind, x, y = feed
                if kind in ('offset', 'both'):
                    self.offset_pub.publish(self._msg(x, y, 0.02))
                if kind in ('bearing', 'both'):
                    ray = [math.tan(x), math.tan(y), 1.0]
                    norm = math.sqrt(sum(c * c for c in ray))
                    self.bearing_pub.publish(self._msg(*(c / norm for c in ray)))
            time.sleep(0.05)

    def _on_rate(self, msg):
        with self.lock:
            self.rates.append((time.monotonic(), msg.vector.y, msg.vector.z))

    def _on_state(self, msg):
        with self.lock:
            self.states.append(msg.data)

    def status(self, text):
        self.status_pub.publish(String(data=text))

    def state(self):
        with self.lock:
            return self.states[-1] if self.states else None

    def recent(self, seconds):
        """(pitch, yaw) setpoints received in the last ``seconds``."""
        now = time.monotonic()
        with self.lock:
            return [(p, y) for t, p, y in self.rates if now - t <= seconds]

    def wait_state(self, state, timeout=10.0):
        wait_for(lambda: self.state() == state, timeout, f'controller state {state}')
        time.sleep(0.3)                       # a few setpoints in the new state

    def set_params(self, **values):
        wait_for(self.params.service_is_ready, 10, 'set_parameters')
        request = SetParameters.Request(parameters=[
            Parameter(k, value=v).to_parameter_msg() for k, v in values.items()])
        done = threading.Event()
        future = self.params.call_async(request)
        future.add_done_callback(lambda _: done.set())
        assert done.wait(10), 'set_parameters did not answer'
        return future.result().results

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


@pytest.fixture(scope='module')
def system():
    proc = ModuleProcess(MODULE, {'kp': KP, 'ki': 0.0, 'deadzone': 0.0, 'max_accel': 0.0,
                                  'lost_timeout': 0.5, 'stale_timeout': 0.5, 'hfov': HFOV,
                                  'vfov': VFOV, 'rate_hz': 40.0}).start()
    feeder = Feeder()
    try:
        wait_for(lambda: feeder.state() is not None, 30, 'the controller')
        yield proc, feeder
    finally:
        feeder.close()
        code = proc.stop()
        print(f'--- follow_controller log (exit {code}) ---\n{proc.log()[-3000:]}')


def _all_zero(values):
    return values and all(p == 0.0 and y == 0.0 for p, y in values)


def test_holds_without_status_then_on_idle(system):
    _, feeder = system
    assert feeder.state() == 'hold:no_status'
    wait_for(lambda: len(feeder.recent(0.5)) > 5, 10, 'setpoints')
    assert _all_zero(feeder.recent(0.5))
    feeder.status('idle')
    feeder.feed = ('offset', 0.5, 0.5)
    feeder.wait_state('hold:idle')
    assert _all_zero(feeder.recent(0.3))


def test_offset_right_and_up_pans_right_and_tilts_up(system):
    _, feeder = system
    feeder.feed = ('offset', 0.5, -0.25)
    feeder.status('tracking')
    feeder.wait_state('following')
    pitch, yaw = feeder.recent(0.2)[-1]
    assert yaw == pytest.approx(KP * math.atan(0.5 * math.tan(HFOV / 2)), rel=1e-6)
    assert pitch == pytest.approx(KP * math.atan(0.25 * math.tan(VFOV / 2)), rel=1e-6)


def test_bearing_takes_precedence_over_the_offset(system):
    _, feeder = system
    feeder.feed = ('both', -0.1, 0.05)     # bearing angles; the offset says the same sign
    wait_for(lambda: feeder.recent(0.1) and feeder.recent(0.1)[-1][1] < 0, 10,
             'a negative yaw rate')
    time.sleep(0.3)
    pitch, yaw = feeder.recent(0.1)[-1]
    assert yaw == pytest.approx(KP * -0.1, rel=1e-3)
    assert pitch == pytest.approx(-KP * math.atan2(math.tan(0.05),
                                                   math.hypot(math.tan(-0.1), 1.0)), rel=1e-3)


def test_gimbal_attitude_turns_on_the_feedforward(system):
    """Target on the axis while the gimbal turns: the target moves with the camera, so the
    command is the feedforward alone, the gimbal's rate; without attitude it is off again."""
    proc, feeder = system
    feeder.feed = ('bearing', 0.0, 0.0)
    feeder.status('tracking')
    feeder.attitude = (0.2, -0.1)
    wait_for(lambda: feeder.recent(0.1) and feeder.recent(0.1)[-1][1] > 0.18, 10,
             'the feedforward yaw rate')
    time.sleep(1.5)                        # the 0.5 s low-pass has settled
    pitch, yaw = feeder.recent(0.1)[-1]
    assert yaw == pytest.approx(0.2, rel=0.05)
    assert pitch == pytest.approx(-0.1, rel=0.05)
    assert 'feedforward on' in proc.log()
    warned = proc.log().count('feedforward off: no gimbal_attitude')
    feeder.attitude = None
    wait_for(lambda: feeder.recent(0.1) and feeder.recent(0.1)[-1] == (0.0, 0.0), 10,
             'the feedforward off')
    wait_for(lambda: proc.log().count('feedforward off: no gimbal_attitude') > warned, 5,
             'the feedforward-off warning')


def test_bad_inputs_are_ignored_and_the_watchdog_holds(system):
    proc, feeder = system
    feeder.feed = ('offset', math.nan, 0.0)
    feeder.wait_state('hold:stale')
    assert _all_zero(feeder.recent(0.3))
    feeder.feed = ('offset', 3.0, 0.0)     # outside [-1, 1]
    time.sleep(1.0)
    assert feeder.state() == 'hold:stale' and proc.alive()
    assert 'ignored' in proc.log()
    feeder.feed = ('offset', 0.2, 0.0)
    feeder.wait_state('following')
    feeder.feed = None                     # the tracker stops publishing
    feeder.wait_state('hold:stale')
    assert _all_zero(feeder.recent(0.3))


def test_lost_holds_after_the_lost_timeout(system):
    _, feeder = system
    feeder.feed = ('offset', 0.2, 0.0)
    feeder.wait_state('following')
    feeder.status('lost')
    t0 = time.monotonic()
    feeder.wait_state('hold:lost')
    assert time.monotonic() - t0 >= 0.5    # not before lost_timeout
    assert _all_zero(feeder.recent(0.3))
    feeder.status('tracking')
    feeder.wait_state('following')


def test_runtime_parameters_are_validated(system):
    _, feeder = system
    feeder.feed = ('offset', 0.5, 0.0)
    feeder.status('tracking')
    feeder.wait_state('following')
    bad = feeder.set_params(max_rate=0.0)[0]
    assert not bad.successful and 'max_rate' in bad.reason
    assert not feeder.set_params(rate_hz=10.0)[0].successful       # read-only
    assert feeder.set_params(kp=1.0)[0].successful
    expected = 1.0 * math.atan(0.5 * math.tan(HFOV / 2))
    wait_for(lambda: abs(feeder.recent(0.1)[-1][1] - expected) < 1e-6, 10, 'the new gain')
    assert feeder.set_params(max_rate=0.1)[0].successful
    wait_for(lambda: feeder.recent(0.1)[-1][1] == pytest.approx(0.1), 10, 'the rate limit')


def test_sigint_sends_a_zero_command_and_exits_0(system):
    proc, feeder = system
    feeder.feed = ('offset', 0.5, 0.0)
    feeder.status('tracking')
    wait_for(lambda: feeder.recent(0.1) and feeder.recent(0.1)[-1][1] > 0, 10, 'motion')
    assert proc.stop() == 0
    # The node waits for our acknowledgement before it exits; our spin thread may still be
    # behind on a loaded machine, so give the callback a bounded time to run.
    wait_for(lambda: feeder.recent(10.0)[-1] == (0.0, 0.0), 5, 'the zero command on exit')


def test_bad_start_parameter_exits_2_with_the_reason():
    proc = ModuleProcess(MODULE, {'stale_timeout': 0.0}).start()
    try:
        code = proc.proc.wait(timeout=60)
    finally:
        proc.stop()
    assert code == 2
    assert 'stale_timeout must be a finite number > 0' in proc.log()
