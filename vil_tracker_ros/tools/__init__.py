# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Tools that drive a running ``tracker_node`` from another process (they are not the node).

* :mod:`~vil_tracker_ros.tools.client`: start the node as a child process
  (:class:`NodeProcess`), walk its lifecycle (:class:`LifecycleClient`), wait for topics.
* :mod:`~vil_tracker_ros.tools.live`: a camera streamer (frames, camera_info, the stamped init
  box) and a recorder of everything the node publishes.
* :mod:`~vil_tracker_ros.tools.demo`: ``make demo`` / ``vil-tracker-demo``, built on the two
  above.

The node itself lives in :mod:`vil_tracker_ros.ros`.
"""
