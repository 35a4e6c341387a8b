# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Online tracking sections (edited by ``core/``): backend, tracking policy, Kalman filter."""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Mapping, Tuple

from vil_tracker_ros.config.loading import _check, _finite_positive, _in_range, ConfigError
from vil_tracker_ros.config.loading import from_dict, to_dict


@dataclass(frozen=True)
class BackendConfig:
    """Where and how the model runs (ROS section ``model.*``)."""

    checkpoint: str = ''
    device: str = 'auto'          # auto | cpu | cuda | cuda:N
    precision: str = 'fp32'       # fp32 | fp16 | bf16 (torch) | int8 (onnxruntime)
    backend: str = 'torch'        # torch | onnxruntime
    threads: int = 0              # 0: library default

    def validate(self) -> None:
        dev = self.device
        ok = dev in ('auto', 'cpu', 'cuda') or (
            dev.startswith('cuda:') and dev[5:].isdigit())
        _check(ok, 'device', f'must be auto, cpu, cuda or cuda:N, got {dev!r}')
        _check(self.precision in ('fp32', 'fp16', 'bf16', 'int8'), 'precision',
               f'must be fp32, fp16, bf16 or int8, got {self.precision!r}')
        _check(self.precision != 'int8' or self.backend == 'onnxruntime', 'precision',
               'int8 needs backend onnxruntime (it runs the int8 twin of the exported graph)')
        _check(self.precision != 'int8' or not dev.startswith('cuda'), 'precision',
               f'int8 is for CPU inference; device {dev!r} wants fp32 (or torch fp16/bf16)')
        _check(self.backend in ('torch', 'onnxruntime'), 'backend',
               f'must be torch or onnxruntime, got {self.backend!r}')
        _check(0 <= self.threads <= 256, 'threads', f'must be in [0, 256], got {self.threads}')


@dataclass(frozen=True)
class TrackerConfig:
    """Online tracking policy (crop factors, window, template update, loss handling)."""

    search_factor: float = 4.0
    template_factor: float = 2.0
    hann_weight: float = 0.49
    template_update_interval: int = 0     # off: updates lost 0.01-0.05 AUC on every val split
    template_update_confidence: float = 0.7
    lost_confidence: float = 0.25       # below this a frame is bad (coasts)
    lost_frames: int = 5                # consecutive bad frames before status 'lost'
    reacquire_confidence: float = 0.5   # while lost, this confidence re-acquires
    lost_search_growth: float = 1.5
    max_search_factor: float = 8.0
    relocate_with_initial_template: bool = False   # while lost, search with the first template
    global_search_interval: int = 0     # while lost, tile the whole image every N frames (0 off)
    global_search_max_tiles: int = 12   # most crops one global search may run
    confirm_redetection: bool = True    # while lost, decide at search_factor (core/tracker.py)
    aspect_prior: float = 0.5           # pull of the initial box's aspect on each measurement
    extrapolate_while_lost: bool = False  # keep moving a lost box with its last velocity
    # online correlation filter on the search crop (core/appearance_filter.py)
    appearance_weight: float = 0.5      # its share in the peak choice and confidence; 0 off
    appearance_learning_rate: float = 0.0    # running-average update; 0: first frame only
    appearance_sigma: float = 0.1       # desired response width, target sizes
    # DSST scale filter around the measured centre (core/scale_filter.py)
    scale_filter_weight: float = 0.5    # its share of the measured log size; 0 off
    scale_filter_learning_rate: float = 0.05    # running-average update on good frames
    # correlation filter on a crop 2 target sizes wide (core/centre_filter.py)
    centre_filter_weight: float = 0.5   # its share of the measured centre; 0 off
    centre_filter_learning_rate: float = 0.02   # running-average update on good frames

    def validate(self) -> None:
        _in_range('search_factor', self.search_factor, 1.0, 16.0)
        _in_range('template_factor', self.template_factor, 1.0, 8.0)
        _in_range('hann_weight', self.hann_weight, 0.0, 1.0)
        _check(self.template_update_interval >= 0, 'template_update_interval',
               'must be >= 0 (0 disables template updates)')
        _in_range('template_update_confidence', self.template_update_confidence, 0.0, 1.0)
        _in_range('lost_confidence', self.lost_confidence, 0.0, 1.0)
        _check(self.lost_frames >= 1, 'lost_frames', 'must be >= 1')
        _in_range('reacquire_confidence', self.reacquire_confidence, 0.0, 1.0)
        _check(self.reacquire_confidence >= self.lost_confidence, 'reacquire_confidence',
               f'must be >= lost_confidence={self.lost_confidence}')
        _in_range('lost_search_growth', self.lost_search_growth, 1.0, 4.0)
        _check(self.max_search_factor >= self.search_factor, 'max_search_factor',
               'must be >= search_factor')
        _in_range('max_search_factor', self.max_search_factor, 1.0, 32.0)
        _check(self.global_search_interval >= 0, 'global_search_interval',
               'must be >= 0 (0 disables the global search)')
        _check(1 <= self.global_search_max_tiles <= 64, 'global_search_max_tiles',
               'must be in [1, 64]')
        _in_range('aspect_prior', self.aspect_prior, 0.0, 1.0)
        _in_range('appearance_weight', self.appearance_weight, 0.0, 1.0)
        _in_range('appearance_learning_rate', self.appearance_learning_rate, 0.0, 1.0)
        _in_range('appearance_sigma', self.appearance_sigma, 0.01, 1.0)
        _in_range('scale_filter_weight', self.scale_filter_weight, 0.0, 1.0)
        _in_range('scale_filter_learning_rate', self.scale_filter_learning_rate, 0.0, 1.0)
        _in_range('centre_filter_weight', self.centre_filter_weight, 0.0, 1.0)
        _in_range('centre_filter_learning_rate', self.centre_filter_learning_rate, 0.0, 1.0)


