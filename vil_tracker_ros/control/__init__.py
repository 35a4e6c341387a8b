# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ROS-free control math: the follow controller (``follow``) and the gimbal simulator (``sim``)."""
