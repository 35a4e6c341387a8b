# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``ModelConfig``: the architecture of the tracking network (edited by ``model/``)."""

from __future__ import annotations

from dataclasses import dataclass

from vil_tracker_ros.config.loading import _check, _finite_positive


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the ViL tracking network (embedded in every checkpoint).

    Defaults are the seed's ViL-S tracker ('vil_s'); ``model/registry.py`` holds the
    other variants. ``scan`` picks how odd (right-to-left) blocks order the tokens:
    'full_flip' flips the whole [template, search] sequence (seed / official ViL);
    'template_first' flips template and search separately so the template comes first
    in both directions, which makes its per-block state cacheable (search-only track).
    ``head_correlation`` feeds the heads the cosine similarity of each search token with
    each template token (an explicit matching prior) next to the search features.
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
    head_correlation: bool = False   # template-search correlation channels into the heads

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