@dataclass(frozen=True)
class KalmanConfig:
    """Constant-velocity Kalman filter noise and gating (see core/kalman.py).

    Standard deviations are relative to the box size s = sqrt(w*h) and use
    seconds, so they do not depend on the frame rate. At 30 fps the defaults
    equal the classic per-frame values (1/20 position, 1/160 velocity).
    """

    std_position: float = 0.3           # position random walk, box sizes / sqrt(s)
    std_size: float = 0.15              # size random walk, box sizes / sqrt(s)
    std_velocity: float = 1.0           # white-noise acceleration, box sizes / s / sqrt(s)
    std_measurement: float = 1.0 / 20   # base measurement noise, box sizes
    std_initial_velocity: float = 2.0   # velocity std at (re)initialisation, box sizes / s
    gate_probability: float = 0.95      # chi-square gate, 4 dof
    uncertainty_scale: float = 1.0      # weight of the model's predicted variance in R
    max_dt: float = 1.0                 # seconds; longer gaps reset the velocity
    min_motion_scale: float = 0.3       # position motion noise scale floor / shorter side
    min_size_motion_scale: float = 0.1  # size motion noise scale floor / shorter side
    size_velocity: bool = False         # constant-velocity size (True) or a random walk

    def validate(self) -> None:
        _finite_positive('std_position', self.std_position)
        _finite_positive('std_size', self.std_size)
        _finite_positive('std_velocity', self.std_velocity)
        _finite_positive('std_measurement', self.std_measurement)
        _finite_positive('std_initial_velocity', self.std_initial_velocity)
        _check(math.isfinite(self.gate_probability) and 0.0 < self.gate_probability < 1.0,
               'gate_probability', f'must be in (0, 1), got {self.gate_probability!r}')
        _in_range('uncertainty_scale', self.uncertainty_scale, 0.0, 10.0)
        _finite_positive('max_dt', self.max_dt)
        _in_range('min_motion_scale', self.min_motion_scale, 0.0, 1.0)
        _in_range('min_size_motion_scale', self.min_size_motion_scale, 0.0, 1.0)


def online_configs(overrides: Mapping[str, Mapping[str, Any]]
                   ) -> Tuple[TrackerConfig, KalmanConfig]:
    """Build the online settings: the defaults with ``{'tracker': {...}, 'kalman': {...}}``.

    Raises ``ConfigError`` naming another section, an unknown key or a bad value.
    """
    other = sorted(set(overrides) - {'tracker', 'kalman'})
    if other:
        raise ConfigError(f'{other[0]}: the section must be tracker or kalman')
    for name, section in overrides.items():
        _check(isinstance(section, Mapping), name, 'expected a section of KEY: value')
    tracker = from_dict(TrackerConfig, {**to_dict(TrackerConfig()),
                                        **overrides.get('tracker', {})}, 'tracker.')
    kalman = from_dict(KalmanConfig, {**to_dict(KalmanConfig()),
                                      **overrides.get('kalman', {})}, 'kalman.')
    return tracker, kalman
