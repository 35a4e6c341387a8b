# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Training sections (edited by ``train/``): everything ``vil-tracker-train`` reads."""

from __future__ import annotations

from dataclasses import dataclass, field
import math

from vil_tracker_ros.config.loading import _check, _finite_positive, _in_range
from vil_tracker_ros.config.model import ModelConfig
from vil_tracker_ros.config.synthetic import SyntheticConfig

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
    jpeg_prob: float = 0.0          # JPEG round trip of the search crop
    jpeg_quality_min: int = 30      # its quality is drawn from [min, 95]

    def validate(self) -> None:
        _check(1 <= self.jpeg_quality_min <= 95, 'jpeg_quality_min', 'must be in [1, 95]')
        for name in ('flip_prob', 'grayscale_prob', 'blur_prob', 'jpeg_prob'):
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
    neighbour_weight: float = 0.0   # box losses on the 8 cells around the true one, too

    def validate(self) -> None:
        for name in ('focal', 'giou', 'l1', 'nll', 'contrastive', 'distill',
                     'neighbour_weight'):
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
    # A smaller student's blocks start from these blocks of init_checkpoint, in order
    # (model.checkpoint.shrink_from); () = the same blocks (or the correlation prior grown)
    init_blocks: tuple[int, ...] = ()
    data: TrainDataConfig = field(default_factory=TrainDataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def validate(self) -> None:
        _check(self.phase in (1, 2), 'phase', f'must be 1 or 2, got {self.phase!r}')
        _check(not self.init_blocks or self.init_checkpoint != '', 'init_blocks',
               'needs init_checkpoint (the model whose blocks the student starts from)')
        _check(not self.init_blocks or len(self.init_blocks) == self.model.depth,
               'init_blocks', f'must name model.depth={self.model.depth} source blocks, got '
               f'{len(self.init_blocks)}')
