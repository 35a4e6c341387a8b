# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Echo node run as a separate process by test_vision_msgs_dds.py.

Subscribes to ``echo_in`` / ``echo_in_array`` and republishes every message unchanged on
``echo_out`` / ``echo_out_array``; exits after ``--seconds``.
"""

import argparse
import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from vision_msgs.msg import Detection2D, Detection2DArray


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds', type=float, default=30.0)
    args = parser.parse_args()
    rclpy.init()
    node = rclpy.create_node('dds_echo')
    qos = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE,
                     durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
    pub = node.create_publisher(Detection2D, 'echo_out', qos)
    pub_array = node.create_publisher(Detection2DArray, 'echo_out_array', qos)
    node.create_subscription(Detection2D, 'echo_in', pub.publish, qos)
    node.create_subscription(Detection2DArray, 'echo_in_array', pub_array.publish, qos)
    print('ready', flush=True)
    try:
        end = node.get_clock().now().nanoseconds + int(args.seconds * 1e9)
        while rclpy.ok() and node.get_clock().now().nanoseconds < end:
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
