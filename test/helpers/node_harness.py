# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Integration-test harness: ``tracker_node`` as a real child process, driven over DDS.

* :class:`TrackerProcess` starts ``python -m vil_tracker_ros.ros.tracker_node`` with
  ``--ros-args`` parameters, logs to a file, and is always killed by :meth:`stop`.
* :class:`TrackerClient` is an rclpy node in the test process (own context, spun by a
  background thread) that calls the lifecycle and parameter services, publishes images,
  camera_info and init boxes, and records every output of the node.

Every wait has a timeout; nothing here can hang a test.
"""

from __future__ import annotations

import collections
import math
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseWithCovarianceStamped, Vector3Stamped
from lifecycle_msgs.srv import ChangeState, GetState
import numpy as np
from rcl_interfaces.srv import SetParameters
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Float32, String
from std_srvs.srv import Trigger
from vil_tracker_ros.ros.conversions import rgb_to_compressed_msg, rgb_to_image_msg
from vil_tracker_ros.tools.client import NodeProcess, TRANSITIONS
from vision_msgs.msg import Detection2D, Detection2DArray

NODE = '/vil_tracker'
OUTPUTS = {
    'detection': Detection2D,
    'detections': Detection2DArray,
    'confidence': Float32,
    'covariance': PoseWithCovarianceStamped,
    'target_offset': Vector3Stamped,
    'target_bearing': Vector3Stamped,
    'debug_image': Image,
}


def wait_until(cond: Callable[[], bool], timeout: float, what: str = 'condition') -> None:
    """Poll ``cond`` until true; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout:.1f} s waiting for {what}')
        time.sleep(0.02)


def stamp_ns(msg_stamp) -> int:
    return int(msg_stamp.sec) * 1_000_000_000 + int(msg_stamp.nanosec)


