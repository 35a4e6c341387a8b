# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The node's outputs: its publishers and what it publishes per frame, plus /diagnostics.

:class:`NodeOutputs` is a mixin of :class:`~vil_tracker_ros.ros.tracker_node.TrackerNode`; it
uses the node's ``_session``, ``_runtime_cfg``, ``_camera``, ``_stats``, ``_diag_pub``,
``_last_problem`` and ``_last_configure_error`` and its ``_problem`` / ``_log`` helpers.
``on_status``, ``on_no_target`` and ``on_result`` are the inference worker's
:class:`~vil_tracker_ros.ros.executor.ResultSink`: they are called on the worker thread. It
publishes only ``~/status`` and ``~/detection`` itself; the other outputs of a frame (and the
debug image) go to the session's :class:`OutputThread`, so DDS work does not delay the next
tracker step.
"""

from __future__ import annotations

import collections
import threading
from typing import Any, Callable, Deque, Dict, List, Optional

from diagnostic_msgs.msg import DiagnosticArray
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseWithCovarianceStamped
from geometry_msgs.msg import Vector3Stamped
import numpy as np
from rclpy.qos import DurabilityPolicy
from rclpy.qos import QoSProfile
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Float32
from std_msgs.msg import String
from vil_tracker_ros.ros import messages
from vil_tracker_ros.ros.conversions import rgb_to_image_msg
from vil_tracker_ros.ros.executor import STATUS_IDLE
from vil_tracker_ros.ros.frames import Frame
from vil_tracker_ros.ros.node_support import guarded
from vil_tracker_ros.ros.node_support import Session
from vision_msgs.msg import Detection2D
from vision_msgs.msg import Detection2DArray

# Counters that always appear in /diagnostics (0 until something happens).
COUNTERS = (
    'frames_received', 'dropped_frames', 'frames_processed', 'frames_without_target',
    'frames_skipped_stale',
    'bad_images', 'duplicate_stamps', 'out_of_order_stamps', 'time_jumps',
    'rejected_init_boxes', 'inits', 'tracker_errors', 'bad_camera_info', 'callback_errors',
    'publish_errors',
)


class OutputThread:
    """Run publishing jobs in order on one thread of their own (thread-safe ``put``).

    A job that raises is counted by ``on_error`` and logged; it never ends the thread.
    """

    def __init__(self, on_error: Callable[[Exception], None]) -> None:
        self._jobs: Deque[Callable[[], None]] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False
        self._on_error = on_error
        self._thread = threading.Thread(target=self._run, name='vil_outputs', daemon=True)
        self._thread.start()

    def put(self, job: Callable[[], None]) -> None:
        with self._cond:
            if not self._closed:
                self._jobs.append(job)
                self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until every job put so far has run; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout)

    def stop(self, timeout: float) -> bool:
        """Run what is queued, then end the thread; False if it is still running."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                while not self._jobs and not self._closed:
                    self._cond.wait(timeout=0.5)
                if not self._jobs:
                    return
                job = self._jobs.popleft()
                self._busy = True
            try:
                job()
            except Exception as err:
                self._on_error(err)


