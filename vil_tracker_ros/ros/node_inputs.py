# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The node's inputs: subscriptions, image and init_bbox callbacks, ``~/reset``.

:class:`NodeInputs` is a mixin of :class:`~vil_tracker_ros.ros.tracker_node.TrackerNode`; it
uses the node's state set up there (``_session``, ``_active``, ``_lock``, ``_stats``,
``_last_stamp_ns``, ``_pending_init``, ``_camera``, ``_subscriptions_active``,
``_image_group``) and its ``_problem`` / ``_log`` helpers.

The image callback only checks the stamp, converts the frame and drops it into the mailbox
(and the frame ring); the tracker runs on the inference worker thread.
"""

from __future__ import annotations

import time
from typing import Any, Sequence, Tuple

from rclpy.qos import HistoryPolicy
from rclpy.qos import QoSProfile
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import CameraInfo
from sensor_msgs.msg import CompressedImage
from sensor_msgs.msg import Image
from std_srvs.srv import Trigger
from vil_tracker_ros.config import NodeConfig
from vil_tracker_ros.ros import messages
from vil_tracker_ros.ros.conversions import compressed_msg_to_rgb
from vil_tracker_ros.ros.conversions import image_msg_to_rgb
from vil_tracker_ros.ros.conversions import ImageConversionError
from vil_tracker_ros.ros.frames import Frame
from vil_tracker_ros.ros.node_support import guarded
from vil_tracker_ros.ros.node_support import Session
from vision_msgs.msg import Detection2D

JUMP_BACK_S = 1.0               # stamps going back further than this are a clock/bag restart
PENDING_INIT_TIMEOUT_S = 2.0    # how long an init_bbox may wait for the frame it names


class PendingInit:
    """An init_bbox waiting for the frame its stamp names."""

    def __init__(self, box: Tuple[float, float, float, float], stamp_ns: int) -> None:
        self.box = box
        self.stamp_ns = stamp_ns
        self.created = time.monotonic()


class NodeInputs:
    """Subscriptions and input callbacks of the tracker node (mixin; see the module doc)."""

    def _create_subscriptions(self, cfg: NodeConfig) -> None:
        image_qos = QoSProfile(
            depth=1, history=HistoryPolicy.KEEP_LAST,
            reliability=(ReliabilityPolicy.RELIABLE if cfg.io.image_reliable
                         else ReliabilityPolicy.BEST_EFFORT))
        if cfg.io.compressed:
            sub = self.create_subscription(CompressedImage, 'image/compressed',
                                           self._on_compressed, image_qos,
                                           callback_group=self._image_group)
        else:
            sub = self.create_subscription(Image, 'image', self._on_image, image_qos,
                                           callback_group=self._image_group)
        self._subscriptions_active.append(sub)
        info_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        self._subscriptions_active.append(self.create_subscription(
            CameraInfo, 'camera_info', self._on_camera_info, info_qos,
            callback_group=self._image_group))
        self._subscriptions_active.append(self.create_subscription(
            Detection2D, 'init_bbox', self._on_init_bbox,
            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE),
            callback_group=self.default_callback_group))

    def _destroy_subscriptions(self) -> None:
        for sub in self._subscriptions_active:
            self.destroy_subscription(sub)
        self._subscriptions_active = []

    # ------------------------------------------------------------------- inputs

    def _accept_stamp(self, stamp_ns: int, session: Session) -> bool:
        """Reject duplicate and out-of-order stamps; a large jump back resets tracking."""
        with self._lock:
            last = self._last_stamp_ns
        if last is None or stamp_ns > last:
            return True
        if stamp_ns == last:
            self._problem('duplicate_stamps', f'image stamp {messages.format_stamp(stamp_ns)} '
                          'repeats the previous one: frame ignored')
            return False
        if last - stamp_ns <= JUMP_BACK_S * 1e9:
            self._problem('out_of_order_stamps',
                          f'image stamp {messages.format_stamp(stamp_ns)} is older than the '
                          f'previous {messages.format_stamp(last)}: frame ignored')
            return False
        self._problem('time_jumps', f'image stamps jumped back from '
                      f'{messages.format_stamp(last)} to {messages.format_stamp(stamp_ns)} '
                      '(restarted source or looping bag?): tracking reset')
        session.ring.clear()
        session.mailbox.clear()
        session.worker.request_reset('image stamps jumped back', timeout=0.0)
        return True

    @guarded
    def _on_image(self, msg: Image) -> None:
        self._handle_frame(msg, image_msg_to_rgb)

    @guarded
    def _on_compressed(self, msg: CompressedImage) -> None:
        self._handle_frame(msg, compressed_msg_to_rgb)

    def _handle_frame(self, msg: Any, convert: Any) -> None:
        received = time.monotonic()
        session = self._session
        if session is None or not self._active:
            return
        self._stats.count('frames_received')
        stamp_ns = messages.stamp_to_ns(msg.header.stamp)
        if not self._accept_stamp(stamp_ns, session):
            return
        try:
            rgb = convert(msg)
        except ImageConversionError as err:
            self._problem('bad_images', f'image {messages.format_stamp(stamp_ns)} rejected: '
                          f'{err}')
            return
        frame = Frame(rgb=rgb, header=msg.header, stamp_ns=stamp_ns, received=received)
        with self._lock:
            self._last_stamp_ns = stamp_ns
        session.ring.add(frame)
        self._resolve_pending_init(frame, session)
        if session.mailbox.put(frame):
            self._stats.count('dropped_frames')

    @guarded
    def _on_camera_info(self, msg: CameraInfo) -> None:
        try:
            camera = messages.CameraModel.from_msg(msg)
        except ValueError as err:
            self._problem('bad_camera_info', f'camera_info ignored: {err}')
            return
        with self._lock:
            first = self._camera is None
            self._camera = camera
        if first:
            self.get_logger().info(f'camera_info received ({camera.model or "no distortion"}, '
                                   f'{camera.width}x{camera.height}): bearing enabled')

    @guarded
    def _on_init_bbox(self, msg: Detection2D) -> None:
        session = self._session
        if session is None or not self._active:
            return
        box = messages.bbox_to_xywh(msg.bbox)
        problem = messages.init_box_problem(box)
        stamp_ns = messages.stamp_to_ns(msg.header.stamp)
        if problem is not None:
            self._problem('rejected_init_boxes', f'init_bbox rejected: {problem}')
            return
        if stamp_ns == 0:
            frame = session.ring.newest()
            if frame is None:
                self._problem('rejected_init_boxes',
                              'init_bbox rejected: it has no stamp and no image has arrived yet')
                return
            self._log('info', 'init_no_stamp', 'init_bbox has no stamp: using the newest frame')
            self._start_init(frame, box, session)
            return
        frame = session.ring.find(stamp_ns)
        if frame is None:
            newest = session.ring.newest()
            if newest is None or newest.stamp_ns < stamp_ns:
                with self._lock:  # the frame it names has not arrived yet: wait for it
                    self._pending_init = PendingInit(box, stamp_ns)
                return
            self._log('warn', 'init_frame_gone',
                      f'init_bbox frame {messages.format_stamp(stamp_ns)} is no longer in the '
                      'ring: initialising on the newest frame '
                      f'{messages.format_stamp(newest.stamp_ns)}')
            frame = newest
        self._start_init(frame, box, session)

    def _resolve_pending_init(self, frame: Frame, session: Session) -> None:
        with self._lock:
            pending = self._pending_init
            if pending is None or frame.stamp_ns < pending.stamp_ns:
                return
            self._pending_init = None
        if frame.stamp_ns != pending.stamp_ns:
            self._log('warn', 'init_frame_gone',
                      'no frame with the init_bbox stamp '
                      f'{messages.format_stamp(pending.stamp_ns)} arrived: initialising on '
                      f'{messages.format_stamp(frame.stamp_ns)}')
        self._start_init(frame, pending.box, session)

    def _expire_pending_init(self) -> None:
        with self._lock:
            pending = self._pending_init
            if pending is None or time.monotonic() - pending.created < PENDING_INIT_TIMEOUT_S:
                return
            self._pending_init = None
        self._problem('rejected_init_boxes',
                      f'init_bbox for frame {messages.format_stamp(pending.stamp_ns)} dropped: '
                      f'no image with that stamp or later arrived within '
                      f'{PENDING_INIT_TIMEOUT_S:.0f} s')

    def _start_init(self, frame: Frame, box: Sequence[float], session: Session) -> None:
        width, height = frame.size
        problem = messages.init_box_problem(box, width, height)
        if problem is not None:
            self._problem('rejected_init_boxes', f'init_bbox rejected: {problem}')
            return
        session.worker.request_init(frame, tuple(box))

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        session = self._session
        with self._lock:
            self._pending_init = None
        if session is None:
            response.success, response.message = False, 'node is not configured'
            return response
        response.success, response.message = session.worker.request_reset('~/reset')
        return response
