# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``mavlink_bridge``: the tracker as a MAVLink camera component with tracking.

A GCS (QGroundControl) or an autopilot sends MAV_CMD_CAMERA_TRACK_RECTANGLE /
MAV_CMD_CAMERA_TRACK_POINT (normalised 0..1 image coordinates) and
MAV_CMD_CAMERA_STOP_TRACKING; this node turns them into the tracker's inputs:

* track: a stamped vision_msgs/Detection2D on ``init_bbox`` (pixels, from the latest image or
  camera_info size; stamped with the latest image's stamp, so the tracker initialises on that
  frame). A point becomes a square box: side ``2 * radius * width`` when the command's radius
  (param 3) is > 0, else ``point_box_fraction * height`` (parameter, default 0.2);
* stop: a call of the tracker's ``~/reset`` (std_srvs/Trigger); its answer decides the ACK.

It streams CAMERA_TRACKING_IMAGE_STATUS at ``status_rate_hz`` from the tracker's ``~/status``
and ``~/detection`` (NaN fields while unknown), sends HEARTBEAT as MAV_TYPE_CAMERA, and answers
MAV_CMD_REQUEST_MESSAGE for CAMERA_INFORMATION (flags HAS_TRACKING_POINT and
HAS_TRACKING_RECTANGLE). Invalid commands (NaN, outside 0..1, corners in the wrong order, no
image seen yet, tracker unreachable) get COMMAND_ACK DENIED or FAILED and a logged reason.
The MAVLink protocol itself is :mod:`vil_tracker_ros.mavlink.camera_tracking`.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy
from rclpy.qos import qos_profile_sensor_data
from rclpy.qos import QoSProfile
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import CameraInfo
from sensor_msgs.msg import Image
from std_msgs.msg import String
from std_srvs.srv import Trigger
from vil_tracker_ros.mavlink import camera_tracking as ct
from vil_tracker_ros.ros import node_utils
from vision_msgs.msg import Detection2D

NODE_NAME = 'mavlink_bridge'


