# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""launch_testing twin of the MAVLink loopback (test_mavlink_bridge.py covers it over plain DDS).

Starts the tracker (tiny checkpoint, configured and activated by lifecycle events) and
``launch/mavlink_bridge.launch.py`` listening on a free loopback UDP port; a pymavlink GCS then
checks HEARTBEAT, CAMERA_INFORMATION and the idle status stream, and that a stop command is
acknowledged through the tracker's ``~/reset``. Run with ``launch_test
test/test_mavlink_bridge_launch.py`` (or ``colcon test`` on a distro).
"""

import math
import os
import socket
import tempfile
import time
import unittest

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not importable here (no ROS distro; the pytest '
    'twin test_mavlink_bridge.py covers the same loopback)')

import launch  # noqa: E402, I100 (after the importorskip above)
from launch.actions import EmitEvent, IncludeLaunchDescription  # noqa: E402
from launch.actions import RegisterEventHandler  # noqa: E402
from launch.event_handlers import OnProcessStart  # noqa: E402
from launch.events import matches_action  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from launch_ros.actions import LifecycleNode  # noqa: E402
from launch_ros.event_handlers import OnStateTransition  # noqa: E402
from launch_ros.events.lifecycle import ChangeState  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
from lifecycle_msgs.msg import Transition  # noqa: E402
from vil_tracker_ros.mavlink import camera_tracking as ct  # noqa: E402

LAUNCH_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           'launch', 'mavlink_bridge.launch.py')
mav = ct.mav


def _tiny_checkpoint() -> str:
    import torch
    from vil_tracker_ros.model import build_model, get_config, save_checkpoint
    torch.manual_seed(0)
    path = os.path.join(tempfile.mkdtemp(prefix='vil_mavlink_launch_'), 'vil_tiny.pt')
    save_checkpoint(path, build_model(get_config('vil_tiny')))
    return path


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


PORT = _free_udp_port()


def _change(node, transition_id):
    return EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(node),
                                       transition_id=transition_id))


@pytest.mark.launch_test
def generate_test_description():
    tracker = LifecycleNode(
        package='vil_tracker_ros', executable='tracker_node', name='vil_tracker',
        namespace='', output='screen',
        parameters=[{'model.checkpoint': _tiny_checkpoint(), 'model.device': 'cpu',
                     'model.threads': 1}])
    bridge = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(LAUNCH_FILE),
        launch_arguments={'connection': f'udpin:127.0.0.1:{PORT}',
                          'status_rate_hz': '10.0'}.items())
    return launch.LaunchDescription([
        tracker,
        bridge,
        RegisterEventHandler(OnProcessStart(
            target_action=tracker, on_start=[_change(tracker, Transition.TRANSITION_CONFIGURE)])),
        RegisterEventHandler(OnStateTransition(
            target_lifecycle_node=tracker, start_state='configuring', goal_state='inactive',
            entities=[_change(tracker, Transition.TRANSITION_ACTIVATE)])),
        launch_testing.actions.ReadyToTest(),
    ]), {'tracker': tracker}


class TestMavlinkLoopback(unittest.TestCase):

    def _recv(self, gcs, kind, timeout, cond=lambda m: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            gcs.mav.heartbeat_send(mav.MAV_TYPE_GCS, mav.MAV_AUTOPILOT_INVALID, 0, 0, 0)
            msg = gcs.recv_match(type=kind, blocking=True, timeout=0.2)
            if msg is not None and msg.get_srcComponent() == 100 and cond(msg):
                return msg
        self.fail(f'no {kind} within {timeout} s')

    def _command(self, gcs, cmd, params, timeout=15.0):
        params = list(params) + [0.0] * (7 - len(params))
        gcs.mav.command_long_send(1, 100, cmd, 0, *params)
        return self._recv(gcs, 'COMMAND_ACK', timeout, lambda m: m.command == cmd).result

    def test_camera_component_answers(self, proc_output, tracker):
        proc_output.assertWaitFor('activated', process=tracker, timeout=120)
        gcs = ct.mavutil.mavlink_connection(f'udpout:127.0.0.1:{PORT}', dialect='common',
                                            source_system=255, source_component=190)
        try:
            beat = self._recv(gcs, 'HEARTBEAT', 60)
            self.assertEqual(beat.type, mav.MAV_TYPE_CAMERA)
            self.assertEqual(self._command(gcs, mav.MAV_CMD_REQUEST_MESSAGE,
                                           [mav.MAVLINK_MSG_ID_CAMERA_INFORMATION]),
                             mav.MAV_RESULT_ACCEPTED)
            info = self._recv(gcs, 'CAMERA_INFORMATION', 15)
            self.assertTrue(info.flags & mav.CAMERA_CAP_FLAGS_HAS_TRACKING_RECTANGLE)
            status = self._recv(gcs, 'CAMERA_TRACKING_IMAGE_STATUS', 15)
            self.assertEqual(status.tracking_status, mav.CAMERA_TRACKING_STATUS_FLAGS_IDLE)
            self.assertTrue(math.isnan(status.point_x))
            self.assertEqual(self._command(gcs, mav.MAV_CMD_CAMERA_STOP_TRACKING, []),
                             mav.MAV_RESULT_ACCEPTED)
            self.assertEqual(self._command(gcs, mav.MAV_CMD_CAMERA_TRACK_POINT, [0.5, 0.5]),
                             mav.MAV_RESULT_FAILED)           # no image published here
        finally:
            gcs.close()


@launch_testing.post_shutdown_test()
class TestMavlinkExit(unittest.TestCase):

    def test_exit_codes(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
