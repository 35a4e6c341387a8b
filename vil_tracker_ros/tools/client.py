# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Drive a ``tracker_node`` from another process: start it, walk its lifecycle, talk to it.

Used by the demo, live bag replay, the benchmark and the integration tests, so that all of
them exercise the node exactly as an external client would: a separate process, the standard
lifecycle services, and topics over DDS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence
import weakref

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.node import Node

NODE_NAME = 'vil_tracker'

TRANSITIONS = {
    'configure': Transition.TRANSITION_CONFIGURE,
    'cleanup': Transition.TRANSITION_CLEANUP,
    'activate': Transition.TRANSITION_ACTIVATE,
    'deactivate': Transition.TRANSITION_DEACTIVATE,
    'unconfigured_shutdown': Transition.TRANSITION_UNCONFIGURED_SHUTDOWN,
    'inactive_shutdown': Transition.TRANSITION_INACTIVE_SHUTDOWN,
    'active_shutdown': Transition.TRANSITION_ACTIVE_SHUTDOWN,
}


class NodeClientError(RuntimeError):
    """The node did not answer, or refused a transition."""


# Nodes that spin_until spins with an executor of their own (see use_events_executor).
_EXECUTORS: 'weakref.WeakKeyDictionary[Node, Any]' = weakref.WeakKeyDictionary()


def use_events_executor(node: Node) -> bool:
    """Make :func:`spin_until` spin ``node`` with rclpy's EventsExecutor from now on.

    Its C++ dispatch answers a message sooner than ``rclpy.spin_once`` (about 1 ms per message
    measured here), so a measuring client adds less of its own time to what it measures.
    Returns False (nothing changes) where this rclpy has no EventsExecutor. Call
    :func:`release_executor` before destroying the node.
    """
    try:
        from rclpy.experimental import EventsExecutor
    except ImportError:
        return False
    executor = EventsExecutor(context=node.context)
    executor.add_node(node)
    _EXECUTORS[node] = executor
    return True


def release_executor(node: Node) -> None:
    """Undo :func:`use_events_executor` for ``node`` (no-op if it was not called)."""
    executor = _EXECUTORS.pop(node, None)
    if executor is not None:
        executor.remove_node(node)
        executor.shutdown()


def spin_until(node: Node, done: Callable[[], bool], timeout: float,
               what: str = 'condition') -> None:
    """Spin ``node`` until ``done()`` is true; raise TimeoutError after ``timeout`` seconds."""
    import rclpy  # local: keeps this module importable for docs without a ROS env
    executor = _EXECUTORS.get(node)
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f'timed out after {timeout:.1f}s waiting for {what}')
        if executor is not None:
            executor.spin_once(timeout_sec=0.05)
        else:
            rclpy.spin_once(node, timeout_sec=0.05)


class LifecycleClient:
    """The standard ``<node>/get_state`` and ``<node>/change_state`` services."""

    def __init__(self, node: Node, target: str = '/' + NODE_NAME) -> None:
        self._node = node
        self._get = node.create_client(GetState, f'{target}/get_state')
        self._change = node.create_client(ChangeState, f'{target}/change_state')

    def wait_for_services(self, timeout: float = 30.0) -> None:
        spin_until(self._node, lambda: (self._get.service_is_ready()
                                        and self._change.service_is_ready()),
                   timeout, 'the lifecycle services')

    def _call(self, client, request, timeout: float):
        future = client.call_async(request)
        spin_until(self._node, future.done, timeout, f'{client.srv_name}')
        if future.exception() is not None:
            raise NodeClientError(f'{client.srv_name} failed: {future.exception()}')
        return future.result()

    def get_state(self, timeout: float = 10.0) -> str:
        """Return the current state label: unconfigured, inactive, active, finalized, ..."""
        return self._call(self._get, GetState.Request(), timeout).current_state.label

    def change_state(self, transition: str, timeout: float = 60.0) -> bool:
        """Request ``transition`` (a key of TRANSITIONS); return the node's success flag."""
        request = ChangeState.Request()
        request.transition.id = TRANSITIONS[transition]
        return bool(self._call(self._change, request, timeout).success)

    def activate(self, timeout: float = 120.0) -> None:
        """Configure (if needed) and activate; raise NodeClientError on a refused step."""
        state = self.get_state()
        if state == 'unconfigured' and not self.change_state('configure', timeout):
            raise NodeClientError('configure failed (see the node log for the reason)')
        # A launch file with autostart may activate the node between our get_state and
        # change_state: a refused activate is fine when the node is active anyway.
        if self.get_state() == 'inactive' and not self.change_state('activate', timeout) \
                and self.get_state() != 'active':
            raise NodeClientError('activate failed (see the node log for the reason)')
        state = self.get_state()
        if state != 'active':
            raise NodeClientError(f'node is {state!r}, not active')


def param_args(params: Dict[str, object]) -> List[str]:
    """``--ros-args -p`` arguments for a flat ``{'section.key': value}`` mapping."""
    args: List[str] = []
    for key, value in params.items():
        if isinstance(value, bool):
            text = 'true' if value else 'false'
        else:
            text = str(value)
        args += ['-p', f'{key}:={text}']
    return args


class NodeProcess:
    """``tracker_node`` as a child process, stopped with SIGINT like ``ros2 launch`` does.

    The node's stdout/stderr go to a log file (``log_path``), read back by ``log()`` for
    error messages, so a chatty node never blocks on a full pipe.
    """

    def __init__(self, params: Optional[Dict[str, object]] = None,
                 params_file: Optional[str] = None,
                 remaps: Optional[Dict[str, str]] = None,
                 extra_args: Sequence[str] = (),
                 env: Optional[Dict[str, str]] = None,
                 log_path: Optional[str] = None) -> None:
        self.cmd = [sys.executable, '-m', 'vil_tracker_ros.ros.tracker_node', '--ros-args']
        if params_file:
            self.cmd += ['--params-file', params_file]
        self.cmd += param_args(params or {})
        for src, dst in (remaps or {}).items():
            self.cmd += ['-r', f'{src}:={dst}']
        self.cmd += list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault('PYTHONUNBUFFERED', '1')
        self._own_log = log_path is None
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix='tracker_node_', suffix='.log')
            os.close(fd)
        self.log_path = log_path
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> 'NodeProcess':
        log = open(self.log_path, 'w')
        try:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env)
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> Optional[int]:
        """Return the exit code, or None if the process still runs after ``timeout``."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        """SIGINT, then SIGKILL after ``timeout``; return the exit code (negative if killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            if self.wait_exit(timeout) is None:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def cleanup(self) -> None:
        if self._own_log and os.path.exists(self.log_path):
            os.unlink(self.log_path)

    def __enter__(self) -> 'NodeProcess':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_for_subscribers(node: Node, publishers: Iterable, timeout: float = 30.0) -> None:
    """Wait until every publisher in ``publishers`` has matched at least one subscriber."""
    pubs = list(publishers)
    spin_until(node, lambda: all(p.get_subscription_count() > 0 for p in pubs), timeout,
               'subscribers on ' + ', '.join(p.topic_name for p in pubs))
