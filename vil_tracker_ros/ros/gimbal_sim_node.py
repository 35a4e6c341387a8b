# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``gimbal_sim``: a simulated pan/tilt camera for closing the follow loop over DDS.

Renders :class:`vil_tracker_ros.control.gimbal_sim.GimbalCamera` at ``rate_hz`` and integrates
the rate setpoints it receives (the follow controller's ``~/gimbal_rate`` convention:
vector.y = pitch rate, positive up; vector.z = yaw rate, positive right; rad/s). Each setpoint
turns the gimbal from the moment it arrives, as a real rate loop would, not from the previous
frame; one older than ``command_timeout`` seconds counts as zero, like a real gimbal's watchdog.

Publishes (every frame, one header: the render time and ``frame_id``):

* ``image`` (sensor_msgs/Image, rgb8, reliable) and ``camera_info`` (sensor_msgs/CameraInfo,
  ideal pinhole, no distortion);
* ``~/target_truth`` (vision_msgs/Detection2D): the target's true box, only while it is in view;
* ``~/true_error`` (geometry_msgs/Vector3Stamped): x, y = the target centre's true offset from
  the image centre in pixels (right, down positive), even while hidden; z = 1 visible, 0 not;
* ``~/gimbal_state`` (geometry_msgs/Vector3Stamped): y = pitch, z = yaw angle, rad.

Service ``~/set_target_visible`` (std_srvs/SetBool) hides or shows the target.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, List, Optional

from geometry_msgs.msg import Vector3Stamped
import numpy as np
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import CameraInfo
from sensor_msgs.msg import Image
from std_srvs.srv import SetBool
from vil_tracker_ros.control.gimbal_sim import GimbalCamera
from vil_tracker_ros.control.gimbal_sim import RateCommands
from vil_tracker_ros.control.gimbal_sim import SimConfig
from vil_tracker_ros.control.gimbal_sim import TargetPath
from vil_tracker_ros.ros import node_utils
from vision_msgs.msg import Detection2D

NODE_NAME = 'gimbal_sim'


class GimbalSimNode(Node):
    """Publishes the simulated camera's frames and integrates the gimbal rate commands."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        d = node_utils.declare
        rate_hz = d(self, 'rate_hz', 15.0, 'Frame rate, Hz.', 1.0, 120.0, read_only=True)
        self._timeout = d(self, 'command_timeout', 0.5, 'A rate command older than this (s) '
                          'counts as zero.', 0.01, 10.0)
        width = d(self, 'width', 320, 'Image width, px.', 32, 4096, read_only=True)
        height = d(self, 'height', 240, 'Image height, px.', 32, 4096, read_only=True)
        hfov = d(self, 'hfov_deg', 60.0, 'Horizontal field of view, degrees.', 5.0, 120.0,
                 read_only=True)
        path = TargetPath(
            az0=math.radians(d(self, 'target_az_deg', 8.0, 'Target azimuth at t = 0 (right +), '
                               'degrees.', -60.0, 60.0, read_only=True)),
            el0=math.radians(d(self, 'target_el_deg', -8.0, 'Target elevation at t = 0 (up +), '
                               'degrees.', -30.0, 30.0, read_only=True)),
            amp_az=math.radians(d(self, 'motion_az_deg', 10.0, "Amplitude of the target's "
                                  'azimuth sine, degrees.', 0.0, 40.0, read_only=True)),
            amp_el=math.radians(d(self, 'motion_el_deg', 3.0, "Amplitude of the target's "
                                  'elevation sine, degrees.', 0.0, 20.0, read_only=True)),
            period_az=d(self, 'period_az', 16.0, 'Period of the azimuth sine, s.', 0.5, 600.0,
                        read_only=True),
            period_el=d(self, 'period_el', 11.0, 'Period of the elevation sine, s.', 0.5, 600.0,
                        read_only=True))
        self._frame_id = d(self, 'frame_id', 'sim_camera_optical', 'frame_id of the outputs.',
                           read_only=True)
        focal = width / 2.0 / math.tan(math.radians(hfov) / 2.0)
        self.camera = GimbalCamera(SimConfig(width=width, height=height, focal_px=focal,
                                             path=path))
        reliable = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE)
        self._image_pub = self.create_publisher(Image, 'image', reliable)
        self._info_pub = self.create_publisher(CameraInfo, 'camera_info', reliable)
        self._truth_pub = self.create_publisher(Detection2D, '~/target_truth', 10)
        self._error_pub = self.create_publisher(Vector3Stamped, '~/true_error', 10)
        self._state_pub = self.create_publisher(Vector3Stamped, '~/gimbal_state', 10)
        self.create_subscription(Vector3Stamped, 'gimbal_rate', self._on_rate, 10)
        self.create_service(SetBool, '~/set_target_visible', self._on_visible)
        self._t0 = time.monotonic()
        self._commands = RateCommands(self._timeout, self._t0)
        self.create_timer(1.0 / rate_hz, self._tick)
        self.get_logger().info(f'gimbal sim {width}x{height} at {rate_hz:g} Hz, focal '
                               f'{focal:.1f} px')

    def _on_rate(self, msg: Vector3Stamped) -> None:
        pitch, yaw = float(msg.vector.y), float(msg.vector.z)
        if not (math.isfinite(pitch) and math.isfinite(yaw)):
            self.get_logger().warning('gimbal_rate with NaN/inf ignored',
                                      throttle_duration_sec=2.0)
            return
        self._commands.command(time.monotonic(), yaw, pitch)

    def _on_visible(self, request: SetBool.Request, response: SetBool.Response) -> Any:
        self.camera.visible = bool(request.data)
        response.success = True
        response.message = 'target visible' if request.data else 'target hidden'
        self.get_logger().info(response.message)
        return response

    def _tick(self) -> None:
        now = time.monotonic()
        self._commands.advance(self.camera, now)
        t = now - self._t0
        frame, box = self.camera.render(t)
        image = Image(height=frame.shape[0], width=frame.shape[1], encoding='rgb8',
                      is_bigendian=0, step=frame.shape[1] * 3)
        image.data = np.ascontiguousarray(frame).tobytes()
        image.header.stamp = self.get_clock().now().to_msg()
        image.header.frame_id = self._frame_id
        header = image.header
        cam = self.camera
        info = CameraInfo(header=header, width=cam.cfg.width, height=cam.cfg.height,
                          distortion_model='plumb_bob')
        info.k = [float(v) for v in cam.camera_info_k()]
        info.d = [0.0] * 5
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        f = cam.cfg.focal_px
        info.p = [f, 0.0, cam.cx, 0.0, 0.0, f, cam.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
        self._info_pub.publish(info)
        self._image_pub.publish(image)
        error = cam.true_error_px(t)
        err = Vector3Stamped(header=header)
        if error is not None:
            err.vector.x, err.vector.y = float(error[0]), float(error[1])
        else:
            err.vector.x = err.vector.y = math.nan
        err.vector.z = 1.0 if box is not None else 0.0
        self._error_pub.publish(err)
        state = Vector3Stamped(header=header)
        state.vector.y, state.vector.z = cam.pitch, cam.yaw
        self._state_pub.publish(state)
        if box is not None:
            truth = Detection2D(header=header, id='truth')
            x, y, w, h = box
            truth.bbox.center.position.x = x + w / 2.0
            truth.bbox.center.position.y = y + h / 2.0
            truth.bbox.size_x, truth.bbox.size_y = w, h
            self._truth_pub.publish(truth)


def main(args: Optional[List[str]] = None) -> int:
    return node_utils.run(GimbalSimNode, args)


if __name__ == '__main__':
    sys.exit(main())
