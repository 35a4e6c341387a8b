# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The demo on a ROS 2 distro: tracker node (autostarted) + the demo camera and recorder.

    ros2 launch vil_tracker_ros demo.launch.py
    ros2 launch vil_tracker_ros demo.launch.py out:=/tmp/demo_out frames:=120 rate:=15.0

It includes tracker.launch.py (configure + activate on start) and runs ``vil-tracker-demo
--external-node``, which waits for the node to become active, streams a synthetic sequence as
Image + CameraInfo, sends the stamped init box, records every output and writes ``out``
(MP4, PNG, metrics.json). When the demo process ends, the launch shuts down.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.actions import EmitEvent
from launch.actions import ExecuteProcess
from launch.actions import IncludeLaunchDescription
from launch.actions import RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch.substitutions import PathJoinSubstitution
from launch_ros.substitutions import FindPackagePrefix
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    package_share = FindPackageShare('vil_tracker_ros')
    arguments = [
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution([package_share, 'config', 'tracker.yaml']),
            description='Parameters file of the tracker node.'),
        DeclareLaunchArgument('out', default_value='demo_out',
                              description='Output folder of the demo.'),
        DeclareLaunchArgument('frames', default_value='240',
                              description='Frames the demo camera streams.'),
        DeclareLaunchArgument('rate', default_value='20.0',
                              description='Demo camera rate in Hz.'),
    ]

    tracker = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution([package_share, 'launch', 'tracker.launch.py'])),
        launch_arguments={'params_file': LaunchConfiguration('params_file'),
                          'autostart': 'true'}.items(),
    )
    # ExecuteProcess, not Node: the demo is a plain CLI and takes no --ros-args.
    demo = ExecuteProcess(
        cmd=[PathJoinSubstitution([FindPackagePrefix('vil_tracker_ros'), 'lib',
                                   'vil_tracker_ros', 'vil-tracker-demo']),
             '--external-node', '--out', LaunchConfiguration('out'),
             '--frames', LaunchConfiguration('frames'), '--rate', LaunchConfiguration('rate')],
        name='vil_tracker_demo',
        output='screen',
    )
    stop_when_demo_ends = RegisterEventHandler(OnProcessExit(
        target_action=demo,
        on_exit=[EmitEvent(event=Shutdown(reason='demo finished'))],
    ))
    return LaunchDescription(arguments + [tracker, demo, stop_when_demo_ends])
