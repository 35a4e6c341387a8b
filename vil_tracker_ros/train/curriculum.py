# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ACL curriculum: one difficulty value in [0, 1] drives sampling and loss weights.

Difficulty ramps from 0 to 1 over ``ramp_epochs``. It sets the largest
template/search frame gap, the search-crop jitter, and how much the harder half
of each batch counts in the loss (self-paced weighting: at difficulty 0 the
samples with the larger loss count ``hard_weight_min``, at 1 every sample
counts fully). FiLM temporal modulation switches on at the model's
``film_start_epoch`` (ModelConfig, so the checkpoint carries it); phase 2
always has it on.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import torch

from vil_tracker_ros.config import CurriculumConfig


@dataclass(frozen=True)
class CurriculumState:
    """What the sampler and the loss use during one epoch."""

    epoch: int
    difficulty: float
    max_gap: int
    center_jitter: float
    scale_jitter: float
    hard_weight: float
    film: bool


def _lerp(lo: float, hi: float, t: float) -> float:
    return lo + (hi - lo) * t


class Curriculum:
    """Maps an epoch to a :class:`CurriculumState`."""

    def __init__(self, cfg: CurriculumConfig, phase: int = 1, film_start_epoch: int = 0):
        if phase not in (1, 2):
            raise ValueError(f'phase must be 1 or 2, got {phase!r}')
        if film_start_epoch < 0:
            raise ValueError(f'film_start_epoch must be >= 0, got {film_start_epoch}')
        self.cfg = cfg
        self.phase = phase
        self.film_start_epoch = film_start_epoch

    def difficulty(self, epoch: int) -> float:
        if epoch < 0:
            raise ValueError(f'epoch must be >= 0, got {epoch}')
        if self.cfg.ramp_epochs == 0:
            return 1.0
        t = min(1.0, epoch / self.cfg.ramp_epochs)
        if self.cfg.schedule == 'cosine':
            t = 0.5 - 0.5 * math.cos(math.pi * t)
        return t

    def state(self, epoch: int) -> CurriculumState:
        c = self.cfg
        d = self.difficulty(epoch)
        return CurriculumState(
            epoch=epoch,
            difficulty=d,
            max_gap=int(round(_lerp(c.min_gap, c.max_gap, d))),
            center_jitter=_lerp(c.min_center_jitter, c.max_center_jitter, d),
            scale_jitter=_lerp(c.min_scale_jitter, c.max_scale_jitter, d),
            hard_weight=_lerp(c.hard_weight_min, 1.0, d),
            film=self.phase == 2 or epoch >= self.film_start_epoch,
        )


def sample_weights(per_sample_loss: torch.Tensor, hard_weight: float) -> torch.Tensor:
    """Self-paced weights (B,): 1 for the easier half of the batch, ``hard_weight`` else.

    The split is at the batch median of the (detached) per-sample loss. The
    weights are renormalised to mean 1 so the loss scale does not drift with
    difficulty.
    """
    if per_sample_loss.dim() != 1:
        raise ValueError(f'per_sample_loss must be (B,), got {tuple(per_sample_loss.shape)}')
    loss = per_sample_loss.detach()
    if hard_weight >= 1.0 or loss.numel() < 2:
        return torch.ones_like(loss)
    hard = loss > loss.median()
    w = torch.where(hard, torch.full_like(loss, hard_weight), torch.ones_like(loss))
    return w / w.mean()
