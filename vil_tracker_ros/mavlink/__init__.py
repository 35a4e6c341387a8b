# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""MAVLink camera-component side of the tracker (pymavlink, no ROS)."""