class MavlinkBridgeNode(Node, ct.Handler):
    """See the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        d = node_utils.declare
        url = d(self, 'connection', 'udpin:0.0.0.0:14580',
                'pymavlink connection string: udpin:HOST:PORT (listen), udpout:HOST:PORT '
                '(send to a GCS), tcp:HOST:PORT, or a serial device such as /dev/ttyUSB0.',
                read_only=True)
        baud = d(self, 'baud', 57600, 'Serial baud rate (serial connections only).', 1200,
                 4000000, read_only=True)
        system_id = d(self, 'system_id', 1, "MAVLink system id (the vehicle's).", 1, 255,
                      read_only=True)
        component_id = d(self, 'component_id', 100, 'MAVLink component id; 100..105 are '
                         'MAV_COMP_ID_CAMERA..CAMERA6.', 1, 255, read_only=True)
        rate = d(self, 'status_rate_hz', 5.0, 'CAMERA_TRACKING_IMAGE_STATUS rate, Hz; 0 turns '
                 'the stream off (a GCS may change it with MAV_CMD_SET_MESSAGE_INTERVAL).',
                 0.0, 50.0, read_only=True)
        self._point_fraction = d(self, 'point_box_fraction', 0.2, 'Side of the box a point '
                                 'command starts (when its radius is 0), as a fraction of the '
                                 'image height.', 0.01, 1.0)
        self._reset_timeout = d(self, 'reset_timeout', 3.0, 'Seconds to wait for the '
                                "tracker's ~/reset before a stop is acknowledged FAILED.",
                                0.1, 60.0)
        self._detection_timeout = d(self, 'detection_timeout', 1.0, 'A detection older than '
                                    'this (s) is not reported (NaN fields).', 0.05, 60.0)
        tracker = d(self, 'tracker', '/vil_tracker', 'The tracker node (topic and service '
                    'prefix).', read_only=True).rstrip('/')
        use_image = d(self, 'subscribe_image', True, 'Learn the image size and stamp from '
                      '"image" (else only from camera_info).', read_only=True)

        self._lock = threading.Lock()
        self._size: Tuple[int, int] = (0, 0)
        self._stamp = None
        self._status = 'idle'
        self._mode = ''
        self._box: Optional[Tuple[float, float, float, float]] = None
        self._box_at = 0.0
        group = ReentrantCallbackGroup()
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        if use_image:
            self.create_subscription(Image, 'image', self._on_image, qos_profile_sensor_data)
        self.create_subscription(CameraInfo, 'camera_info', self._on_camera_info,
                                 qos_profile_sensor_data)
        self.create_subscription(String, f'{tracker}/status', self._on_status, latched)
        self.create_subscription(Detection2D, f'{tracker}/detection', self._on_detection, 10)
        self._init_pub = self.create_publisher(
            Detection2D, 'init_bbox', QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        self._reset = self.create_client(Trigger, f'{tracker}/reset', callback_group=group)
        self._server = ct.CameraTrackingServer(url, self, system_id=system_id,
                                               component_id=component_id, status_rate_hz=rate,
                                               baud=baud, log=self._mav_log)
        self._server.start()
        self.get_logger().info(f'MAVLink camera {system_id}/{component_id} on {url}, tracker '
                               f'{tracker}, status at {rate:g} Hz')

    # ------------------------------------------------------------------ ROS inputs

    def _on_image(self, msg: Image) -> None:
        with self._lock:
            self._size = (int(msg.width), int(msg.height))
            self._stamp = msg.header.stamp

    def _on_camera_info(self, msg: CameraInfo) -> None:
        with self._lock:
            if msg.width and msg.height:
                self._size = (int(msg.width), int(msg.height))
            if self._stamp is None or msg.header.stamp.sec or msg.header.stamp.nanosec:
                self._stamp = msg.header.stamp

    def _on_status(self, msg: String) -> None:
        with self._lock:
            self._status = msg.data
            if msg.data == 'idle':
                self._box = None

    def _on_detection(self, msg: Detection2D) -> None:
        with self._lock:
            b = msg.bbox
            self._box = (b.center.position.x - b.size_x / 2.0,
                         b.center.position.y - b.size_y / 2.0, b.size_x, b.size_y)
            self._box_at = time.monotonic()

    # ------------------------------------------------------------- ct.Handler

    def _mav_log(self, level: str, text: str) -> None:
        logger = self.get_logger()
        if level == 'info':
            logger.info(text)
        elif level == 'warn':
            logger.warning(text)
        elif level == 'error':
            logger.error(text)
        else:
            logger.debug(text)

    def resolution(self) -> Tuple[int, int]:
        with self._lock:
            return self._size

    def track(self, mode: str, params: Sequence[float]) -> str:
        with self._lock:
            width, height = self._size
            stamp = self._stamp
        if mode == 'rectangle':
            box = ct.rectangle_to_box(params, width, height)
        else:
            box = ct.point_to_box(params, width, height, self._point_fraction)
        x, y, w, h = box
        msg = Detection2D()
        if stamp is not None:
            msg.header.stamp = stamp
        msg.header.frame_id = 'mavlink'
        msg.id = 'mavlink'
        msg.bbox.center.position.x = x + w / 2.0
        msg.bbox.center.position.y = y + h / 2.0
        msg.bbox.size_x, msg.bbox.size_y = w, h
        if self._init_pub.get_subscription_count() == 0:
            raise ct.CommandRejected(ct.mav.MAV_RESULT_FAILED,
                                     f'no tracker subscribes to {self._init_pub.topic_name}')
        self._init_pub.publish(msg)
        with self._lock:
            self._mode = mode
        return (f'init box x={x:.1f} y={y:.1f} w={w:.1f} h={h:.1f} px in {width}x{height} '
                f'sent on {self._init_pub.topic_name}')

    def stop(self) -> str:
        if not self._reset.service_is_ready():
            raise ct.CommandRejected(ct.mav.MAV_RESULT_FAILED,
                                     f'tracker service {self._reset.srv_name} is not available')
        done = threading.Event()
        future = self._reset.call_async(Trigger.Request())
        future.add_done_callback(lambda _: done.set())
        if not done.wait(self._reset_timeout):
            future.cancel()
            raise ct.CommandRejected(ct.mav.MAV_RESULT_FAILED,
                                     f'{self._reset.srv_name} did not answer within '
                                     f'{self._reset_timeout:g} s')
        result = future.result()
        if result is None or not result.success:
            reason = result.message if result is not None else 'no answer'
            raise ct.CommandRejected(ct.mav.MAV_RESULT_FAILED, f'tracker refused: {reason}')
        with self._lock:
            self._mode = ''
        return f'tracker reset: {result.message}'

    def status(self) -> Dict[str, Any]:
        with self._lock:
            fresh = self._box is not None and \
                time.monotonic() - self._box_at < self._detection_timeout
            box = self._box if fresh else None
            width, height = self._size
            return ct.status_fields(self._status, self._mode or 'rectangle', box, width, height)

    def on_exit(self) -> None:
        self._server.close()


def main(args: Optional[List[str]] = None) -> int:
    return node_utils.run(MavlinkBridgeNode, args)


if __name__ == '__main__':
    sys.exit(main())
