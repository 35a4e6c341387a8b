# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The ``vil_tracker`` lifecycle node (interface: DESIGN.md section 4; docs/ros_interface.md).

Transitions:

* configure: parameters -> validated dataclasses, checkpoint resolved, an inference worker
  thread builds the backend and tracker and warms them up, publishers and ``~/reset`` are
  created. Any error: FAILURE with a one-line reason and everything created so far released.
* activate: subscriptions created, publishers enabled, status ``idle`` published.
* deactivate: subscriptions destroyed, tracking reset (model kept), publishers disabled.
* cleanup: worker stopped, model and device memory freed, publishers and service destroyed.
* shutdown (from any state): as cleanup; then the process exits with code 0.

Threads: the executor (:func:`make_executor`: rclpy's EventsExecutor, or a
MultiThreadedExecutor where rclpy lacks it) runs every ROS callback; the lifecycle/parameter
services, ``init_bbox`` and ``~/reset`` share the node's default (mutually exclusive) callback
group, images and camera_info have their own group, the diagnostics timer a third (they matter
under the MultiThreadedExecutor). The tracker lives on its own worker thread
(:mod:`vil_tracker_ros.ros.executor`), which publishes ``~/status`` and ``~/detection``; the
session's output thread publishes the rest (:mod:`vil_tracker_ros.ros.node_outputs`).

The node is split by concern: this module holds the lifecycle, parameters and ``main``;
:mod:`~vil_tracker_ros.ros.node_inputs` the subscriptions and input callbacks;
:mod:`~vil_tracker_ros.ros.node_outputs` the publishers and /diagnostics;
:mod:`~vil_tracker_ros.ros.node_support` the session that configure builds.
"""

from __future__ import annotations

import gc
import re
import signal
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from diagnostic_msgs.msg import DiagnosticArray
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import ExternalShutdownException
from rclpy.executors import MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode
from rclpy.lifecycle import LifecycleState
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from std_srvs.srv import Trigger
from vil_tracker_ros.config import ConfigError
from vil_tracker_ros.config import NodeConfig
from vil_tracker_ros.ros import messages
from vil_tracker_ros.ros.executor import InferenceWorker
from vil_tracker_ros.ros.executor import WorkerStats
from vil_tracker_ros.ros.node_inputs import NodeInputs
from vil_tracker_ros.ros.node_inputs import PendingInit
from vil_tracker_ros.ros.node_outputs import NodeOutputs
from vil_tracker_ros.ros.node_outputs import OutputThread
from vil_tracker_ros.ros.node_support import apply_runtime_config
from vil_tracker_ros.ros.node_support import build_tracker
from vil_tracker_ros.ros.node_support import free_device_memory
from vil_tracker_ros.ros.node_support import one_line
from vil_tracker_ros.ros.node_support import Session
from vil_tracker_ros.ros.params import declare_node_parameters
from vil_tracker_ros.ros.params import parameter_specs
from vil_tracker_ros.ros.params import ParameterGuard
from vil_tracker_ros.ros.params import read_node_config
from vil_tracker_ros.ros.params import unknown_overrides
from vil_tracker_ros.shipped import resolve_checkpoint

NODE_NAME = 'vil_tracker'
BUILD_TIMEOUT_S = 300.0         # checkpoint load + warm-up on a slow CPU
LOG_THROTTLE_S = 5.0            # per kind of problem


class TrackerNode(NodeInputs, NodeOutputs, LifecycleNode):
    """The ``vil_tracker`` lifecycle node."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._session: Optional[Session] = None
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
        self._pending_init: Optional[PendingInit] = None
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

    def _on_output_error(self, err: Exception) -> None:
        """Count and log a failed publishing job of the output thread (as the worker does)."""
        self._stats.count('publish_errors')
        self._log('error', 'publish_failed', f'publishing failed: {type(err).__name__}: {err}')

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
            reason = one_line(f'{type(err).__name__}: {err}' if not isinstance(
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

    def _configure_session(self) -> Session:
        if self._param_problems:
            raise ConfigError('; '.join(self._param_problems.values()))
        unknown = unknown_overrides(self, [s.name for s in self._specs])
        if unknown:
            raise ConfigError(f'unknown parameter(s) {", ".join(unknown)}; see '
                              'config/tracker.yaml for the known ones')
        cfg = read_node_config(self, self._specs)
        checkpoint = resolve_checkpoint(cfg.model.checkpoint)
        session = Session(cfg, checkpoint)
        try:
            built: Dict[str, str] = {}

            def build() -> Any:
                tracker, built['device'] = build_tracker(cfg, checkpoint)
                return tracker

            session.outputs = OutputThread(self._on_output_error)
            session.worker = InferenceWorker(
                build, self, session.mailbox, self._stats, self._log,
                apply_config=apply_runtime_config)
            session.worker.start(timeout=BUILD_TIMEOUT_S)
            session.device = built.get('device', cfg.model.device)
            self._create_publishers(session)
            session.reset_service = self.create_service(
                Trigger, '~/reset', self._on_reset, callback_group=self.default_callback_group)
        except BaseException:
            self._release_session(session)
            raise
        return session

    def _release_session(self, session: Optional[Session]) -> None:
        if session is None:
            return
        if session.worker is not None:
            if not session.worker.stop(timeout=30.0):
                self.get_logger().error('inference worker did not stop within 30 s')
            session.worker = None
        if session.outputs is not None:   # after the worker: nothing puts jobs any more
            if not session.outputs.stop(timeout=10.0):
                self.get_logger().error('output thread did not stop within 10 s')
            session.outputs = None
        if session.reset_service is not None:
            self.destroy_service(session.reset_service)
            session.reset_service = None
        for pub in session.publishers.values():
            self.destroy_lifecycle_publisher(pub)
        session.publishers.clear()
        session.ring.clear()
        session.mailbox.clear()
        gc.collect()
        free_device_memory()

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        session = self._session
        if session is None:
            self.get_logger().error('activate without a configured session')
            return TransitionCallbackReturn.FAILURE
        try:
            self._create_subscriptions(session.cfg)
        except Exception as err:
            self._destroy_subscriptions()
            self.get_logger().error(f'activate failed: {one_line(err)}')
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
        # Outputs of frames processed before the reset go out while publishers are enabled.
        if not session.outputs.flush(timeout=5.0):
            self.get_logger().error(f'outputs not flushed within 5 s on {reason}')
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


STOP_POLL_S = 0.1    # how often the spin loop looks at the stop flag set by SIGINT/SIGTERM


def make_executor() -> Any:
    """Return the EventsExecutor where this rclpy has it, else a MultiThreadedExecutor.

    The EventsExecutor (C++, ``rclpy.experimental``) dispatches an image callback about 1 ms sooner
    than the Python MultiThreadedExecutor here (measured; see BENCHMARKS.md). It runs every
    callback on one thread, which is enough: each callback only converts, queues or answers,
    and the tracker runs on its own worker thread, so nothing waits behind inference.
    """
    try:
        from rclpy.experimental import EventsExecutor
    except ImportError:
        return MultiThreadedExecutor(num_threads=4)
    return EventsExecutor()


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
    executor = make_executor()
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
