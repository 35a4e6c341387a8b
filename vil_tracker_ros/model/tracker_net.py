# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ViL-Tracker network: ViL backbone over [template, search] tokens, FiLM, TMoE, heads.

Entry points:
- ``forward(template, search, temporal_ctx=None)``: the training path.
- ``encode_template(template)``: once per (re)initialisation -> ``TemplateState``.
- ``track(tstate, search, temporal_ctx=None)``: per frame; equals ``forward``.
All return a ``TrackerOutput``.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from vil_tracker_ros.config import ModelConfig
from vil_tracker_ros.model.film import TemporalFiLM
from vil_tracker_ros.model.heads import (CenterHead, decode_center, template_correlation,
                                         UncertaintyHead)
from vil_tracker_ros.model.mlstm import MLSTMState
from vil_tracker_ros.model.tmoe import TMoE
from vil_tracker_ros.model.vil import PatchEmbed, ViLBlock

COMPONENTS = ('patch_embed', 'blocks', 'tmoe_blocks', 'film', 'center_head',
              'uncertainty_head')


@dataclass
class TrackerOutput:
    """Network output for a batch; boxes are normalised cx, cy, w, h in the search crop."""

    boxes: torch.Tensor        # (B, 4)
    scores: torch.Tensor       # (B,) peak of score_map
    score_map: torch.Tensor    # (B, 1, Hf, Wf) centre probability
    size_map: torch.Tensor     # (B, 2, Hf, Wf) normalised w, h
    offset_map: torch.Tensor   # (B, 2, Hf, Wf) sub-cell centre offset (cells)
    log_var: torch.Tensor      # (B, 4) log-variance of cx, cy, w, h
    temporal_ctx: torch.Tensor  # (B, d) context for the next frame

    def as_tuple(self) -> Tuple[torch.Tensor, ...]:
        return (self.boxes, self.scores, self.score_map, self.size_map, self.offset_map,
                self.log_var, self.temporal_ctx)


OUTPUT_NAMES = ('boxes', 'scores', 'score_map', 'size_map', 'offset_map', 'log_var',
                'temporal_ctx')


@dataclass
class TemplateState:
    """What ``track`` needs from the template.

    ``tokens``: embedded template tokens (B, Nt, d) (used by scan='full_flip').
    ``block_states``: per-block mLSTM state after the template (scan='template_first').
    ``features``: final normalised template tokens (B, Nt, d) for the correlation prior
    (scan='template_first' with ``head_correlation``; else None).
    """

    tokens: torch.Tensor
    block_states: List[MLSTMState] = field(default_factory=list)
    features: Optional[torch.Tensor] = None

    @property
    def batch_size(self) -> int:
        return self.tokens.shape[0]


