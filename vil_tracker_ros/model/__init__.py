# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The ViL tracking network (torch only; never imports rclpy)."""

from vil_tracker_ros.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vil_tracker_ros.model.registry import get_config, list_variants
from vil_tracker_ros.model.tracker_net import build_model, TemplateState, TrackerOutput, ViLTracker

__all__ = ['build_model', 'CheckpointError', 'get_config', 'list_variants', 'load_checkpoint',
           'save_checkpoint', 'TemplateState', 'TrackerOutput', 'ViLTracker']
