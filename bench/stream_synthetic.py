# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Stream a synthetic sequence to a running tracker_node and print what comes back.

A hand check of the node over DDS (no launch needed):

    # terminal 1
    python -m vil_tracker_ros.ros.tracker_node --ros-args -p model.checkpoint:=CKPT
    # terminal 2 (configures and activates the node if it is not active yet)
    python bench/stream_synthetic.py --frames 60 --rate 15

It publishes ``image`` (rgb8) at ``--rate`` with stamps from the clock, sends an ``init_bbox``
naming the 5th frame's stamp, and prints every ``/vil_tracker/detection`` (stamp, id, box,
score, centre covariance, and the delay from publishing the frame to receiving its detection),
then the status changes and the last diagnostics.
"""

import argparse
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
import numpy as np
import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import String
from vil_tracker_ros.ros.conversions import rgb_to_image_msg
from vision_msgs.msg import Detection2D

INIT_FRAME = 4


def frame(i: int, width: int, height: int) -> np.ndarray:
    """Render a textured background with a square moving diagonally (1.5 px per frame)."""
    yy, xx = np.mgrid[0:height, 0:width]
    bg = ((xx * 3 + yy * 5) % 64 + 40).astype(np.uint8)
    rgb = np.stack([bg, bg // 2 + 30, 255 - bg], axis=-1)
    x, y = box(i)[:2]
    rgb[int(y):int(y) + 32, int(x):int(x) + 32] = (250, 220, 40)
    return np.ascontiguousarray(rgb)


def box(i: int):
    """Return the xywh box of the square in ``frame(i)``."""
    return (40 + 1.5 * i) % 200, (30 + 1.0 * i) % 120, 32.0, 32.0


class Streamer:
    def __init__(self, node_name: str) -> None:
        self.node = rclpy.create_node('vil_tracker_stream_synthetic')
        reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.images = self.node.create_publisher(Image, 'image', reliable)
        self.init = self.node.create_publisher(Detection2D, 'init_bbox', reliable)
        self.sent = {}
        self.lines = []
        self.statuses = []
        self.diagnostics = None
        self.node.create_subscription(Detection2D, f'{node_name}/detection', self.on_detection,
                                      reliable)
        self.node.create_subscription(String, f'{node_name}/status',
                                      lambda m: self.statuses.append(m.data), latched)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self.on_diagnostics, 10)
        self.get_state = self.node.create_client(GetState, f'{node_name}/get_state')
        self.change_state = self.node.create_client(ChangeState, f'{node_name}/change_state')

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=min(0.02, max(0.0, end - time.monotonic())))

    def call(self, client, request, timeout: float = 120.0):
        if not client.wait_for_service(timeout_sec=30.0):
            raise RuntimeError(f'{client.srv_name} not available: is tracker_node running?')
        future = client.call_async(request)
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout)
        if not future.done():
            raise RuntimeError(f'{client.srv_name} did not answer within {timeout:.0f} s')
        return future.result()

    def activate(self) -> None:
        for _ in range(2):
            state = self.call(self.get_state, GetState.Request()).current_state.label
            print(f'node state: {state}')
            if state == 'active':
                return
            request = ChangeState.Request()
            request.transition.id = {'unconfigured': Transition.TRANSITION_CONFIGURE,
                                     'inactive': Transition.TRANSITION_ACTIVATE}[state]
            if not self.call(self.change_state, request).success:
                raise RuntimeError(f'transition from {state} failed: see the node log')
        state = self.call(self.get_state, GetState.Request()).current_state.label
        if state != 'active':
            raise RuntimeError(f'node is {state}, not active')

    def on_detection(self, det: Detection2D) -> None:
        stamp = det.header.stamp.sec * 10**9 + det.header.stamp.nanosec
        index, sent_at = self.sent.get(stamp, (-1, float('nan')))
        hyp = det.results[0]
        cov = hyp.pose.covariance
        gt = box(index)
        self.lines.append(
            f'frame {index:3d} stamp {det.header.stamp.sec}.{det.header.stamp.nanosec:09d} '
            f'[{det.header.frame_id}] id={det.id} centre=({det.bbox.center.position.x:6.1f},'
            f'{det.bbox.center.position.y:6.1f}) size={det.bbox.size_x:5.1f}x'
            f'{det.bbox.size_y:5.1f} score={hyp.hypothesis.score:.3f} '
            f'class={hyp.hypothesis.class_id} var(cx,cy)=({cov[0]:.1f},{cov[7]:.1f}) px^2 '
            f'delay={(time.monotonic() - sent_at) * 1e3:5.1f} ms '
            f'(truth centre {gt[0] + 16:.1f},{gt[1] + 16:.1f})')
        print(self.lines[-1], flush=True)

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith('tracker'):
                self.diagnostics = {kv.key: kv.value for kv in status.values}

    def stream(self, frames: int, rate: float, width: int, height: int) -> None:
        deadline = time.monotonic() + 20.0
        while self.images.get_subscription_count() == 0 or \
                self.init.get_subscription_count() == 0:
            if time.monotonic() > deadline:
                raise RuntimeError('the node does not subscribe to image / init_bbox')
            self.spin_for(0.1)
        self.spin_for(0.5)  # let the node's side of discovery finish too
        period = 1.0 / rate
        next_t = time.monotonic()
        for i in range(frames):
            msg = rgb_to_image_msg(frame(i, width, height))
            stamp = self.node.get_clock().now().nanoseconds
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 10**9)
            msg.header.frame_id = 'synthetic_camera'
            self.sent[stamp] = (i, time.monotonic())
            self.images.publish(msg)
            if i == INIT_FRAME:
                init = Detection2D(header=msg.header)
                x, y, w, h = box(i)
                init.bbox.center.position.x, init.bbox.center.position.y = x + w / 2, y + h / 2
                init.bbox.size_x, init.bbox.size_y = w, h
                self.init.publish(init)
                print(f'sent init_bbox {box(i)} for frame {i}', flush=True)
            next_t += period
            self.spin_for(max(0.0, next_t - time.monotonic()))
        self.spin_for(1.5)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=60)
    parser.add_argument('--rate', type=float, default=15.0, help='Hz')
    parser.add_argument('--width', type=int, default=320)
    parser.add_argument('--height', type=int, default=240)
    parser.add_argument('--node', default='/vil_tracker', help='node name (with namespace)')
    parser.add_argument('--no-activate', action='store_true',
                        help='do not drive the lifecycle; expect an active node')
    args = parser.parse_args(argv)
    rclpy.init()
    streamer = Streamer(args.node)
    try:
        if not args.no_activate:
            streamer.activate()
        streamer.stream(args.frames, args.rate, args.width, args.height)
        print(f'frames sent {args.frames}, detections received {len(streamer.lines)}, '
              f'status changes {" -> ".join(streamer.statuses)}')
        if streamer.diagnostics:
            keys = ('fps', 'latency_p50_ms', 'latency_p95_ms', 'dropped_frames',
                    'frames_processed', 'device')
            print('diagnostics: ' + ', '.join(f'{k}={streamer.diagnostics.get(k)}'
                                              for k in keys))
        return 0 if streamer.lines else 1
    except RuntimeError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    finally:
        streamer.node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    sys.exit(main())
