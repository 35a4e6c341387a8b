# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""launch_testing twin of the image -> detection round trip (test_node_tracking.py covers the
same over plain DDS).

The node is configured and activated by launch events (as tracker.launch.py does with
autostart); the active test publishes stamped images and an init box naming one of them, and
checks that Detection2D messages come back carrying the input images' stamps and frame_id.
Run with ``launch_test test/test_tracking_launch.py`` (or ``colcon test`` on a distro).
"""

import os
import tempfile
import time
import unittest

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not importable here (no ROS distro; the pytest '
    'twin test_node_tracking.py covers the same round trip)')

import launch  # noqa: E402, I100 (after the importorskip above)
from launch.actions import EmitEvent, RegisterEventHandler  # noqa: E402
from launch.event_handlers import OnProcessStart  # noqa: E402
from launch.events import matches_action  # noqa: E402
from launch_ros.actions import LifecycleNode  # noqa: E402
from launch_ros.event_handlers import OnStateTransition  # noqa: E402
from launch_ros.events.lifecycle import ChangeState  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
from lifecycle_msgs.msg import Transition  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from vision_msgs.msg import Detection2D  # noqa: E402

BASE_NS = 1_700_000_000_000_000_000
PERIOD_NS = 50_000_000


def _tiny_checkpoint() -> str:
    import torch
    from vil_tracker_ros.model import build_model, get_config, save_checkpoint
    torch.manual_seed(0)
    path = os.path.join(tempfile.mkdtemp(prefix='vil_launch_test_'), 'vil_tiny.pt')
    save_checkpoint(path, build_model(get_config('vil_tiny')))
    return path


def _change(node, transition_id):
    return EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(node),
                                       transition_id=transition_id))


@pytest.mark.launch_test
def generate_test_description():
    tracker = LifecycleNode(
        package='vil_tracker_ros', executable='tracker_node', name='vil_tracker',
        namespace='', output='screen',
        parameters=[{'model.checkpoint': _tiny_checkpoint(), 'model.device': 'cpu',
                     'model.threads': 1, 'tracker.lost_confidence': 0.0,
                     'tracker.reacquire_confidence': 0.0}],
    )
    return launch.LaunchDescription([
        tracker,
        RegisterEventHandler(OnProcessStart(
            target_action=tracker, on_start=[_change(tracker, Transition.TRANSITION_CONFIGURE)])),
        RegisterEventHandler(OnStateTransition(
            target_lifecycle_node=tracker, start_state='configuring', goal_state='inactive',
            entities=[_change(tracker, Transition.TRANSITION_ACTIVATE)])),
        launch_testing.actions.ReadyToTest(),
    ]), {'tracker': tracker}


def _frame(i):
    rgb = np.full((96, 128, 3), 60, np.uint8)
    rgb[30 + i % 20:50 + i % 20, 40:64] = (250, 220, 40)
    return rgb


def _image(i):
    from vil_tracker_ros.ros.conversions import rgb_to_image_msg
    msg = rgb_to_image_msg(_frame(i))
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(BASE_NS + i * PERIOD_NS, 10**9)
    msg.header.frame_id = 'camera_optical'
    return msg


class TestImageToDetection(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('tracking_launch_test')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def _spin_until(self, cond, timeout):
        deadline = time.monotonic() + timeout
        while not cond() and time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
        return cond()

    def test_detections_carry_the_input_stamps(self, proc_output, tracker):
        proc_output.assertWaitFor('activated', process=tracker, timeout=120)
        reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        detections, statuses = [], []
        self.node.create_subscription(Detection2D, '/vil_tracker/detection',
                                      detections.append, reliable)
        self.node.create_subscription(String, '/vil_tracker/status',
                                      lambda m: statuses.append(m.data), 10)
        image_pub = self.node.create_publisher(Image, 'image', reliable)
        init_pub = self.node.create_publisher(Detection2D, 'init_bbox', reliable)
        self.assertTrue(self._spin_until(
            lambda: image_pub.get_subscription_count() > 0
            and init_pub.get_subscription_count() > 0, 30), 'node never subscribed')
        time.sleep(0.5)
        for i in range(5):
            image_pub.publish(_image(i))
            self._spin_until(lambda: False, 0.1)
        init = Detection2D()
        init.header = _image(4).header
        init.bbox.center.position.x, init.bbox.center.position.y = 52.0, 44.0
        init.bbox.size_x, init.bbox.size_y = 24.0, 20.0
        init_pub.publish(init)
        self.assertTrue(self._spin_until(lambda: 'tracking' in statuses, 20), statuses)
        sent = set()
        for i in range(5, 25):
            msg = _image(i)
            sent.add((msg.header.stamp.sec, msg.header.stamp.nanosec))
            image_pub.publish(msg)
            self._spin_until(lambda: False, 0.1)
        self.assertTrue(self._spin_until(lambda: len(detections) >= 5, 20), len(detections))
        for det in detections:
            self.assertIn((det.header.stamp.sec, det.header.stamp.nanosec), sent)
            self.assertEqual(det.header.frame_id, 'camera_optical')
            self.assertEqual(det.id, '1')
            self.assertGreater(det.bbox.size_x, 0.0)


@launch_testing.post_shutdown_test()
class TestTrackerExit(unittest.TestCase):

    def test_exit_code_is_zero(self, proc_info, tracker):
        launch_testing.asserts.assertExitCodes(proc_info, process=tracker)
