# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

from glob import glob
import os

from setuptools import find_packages, setup

package_name = 'vil_tracker_ros'
share = os.path.join('share', package_name)

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*', 'bench', 'bench.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        (share, ['package.xml']),
        (os.path.join(share, 'launch'), glob('launch/*.launch.py')),
        (os.path.join(share, 'config'), glob('config/*.yaml') + glob('config/*.xml')),
        (os.path.join(share, 'weights'), glob('vil_tracker_ros/weights/*.pt')
         + glob('vil_tracker_ros/weights/*.md') + glob('vil_tracker_ros/weights/*.png')),
        (os.path.join(share, 'interfaces', 'vision_msgs', 'msg'),
         glob('interfaces/vision_msgs/msg/*.msg')),
    ],
    install_requires=['setuptools'],
    extras_require={'test': ['pytest', 'hypothesis']},
    zip_safe=False,
    maintainer='vil_tracker_ros maintainers',
    maintainer_email='maintainers@vil-tracker-ros.dev',
    description='Vision-LSTM single-object tracker as a ROS 2 lifecycle node',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'tracker_node = vil_tracker_ros.ros.tracker_node:main',
            'vil-tracker-train = vil_tracker_ros.train.cli:main',
            'vil-tracker-eval = vil_tracker_ros.eval.run:main',
            'vil-tracker-bag-eval = vil_tracker_ros.eval.bag_replay:main',
            'vil-tracker-make-bag = vil_tracker_ros.eval.make_bag:main',
            'vil-tracker-make-synthetic = vil_tracker_ros.data.synthetic_io:main',
            'vil-tracker-fetch-data = vil_tracker_ros.data.library_cli:main',
            'vil-tracker-export = vil_tracker_ros.model.export:main',
            'vil-tracker-model-report = vil_tracker_ros.model.report:main',
            'vil-tracker-demo = vil_tracker_ros.tools.demo:main',
            'follow_controller = vil_tracker_ros.ros.follow_controller:main',
            'mavlink_bridge = vil_tracker_ros.ros.mavlink_bridge:main',
            'gimbal_sim = vil_tracker_ros.ros.gimbal_sim_node:main',
            'vil-tracker-demo-follow = vil_tracker_ros.ros.follow_demo:main',
        ],
    },
)
