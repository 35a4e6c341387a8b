# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Shared test set-up.

DDS isolation: every pytest process gets its own ROS domain and localhost-only discovery,
set here at import time so that nodes started as child processes inherit it.
"""

import os
import tempfile

# Domains 1..100 are valid for FastDDS on one host; the pid spreads parallel pytest runs.
os.environ['ROS_DOMAIN_ID'] = str(1 + os.getpid() % 100)
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.pop('ROS_LOCALHOST_ONLY', None)

# Exported ONNX graphs (core/onnx_cache.py) go to a per-run directory, never the user's cache.
os.environ['VIL_TRACKER_CACHE'] = tempfile.mkdtemp(prefix='vil_tracker_cache_')
