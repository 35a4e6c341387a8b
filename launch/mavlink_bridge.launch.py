# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Start the MAVLink camera-tracking bridge next to a running vil_tracker (docs/autopilot.md).

    ros2 launch vil_tracker_ros mavlink_bridge.launch.py connection:=udpout:192.168.1.10:14550
    ros2 launch vil_tracker_ros mavlink_bridge.launch.py connection:=/dev/ttyUSB0 baud:=921600

Arguments: connection (pymavlink string, default udpin:0.0.0.0:14580), baud, system_id,
component_id (default 100, MAV_COMP_ID_CAMERA), status_rate_hz, point_box_fraction, tracker
(the tracker node, default /vil_tracker), namespace, image_topic, camera_info_topic,
init_bbox_topic (remaps of the bridge's relative inputs and its output, to match the tracker's).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    def arg(name, default, description):
        return DeclareLaunchArgument(name, default_value=default, description=description)

    arguments = [
        arg('connection', 'udpin:0.0.0.0:14580',
            'pymavlink connection: udpin:HOST:PORT, udpout:HOST:PORT, tcp:HOST:PORT or a '
            'serial device.'),
        arg('baud', '57600', 'Serial baud rate.'),
        arg('system_id', '1', "MAVLink system id (the vehicle's)."),
        arg('component_id', '100', 'MAVLink component id (100 = MAV_COMP_ID_CAMERA).'),
        arg('status_rate_hz', '5.0', 'CAMERA_TRACKING_IMAGE_STATUS rate, Hz.'),
        arg('point_box_fraction', '0.2',
            'Box side for a point command with radius 0, as a fraction of the image height.'),
        arg('tracker', '/vil_tracker', 'The tracker node (topic and service prefix).'),
        arg('namespace', '', 'Namespace of the bridge and its relative topics.'),
        arg('image_topic', 'image', 'sensor_msgs/Image the tracker reads (for size and stamp).'),
        arg('camera_info_topic', 'camera_info', 'sensor_msgs/CameraInfo of that camera.'),
        arg('init_bbox_topic', 'init_bbox', "The tracker's vision_msgs/Detection2D input."),
    ]

    def value(name, kind):
        return ParameterValue(LaunchConfiguration(name), value_type=kind)

    bridge = Node(
        package='vil_tracker_ros',
        executable='mavlink_bridge',
        name='mavlink_bridge',
        namespace=LaunchConfiguration('namespace'),
        parameters=[{
            'connection': LaunchConfiguration('connection'),
            'baud': value('baud', int),
            'system_id': value('system_id', int),
            'component_id': value('component_id', int),
            'status_rate_hz': value('status_rate_hz', float),
            'point_box_fraction': value('point_box_fraction', float),
            'tracker': LaunchConfiguration('tracker'),
        }],
        remappings=[
            ('image', LaunchConfiguration('image_topic')),
            ('camera_info', LaunchConfiguration('camera_info_topic')),
            ('init_bbox', LaunchConfiguration('init_bbox_topic')),
        ],
        output='screen',
    )
    return LaunchDescription(arguments + [bridge])
