# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Typed configuration shared by the ROS node, the training CLI and checkpoints.

Every section is a frozen dataclass. ``from_dict`` is strict: an unknown key is
an error that names the key, so a typo in a YAML file or a ROS parameter never
silently falls back to a default. ``validate`` raises ``ValueError`` naming the
offending field.

Ownership: each section is edited by the module that consumes it, and lives in
its own submodule:

- ``loading``: ``ConfigError``, ``from_dict``, ``to_dict``, ``replace`` (and the checks);
- ``model``: ``ModelConfig`` (``model/``);
- ``tracker``: ``BackendConfig``, ``TrackerConfig``, ``KalmanConfig`` (``core/``);
- ``node``: ``IOConfig``, ``NodeConfig`` (``ros/``);
- ``synthetic``: ``SyntheticConfig`` (``data/synthetic.py``);
- ``train``: ``TrainConfig`` and its sections (``train/``).

Import from here (``from vil_tracker_ros.config import X``); every public name is
re-exported.
"""

from vil_tracker_ros.config.loading import ConfigError, from_dict, replace, to_dict
from vil_tracker_ros.config.model import ModelConfig
from vil_tracker_ros.config.node import IOConfig, NodeConfig
from vil_tracker_ros.config.synthetic import SyntheticConfig
from vil_tracker_ros.config.tracker import BackendConfig, KalmanConfig, TrackerConfig
from vil_tracker_ros.config.train import (AugmentConfig, CurriculumConfig, DatasetSpec,
                                          LossConfig, OptimConfig, RunConfig,
                                          TRAIN_DATASETS, TrainConfig, TrainDataConfig)

__all__ = [
    'AugmentConfig', 'BackendConfig', 'ConfigError', 'CurriculumConfig', 'DatasetSpec',
    'from_dict', 'IOConfig', 'KalmanConfig', 'LossConfig', 'ModelConfig', 'NodeConfig',
    'OptimConfig', 'replace', 'RunConfig', 'SyntheticConfig', 'to_dict', 'TrackerConfig',
    'TRAIN_DATASETS', 'TrainConfig', 'TrainDataConfig',
]
