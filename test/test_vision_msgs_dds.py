# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""vision_msgs Detection2D / Detection2DArray round trip between two processes over DDS."""

import json
import math
import os
import subprocess
import sys
import time

from ament_index_python.packages import get_package_share_directory
from geometry_msgs.msg import PoseWithCovariance
import pytest
import rclpy
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from vision_msgs.msg import (BoundingBox2D, Detection2D, Detection2DArray,
                             ObjectHypothesisWithPose)

# Upstream vision_msgs 4.1.1's type hash: equal hashes mean wire-identical types.
UPSTREAM_DETECTION2D_HASH = (
    'RIHS01_0d12b69df5c593b3455b7346fac8205437a7d4bcb09b9e0e0b2dde787ded38ea')


def _detection(i: int) -> Detection2D:
    det = Detection2D()
    det.header.stamp.sec = 1000 + i
    det.header.stamp.nanosec = 123456789
    det.header.frame_id = 'camera_optical'
    det.id = f'track-{i}'
    det.bbox = BoundingBox2D()
    det.bbox.center.position.x = 10.5 + i
    det.bbox.center.position.y = -3.25
    det.bbox.center.theta = 0.125
    det.bbox.size_x = 40.0
    det.bbox.size_y = 20.0
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id = 'target'
    hyp.hypothesis.score = 0.875
    hyp.pose = PoseWithCovariance()
    hyp.pose.pose.position.x = 10.5 + i
    hyp.pose.pose.position.y = -3.25
    hyp.pose.covariance[0] = 4.0
    hyp.pose.covariance[1] = 0.5
    hyp.pose.covariance[6] = 0.5
    hyp.pose.covariance[7] = 9.0
    det.results.append(hyp)
    return det


def _same(a: Detection2D, b: Detection2D) -> bool:
    return (a.header == b.header and a.id == b.id and a.bbox == b.bbox
            and len(a.results) == len(b.results)
            and all(x.hypothesis == y.hypothesis and x.pose.pose == y.pose.pose
                    and all(math.isclose(p, q)
                            for p, q in zip(x.pose.covariance, y.pose.covariance))
                    for x, y in zip(a.results, b.results)))


@pytest.fixture
def echo_process():
    script = os.path.join(os.path.dirname(__file__), 'helpers', 'dds_echo.py')
    proc = subprocess.Popen([sys.executable, script, '--seconds', '60'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()  # the echo node prints 'ready' once it is spinning
        assert line.strip() == 'ready', f'echo node failed to start: {line!r}'
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_detection_round_trip_between_processes(echo_process):
    rclpy.init()
    node = rclpy.create_node('dds_roundtrip_test')
    try:
        qos = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE,
                         durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
        pub = node.create_publisher(Detection2D, 'echo_in', qos)
        pub_array = node.create_publisher(Detection2DArray, 'echo_in_array', qos)
        got, got_array = [], []
        node.create_subscription(Detection2D, 'echo_out', got.append, qos)
        node.create_subscription(Detection2DArray, 'echo_out_array', got_array.append, qos)

        sent = [_detection(i) for i in range(3)]
        array = Detection2DArray()
        array.header = sent[0].header
        array.detections = sent
        deadline = time.monotonic() + 30.0
        while pub.get_subscription_count() == 0 or pub_array.get_subscription_count() == 0:
            assert time.monotonic() < deadline, 'echo process never subscribed'
            rclpy.spin_once(node, timeout_sec=0.1)
        for det in sent:
            pub.publish(det)
        pub_array.publish(array)
        while len(got) < len(sent) or not got_array:
            assert time.monotonic() < deadline, (
                f'timed out: got {len(got)}/{len(sent)} detections, {len(got_array)} arrays')
            rclpy.spin_once(node, timeout_sec=0.1)
        assert all(_same(a, b) for a, b in zip(sent, got))
        back = got_array[0]
        assert back.header == array.header
        assert len(back.detections) == 3
        assert all(_same(a, b) for a, b in zip(sent, back.detections))
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


def test_detection2d_is_wire_identical_to_upstream():
    share = get_package_share_directory('vision_msgs')
    with open(os.path.join(share, 'msg', 'Detection2D.json')) as f:
        description = json.load(f)
    hashes = {h['type_name']: h['hash_string'] for h in description['type_hashes']}
    assert hashes['vision_msgs/msg/Detection2D'] == UPSTREAM_DETECTION2D_HASH