class NodeOutputs:
    """Publishers and published messages of the tracker node (mixin; see the module doc)."""

    def _create_publishers(self, session: Session) -> None:
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        specs = {
            'detection': (Detection2D, reliable),
            'detections': (Detection2DArray, reliable),
            'confidence': (Float32, reliable),
            'covariance': (PoseWithCovarianceStamped, reliable),
            'status': (String, latched),
            'target_offset': (Vector3Stamped, reliable),
            'target_bearing': (Vector3Stamped, reliable),
            'debug_image': (Image, QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)),
        }
        for name, (msg_type, qos) in specs.items():
            session.publishers[name] = self.create_lifecycle_publisher(
                msg_type, f'~/{name}', qos)

    def on_status(self, status: str, track_id: str) -> None:
        session = self._session
        if session is None:
            return
        session.publishers['status'].publish(String(data=status))

    def on_no_target(self, frame: Frame) -> None:
        session = self._session
        if session is None:
            return
        if session.worker.status == STATUS_IDLE:
            self._log('info', 'no_target', 'images arrive but there is no target: publish a box '
                      'on init_bbox to start tracking')
        session.outputs.put(lambda: self._publish_no_target(session, frame))

    def _publish_no_target(self, session: Session, frame: Frame) -> None:
        session.publishers['detections'].publish(messages.make_detections(frame.header))
        self._publish_debug(session, frame, None, STATUS_IDLE, 0.0, '')

    def on_result(self, frame: Frame, result: Any, status: str) -> None:
        session = self._session
        cfg = self._runtime_cfg
        if session is None or cfg is None:
            return
        pubs = session.publishers
        header = frame.header
        box = [float(v) for v in np.asarray(result.box, dtype=np.float64).reshape(4)]
        confidence = float(result.confidence)
        track_id = str(result.track_id)
        det = messages.make_detection(header, box, confidence, np.asarray(result.cov_xy),
                                      track_id, cfg.io.class_id)
        pubs['detection'].publish(det)   # the primary output: straight from the worker
        session.outputs.put(lambda: self._publish_secondary(session, frame, det, box, status))

    def _publish_secondary(self, session: Session, frame: Frame, det: Detection2D,
                           box: List[float], status: str) -> None:
        """Everything but ``~/detection`` for one result (on the output thread)."""
        pubs = session.publishers
        header = frame.header
        confidence = det.results[0].hypothesis.score
        pubs['detections'].publish(messages.make_detections(header, [det]))
        pubs['confidence'].publish(Float32(data=confidence))
        pubs['covariance'].publish(messages.make_covariance(header, det.results[0].pose))
        width, height = frame.size
        pubs['target_offset'].publish(messages.make_offset(header, box, width, height))
        camera = self._camera
        if camera is not None:
            if camera.matches(width, height):
                pubs['target_bearing'].publish(messages.make_bearing(header, camera, box))
            else:
                self._problem('bad_camera_info',
                              f'camera_info is for {camera.width}x{camera.height} but images '
                              f'are {width}x{height}: no bearing')
        self._publish_debug(session, frame, box, status, confidence, det.id)

    def _publish_debug(self, session: Session, frame: Frame, box: Optional[List[float]],
                       status: str, confidence: float, track_id: str) -> None:
        cfg = self._runtime_cfg
        pub = session.publishers['debug_image']
        if cfg is None or not cfg.io.debug_image or pub.get_subscription_count() == 0:
            return
        overlay = messages.draw_overlay(frame.rgb, box, status, confidence, track_id)
        pub.publish(rgb_to_image_msg(overlay, 'rgb8', frame.header))

    @guarded
    def _publish_diagnostics(self) -> None:
        self._expire_pending_init()
        session = self._session
        snap = self._stats.snapshot()
        state = self._state_machine.current_state[1]
        values: Dict[str, object] = {'state': state}
        if session is not None:
            values['status'] = session.worker.status
            values['track_id'] = session.worker.track_id
            values['device'] = session.device
            values['checkpoint'] = session.checkpoint
        values['fps'] = float(snap.get('fps', 0.0))
        values['latency_p50_ms'] = float(snap.get('latency_p50_ms', 0.0))
        values['latency_p95_ms'] = float(snap.get('latency_p95_ms', 0.0))
        values['step_p50_ms'] = float(snap.get('step_p50_ms', 0.0))
        for key in COUNTERS:
            values[key] = int(snap.get(key, 0))
        values['camera_info'] = 'yes' if self._camera is not None else 'no'
        values['last_problem'] = self._last_problem
        if state == 'active':
            level, message = DiagnosticStatus.OK, f'active, {values.get("status", "")}'
        elif self._last_configure_error:
            level, message = DiagnosticStatus.ERROR, \
                f'configure failed: {self._last_configure_error}'
        else:
            level, message = DiagnosticStatus.WARN, f'{state}: not processing images'
        status = messages.diagnostic_status(
            f'{self.get_name()}: tracker', values.get('device', '') or '', level, message,
            values)
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)
