# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``follow_controller``: the tracker's target offset / bearing -> gimbal rate setpoints.

Inputs (under the ``tracker`` parameter, default ``/vil_tracker``):
``<tracker>/target_offset`` (geometry_msgs/Vector3Stamped), ``<tracker>/target_bearing``
(optional, preferred when ``use_bearing`` and it keeps arriving) and ``<tracker>/status``
(std_msgs/String, transient local), and ``gimbal_attitude`` (geometry_msgs/Vector3Stamped,
optional: y = pitch up +, z = yaw right +, rad, stamped on the camera's clock; remap it to the
gimbal's attitude to enable the feedforward, which removes most of the lag on a moving target).

Outputs, at ``rate_hz``:

* ``~/gimbal_rate`` (geometry_msgs/Vector3Stamped, frame ``frame_id``): x = roll rate (0),
  y = pitch rate (positive tilts up), z = yaw rate (positive pans right), rad/s;
* ``~/twist`` (geometry_msgs/TwistStamped, only with ``publish_twist``): a body-rate follow
  command in REP-103 FLU: angular.z = -yaw rate (positive turns left), linear.x =
  ``forward_gain`` * (``target_area`` - area ratio) while following;
* ``~/state`` (std_msgs/String, transient local, on change): ``following`` or
  ``hold:<reason>`` with reason no_status | idle | lost | no_input | stale.

The math is :mod:`vil_tracker_ros.control.follow` (no ROS). Every gain and limit is a runtime
parameter validated on set (a bad value is rejected with the reason); ``tracker``,
``rate_hz`` and ``frame_id`` are read-only. On SIGINT/SIGTERM the node sends one last zero
command and waits (up to 3.5 s) for its subscribers to acknowledge it before it exits.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from typing import Any, Dict, List, Optional

from geometry_msgs.msg import TwistStamped
from geometry_msgs.msg import Vector3Stamped
from rcl_interfaces.msg import SetParametersResult
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy
from rclpy.qos import QoSProfile
from rclpy.qos import ReliabilityPolicy
from std_msgs.msg import String
from vil_tracker_ros.control.follow import bearing_to_angles
from vil_tracker_ros.control.follow import Command
from vil_tracker_ros.control.follow import FollowConfig
from vil_tracker_ros.control.follow import FollowController
from vil_tracker_ros.control.follow import offset_to_angles
from vil_tracker_ros.ros import node_utils

NODE_NAME = 'follow_controller'
# Bounded wait for the last zero command to be acknowledged. Fast DDS acknowledges on its
# writer heartbeat (every 3 s by default), so a delivered sample may wait up to 3 s for it.
EXIT_ACK_TIMEOUT_S = 3.5

# name -> (description, lo, hi); defaults come from FollowConfig.
_GAIN_DOCS = {
    'kp': ('Proportional gain, (rad/s) per rad of angular image error.', 0.0, 50.0),
    'ki': ('Integral gain, (rad/s) per (rad s); removes the lag on a moving target.', 0.0, 50.0),
    'kd': ('Derivative gain, (rad/s) per (rad/s), on the measurement stamps.', 0.0, 10.0),
    'integral_limit': ('Largest |ki * integral| in rad/s (anti-windup).', 0.0, 10.0),
    'deadzone': ('Angular errors below this (rad) count as zero; larger ones are reduced by it.',
                 0.0, 1.5),
    'max_rate': ('Largest commanded rate per axis, rad/s (> 0).', 0.0, 20.0),
    'max_accel': ('Largest rate change per axis, rad/s^2; 0 disables the slew limit.', 0.0,
                  1000.0),
    'lost_timeout': ('Seconds of tracker status "lost" after which the controller holds '
                     '(zero rates) (> 0).', 0.0, 60.0),
    'stale_timeout': ('Seconds without a new target_offset/bearing after which the controller '
                      'holds (watchdog) (> 0).', 0.0, 60.0),
    'hfov': ('Horizontal field of view, rad, to turn the normalised offset into an angle when '
             'no bearing is used.', 0.0, math.pi),
    'vfov': ('Vertical field of view, rad (see hfov).', 0.0, math.pi),
    'feedforward': ("Share of the target's estimated angular rate added to the command (removes "
                    'the lag on a moving target); 0: PID only.', 0.0, 2.0),
    'feedforward_tau': ('Low-pass time constant of the target rate estimate, s (> 0).', 0.0,
                        10.0),
}


class FollowControllerNode(Node):
    """Closes the loop from the tracker's outputs to gimbal (and vehicle) rate setpoints."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        defaults = FollowConfig()
        values = {name: node_utils.declare(self, name, float(getattr(defaults, name)), doc,
                                           lo, hi)
                  for name, (doc, lo, hi) in _GAIN_DOCS.items()}
        self._use_bearing = node_utils.declare(
            self, 'use_bearing', True, 'Use ~/target_bearing (exact, needs CameraInfo on the '
            'tracker) instead of the offset while it keeps arriving.')
        self._publish_twist = node_utils.declare(
            self, 'publish_twist', False, 'Also publish ~/twist, a vehicle body-rate command.')
        self._forward_gain = node_utils.declare(
            self, 'forward_gain', 0.0, 'm/s of ~/twist linear.x per unit of '
            '(target_area - area ratio); 0 keeps linear.x at 0.', -100.0, 100.0)
        self._target_area = node_utils.declare(
            self, 'target_area', 0.05, 'Box area / image area to keep with forward_gain.',
            0.0, 1.0)
        tracker = node_utils.declare(self, 'tracker', '/vil_tracker',
                                     'Tracker node whose outputs are followed (topic prefix).',
                                     read_only=True)
        rate_hz = node_utils.declare(self, 'rate_hz', 30.0, 'Setpoint output rate, Hz.', 1.0,
                                     500.0, read_only=True)
        self._frame_id = node_utils.declare(self, 'frame_id', 'gimbal',
                                            'frame_id of the setpoint headers.', read_only=True)
        try:
            cfg = FollowConfig(**values).validate()
        except ValueError as err:
            raise node_utils.ParameterProblem(f'bad follow_controller parameters: {err}')
        self._controller = FollowController(cfg)
        self._area: Optional[float] = None
        self._bearing_at: Optional[float] = None
        self._state = ''
        self._feedforward_active: Optional[bool] = None
        self.add_on_set_parameters_callback(self._on_set_parameters)

        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        tracker = tracker.rstrip('/')
        self.create_subscription(String, f'{tracker}/status', self._on_status, latched)
        self.create_subscription(Vector3Stamped, f'{tracker}/target_offset', self._on_offset, 10)
        self.create_subscription(Vector3Stamped, f'{tracker}/target_bearing', self._on_bearing,
                                 10)
        self.create_subscription(Vector3Stamped, 'gimbal_attitude', self._on_attitude, 50)
        self._rate_pub = self.create_publisher(Vector3Stamped, '~/gimbal_rate', 10)
        self._twist_pub = self.create_publisher(TwistStamped, '~/twist', 10)
        self._state_pub = self.create_publisher(String, '~/state', latched)
        self.create_timer(1.0 / rate_hz, self._tick)
        self.get_logger().info(f'following {tracker} at {rate_hz:g} Hz: {cfg}')

    # ------------------------------------------------------------------ inputs

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    @staticmethod
    def _stamp(msg: Vector3Stamped) -> float:
        return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9

    def _on_status(self, msg: String) -> None:
        if msg.data not in ('idle', 'tracking', 'lost'):
            self.get_logger().warning(f'unknown tracker status {msg.data!r}: holding')
        self._controller.set_status(msg.data if msg.data in ('tracking', 'lost') else 'idle',
                                    self._now())

    def _bearing_fresh(self, now: float) -> bool:
        return (self._use_bearing and self._bearing_at is not None
                and now - self._bearing_at < self._controller.cfg.stale_timeout)

    def _on_offset(self, msg: Vector3Stamped) -> None:
        v = msg.vector
        if not all(math.isfinite(c) for c in (v.x, v.y, v.z)) or abs(v.x) > 1 or abs(v.y) > 1:
            self.get_logger().warning(f'target_offset ({v.x}, {v.y}, {v.z}) ignored: not finite '
                                      'or outside [-1, 1]', throttle_duration_sec=2.0)
            return
        self._area = float(v.z)
        now = self._now()
        if self._bearing_fresh(now):
            return
        cfg = self._controller.cfg
        yaw, pitch = offset_to_angles(v.x, v.y, cfg.hfov, cfg.vfov)
        self._controller.set_error(yaw, pitch, self._stamp(msg), now)
        self._report_feedforward()

    def _on_bearing(self, msg: Vector3Stamped) -> None:
        if not self._use_bearing:
            return
        v = msg.vector
        norm = math.sqrt(v.x * v.x + v.y * v.y + v.z * v.z)
        if not math.isfinite(norm) or norm < 1e-9 or v.z <= 0:
            self.get_logger().warning(f'target_bearing ({v.x}, {v.y}, {v.z}) ignored: not a ray '
                                      'in front of the camera', throttle_duration_sec=2.0)
            return
        now = self._now()
        self._bearing_at = now
        yaw, pitch = bearing_to_angles(v.x, v.y, v.z)
        self._controller.set_error(yaw, pitch, self._stamp(msg), now)
        self._report_feedforward()

    # ----------------------------------------------------------------- outputs

    def _on_attitude(self, msg: Vector3Stamped) -> None:
        self._controller.set_attitude(self._stamp(msg), float(msg.vector.z), float(msg.vector.y))

    def _report_feedforward(self) -> None:
        active = self._controller.feedforward.aligned and self._controller.cfg.feedforward > 0
        if active != self._feedforward_active:
            self._feedforward_active = active
            if active:
                self.get_logger().info('feedforward on: gimbal_attitude covers the measurements')
            elif self._controller.cfg.feedforward > 0:
                self.get_logger().warning(
                    'feedforward off: no gimbal_attitude report around the measurement stamps '
                    "(topic not remapped to the gimbal, or its clock differs from the camera's); "
                    'following on the PID alone')

    def _tick(self) -> None:
        self._publish(self._controller.step(self._now()))

    def _publish(self, cmd: Command) -> None:
        stamp = self.get_clock().now().to_msg()
        rate = Vector3Stamped()
        rate.header.stamp = stamp
        rate.header.frame_id = self._frame_id
        rate.vector.y = float(cmd.pitch_rate)
        rate.vector.z = float(cmd.yaw_rate)
        self._rate_pub.publish(rate)
        if self._publish_twist:
            twist = TwistStamped()
            twist.header.stamp = stamp
            twist.header.frame_id = 'base_link'
            twist.twist.angular.z = -float(cmd.yaw_rate)
            if not cmd.holding and self._area is not None and self._forward_gain != 0.0:
                twist.twist.linear.x = float(self._forward_gain
                                             * (self._target_area - self._area))
            self._twist_pub.publish(twist)
        state = 'hold:' + cmd.hold_reason if cmd.holding else 'following'
        if state != self._state:
            self._state = state
            self._state_pub.publish(String(data=state))
            self.get_logger().info(f'state: {state}')

    def on_exit(self) -> None:
        """Leave the gimbal still: one zero command on shutdown, delivered before we go.

        Publishing is asynchronous in the DDS layer: destroying the node right after it can
        drop the sample, so wait (bounded) for every reliable subscriber to acknowledge it.
        """
        self._publish(Command(0.0, 0.0, 'shutdown'))
        timeout = Duration(seconds=EXIT_ACK_TIMEOUT_S)
        pubs = [self._rate_pub] + ([self._twist_pub] if self._publish_twist else [])
        if not all(pub.wait_for_all_acked(timeout) for pub in pubs):
            self.get_logger().warning(
                f'the zero command on exit was not acknowledged within {EXIT_ACK_TIMEOUT_S} s '
                'by every subscriber')

    # -------------------------------------------------------------- parameters

    def _on_set_parameters(self, params: List[Any]) -> SetParametersResult:
        changes: Dict[str, Any] = {}
        for p in params:
            if p.name in _GAIN_DOCS:
                changes[p.name] = float(p.value)
            elif p.name in ('use_bearing', 'publish_twist'):
                if not isinstance(p.value, bool):
                    return SetParametersResult(successful=False, reason=f'{p.name} is a bool')
            elif p.name not in ('forward_gain', 'target_area', 'use_sim_time'):
                return SetParametersResult(successful=False,
                                           reason=f'{p.name} cannot be changed at run time')
        if changes:
            try:
                cfg = dataclasses.replace(self._controller.cfg, **changes).validate()
            except ValueError as err:
                return SetParametersResult(successful=False, reason=str(err))
            self._controller.reconfigure(cfg)
        for p in params:
            if p.name == 'use_bearing':
                self._use_bearing = bool(p.value)
            elif p.name == 'publish_twist':
                self._publish_twist = bool(p.value)
            elif p.name == 'forward_gain':
                self._forward_gain = float(p.value)
            elif p.name == 'target_area':
                self._target_area = float(p.value)
        return SetParametersResult(successful=True)


def main(args: Optional[List[str]] = None) -> int:
    return node_utils.run(FollowControllerNode, args)


if __name__ == '__main__':
    sys.exit(main())
