# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The ``vil_tracker`` lifecycle node (interface: DESIGN.md section 4).

Transitions:

* configure: parameters -> validated dataclasses, checkpoint resolved, an inference worker
  thread builds the backend and tracker and warms them up, publishers and ``~/reset`` are
  created. Any error: FAILURE with a one-line reason and everything created so far released.
* activate: subscriptions created, publishers enabled, status ``idle`` published.
* deactivate: subscriptions destroyed, tracking reset (model kept), publishers disabled.
* cleanup: worker stopped, model and device memory freed, publishers and service destroyed.
* shutdown (from any state): as cleanup; then the process exits with code 0.

Threads: the lifecycle/parameter services, ``init_bbox`` and ``~/reset`` share the node's
default (mutually exclusive) callback group; images and camera_info have their own group; the
diagnostics timer a third; a MultiThreadedExecutor runs them. The tracker lives on its own
worker thread (:mod:`vil_tracker_ros.ros.executor`).
"""

from __future__ import annotations

import functools
import gc
import re
import signal
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from diagnostic_msgs.msg import DiagnosticArray
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseWithCovarianceStamped
from geometry_msgs.msg import Vector3Stamped
import numpy as np
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import ExternalShutdownException
from rclpy.executors import MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode
from rclpy.lifecycle import LifecycleState
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy
from rclpy.qos import HistoryPolicy
from rclpy.qos import QoSProfile
from rclpy.qos import ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from sensor_msgs.msg import CameraInfo
from sensor_msgs.msg import CompressedImage
from sensor_msgs.msg import Image
from std_msgs.msg import Float32
from std_msgs.msg import String
from std_srvs.srv import Trigger
from vil_tracker_ros.config import ConfigError
from vil_tracker_ros.config import NodeConfig
from vil_tracker_ros.ros import messages
from vil_tracker_ros.ros.conversions import compressed_msg_to_rgb
from vil_tracker_ros.ros.conversions import image_msg_to_rgb
from vil_tracker_ros.ros.conversions import ImageConversionError
from vil_tracker_ros.ros.conversions import rgb_to_image_msg
from vil_tracker_ros.ros.executor import Frame
from vil_tracker_ros.ros.executor import FrameMailbox
from vil_tracker_ros.ros.executor import FrameRing
from vil_tracker_ros.ros.executor import InferenceWorker
from vil_tracker_ros.ros.executor import STATUS_IDLE
from vil_tracker_ros.ros.executor import WorkerStats
from vil_tracker_ros.ros.params import declare_node_parameters
from vil_tracker_ros.ros.params import parameter_specs
from vil_tracker_ros.ros.params import ParameterGuard
from vil_tracker_ros.ros.params import read_node_config
from vil_tracker_ros.ros.params import unknown_overrides
from vil_tracker_ros.shipped import resolve_checkpoint
from vision_msgs.msg import Detection2D
from vision_msgs.msg import Detection2DArray

NODE_NAME = 'vil_tracker'
BUILD_TIMEOUT_S = 300.0         # checkpoint load + warm-up on a slow CPU
LOG_THROTTLE_S = 5.0            # per kind of problem
JUMP_BACK_S = 1.0               # stamps going back further than this are a clock/bag restart
PENDING_INIT_TIMEOUT_S = 2.0    # how long an init_bbox may wait for the frame it names
WARMUP_SIZE = (96, 128)         # (h, w) of the synthetic warm-up frame

# Counters that always appear in /diagnostics (0 until something happens).
COUNTERS = (
    'frames_received', 'dropped_frames', 'frames_processed', 'frames_without_target',
    'frames_skipped_stale',
    'bad_images', 'duplicate_stamps', 'out_of_order_stamps', 'time_jumps',
    'rejected_init_boxes', 'inits', 'tracker_errors', 'bad_camera_info', 'callback_errors',
    'publish_errors',
)


def _one_line(text: Any) -> str:
    return ' '.join(str(text).split())


def _apply_runtime_config(tracker: Any, cfg: NodeConfig) -> None:
    """Hand runtime-tunable sections to the tracker (on the worker thread, between steps).

    SingleObjectTracker reads its policy from ``.cfg`` on every step and its KalmanFilter
    (``.kf``) holds only configuration, so both can be swapped between two steps.
    """
    from vil_tracker_ros.core.kalman import KalmanFilter
    tracker.cfg = cfg.tracker
    tracker.kf = KalmanFilter(cfg.kalman)


def _build_tracker(cfg: NodeConfig, checkpoint: str) -> Tuple[Any, str]:
    """Load the checkpoint, build backend + tracker and warm them up (worker thread)."""
    from vil_tracker_ros.config import replace
    from vil_tracker_ros.core.backend import build_backend
    from vil_tracker_ros.core.tracker import SingleObjectTracker

    backend = build_backend(replace(cfg.model, checkpoint=checkpoint))
    device = getattr(backend, 'torch_device', None)
    if device is not None and device.type == 'cuda':
        # This (worker) thread's own stream: inference never queues behind other CUDA work
        # in the process. PyTorch's current stream is per thread.
        import torch
        torch.cuda.set_stream(torch.cuda.Stream(device=device))
    # Warm-up: one init and two steps on a synthetic frame, so the first real frame does not
    # pay for lazy allocation / kernel selection. A fresh tracker follows, so that the first
    # real track gets id 1.
    warm = SingleObjectTracker(backend, cfg.tracker, cfg.kalman)
    h, w = WARMUP_SIZE
    frame = np.random.default_rng(0).integers(0, 255, size=(h, w, 3), dtype=np.uint8)
    warm.initialize(frame, (w / 4, h / 4, w / 4, h / 4), 0.0)
    warm.track(frame, 0.033)
    warm.track(frame, 0.066)
    tracker = SingleObjectTracker(backend, cfg.tracker, cfg.kalman)
    return tracker, str(getattr(backend, 'device', cfg.model.device))


def _guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ROS callback so that an unexpected exception is logged and counted.

    An exception escaping a callback would end the executor's spin and with it the node;
    input-driven callbacks must never do that.
    """
    @functools.wraps(callback)
    def wrapper(self: 'TrackerNode', *args: Any) -> Any:
        try:
            return callback(self, *args)
        except Exception as err:
            self._problem('callback_errors', f'{callback.__name__} failed: '
                          f'{type(err).__name__}: {_one_line(err)}', level='error')
            return None
    return wrapper


