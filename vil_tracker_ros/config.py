# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Typed configuration shared by the ROS node, the training CLI and checkpoints.

Every section is a frozen dataclass. ``from_dict`` is strict: an unknown key is
an error that names the key, so a typo in a YAML file or a ROS parameter never
silently falls back to a default. ``validate`` raises ``ValueError`` naming the
offending field.

Ownership: each section is edited by the module that consumes it
(ModelConfig by ``model/``, TrackerConfig/KalmanConfig/BackendConfig by
``core/``, IOConfig by ``ros/``, TrainConfig by ``train/``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
import math
import typing
from typing import Any, Mapping, Type, TypeVar

T = TypeVar('T')


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names the field."""


def _check(cond: bool, name: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f'{name}: {msg}')


def _coerce(value: Any, tp: Any, name: str) -> Any:
    """Convert ``value`` to the annotated type ``tp`` or raise ConfigError."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f'{name}: expected a mapping, got {type(value).__name__}')
        return from_dict(tp, value, prefix=f'{name}.')
    if origin is typing.Union:  # Optional[X]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], name)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'{name}: expected a list, got {type(value).__name__}')
        args = typing.get_args(tp)
        item_tp = args[0] if args else Any
        items = [_coerce(v, item_tp, f'{name}[{i}]') for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f'{name}: expected a bool, got {value!r}')
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f'{name}: expected an int, got {value!r}')
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f'{name}: expected a number, got {value!r}')
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f'{name}: expected a string, got {value!r}')
        return value
    return value


def from_dict(cls: Type[T], data: Mapping[str, Any], prefix: str = '') -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys are errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f'{prefix or cls.__name__}: expected a mapping')
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f'{cls.__name__}: unknown key(s) {", ".join(prefix + k for k in unknown)}; '
            f'known keys are {", ".join(sorted(known))}')
    kwargs = {k: _coerce(v, hints[k], prefix + k) for k, v in data.items()}
    obj = cls(**kwargs)
    validate = getattr(obj, 'validate', None)
    if validate is not None:
        validate()
    return obj


def to_dict(obj: Any) -> dict:
    """Plain nested dict (tuples become lists) for YAML, JSON and checkpoints."""
    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v
    return conv(obj)


def replace(obj: T, **changes: Any) -> T:
    """``dataclasses.replace`` that re-runs validation."""
    new = dataclasses.replace(obj, **changes)
    validate = getattr(new, 'validate', None)
    if validate is not None:
        validate()
    return new


def _finite_positive(name: str, v: float) -> None:
    _check(math.isfinite(v) and v > 0, name, f'must be a finite number > 0, got {v!r}')


