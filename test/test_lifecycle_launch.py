# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""launch_testing twin of the lifecycle walk (test_node_lifecycle.py covers it over plain DDS).

The launch description drives the node like ros2/demos' lifecycle test: configure on process
start, then activate, deactivate, cleanup and shutdown, each on the previous transition's
event. The node exits by itself once finalized; the post-shutdown test checks its exit code.
Run with ``launch_test test/test_lifecycle_launch.py`` (or ``colcon test`` on a distro).
"""

import os
import tempfile
import unittest

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not importable here (no ROS distro; the pytest '
    'twin test_node_lifecycle.py covers the same walk)')

import launch  # noqa: E402, I100 (after the importorskip above)
from launch.actions import EmitEvent, RegisterEventHandler, TimerAction  # noqa: E402
from launch.event_handlers import OnProcessStart  # noqa: E402
from launch.events import matches_action  # noqa: E402
from launch_ros.actions import LifecycleNode  # noqa: E402
from launch_ros.event_handlers import OnStateTransition  # noqa: E402
from launch_ros.events.lifecycle import ChangeState  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
from lifecycle_msgs.msg import Transition  # noqa: E402


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


def _on(node, start, goal, *entities):
    return RegisterEventHandler(OnStateTransition(
        target_lifecycle_node=node, start_state=start, goal_state=goal, entities=list(entities)))


@pytest.mark.launch_test
def generate_test_description():
    tracker = LifecycleNode(
        package='vil_tracker_ros', executable='tracker_node', name='vil_tracker',
        namespace='', output='screen',
        parameters=[{'model.checkpoint': _tiny_checkpoint(), 'model.device': 'cpu',
                     'model.threads': 1}],
    )
    return launch.LaunchDescription([
        tracker,
        RegisterEventHandler(OnProcessStart(
            target_action=tracker, on_start=[_change(tracker, Transition.TRANSITION_CONFIGURE)])),
        _on(tracker, 'configuring', 'inactive', _change(tracker, Transition.TRANSITION_ACTIVATE)),
        _on(tracker, 'activating', 'active', TimerAction(
            period=1.0, actions=[_change(tracker, Transition.TRANSITION_DEACTIVATE)])),
        _on(tracker, 'deactivating', 'inactive', _change(tracker, Transition.TRANSITION_CLEANUP)),
        _on(tracker, 'cleaningup', 'unconfigured',
            _change(tracker, Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)),
        launch_testing.actions.ReadyToTest(),
    ]), {'tracker': tracker}


class TestLifecycleWalk(unittest.TestCase):

    def test_every_transition_happens_in_order(self, proc_output, tracker):
        for line, timeout in (('configured: checkpoint', 120), ('activated', 30),
                              ('deactivated: model kept', 30), ('cleaned up: model released', 30),
                              ('shut down', 30)):
            proc_output.assertWaitFor(line, process=tracker, timeout=timeout)


@launch_testing.post_shutdown_test()
class TestLifecycleExit(unittest.TestCase):

    def test_exit_code_is_zero(self, proc_info, tracker):
        launch_testing.asserts.assertExitCodes(proc_info, process=tracker)