class _Session:
    """Everything configure creates; released as a unit (no half state)."""

    def __init__(self, cfg: NodeConfig, checkpoint: str) -> None:
        self.cfg = cfg
        self.checkpoint = checkpoint
        self.mailbox = FrameMailbox()
        self.ring = FrameRing(cfg.io.frame_ring_size)
        self.worker: Optional[InferenceWorker] = None
        self.device = ''
        self.publishers: Dict[str, Any] = {}
        self.reset_service = None


class _PendingInit:
    def __init__(self, box: Tuple[float, float, float, float], stamp_ns: int) -> None:
        self.box = box
        self.stamp_ns = stamp_ns
        self.created = time.monotonic()


class TrackerNode(LifecycleNode):
    """The ``vil_tracker`` lifecycle node."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._session: Optional[_Session] = None
        self._specs = parameter_specs()
        self._param_problems = declare_node_parameters(self)
        for reason in self._param_problems.values():
            self.get_logger().error(f'bad parameter (configure will fail until fixed): {reason}')
        self._guard = ParameterGuard(self, self._specs, lambda: self._session is not None,
                                     self._on_parameters_changed)
        self.add_on_set_parameters_callback(self._guard.on_set)
        self.add_post_set_parameters_callback(self._guard.after_set)

        self._lock = threading.RLock()
        self._active = False
        self._runtime_cfg: Optional[NodeConfig] = None
        self._stats = WorkerStats()
        self._last_log: Dict[str, float] = {}
        self._last_problem = ''
        self._last_configure_error = ''
        self._last_stamp_ns: Optional[int] = None
        self._pending_init: Optional[_PendingInit] = None
        self._camera: Optional[messages.CameraModel] = None
        self._subscriptions_active: List[Any] = []
        self.finalized = Future()

        self._image_group = MutuallyExclusiveCallbackGroup()
        self._diag_group = MutuallyExclusiveCallbackGroup()
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics,
                                             callback_group=self._diag_group)

    # ------------------------------------------------------------------ logging

    def _log(self, level: str, key: str, message: str) -> None:
        """Log at most once per LOG_THROTTLE_S for each kind of problem (key)."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_log.get(key, -1e9) < LOG_THROTTLE_S:
                return
            self._last_log[key] = now
        # One call site per severity: rclpy's logger refuses a severity change at one site.
        logger = self.get_logger()
        if level == 'info':
            logger.info(message)
        elif level == 'warn':
            logger.warning(message)
        else:
            logger.error(message)

    def _problem(self, counter: str, message: str, level: str = 'warn') -> None:
        """Count a bad input, remember it for diagnostics and log it (throttled)."""
        self._stats.count(counter)
        self._last_problem = f'{counter}: {message}'
        # Throttle per kind of message (numbers masked), so that a flood of one problem does
        # not hide a different one.
        self._log(level, f'{counter}:{re.sub(r"[0-9.]+", "#", message)[:100]}', message)

    # -------------------------------------------------------------- transitions

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        session = None
        try:
            session = self._configure_session()
        except Exception as err:  # any failure: nothing of it survives
            reason = _one_line(f'{type(err).__name__}: {err}' if not isinstance(
                err, ConfigError) else err)
            self._last_configure_error = reason
            self.get_logger().error(f'configure failed: {reason}')
            return TransitionCallbackReturn.FAILURE
        with self._lock:
            self._session = session
            self._runtime_cfg = session.cfg
            self._last_configure_error = ''
        self.get_logger().info(
            f'configured: checkpoint {session.checkpoint} on {session.device}')
        return TransitionCallbackReturn.SUCCESS

    def _configure_session(self) -> _Session:
        if self._param_problems:
            raise ConfigError('; '.join(self._param_problems.values()))
        unknown = unknown_overrides(self, [s.name for s in self._specs])
        if unknown:
            raise ConfigError(f'unknown parameter(s) {", ".join(unknown)}; see '
                              'config/tracker.yaml for the known ones')
        cfg = read_node_config(self, self._specs)
        checkpoint = resolve_checkpoint(cfg.model.checkpoint)
        session = _Session(cfg, checkpoint)
        try:
            built: Dict[str, str] = {}

            def build() -> Any:
                tracker, built['device'] = _build_tracker(cfg, checkpoint)
                return tracker

            session.worker = InferenceWorker(
                build, self, session.mailbox, self._stats, self._log,
                apply_config=_apply_runtime_config)
            session.worker.start(timeout=BUILD_TIMEOUT_S)
            session.device = built.get('device', cfg.model.device)
            self._create_publishers(session)
            session.reset_service = self.create_service(
                Trigger, '~/reset', self._on_reset, callback_group=self.default_callback_group)
        except BaseException:
            self._release_session(session)
            raise
        return session

    def _create_publishers(self, session: _Session) -> None:
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

    def _release_session(self, session: Optional[_Session]) -> None:
        if session is None:
            return
        if session.worker is not None:
            if not session.worker.stop(timeout=30.0):
                self.get_logger().error('inference worker did not stop within 30 s')
            session.worker = None
        if session.reset_service is not None:
            self.destroy_service(session.reset_service)
            session.reset_service = None
        for pub in session.publishers.values():
            self.destroy_lifecycle_publisher(pub)
        session.publishers.clear()
        session.ring.clear()
        session.mailbox.clear()
        gc.collect()
        _free_device_memory()

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        session = self._session
        if session is None:
            self.get_logger().error('activate without a configured session')
            return TransitionCallbackReturn.FAILURE
        try:
            self._create_subscriptions(session.cfg)
        except Exception as err:
            self._destroy_subscriptions()
            self.get_logger().error(f'activate failed: {_one_line(err)}')
            return TransitionCallbackReturn.FAILURE
        ret = super().on_activate(state)
        if ret != TransitionCallbackReturn.SUCCESS:
            self._destroy_subscriptions()
            return ret
        with self._lock:
            self._active = True
        self.on_status(session.worker.status, session.worker.track_id)
        self.get_logger().info('activated: waiting for images and an init_bbox')
        return ret

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

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._lock:
            self._active = False
            self._pending_init = None
        self._destroy_subscriptions()
        self._stop_tracking('deactivated')
        self.get_logger().info('deactivated: model kept, images ignored')
        return super().on_deactivate(state)

    def _stop_tracking(self, reason: str) -> None:
        """Reset the tracker and forget frames; publishes status idle while still enabled."""
        session = self._session
        if session is None:
            return
        session.mailbox.clear()
        ok, message = session.worker.request_reset(reason)
        if not ok:
            self.get_logger().error(f'reset on {reason} failed: {message}')
        session.ring.clear()
        with self._lock:
            self._last_stamp_ns = None

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._teardown()
        self.get_logger().info('cleaned up: model released')
        return TransitionCallbackReturn.SUCCESS

    def _teardown(self) -> None:
        with self._lock:
            session, self._session = self._session, None
            self._runtime_cfg = None
            self._last_stamp_ns = None
            self._pending_init = None
            self._camera = None
        self._release_session(session)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._active:
            with self._lock:
                self._active = False
            self._destroy_subscriptions()
            self._stop_tracking('shutdown')
            super().on_deactivate(state)
        self._teardown()
        self.get_logger().info('shut down')
        if not self.finalized.done():
            self.finalized.set_result(True)
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        # A transition raised: drop everything so that 'unconfigured' holds nothing.
        with self._lock:
            self._active = False
        self._destroy_subscriptions()
        self._teardown()
        self.get_logger().error(f'error while leaving {state.label}: node reset to unconfigured')
        return TransitionCallbackReturn.SUCCESS

    def release(self) -> None:
        """Free everything (used on SIGINT/SIGTERM, whatever the lifecycle state)."""
        with self._lock:
            self._active = False
        self._destroy_subscriptions()
        self._teardown()

    # --------------------------------------------------------------- parameters

    def _on_parameters_changed(self, cfg: NodeConfig, names: List[str]) -> None:
        for name in names:
            self._param_problems.pop(name, None)
        with self._lock:
            session = self._session
            self._runtime_cfg = cfg if session is not None else None
        if session is not None and any(n.startswith(('tracker.', 'kalman.')) for n in names):
            session.worker.update_config(cfg)
        self.get_logger().info(f'parameters set: {", ".join(names)}')

    # ------------------------------------------------------------------- inputs

    def _accept_stamp(self, stamp_ns: int, session: _Session) -> bool:
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

    @_guarded
    def _on_image(self, msg: Image) -> None:
        self._handle_frame(msg, image_msg_to_rgb)

    @_guarded
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

    @_guarded
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

    @_guarded
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
                    self._pending_init = _PendingInit(box, stamp_ns)
                return
            self._log('warn', 'init_frame_gone',
                      f'init_bbox frame {messages.format_stamp(stamp_ns)} is no longer in the '
                      'ring: initialising on the newest frame '
                      f'{messages.format_stamp(newest.stamp_ns)}')
            frame = newest
        self._start_init(frame, box, session)

    def _resolve_pending_init(self, frame: Frame, session: _Session) -> None:
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

    def _start_init(self, frame: Frame, box: Sequence[float], session: _Session) -> None:
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

    # ------------------------------------------------------------------ outputs
    # Called by the inference worker thread (executor.ResultSink).

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
        pubs['detection'].publish(det)
        pubs['detections'].publish(messages.make_detections(header, [det]))
        pubs['confidence'].publish(Float32(data=det.results[0].hypothesis.score))
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
        self._publish_debug(session, frame, box, status, confidence, track_id)

    def _publish_debug(self, session: _Session, frame: Frame, box: Optional[List[float]],
                       status: str, confidence: float, track_id: str) -> None:
        cfg = self._runtime_cfg
        pub = session.publishers['debug_image']
        if cfg is None or not cfg.io.debug_image or pub.get_subscription_count() == 0:
            return
        overlay = messages.draw_overlay(frame.rgb, box, status, confidence, track_id)
        pub.publish(rgb_to_image_msg(overlay, 'rgb8', frame.header))

    @_guarded
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


def _free_device_memory() -> None:
    torch = sys.modules.get('torch')
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


STOP_POLL_S = 0.1    # how often the spin loop looks at the stop flag set by SIGINT/SIGTERM


def main(args: Optional[List[str]] = None) -> int:
    """Run the node until SIGINT/SIGTERM or the lifecycle shutdown transition; returns 0."""
    # rclpy's own handlers shut the context down from under a spinning executor, which races
    # with its wait-set creation (ros2/rclpy#398, still seen upstream). We only flag the
    # signal, stop spinning, release the model and then shut rclpy down in that order.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    node = None
    executor = MultiThreadedExecutor(num_threads=4)
    try:
        node = TrackerNode()
        executor.add_node(node)
        while not stop.is_set() and not node.finalized.done() and rclpy.ok():
            executor.spin_until_future_complete(node.finalized, timeout_sec=STOP_POLL_S)
    except ExternalShutdownException:
        pass
    finally:
        if node is not None:
            node.release()
        executor.shutdown(timeout_sec=5.0)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == '__main__':
    sys.exit(main())
