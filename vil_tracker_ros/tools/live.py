# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Stream frames into a running ``tracker_node`` and record everything it publishes.

This is the camera side of the demo, of live bag replay and of the node benchmark: frames
go out as sensor_msgs/Image (+ CameraInfo) stamped with the wall clock at send time, the
init box goes out as a stamped vision_msgs/Detection2D naming the first frame's stamp, and
every output topic is recorded with its receipt time, so latency is receipt minus stamp.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Dict, Iterable, List, Optional

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseWithCovarianceStamped, Vector3Stamped
import numpy as np
from rclpy.node import Node
from rclpy.qos import (qos_profile_sensor_data, QoSDurabilityPolicy, QoSHistoryPolicy,
                       QoSProfile, QoSReliabilityPolicy)
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Float32, String
from vil_tracker_ros.ros.conversions import rgb_to_image_msg
from vil_tracker_ros.ros.messages import stamp_to_ns
from vil_tracker_ros.tools.client import spin_until, wait_for_subscribers
from vision_msgs.msg import Detection2D, Detection2DArray

RELIABLE = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE,
                     durability=QoSDurabilityPolicy.TRANSIENT_LOCAL,
                     history=QoSHistoryPolicy.KEEP_LAST)

# (relative output name, type, QoS the recorder subscribes with)
OUTPUTS = (
    ('detection', Detection2D, RELIABLE),
    ('detections', Detection2DArray, RELIABLE),
    ('confidence', Float32, RELIABLE),
    ('covariance', PoseWithCovarianceStamped, RELIABLE),
    ('status', String, LATCHED),
    ('target_offset', Vector3Stamped, RELIABLE),
    ('target_bearing', Vector3Stamped, RELIABLE),
)


def set_stamp(header, ns: int) -> None:
    header.stamp.sec, header.stamp.nanosec = divmod(int(ns), 1_000_000_000)


def use_large_frame_transport() -> Optional[str]:
    """Let this process publish large images over Fast DDS shared memory.

    Call before ``rclpy.init``. Sets FASTDDS_DEFAULT_PROFILES_FILE to the package's
    ``config/fastdds_large_frames.xml`` (see the file for why) unless the variable is already
    set or another RMW is selected; returns the profile used, or None.
    """
    if os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE'):
        return os.environ['FASTDDS_DEFAULT_PROFILES_FILE']
    if os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp') != 'rmw_fastrtps_cpp':
        return None
    from vil_tracker_ros.shipped import share_file
    path = share_file('config', 'fastdds_large_frames.xml')
    os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] = path
    return path


@dataclasses.dataclass
class Received:
    """One message the node published, with the wall-clock time it arrived here."""

    topic: str
    receipt_ns: int
    msg: object


class OutputRecorder:
    """Subscribe to every output of the node at ``node_ns`` (e.g. '/vil_tracker')."""

    def __init__(self, node: Node, node_ns: str = '/vil_tracker',
                 diagnostics: bool = True) -> None:
        self.messages: Dict[str, List[Received]] = {}
        self.subscriptions = []
        for name, msg_type, qos in OUTPUTS:
            self._subscribe(node, f'{node_ns}/{name}', msg_type, qos)
        if diagnostics:
            self._subscribe(node, '/diagnostics', DiagnosticArray, RELIABLE)

    def _subscribe(self, node: Node, topic: str, msg_type, qos) -> None:
        self.messages[topic] = []

        def record(msg, topic=topic):
            self.messages[topic].append(Received(topic, time.time_ns(), msg))
        self.subscriptions.append(node.create_subscription(msg_type, topic, record, qos))

    def answered(self, stamp: int) -> bool:
        """Whether the node has published ``~/detections`` for the input stamped ``stamp``."""
        return any(stamp_to_ns(r.msg.header.stamp) == stamp for r in self.of('/detections'))

    def of(self, topic_suffix: str) -> List[Received]:
        """Messages of the one topic whose name ends with ``topic_suffix``."""
        matches = [t for t in self.messages if t.endswith(topic_suffix)]
        if len(matches) != 1:
            raise KeyError(f'{topic_suffix!r} matches {matches}')
        return self.messages[matches[0]]


@dataclasses.dataclass
class StreamResult:
    """What was sent: the stamp of every frame, in order."""

    stamps_ns: List[int]
    send_ns: List[int]
    frame_id: str