class ViLTracker(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        d = cfg.embed_dim
        self.patch_embed = PatchEmbed(d, cfg.patch_size, cfg.template_size, cfg.search_size)
        first_tmoe = cfg.depth - cfg.tmoe_blocks
        blocks = []
        for i in range(cfg.depth):
            tmoe = None
            if i >= first_tmoe:
                tmoe = TMoE(d, cfg.tmoe_experts, round(cfg.tmoe_hidden_ratio * d),
                            round(cfg.tmoe_shared_hidden_ratio * d))
            blocks.append(ViLBlock(d, reverse=i % 2 == 1, num_heads=cfg.num_heads,
                                   proj_factor=cfg.proj_factor, conv_kernel=cfg.conv_kernel,
                                   qkv_block_size=cfg.qkv_block_size, scan=cfg.scan,
                                   tmoe=tmoe))
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(d)
        self.film: Optional[TemporalFiLM] = None
        if cfg.film:
            after = [i for i in range(cfg.depth - 1) if (i + 1) % cfg.film_every == 0]
            self.film = TemporalFiLM(d, cfg.film_hidden, after)
        head_in = d + (self.num_template_tokens if cfg.head_correlation else 0)
        self.center_head = CenterHead(head_in, cfg.head_channels, cfg.head_layers)
        self.uncertainty_head = UncertaintyHead(head_in, cfg.uncertainty_channels)

    @property
    def num_template_tokens(self) -> int:
        return (self.cfg.template_size // self.cfg.patch_size) ** 2

    # ------------------------------------------------------------------ switches
    @property
    def film_enabled(self) -> bool:
        return self.film is not None and bool(self.film.enabled)

    def set_film_enabled(self, enabled: bool) -> None:
        """Turn FiLM on/off (persisted in checkpoints); a no-op without FiLM modules."""
        if self.film is not None:
            self.film.enabled.fill_(bool(enabled))

    def set_epoch(self, epoch: int) -> None:
        """Training hook: FiLM is active from ``cfg.film_start_epoch`` on."""
        self.set_film_enabled(epoch >= self.cfg.film_start_epoch)

    def set_shared_experts_frozen(self, frozen: bool) -> None:
        for block in self.blocks:
            if block.tmoe is not None:
                block.tmoe.set_shared_frozen(frozen)

    def component_modules(self) -> Dict[str, List[nn.Module]]:
        """Modules per report component (parameter counts add up to the model's)."""
        first_tmoe = self.cfg.depth - self.cfg.tmoe_blocks
        return {
            'patch_embed': [self.patch_embed],
            'blocks': list(self.blocks[:first_tmoe]) + [self.norm],
            'tmoe_blocks': list(self.blocks[first_tmoe:]),
            'film': [self.film] if self.film is not None else [],
            'center_head': [self.center_head],
            'uncertainty_head': [self.uncertainty_head],
        }

    # ------------------------------------------------------------------ internals
    def _film(self, i: int, x_s: torch.Tensor, ctx: Optional[torch.Tensor],
              ctx_weight: Optional[torch.Tensor]) -> torch.Tensor:
        if self.film is None:
            return x_s
        return self.film.modulate(i, x_s, ctx, ctx_weight)

    def _heads(self, x_s: torch.Tensor, h: int, w: int,
               t_feat: Optional[torch.Tensor] = None) -> TrackerOutput:
        """Heads on search tokens; ``t_feat`` (B, Nt, d): normalised template tokens."""
        x_s = self.norm(x_s)  # (B, Ns, d)
        ctx = x_s.mean(dim=1)  # (B, d) pooled search features -> next frame's context
        feat = x_s.transpose(1, 2).reshape(x_s.shape[0], -1, h, w)  # (B, d, Hf, Wf)
        if self.cfg.head_correlation:
            if t_feat is None:
                raise ValueError('head_correlation needs the template features')
            corr = template_correlation(x_s, t_feat, h, w)  # (B, Nt, Hf, Wf)
            feat = torch.cat([feat, corr], dim=1)  # (B, d + Nt, Hf, Wf)
        score, size, offset = self.center_head(feat)
        boxes, scores = decode_center(score, size, offset)
        log_var = self.uncertainty_head(feat)  # (B, 4)
        return TrackerOutput(boxes, scores, score, size, offset, log_var, ctx)

    def _template_features(self, t_tok: torch.Tensor) -> Optional[torch.Tensor]:
        """Return the final template tokens (B, Nt, d), normalised, if the heads correlate."""
        return self.norm(t_tok) if self.cfg.head_correlation else None

    @staticmethod
    def _check_ctx(ctx: Optional[torch.Tensor], batch: int, dim: int) -> None:
        if ctx is not None and tuple(ctx.shape) != (batch, dim):
            raise ValueError(f'temporal_ctx must be (B, d) = ({batch}, {dim}), '
                             f'got {tuple(ctx.shape)}')

    def _run_full(self, x_t: torch.Tensor, x_s: torch.Tensor, ctx: Optional[torch.Tensor],
                  ctx_weight: Optional[torch.Tensor]) -> torch.Tensor:
        """All blocks over [template, search] (parallel form) -> (search, template) tokens."""
        nt = x_t.shape[1]
        x = torch.cat([x_t, x_s], dim=1)  # (B, Nt+Ns, d)
        for i, block in enumerate(self.blocks):
            x = block(x, nt, ctx, ctx_weight)  # (B, Nt+Ns, d)
            if self.film is not None and self.film.applies_after(i):
                x = torch.cat([x[:, :nt], self._film(i, x[:, nt:], ctx, ctx_weight)], dim=1)
        return x[:, nt:], x[:, :nt]  # (B, Ns, d), (B, Nt, d)

    # ------------------------------------------------------------------ entry points
    def forward(self, template: torch.Tensor, search: torch.Tensor,
                temporal_ctx: Optional[torch.Tensor] = None) -> TrackerOutput:
        x_t, _, _ = self.patch_embed(template, is_search=False)  # (B, Nt, d)
        x_s, h, w = self.patch_embed(search, is_search=True)  # (B, Ns, d)
        if x_t.shape[0] != x_s.shape[0]:
            raise ValueError(f'template batch {x_t.shape[0]} != search batch {x_s.shape[0]}')
        self._check_ctx(temporal_ctx, x_s.shape[0], self.cfg.embed_dim)
        s_tok, t_tok = self._run_full(x_t, x_s, temporal_ctx, None)
        return self._heads(s_tok, h, w, self._template_features(t_tok))

    def encode_template(self, template: torch.Tensor) -> TemplateState:
        """Template work done once per (re)initialisation."""
        x_t, _, _ = self.patch_embed(template, is_search=False)  # (B, Nt, d)
        if self.cfg.scan == 'full_flip':
            return TemplateState(tokens=x_t)
        states = []
        x = x_t
        for block in self.blocks:
            x, state = block.forward_template(x)  # (B, Nt, d)
            states.append(state)
        return TemplateState(tokens=x_t, block_states=states,
                             features=self._template_features(x))

    def track(self, tstate: TemplateState, search: torch.Tensor,
              temporal_ctx: Optional[torch.Tensor] = None,
              ctx_weight: Optional[torch.Tensor] = None) -> TrackerOutput:
        """Per-frame step. ``ctx_weight`` (B, 1) is for export; leave it None otherwise."""
        x_s, h, w = self.patch_embed(search, is_search=True)  # (B, Ns, d)
        if tstate.batch_size != x_s.shape[0]:
            raise ValueError(f'template state batch {tstate.batch_size} != '
                             f'search batch {x_s.shape[0]}')
        self._check_ctx(temporal_ctx, x_s.shape[0], self.cfg.embed_dim)
        if self.cfg.scan == 'full_flip':
            s_tok, t_tok = self._run_full(tstate.tokens, x_s, temporal_ctx, ctx_weight)
            return self._heads(s_tok, h, w, self._template_features(t_tok))
        if len(tstate.block_states) != len(self.blocks):
            raise ValueError(f'template state has {len(tstate.block_states)} block states, '
                             f'the model has {len(self.blocks)} blocks')
        for i, (block, state) in enumerate(zip(self.blocks, tstate.block_states)):
            x_s = block.forward_search(x_s, state, temporal_ctx, ctx_weight)  # (B, Ns, d)
            x_s = self._film(i, x_s, temporal_ctx, ctx_weight)  # (B, Ns, d)
        return self._heads(x_s, h, w, tstate.features)


def build_model(cfg: ModelConfig) -> ViLTracker:
    """Build the network for ``cfg`` (random init; see checkpoint.load_checkpoint)."""
    if not isinstance(cfg, ModelConfig):
        raise TypeError(f'build_model expects a ModelConfig, got {type(cfg).__name__}')
    return ViLTracker(cfg)
