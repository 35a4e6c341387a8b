# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Start the vil_tracker lifecycle node; with autostart, configure and activate it.

    ros2 launch vil_tracker_ros tracker.launch.py image_topic:=/camera/image_raw
    ros2 launch vil_tracker_ros tracker.launch.py params_file:=my.yaml autostart:=false

Arguments: params_file (default: config/tracker.yaml of the installed package), namespace,
image_topic (its ``/compressed`` sibling feeds ``io.compressed``), camera_info_topic,
init_bbox_topic, autostart (default true: configure as soon as the process starts, activate
once configuring reached inactive; a failed configure leaves the node unconfigured with the
reason in its log).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.actions import EmitEvent
from launch.actions import RegisterEventHandler
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessStart
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration
from launch.substitutions import PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from launch_ros.substitutions import FindPackageShare
from lifecycle_msgs.msg import Transition


def generate_launch_description():
    params_file = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    image_topic = LaunchConfiguration('image_topic')
    camera_info_topic = LaunchConfiguration('camera_info_topic')
    init_bbox_topic = LaunchConfiguration('init_bbox_topic')
    autostart = LaunchConfiguration('autostart')

    arguments = [
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('vil_tracker_ros'), 'config', 'tracker.yaml']),
            description='Parameters file of the node (sections model, tracker, kalman, io).'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of the node and its relative inputs.'),
        DeclareLaunchArgument('image_topic', default_value='image',
                              description='sensor_msgs/Image input (remaps "image").'),
        DeclareLaunchArgument('camera_info_topic', default_value='camera_info',
                              description='sensor_msgs/CameraInfo input (optional).'),
        DeclareLaunchArgument('init_bbox_topic', default_value='init_bbox',
                              description='vision_msgs/Detection2D target selection input.'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='Configure and activate the node on start.'),
    ]

    tracker = LifecycleNode(
        package='vil_tracker_ros',
        executable='tracker_node',
        name='vil_tracker',
        namespace=namespace,
        parameters=[params_file],
        remappings=[
            ('image', image_topic),
            ('image/compressed', [image_topic, '/compressed']),
            ('camera_info', camera_info_topic),
            ('init_bbox', init_bbox_topic),
        ],
        output='screen',
    )

    configure_on_start = RegisterEventHandler(
        OnProcessStart(
            target_action=tracker,
            on_start=[EmitEvent(event=ChangeState(
                lifecycle_node_matcher=matches_action(tracker),
                transition_id=Transition.TRANSITION_CONFIGURE))],
        ),
        condition=IfCondition(autostart),
    )
    # Only after *configuring* succeeded: a later deactivate (active -> inactive) must not
    # re-activate the node.
    activate_when_configured = RegisterEventHandler(
        OnStateTransition(
            target_lifecycle_node=tracker,
            start_state='configuring',
            goal_state='inactive',
            entities=[EmitEvent(event=ChangeState(
                lifecycle_node_matcher=matches_action(tracker),
                transition_id=Transition.TRANSITION_ACTIVATE))],
        ),
        condition=IfCondition(autostart),
    )

    return LaunchDescription(arguments + [tracker, configure_on_start,
                                          activate_when_configured])