def synthetic_frame(i: int, width: int = 160, height: int = 120) -> np.ndarray:
    """Render a textured background with a bright square moving one pixel per frame."""
    yy, xx = np.mgrid[0:height, 0:width]
    bg = ((xx * 3 + yy * 5) % 64 + 40).astype(np.uint8)
    rgb = np.stack([bg, bg // 2 + 30, 255 - bg], axis=-1)
    x, y = 40 + i % 60, 40 + (i // 2) % 30
    rgb[y:y + 24, x:x + 24] = (250, 220, 40)
    return np.ascontiguousarray(rgb)


def target_box(i: int) -> tuple:
    """Return the xywh box of the square in ``synthetic_frame(i)``."""
    return (40 + i % 60, 40 + (i // 2) % 30, 24, 24)


class TrackerProcess(NodeProcess):
    """The node under test (``tools.client.NodeProcess``), plus /proc probes for leak checks."""

    def __init__(self, params: Optional[Dict[str, Any]] = None,
                 extra_args: Sequence[str] = (), params_file: Optional[str] = None) -> None:
        super().__init__(params=params, params_file=params_file, extra_args=extra_args,
                         env={'RCUTILS_COLORIZED_OUTPUT': '0'})

    def remove_log(self) -> None:
        self.cleanup()

    def rss_kib(self) -> int:
        with open(f'/proc/{self.proc.pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        raise RuntimeError('no VmRSS')

    def thread_count(self, name: Optional[str] = None) -> int:
        """Threads of the process; only those with OS name ``name`` when given."""
        task_dir = f'/proc/{self.proc.pid}/task'
        count = 0
        for tid in os.listdir(task_dir):
            try:
                with open(f'{task_dir}/{tid}/comm') as f:
                    comm = f.read().strip()
            except OSError:  # the thread ended meanwhile
                continue
            count += name is None or comm == name
        return count


class TrackerClient:
    """Talks to ``/vil_tracker`` from the test process and records its outputs."""

    def __init__(self, name: str = 'vil_tracker_test_client') -> None:
        self.context = rclpy.context.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._lock = threading.Lock()
        self.received: Dict[str, List[Any]] = collections.defaultdict(list)
        self.arrival: Dict[str, List[float]] = collections.defaultdict(list)
        self.statuses: List[str] = []
        self.diagnostics: List[Dict[str, str]] = []
        n = self.node
        reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        for topic, msg_type in OUTPUTS.items():
            n.create_subscription(msg_type, f'{NODE}/{topic}',
                                  lambda msg, t=topic: self._record(t, msg), reliable)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        n.create_subscription(String, f'{NODE}/status', self._on_status, latched)
        n.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.image_pub = n.create_publisher(Image, 'image', reliable)
        self.compressed_pub = n.create_publisher(CompressedImage, 'image/compressed', reliable)
        self.info_pub = n.create_publisher(CameraInfo, 'camera_info', reliable)
        self.init_pub = n.create_publisher(Detection2D, 'init_bbox', reliable)
        self._get_state = n.create_client(GetState, f'{NODE}/get_state')
        self._change_state = n.create_client(ChangeState, f'{NODE}/change_state')
        self._set_params = n.create_client(SetParameters, f'{NODE}/set_parameters')
        self._reset = n.create_client(Trigger, f'{NODE}/reset')
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # context shut down under us at close()
                return

    def _record(self, topic: str, msg: Any) -> None:
        with self._lock:
            self.received[topic].append(msg)
            self.arrival[topic].append(time.monotonic())

    def _on_status(self, msg: String) -> None:
        with self._lock:
            self.statuses.append(msg.data)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith('tracker'):
                with self._lock:
                    self.diagnostics.append({kv.key: kv.value for kv in status.values})

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=5.0)

    # ----------------------------------------------------------------- records

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.arrival.clear()
            self.diagnostics.clear()

    def messages(self, topic: str) -> List[Any]:
        with self._lock:
            return list(self.received[topic])

    def count(self, topic: str) -> int:
        with self._lock:
            return len(self.received[topic])

    def last_status(self) -> Optional[str]:
        with self._lock:
            return self.statuses[-1] if self.statuses else None

    def all_diagnostics(self) -> List[Dict[str, str]]:
        """Return every tracker diagnostics record since the last clear()."""
        with self._lock:
            return [dict(d) for d in self.diagnostics]

    def latest_diagnostics(self, timeout: float = 5.0) -> Dict[str, str]:
        """Return the first diagnostics published after this call."""
        with self._lock:
            seen = len(self.diagnostics)
        wait_until(lambda: len(self.diagnostics) > seen, timeout, '/diagnostics')
        with self._lock:
            return dict(self.diagnostics[-1])

    # ---------------------------------------------------------------- services

    def _call(self, client, request, timeout: float):
        wait_until(client.service_is_ready, timeout, f'service {client.srv_name}')
        future = client.call_async(request)
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout):
            raise AssertionError(f'{client.srv_name} did not answer within {timeout:.0f} s')
        return future.result()

    def wait_for_node(self, timeout: float = 30.0) -> None:
        wait_until(lambda: self._get_state.service_is_ready()
                   and self._change_state.service_is_ready(), timeout, 'the node')

    def get_state(self, timeout: float = 10.0) -> str:
        return self._call(self._get_state, GetState.Request(), timeout).current_state.label

    def change_state(self, transition: str, timeout: float = 120.0) -> bool:
        request = ChangeState.Request()
        request.transition.id = TRANSITIONS[transition]
        return bool(self._call(self._change_state, request, timeout).success)

    def set_parameters(self, values: Dict[str, Any], timeout: float = 10.0) -> List[Any]:
        request = SetParameters.Request()
        request.parameters = [Parameter(k, value=v).to_parameter_msg()
                              for k, v in values.items()]
        return list(self._call(self._set_params, request, timeout).results)

    def reset(self, timeout: float = 10.0) -> Trigger.Response:
        return self._call(self._reset, Trigger.Request(), timeout)

    # ------------------------------------------------------------------ inputs

    def wait_for_subscribers(self, timeout: float = 20.0) -> None:
        wait_until(lambda: self.image_pub.get_subscription_count() > 0
                   and self.init_pub.get_subscription_count() > 0, timeout,
                   'the node to subscribe to image and init_bbox')

    def image_msg(self, rgb: np.ndarray, stamp: int, encoding: str = 'rgb8',
                  frame_id: str = 'camera_optical') -> Image:
        msg = rgb_to_image_msg(rgb, encoding)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(stamp), 1_000_000_000)
        msg.header.frame_id = frame_id
        return msg

    def publish_image(self, rgb: np.ndarray, stamp: int, encoding: str = 'rgb8',
                      frame_id: str = 'camera_optical') -> None:
        self.image_pub.publish(self.image_msg(rgb, stamp, encoding, frame_id))

    def publish_compressed(self, rgb: np.ndarray, stamp: int,
                           frame_id: str = 'camera_optical') -> None:
        msg = rgb_to_compressed_msg(rgb, 'png')
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(stamp), 1_000_000_000)
        msg.header.frame_id = frame_id
        self.compressed_pub.publish(msg)

    def publish_init(self, box_xywh: Sequence[float], stamp: int) -> None:
        x, y, w, h = box_xywh
        msg = Detection2D()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(stamp), 1_000_000_000)
        msg.header.frame_id = 'camera_optical'
        msg.bbox.center.position.x = x + w / 2.0 if math.isfinite(w) else x
        msg.bbox.center.position.y = y + h / 2.0 if math.isfinite(h) else y
        msg.bbox.size_x = float(w)
        msg.bbox.size_y = float(h)
        self.init_pub.publish(msg)

    def publish_camera_info(self, width: int, height: int, k: Sequence[float],
                            d: Sequence[float], model: str = 'plumb_bob') -> None:
        msg = CameraInfo(width=width, height=height, distortion_model=model)
        msg.k = [float(v) for v in k]
        msg.d = [float(v) for v in d]
        msg.header.frame_id = 'camera_optical'
        self.info_pub.publish(msg)


def make_tiny_checkpoint(path: str) -> str:
    """Save an untrained ``vil_tiny`` network (fast on CPU) as a checkpoint at ``path``."""
    import torch
    from vil_tracker_ros.model import build_model, get_config, save_checkpoint
    torch.manual_seed(0)
    save_checkpoint(path, build_model(get_config('vil_tiny')))
    return path


def node_params(checkpoint: str, **overrides: Any) -> Dict[str, Any]:
    """Parameters for a fast, deterministic test node (one CPU thread: see FACTS.md)."""
    params = {'model.checkpoint': checkpoint, 'model.device': 'cpu', 'model.threads': 1}
    params.update(overrides)
    return params
