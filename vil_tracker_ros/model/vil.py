# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ViL backbone pieces: patch embedding and pre-LN residual mLSTM blocks.

Even blocks scan left to right, odd blocks right to left. With ``scan='full_flip'``
(the seed / official ViL) a right-to-left block flips the whole [template, search]
sequence; with ``scan='template_first'`` it flips template and search separately, so the
template precedes the search in both directions and its state can be cached.
"""

from typing import Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from vil_tracker_ros.model.mlstm import MLSTMLayer, MLSTMState
from vil_tracker_ros.model.tmoe import TMoE


def scan_order(x: torch.Tensor, num_template: int, reverse: bool, scan: str) -> torch.Tensor:
    """Put tokens (B, S, d) in the block's scan order; applying it twice is the identity."""
    if not reverse:
        return x
    if scan == 'full_flip':
        return x.flip(1)  # (B, S, d)
    tmpl, search = x[:, :num_template], x[:, num_template:]
    return torch.cat([tmpl.flip(1), search.flip(1)], dim=1)  # (B, S, d)


class PatchEmbed(nn.Module):
    """16x16 patch embedding with per-grid learned positions and type embeddings."""

    def __init__(self, dim: int, patch: int, template_size: int, search_size: int) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)
        self.template_grid = template_size // patch
        self.search_grid = search_size // patch
        self.pos_template = nn.Parameter(torch.zeros(1, self.template_grid ** 2, dim))
        self.pos_search = nn.Parameter(torch.zeros(1, self.search_grid ** 2, dim))
        self.type_embed = nn.Parameter(torch.zeros(2, dim))  # 0: template, 1: search
        for p in (self.pos_template, self.pos_search, self.type_embed):
            nn.init.trunc_normal_(p, std=0.02)

    @staticmethod
    def _resize(pos: torch.Tensor, grid: int, h: int, w: int) -> torch.Tensor:
        if (h, w) == (grid, grid):
            return pos
        dim = pos.shape[-1]
        img = pos.reshape(1, grid, grid, dim).permute(0, 3, 1, 2)  # (1, d, g, g)
        img = F.interpolate(img, size=(h, w), mode='bicubic', align_corners=False)
        return img.permute(0, 2, 3, 1).reshape(1, h * w, dim)  # (1, h*w, d)

    def forward(self, image: torch.Tensor, is_search: bool) -> Tuple[torch.Tensor, int, int]:
        """Embed an image (B, 3, H, W) -> tokens (B, h*w, d), h, w."""
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f'expected an image batch (B, 3, H, W), got {tuple(image.shape)}')
        if image.shape[-2] % self.patch or image.shape[-1] % self.patch:
            raise ValueError(f'image size {tuple(image.shape[-2:])} is not a multiple of '
                             f'the patch size {self.patch}')
        feat = self.proj(image)  # (B, d, h, w)
        h, w = feat.shape[-2:]
        tokens = feat.flatten(2).transpose(1, 2)  # (B, h*w, d)
        if is_search:
            pos = self._resize(self.pos_search, self.search_grid, h, w)  # (1, h*w, d)
        else:
            pos = self._resize(self.pos_template, self.template_grid, h, w)  # (1, h*w, d)
        return tokens + pos + self.type_embed[int(is_search)], h, w  # (B, h*w, d)


class ViLBlock(nn.Module):
    """x + mLSTM(LN(x)) in the block's scan direction, then an optional TMoE residual."""

    def __init__(self, dim: int, reverse: bool, num_heads: int, proj_factor: int,
                 conv_kernel: int, qkv_block_size: int, scan: str,
                 tmoe: Optional[TMoE] = None) -> None:
        super().__init__()
        self.reverse = reverse
        self.scan = scan
        self.norm = nn.LayerNorm(dim)
        self.layer = MLSTMLayer(dim, num_heads, proj_factor, conv_kernel, qkv_block_size)
        self.tmoe_norm = nn.LayerNorm(dim) if tmoe is not None else None
        self.tmoe = tmoe

    def _moe(self, x: torch.Tensor, ctx: Optional[torch.Tensor], num_template: int,
             ctx_weight: Optional[torch.Tensor]) -> torch.Tensor:
        if self.tmoe is None:
            return x
        return x + self.tmoe(self.tmoe_norm(x), ctx, num_template, ctx_weight)  # (B, S, d)

    def forward(self, x: torch.Tensor, num_template: int = 0,
                ctx: Optional[torch.Tensor] = None,
                ctx_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Whole sequence (B, S, d), template tokens first, parallel form."""
        h = scan_order(self.norm(x), num_template, self.reverse, self.scan)  # (B, S, d)
        h = scan_order(self.layer(h), num_template, self.reverse, self.scan)  # (B, S, d)
        return self._moe(x + h, ctx, num_template, ctx_weight)

    def forward_template(self, x_t: torch.Tensor) -> Tuple[torch.Tensor, MLSTMState]:
        """Template tokens alone (template_first scan): output and the layer state after them."""
        h = self.norm(x_t)  # (B, Nt, d)
        h = h.flip(1) if self.reverse else h
        h, state = self.layer.forward_chunk(h)  # (B, Nt, d)
        h = h.flip(1) if self.reverse else h
        return self._moe(x_t + h, None, x_t.shape[1], None), state

    def forward_search(self, x_s: torch.Tensor, state: MLSTMState,
                       ctx: Optional[torch.Tensor] = None,
                       ctx_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Search tokens continuing from the cached template state (template_first scan)."""
        h = self.norm(x_s)  # (B, Ns, d)
        h = h.flip(1) if self.reverse else h
        h, _ = self.layer.forward_chunk(h, state)  # (B, Ns, d)
        h = h.flip(1) if self.reverse else h
        return self._moe(x_s + h, ctx, 0, ctx_weight)
