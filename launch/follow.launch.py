# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Start the follow controller for a running vil_tracker; optionally the gimbal simulator too.

    ros2 launch vil_tracker_ros follow.launch.py
    ros2 launch vil_tracker_ros follow.launch.py sim:=true        # + gimbal_sim (no hardware)

With ``sim:=true`` the simulator publishes ``image`` / ``camera_info`` (start
``tracker.launch.py`` in the same namespace to track them) and turns by the controller's
``~/gimbal_rate``. Arguments: tracker (default /vil_tracker), kp, ki, kd, deadzone,
max_rate, lost_timeout, stale_timeout, feedforward, publish_twist, gimbal_attitude, sim.
``gimbal_attitude`` names the gimbal's attitude topic (geometry_msgs/Vector3Stamped, y = pitch,
z = yaw, rad), which the feedforward needs; with ``sim:=true`` it defaults to the
simulator's. The controller's parameters are described in docs/autopilot.md and by
``ros2 param describe /follow_controller <name>``.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch.substitutions import PythonExpression
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description():
    def arg(name, default, description):
        return DeclareLaunchArgument(name, default_value=default, description=description)

    floats = {
        'kp': ('2.5', 'Proportional gain, (rad/s) per rad.'),
        'ki': ('0.8', 'Integral gain.'),
        'kd': ('0.0', 'Derivative gain.'),
        'deadzone': ('0.01', 'Deadzone, rad.'),
        'max_rate': ('1.0', 'Rate limit, rad/s.'),
        'lost_timeout': ('0.5', 'Hold after this many seconds of status lost.'),
        'stale_timeout': ('0.5', 'Hold after this many seconds without input.'),
        'feedforward': ('1.0', "Share of the target's estimated rate added (needs "
                        'gimbal_attitude); 0: PID only.'),
    }
    arguments = [arg(name, default, text) for name, (default, text) in floats.items()]
    arguments += [
        arg('tracker', '/vil_tracker', 'The tracker node followed.'),
        arg('publish_twist', 'false', 'Also publish ~/twist (vehicle body rates).'),
        arg('sim', 'false', 'Also start gimbal_sim, driven by ~/gimbal_rate.'),
        arg('gimbal_attitude',
            PythonExpression(["'/gimbal_sim/gimbal_state' if '", LaunchConfiguration('sim'),
                              "'.lower() == 'true' else 'gimbal_attitude'"]),
            'Gimbal attitude topic (Vector3Stamped: y pitch, z yaw, rad) for the feedforward.'),
    ]
    params = {name: ParameterValue(LaunchConfiguration(name), value_type=float)
              for name in floats}
    params['tracker'] = LaunchConfiguration('tracker')
    params['publish_twist'] = ParameterValue(LaunchConfiguration('publish_twist'),
                                             value_type=bool)
    controller = Node(package='vil_tracker_ros', executable='follow_controller',
                      name='follow_controller', parameters=[params], output='screen',
                      remappings=[('gimbal_attitude', LaunchConfiguration('gimbal_attitude'))])
    sim = Node(package='vil_tracker_ros', executable='gimbal_sim', name='gimbal_sim',
               remappings=[('gimbal_rate', '/follow_controller/gimbal_rate')],
               output='screen', condition=IfCondition(LaunchConfiguration('sim')))
    return LaunchDescription(arguments + [controller, sim])
