# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