def _in_range(name: str, v: float, lo: float, hi: float) -> None:
    _check(math.isfinite(v) and lo <= v <= hi, name, f'must be in [{lo}, {hi}], got {v!r}')


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the ViL tracking network (embedded in every checkpoint).

    Defaults are the seed's ViL-S tracker ('vil_s'); ``model/registry.py`` holds the
    other variants. ``scan`` picks how odd (right-to-left) blocks order the tokens:
    'full_flip' flips the whole [template, search] sequence (seed / official ViL);
    'template_first' flips template and search separately so the template comes first
    in both directions, which makes its per-block state cacheable (search-only track).
    """

    variant: str = 'vil_s'
    embed_dim: int = 384
    depth: int = 24
    num_heads: int = 4               # mLSTM cell heads
    patch_size: int = 16
    template_size: int = 128
    search_size: int = 256
    proj_factor: int = 2             # inner = proj_factor * embed_dim
    conv_kernel: int = 4             # causal conv1d kernel
    qkv_block_size: int = 4          # LinearHeadwiseExpand block size
    scan: str = 'full_flip'          # full_flip | template_first
    tmoe_blocks: int = 2             # the last N blocks carry a TMoE MLP
    tmoe_experts: int = 4            # routed experts (plus 1 shared expert)
    tmoe_hidden_ratio: float = 4.0   # routed expert hidden = ratio * embed_dim
    tmoe_shared_hidden_ratio: float = 2.0
    film: bool = True                # FiLM modules present
    film_every: int = 6              # FiLM after every N-th block (never after the last)
    film_hidden: int = 224
    film_start_epoch: int = 30       # training enables FiLM from this epoch
    head_channels: int = 148         # center head first conv width (halved per layer)
    head_layers: int = 4             # 3x3 conv-BN-ReLU layers per center-head branch
    uncertainty_channels: int = 128

    def validate(self) -> None:
        for name in ('embed_dim', 'depth', 'num_heads', 'patch_size', 'template_size',
                     'search_size', 'proj_factor', 'conv_kernel', 'qkv_block_size',
                     'head_channels', 'head_layers', 'uncertainty_channels',
                     'film_every', 'film_hidden'):
            _check(getattr(self, name) > 0, name, f'must be > 0, got {getattr(self, name)!r}')
        _check(self.variant != '', 'variant', 'must not be empty')
        _check(self.template_size % self.patch_size == 0, 'template_size',
               f'must be a multiple of patch_size={self.patch_size}')
        _check(self.search_size % self.patch_size == 0, 'search_size',
               f'must be a multiple of patch_size={self.patch_size}')
        inner = self.proj_factor * self.embed_dim
        _check(inner % self.num_heads == 0, 'num_heads',
               f'must divide proj_factor*embed_dim={inner}')
        _check(inner % self.qkv_block_size == 0, 'qkv_block_size',
               f'must divide proj_factor*embed_dim={inner}')
        _check(self.scan in ('full_flip', 'template_first'), 'scan',
               f"must be 'full_flip' or 'template_first', got {self.scan!r}")
        _check(0 <= self.tmoe_blocks <= self.depth, 'tmoe_blocks', 'must be in [0, depth]')
        _check(self.tmoe_experts >= 1, 'tmoe_experts', 'must be >= 1')
        _finite_positive('tmoe_hidden_ratio', self.tmoe_hidden_ratio)
        _finite_positive('tmoe_shared_hidden_ratio', self.tmoe_shared_hidden_ratio)
        _check(self.film_start_epoch >= 0, 'film_start_epoch', 'must be >= 0')
        _check(self.head_channels >> (self.head_layers - 1) >= 1, 'head_channels',
               f'too small for head_layers={self.head_layers} halvings')


# ------------------------------------------------------------------------ runtime


@dataclass(frozen=True)
class BackendConfig:
    """Where and how the model runs (ROS section ``model.*``)."""

    checkpoint: str = ''
    device: str = 'auto'          # auto | cpu | cuda | cuda:N
    precision: str = 'fp32'       # fp32 | fp16 | bf16
    backend: str = 'torch'        # torch | onnxruntime
    threads: int = 0              # 0: library default

    def validate(self) -> None:
        dev = self.device
        ok = dev in ('auto', 'cpu', 'cuda') or (
            dev.startswith('cuda:') and dev[5:].isdigit())
        _check(ok, 'device', f'must be auto, cpu, cuda or cuda:N, got {dev!r}')
        _check(self.precision in ('fp32', 'fp16', 'bf16'), 'precision',
               f'must be fp32, fp16 or bf16, got {self.precision!r}')
        _check(self.backend in ('torch', 'onnxruntime'), 'backend',
               f'must be torch or onnxruntime, got {self.backend!r}')
        _check(0 <= self.threads <= 256, 'threads', f'must be in [0, 256], got {self.threads}')


@dataclass(frozen=True)
class TrackerConfig:
    """Online tracking policy (crop factors, window, template update, loss handling)."""

    search_factor: float = 4.0
    template_factor: float = 2.0
    hann_weight: float = 0.49
    template_update_interval: int = 10
    template_update_confidence: float = 0.7
    lost_confidence: float = 0.25       # below this a frame is bad (coasts)
    lost_frames: int = 5                # consecutive bad frames before status 'lost'
    reacquire_confidence: float = 0.5   # while lost, this confidence re-acquires
    lost_search_growth: float = 1.5
    max_search_factor: float = 8.0

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


@dataclass(frozen=True)
class KalmanConfig:
    """Constant-velocity Kalman filter noise and gating (see core/kalman.py).

    Standard deviations are relative to the box size s = sqrt(w*h) and use
    seconds, so they do not depend on the frame rate. At 30 fps the defaults
    equal the classic per-frame values (1/20 position, 1/160 velocity).
    """

    std_position: float = 0.3           # position random walk, box sizes / sqrt(s)
    std_velocity: float = 1.0           # white-noise acceleration, box sizes / s / sqrt(s)
    std_measurement: float = 1.0 / 20   # base measurement noise, box sizes
    std_initial_velocity: float = 2.0   # velocity std at (re)initialisation, box sizes / s
    gate_probability: float = 0.95      # chi-square gate, 4 dof
    uncertainty_scale: float = 1.0      # weight of the model's predicted variance in R
    max_dt: float = 1.0                 # seconds; longer gaps reset the velocity

    def validate(self) -> None:
        _finite_positive('std_position', self.std_position)
        _finite_positive('std_velocity', self.std_velocity)
        _finite_positive('std_measurement', self.std_measurement)
        _finite_positive('std_initial_velocity', self.std_initial_velocity)
        _check(math.isfinite(self.gate_probability) and 0.0 < self.gate_probability < 1.0,
               'gate_probability', f'must be in (0, 1), got {self.gate_probability!r}')
        _in_range('uncertainty_scale', self.uncertainty_scale, 0.0, 10.0)
        _finite_positive('max_dt', self.max_dt)


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


# ------------------------------------------------------------- synthetic data (data/)


@dataclass(frozen=True)
class SyntheticConfig:
    """Procedural sequences of ``data/synthetic.py`` (effects: 0 disables).

    ``split`` picks a disjoint set of source photographs and a disjoint seed
    stream: 'train' and 'heldout' never share a photo or a random sequence.
    ``photos`` narrows the split's set (names must belong to that split).
    """

    split: str = 'train'                 # train | heldout
    photos: tuple[str, ...] = ()         # () = every photo of the split
    frame_width: int = 640
    frame_height: int = 480
    length: int = 100                    # frames per sequence
    seed: int = 0
    target_scale: tuple[float, float] = (0.08, 0.25)   # target side / frame short side
    target_speed: float = 0.01           # world motion per frame / frame short side
    target_deform: float = 0.15          # log-amplitude of size and aspect changes
    target_rotation: float = 20.0        # degrees, in-plane rotation amplitude
    camera_offset: float = 0.3           # target wander from frame centre / short side
    camera_zoom: float = 0.3             # log-amplitude of zoom
    camera_rotation: float = 10.0        # degrees, roll amplitude
    perspective: float = 0.05            # keystone strength at the frame corners
    shapes: float = 0.5                  # P(non-rectangular target silhouette)
    texture: float = 0.3                 # P(procedural texture target instead of a photo patch)
    distractors: int = 1                 # similar-looking patches near the target
    occlusion: float = 0.3               # P(an occluder passes over the target)
    out_of_view: float = 0.2             # P(the camera looks away for a while)
    motion_blur: float = 0.5             # exposure fraction of the per-frame motion
    illumination: float = 0.2            # log-amplitude of brightness/colour changes
    noise: float = 0.01                  # Gaussian noise std / 255
    jpeg_quality: int = 95               # when written to disk

    def validate(self) -> None:
        _check(self.split in ('train', 'heldout'), 'split',
               f"must be 'train' or 'heldout', got {self.split!r}")
        _check(32 <= self.frame_width <= 8192, 'frame_width', 'must be in [32, 8192]')
        _check(32 <= self.frame_height <= 8192, 'frame_height', 'must be in [32, 8192]')
        _check(self.length >= 1, 'length', 'must be >= 1')
        _check(self.seed >= 0, 'seed', 'must be >= 0')
        lo, hi = self.target_scale if len(self.target_scale) == 2 else (-1.0, -1.0)
        _check(0.01 <= lo <= hi <= 0.6, 'target_scale',
               f'must be (min, max) with 0.01 <= min <= max <= 0.6, got {self.target_scale}')
        _in_range('target_speed', self.target_speed, 0.0, 0.2)
        _in_range('target_deform', self.target_deform, 0.0, 1.0)
        _in_range('target_rotation', self.target_rotation, 0.0, 180.0)
        _in_range('camera_offset', self.camera_offset, 0.0, 0.5)
        _in_range('camera_zoom', self.camera_zoom, 0.0, 1.0)
        _in_range('camera_rotation', self.camera_rotation, 0.0, 180.0)
        _in_range('perspective', self.perspective, 0.0, 0.2)
        for name in ('shapes', 'texture', 'occlusion', 'out_of_view', 'motion_blur'):
            _in_range(name, getattr(self, name), 0.0, 1.0)
        _check(0 <= self.distractors <= 8, 'distractors', 'must be in [0, 8]')
        _in_range('illumination', self.illumination, 0.0, 1.0)
        _in_range('noise', self.noise, 0.0, 0.5)
        _check(1 <= self.jpeg_quality <= 100, 'jpeg_quality', 'must be in [1, 100]')


# ------------------------------------------------------------------------ training

TRAIN_DATASETS = ('got10k', 'lasot', 'trackingnet', 'coco', 'synthetic')


@dataclass(frozen=True)
class DatasetSpec:
    """One training source and its share of the sampled pairs.

    COCO defaults: ``annotations`` = <root>/annotations/instances_train2017.json,
    ``images`` = <root>/train2017.
    """

    name: str = 'synthetic'     # got10k | lasot | trackingnet | coco | synthetic
    root: str = ''              # dataset root on disk (unused for synthetic)
    split: str = ''             # reader split; '' = the reader's training default
    weight: float = 1.0         # relative sampling weight
    annotations: str = ''       # COCO instances JSON ('' = the default)
    images: str = ''            # COCO image folder ('' = the default)

    def validate(self) -> None:
        _check(self.name in TRAIN_DATASETS, 'name',
               f'must be one of {", ".join(TRAIN_DATASETS)}, got {self.name!r}')
        _check(math.isfinite(self.weight) and self.weight >= 0, 'weight',
               f'must be a finite number >= 0, got {self.weight!r}')
        _check(self.name == 'synthetic' or self.root != '', 'root',
               f'is required for dataset {self.name!r}')


@dataclass(frozen=True)
class TrainDataConfig:
    """Pair sampling: sources, mixing and crop factors."""

    datasets: tuple[DatasetSpec, ...] = (DatasetSpec(),)
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    synthetic_sequences: int = 1000     # scenes in the synthetic pool (built lazily)
    samples_per_epoch: int = 2000
    template_factor: float = 2.0
    search_factor: float = 4.0
    num_workers: int = 0
    fallback_to_synthetic: bool = True   # when every listed root is missing

    def validate(self) -> None:
        _check(len(self.datasets) >= 1, 'datasets', 'needs at least one entry')
        _check(sum(d.weight for d in self.datasets) > 0, 'datasets',
               'the weights must not all be 0')
        _check(self.samples_per_epoch >= 1, 'samples_per_epoch', 'must be >= 1')
        _check(self.synthetic_sequences >= 1, 'synthetic_sequences', 'must be >= 1')
        _in_range('template_factor', self.template_factor, 1.0, 8.0)
        _in_range('search_factor', self.search_factor, 1.0, 16.0)
        _check(0 <= self.num_workers <= 64, 'num_workers', 'must be in [0, 64]')


@dataclass(frozen=True)
class AugmentConfig:
    """Photometric and geometric augmentation of template/search crops."""

    flip_prob: float = 0.5          # horizontal flip of the whole pair
    brightness: float = 0.2         # multiplicative jitter range +-
    contrast: float = 0.2
    saturation: float = 0.2
    grayscale_prob: float = 0.05
    blur_prob: float = 0.1          # Gaussian blur of the search crop
    blur_sigma_max: float = 1.5     # pixels, at the crop resolution
    template_center_jitter: float = 0.0
    template_scale_jitter: float = 0.0

    def validate(self) -> None:
        for name in ('flip_prob', 'grayscale_prob', 'blur_prob'):
            _in_range(name, getattr(self, name), 0.0, 1.0)
        for name in ('brightness', 'contrast', 'saturation'):
            _in_range(name, getattr(self, name), 0.0, 1.0)
        _in_range('blur_sigma_max', self.blur_sigma_max, 0.0, 10.0)
        _in_range('template_center_jitter', self.template_center_jitter, 0.0, 4.0)
        _in_range('template_scale_jitter', self.template_scale_jitter, 0.0, 1.0)


@dataclass(frozen=True)
class CurriculumConfig:
    """ACL: difficulty ramps 0 -> 1 over ``ramp_epochs`` (FiLM's start: ModelConfig)."""

    ramp_epochs: int = 50
    schedule: str = 'linear'        # linear | cosine
    min_gap: int = 5                # max template/search frame gap at difficulty 0
    max_gap: int = 100              # ... and at difficulty 1
    min_center_jitter: float = 1.0  # search centre jitter factor (recipe: 3)
    max_center_jitter: float = 3.0
    min_scale_jitter: float = 0.1   # search log-scale jitter (recipe: 0.25)
    max_scale_jitter: float = 0.25
    hard_weight_min: float = 0.5    # loss weight of the harder half of a batch at difficulty 0

    def validate(self) -> None:
        _check(self.ramp_epochs >= 0, 'ramp_epochs', 'must be >= 0 (0: full difficulty)')
        _check(self.schedule in ('linear', 'cosine'), 'schedule',
               f"must be 'linear' or 'cosine', got {self.schedule!r}")
        _check(1 <= self.min_gap <= self.max_gap, 'min_gap', 'must be in [1, max_gap]')
        _check(0 <= self.min_center_jitter <= self.max_center_jitter <= 4.0,
               'min_center_jitter', 'need 0 <= min_center_jitter <= max_center_jitter <= 4')
        _check(0 <= self.min_scale_jitter <= self.max_scale_jitter <= 1.0,
               'min_scale_jitter', 'need 0 <= min_scale_jitter <= max_scale_jitter <= 1')
        _in_range('hard_weight_min', self.hard_weight_min, 0.0, 1.0)


@dataclass(frozen=True)
class LossConfig:
    """Loss weights (recipe: focal 1, GIoU 2, L1 5) and the optional terms."""

    focal: float = 1.0
    giou: float = 2.0
    l1: float = 5.0
    nll: float = 0.1                # uncertainty NLL (trains log_var)
    contrastive: float = 0.1        # phase 2 only
    contrastive_temperature: float = 0.1
    distill: float = 1.0            # used only with a teacher
    distill_temperature: float = 2.0
    teacher_checkpoint: str = ''    # '' = no AFKD teacher
    adw: bool = False               # homoscedastic weighting (phase 2 by default)
    focal_alpha: float = 2.0
    focal_beta: float = 4.0

    def validate(self) -> None:
        for name in ('focal', 'giou', 'l1', 'nll', 'contrastive', 'distill'):
            v = getattr(self, name)
            _check(math.isfinite(v) and v >= 0, name, f'must be a finite number >= 0, got {v!r}')
        for name in ('contrastive_temperature', 'distill_temperature', 'focal_alpha',
                     'focal_beta'):
            _finite_positive(name, getattr(self, name))


@dataclass(frozen=True)
class OptimConfig:
    """AdamW, learning-rate schedule and clipping (recipe: 4e-4, wd 1e-4, clip 0.1)."""

    lr: float = 4e-4
    weight_decay: float = 1e-4
    backbone_lr_scale: float = 0.1  # recipe value for a pretrained backbone
    grad_clip: float = 0.1          # max grad norm; 0 disables
    batch_size: int = 32            # per process
    epochs: int = 300
    warmup_steps: int = 0
    schedule: str = 'step'          # step | cosine | constant
    lr_drop_epoch: int = 240        # step schedule: lr x 0.1 from this epoch
    min_lr_ratio: float = 0.01      # cosine floor, relative to lr

    def validate(self) -> None:
        _finite_positive('lr', self.lr)
        _check(math.isfinite(self.weight_decay) and self.weight_decay >= 0, 'weight_decay',
               'must be >= 0')
        _in_range('backbone_lr_scale', self.backbone_lr_scale, 0.0, 10.0)
        _check(math.isfinite(self.grad_clip) and self.grad_clip >= 0, 'grad_clip',
               'must be >= 0 (0 disables clipping)')
        _check(self.batch_size >= 1, 'batch_size', 'must be >= 1')
        _check(self.epochs >= 1, 'epochs', 'must be >= 1')
        _check(self.warmup_steps >= 0, 'warmup_steps', 'must be >= 0')
        _check(self.schedule in ('step', 'cosine', 'constant'), 'schedule',
               f'must be step, cosine or constant, got {self.schedule!r}')
        _check(self.lr_drop_epoch >= 0, 'lr_drop_epoch', 'must be >= 0')
        _in_range('min_lr_ratio', self.min_lr_ratio, 0.0, 1.0)


@dataclass(frozen=True)
class RunConfig:
    """Where the run writes, how it logs, checkpoints and resumes."""

    out_dir: str = 'runs/default'
    seed: int = 42
    device: str = 'auto'            # auto | cpu | cuda (DDP uses cuda:LOCAL_RANK)
    threads: int = 0                # torch CPU threads per process; 0 = library default
    deterministic: bool = True
    log_every: int = 10             # steps between CSV/TensorBoard rows
    checkpoint_every_steps: int = 0     # 0 = only by time and at epoch ends
    checkpoint_every_minutes: float = 5.0   # 0 = only by steps and at epoch ends
    resume: str = 'auto'            # auto (out_dir/last.pt if present) | never | <path>
    max_steps: int = 0              # stop after this many optimiser steps; 0 = no limit
    tensorboard: bool = True
    progress: bool = True           # tqdm bar on rank 0

    def validate(self) -> None:
        _check(self.out_dir != '', 'out_dir', 'must not be empty')
        dev = self.device
        _check(dev in ('auto', 'cpu', 'cuda'), 'device',
               f'must be auto, cpu or cuda, got {dev!r}')
        _check(0 <= self.threads <= 256, 'threads', 'must be in [0, 256]')
        _check(self.log_every >= 1, 'log_every', 'must be >= 1')
        _check(self.checkpoint_every_steps >= 0, 'checkpoint_every_steps', 'must be >= 0')
        _check(math.isfinite(self.checkpoint_every_minutes)
               and self.checkpoint_every_minutes >= 0, 'checkpoint_every_minutes',
               'must be >= 0')
        _check(self.resume != '', 'resume', "must be 'auto', 'never' or a path")
        _check(self.max_steps >= 0, 'max_steps', 'must be >= 0')


@dataclass(frozen=True)
class TrainConfig:
    """Everything ``vil-tracker-train`` reads from ``config/train_*.yaml``."""

    model: ModelConfig = field(default_factory=ModelConfig)
    phase: int = 1                  # 1: supervised; 2: frozen shared expert + contrastive
    init_checkpoint: str = ''       # weights to start from (phase 2: the phase-1 result)
    data: TrainDataConfig = field(default_factory=TrainDataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> None:
        _check(self.phase in (1, 2), 'phase', f'must be 1 or 2, got {self.phase!r}')
