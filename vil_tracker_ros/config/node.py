# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Node-only sections (edited by ``ros/``): ``IOConfig`` and the whole ``NodeConfig``."""

from __future__ import annotations

from dataclasses import dataclass, field

from vil_tracker_ros.config.loading import _check
from vil_tracker_ros.config.tracker import BackendConfig, KalmanConfig, TrackerConfig


@dataclass(frozen=True)
class IOConfig:
    """ROS input/output options (node only)."""

    image_reliable: bool = False
    compressed: bool = False
    class_id: str = 'target'
    debug_image: bool = False
    frame_ring_size: int = 30

    def validate(self) -> None:
        _check(self.class_id != '', 'class_id', 'must not be empty')
        _check(1 <= self.frame_ring_size <= 1000, 'frame_ring_size',
               f'must be in [1, 1000], got {self.frame_ring_size}')


@dataclass(frozen=True)
class NodeConfig:
    """Everything the node reads from ROS parameters, by section."""

    model: BackendConfig = field(default_factory=BackendConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    kalman: KalmanConfig = field(default_factory=KalmanConfig)
    io: IOConfig = field(default_factory=IOConfig)