def camera_info_for(width: int, height: int, frame_id: str,
                    focal: Optional[float] = None) -> CameraInfo:
    """Build a pinhole CameraInfo without distortion; focal defaults to a 60 degree HFOV."""
    f = focal if focal is not None else width / (2 * np.tan(np.radians(30)))
    info = CameraInfo()
    info.header.frame_id = frame_id
    info.width, info.height = width, height
    info.distortion_model = 'plumb_bob'
    info.d = [0.0] * 5
    info.k = [f, 0.0, width / 2, 0.0, f, height / 2, 0.0, 0.0, 1.0]
    info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    info.p = [f, 0.0, width / 2, 0.0, 0.0, f, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
    return info


class CameraStreamer:
    """Publish frames as a camera would, plus the stamped init box."""

    def __init__(self, node: Node, image_topic: str = 'image',
                 camera_info_topic: str = 'camera_info',
                 init_topic: str = 'init_bbox', frame_id: str = 'camera_optical') -> None:
        self.node = node
        self.frame_id = frame_id
        self.image_pub = node.create_publisher(Image, image_topic, qos_profile_sensor_data)
        self.info_pub = node.create_publisher(CameraInfo, camera_info_topic,
                                              qos_profile_sensor_data)
        self.init_pub = node.create_publisher(Detection2D, init_topic, RELIABLE)

    def wait_for_node(self, timeout: float = 30.0) -> None:
        wait_for_subscribers(self.node, [self.image_pub, self.init_pub], timeout)

    def publish_frame(self, rgb: np.ndarray, ns: Optional[int] = None,
                      info: Optional[CameraInfo] = None) -> int:
        """Publish one rgb8 frame (and ``info``) stamped ``ns``; return the stamp.

        Without ``ns`` the stamp is taken once the message is built, right before publishing,
        as a driver that stamps its capture and fills the message during capture would: a
        latency measured from this stamp does not include building the message here.
        """
        msg = rgb_to_image_msg(rgb, 'rgb8')
        msg.header.frame_id = self.frame_id
        ns = time.time_ns() if ns is None else ns
        set_stamp(msg.header, ns)
        if info is not None:
            info.header.frame_id = self.frame_id
            set_stamp(info.header, ns)
            self.info_pub.publish(info)
        self.image_pub.publish(msg)
        return ns

    def publish_init(self, box_xywh, ns: int, class_id: str = 'target') -> None:
        x, y, w, h = (float(v) for v in box_xywh)
        det = Detection2D()
        det.header.frame_id = self.frame_id
        set_stamp(det.header, ns)
        det.bbox.center.position.x = x + w / 2
        det.bbox.center.position.y = y + h / 2
        det.bbox.size_x, det.bbox.size_y = w, h
        self.init_pub.publish(det)

    def send_until_answered(self, rgb: np.ndarray, recorder: 'OutputRecorder',
                            camera_info: Optional[CameraInfo] = None,
                            timeout: float = 15.0, retry_s: float = 1.0) -> int:
        """Publish one frame until the node answers for its stamp; return that stamp.

        Right after discovery, best-effort images can be lost before the node's reader has
        matched this writer. Every image gets an answer on ``~/detections`` (empty before
        init), so an answer proves the node holds this exact frame in its ring.
        """
        ns = time.time_ns()
        deadline = time.monotonic() + timeout
        while True:
            self.publish_frame(rgb, ns, camera_info)
            retry_at = time.monotonic() + retry_s
            try:
                spin_until(self.node, lambda: recorder.answered(ns)
                           or time.monotonic() > min(retry_at, deadline), retry_s + 1.0,
                           'an answer to the first frame')
            except TimeoutError:
                pass
            if recorder.answered(ns):
                return ns
            if time.monotonic() > deadline:
                raise TimeoutError(f'the node never answered the first frame in {timeout:.0f} s')

    def stream(self, frames: Iterable[np.ndarray], init_box, rate_hz: float,
               recorder: 'OutputRecorder', camera_info: Optional[CameraInfo] = None,
               init_delay_s: float = 0.3) -> StreamResult:
        """Send ``frames`` at ``rate_hz``; the init box names the first frame's stamp.

        The first frame is sent until the node has answered it; the init box follows
        ``init_delay_s`` later, as a person clicking on a frame they saw would, and the node
        initialises on that exact frame from its ring. The rest follow at ``rate_hz``.
        """
        period = 1.0 / rate_hz
        frames = iter(frames)
        first = self.send_until_answered(next(frames), recorder, camera_info)
        stamps, sends = [first], [time.monotonic_ns()]
        spin_until(self.node, lambda: time.monotonic_ns() >= sends[0] + init_delay_s * 1e9,
                   init_delay_s + 5.0, 'the init delay')
        self.publish_init(init_box, first)
        start = time.monotonic()
        for i, rgb in enumerate(frames):
            target = start + i * period
            spin_until(self.node, lambda: time.monotonic() >= target, period + 5.0,
                       'the next frame time')
            ns = self.publish_frame(rgb, None, camera_info)
            stamps.append(ns)
            sends.append(time.monotonic_ns())
        return StreamResult(stamps, sends, self.frame_id)
