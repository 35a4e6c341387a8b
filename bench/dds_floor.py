# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The transport floor under the node overhead: an echo node measured like tracker_node.

The echo node is the least an rclpy node can do with the node's inputs and outputs: the same
executor (:func:`~vil_tracker_ros.ros.tracker_node.make_executor`), the same ``image``
subscription (sensor-data QoS, cv_bridge-style conversion), a hand-off to a worker thread and
one ``~/detection`` (Detection2D) per frame, with no model, Kalman filter or bookkeeping.
With ``--work-ms`` the worker first computes that long (single-threaded numpy), as the
tracker step does, so caches and scheduling are as cold as they are after a real step.

``make bench`` streams the same frames through it with the same camera client as the real
node: what the real node adds above this floor is its own code.

    python bench/dds_floor.py --echo [--work-ms 12]     # the echo node (a child of the bench)
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional

import numpy as np

ECHO_NODE_NAME = 'vil_tracker'     # the camera client listens to /vil_tracker/...
STOP_POLL_S = 0.1


def _busy(work_s: float, a: np.ndarray) -> None:
    end = time.perf_counter() + work_s
    while time.perf_counter() < end:
        a @ a


def echo_main(work_ms: float) -> int:
    """Run the echo node until SIGINT/SIGTERM."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from rclpy.signals import SignalHandlerOptions
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2D, Detection2DArray
    from vil_tracker_ros.ros import messages
    from vil_tracker_ros.ros.conversions import image_msg_to_rgb
    from vil_tracker_ros.ros.tracker_node import make_executor

    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    node = rclpy.create_node(ECHO_NODE_NAME)
    pub = node.create_publisher(Detection2D, '~/detection', 10)
    # ~/detections answers every frame; the camera client's first-frame handshake needs it.
    pub_all = node.create_publisher(Detection2DArray, '~/detections', 10)
    frames: 'queue.Queue' = queue.Queue(maxsize=1)
    a = np.random.default_rng(0).random((160, 160), dtype=np.float32)
    cov = np.eye(2)

    def worker() -> None:
        while not stop.is_set():
            try:
                header, rgb = frames.get(timeout=STOP_POLL_S)
            except queue.Empty:
                continue
            if work_ms > 0:
                _busy(work_ms / 1e3, a)
            h, w = rgb.shape[:2]
            det = messages.make_detection(header, [w / 4, h / 4, w / 2, h / 2], 0.5, cov, '1',
                                          'target')
            pub.publish(det)      # first, as the node publishes it
            pub_all.publish(messages.make_detections(header, [det]))

    def on_image(msg: Image) -> None:
        item = (msg.header, image_msg_to_rgb(msg))
        try:
            frames.put_nowait(item)
        except queue.Full:      # newest wins, as in the node's mailbox
            try:
                frames.get_nowait()
            except queue.Empty:
                pass
            frames.put_nowait(item)

    node.create_subscription(Image, 'image', on_image, qos_profile_sensor_data)
    # The camera client waits for a reader of init_bbox too; the echo node ignores it.
    node.create_subscription(Detection2D, 'init_bbox', lambda msg: None, 10)
    thread = threading.Thread(target=worker, name='echo_worker', daemon=True)
    thread.start()
    executor = make_executor()
    executor.add_node(node)
    try:
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=STOP_POLL_S)
    finally:
        stop.set()
        thread.join(timeout=2.0)
        executor.shutdown(timeout_sec=2.0)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def measure(frames: List[np.ndarray], init_box, rate_hz: float,
            work_ms: float) -> Dict[str, object]:
    """Stream ``frames`` through a fresh echo node; latencies as ``node_run`` reports them."""
    import rclpy
    from vil_tracker_ros.ros.messages import stamp_to_ns
    from vil_tracker_ros.tools.client import release_executor, use_events_executor
    from vil_tracker_ros.tools.live import (CameraStreamer, OutputRecorder, spin_until,
                                            use_large_frame_transport)

    env = dict(os.environ, OMP_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1', MKL_NUM_THREADS='1')
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--echo',
                             '--work-ms', str(work_ms)], stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    use_large_frame_transport()
    rclpy.init()
    node = rclpy.create_node('vil_tracker_bench_floor')
    use_events_executor(node)
    try:
        recorder = OutputRecorder(node, diagnostics=False)
        camera = CameraStreamer(node)
        camera.wait_for_node()
        sent = camera.stream(frames, init_box, rate_hz, recorder)
        deadline = time.monotonic() + 2.0
        spin_until(node, lambda: time.monotonic() > deadline, 5.0, 'drain')
        dets = {stamp_to_ns(r.msg.header.stamp): r.receipt_ns
                for r in recorder.of('/detection')}
        lat = [(dets[s] - s) / 1e6 for s in sent.stamps_ns[1:] if s in dets]
    finally:
        release_executor(node)
        node.destroy_node()
        rclpy.try_shutdown()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5.0)
        log.close()
    p50 = float(np.median(lat)) if lat else float('nan')
    return {'work_ms': work_ms, 'rate_hz': rate_hz, 'frames_sent': len(frames),
            'frames_answered': len(lat), 'p50_ms': p50,
            'overhead_ms': p50 - work_ms}


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--echo', action='store_true', help='run the echo node (used by the bench)')
    p.add_argument('--work-ms', type=float, default=0.0,
                   help='compute this long per frame before answering')
    args = p.parse_args(argv)
    if not args.echo:
        p.error('run through `make bench`; --echo starts the echo node itself')
    return echo_main(args.work_ms)


if __name__ == '__main__':
    sys.exit(main())
