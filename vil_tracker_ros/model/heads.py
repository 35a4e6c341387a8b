# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Prediction heads on the search feature map.

CenterHead (OSTrack style): three conv stacks predict a score map (target centre
probability), a size map (normalised w, h) and an offset map (sub-cell centre offset,
in cells). UncertaintyHead: log-variance of (cx, cy, w, h) for the Kalman filter.
``template_correlation`` is the optional explicit matching prior fed to both heads: the
cosine similarity of every search token with every template token (SiamFC-style
pixel-wise correlation), so the heads see "where does this look like the template"
directly instead of having to learn it from the backbone features alone.
"""

from typing import Tuple

import torch
from torch import nn

LOG_VAR_RANGE = (-10.0, 10.0)
_SCORE_PRIOR_BIAS = -2.19  # sigmoid(-2.19) ~= 0.1: a sparse-heatmap prior (CenterNet)


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


def conv_stack(cin: int, channels: int, layers: int, out: int) -> nn.Sequential:
    """``layers`` conv-BN-ReLU halving the width from ``channels``, then a 1x1 conv."""
    mods = []
    for i in range(layers):
        cout = channels >> i
        mods.append(conv_bn_relu(cin, cout))
        cin = cout
    mods.append(nn.Conv2d(cin, out, 1))
    return nn.Sequential(*mods)


def template_correlation(search: torch.Tensor, template: torch.Tensor, height: int,
                         width: int) -> torch.Tensor:
    """Cosine similarity map: search (B, Ns, d), template (B, Nt, d) -> (B, Nt, H, W)."""
    s = nn.functional.normalize(search, dim=-1)  # (B, Ns, d)
    t = nn.functional.normalize(template, dim=-1)  # (B, Nt, d)
    corr = torch.bmm(t, s.transpose(1, 2))  # (B, Nt, Ns)
    return corr.reshape(corr.shape[0], corr.shape[1], height, width)


class CenterHead(nn.Module):
    def __init__(self, dim: int, channels: int, layers: int) -> None:
        super().__init__()
        self.score = conv_stack(dim, channels, layers, 1)
        self.size = conv_stack(dim, channels, layers, 2)
        self.offset = conv_stack(dim, channels, layers, 2)
        nn.init.constant_(self.score[-1].bias, _SCORE_PRIOR_BIAS)

    def forward(self, feat: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Map feat (B, d, H, W) -> score (B,1,H,W) and size (B,2,H,W) in (0,1), offset."""
        score = torch.sigmoid(self.score(feat)).clamp(1e-4, 1.0 - 1e-4)  # (B, 1, H, W)
        size = torch.sigmoid(self.size(feat))  # (B, 2, H, W)
        offset = self.offset(feat)  # (B, 2, H, W)
        return score, size, offset


def decode_center(score: torch.Tensor, size: torch.Tensor, offset: torch.Tensor
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Peak of the score map -> boxes (B, 4) normalised cx, cy, w, h, and scores (B,)."""
    bsz, _, height, width = score.shape
    flat = score.flatten(1)  # (B, H*W)
    best, idx = flat.max(dim=1)  # (B,), (B,)
    iy = torch.div(idx, width, rounding_mode='floor')  # (B,)
    ix = idx - iy * width  # (B,)
    gather = idx.view(bsz, 1, 1).expand(bsz, 2, 1)  # (B, 2, 1)
    wh = size.flatten(2).gather(2, gather).squeeze(2)  # (B, 2)
    off = offset.flatten(2).gather(2, gather).squeeze(2)  # (B, 2)
    cx = (ix.to(score.dtype) + off[:, 0]) / width  # (B,)
    cy = (iy.to(score.dtype) + off[:, 1]) / height  # (B,)
    boxes = torch.stack([cx, cy, wh[:, 0], wh[:, 1]], dim=1)  # (B, 4)
    return boxes, best


class UncertaintyHead(nn.Module):
    """Two conv-BN-ReLU, global average pool, Linear -> log-variance (B, 4)."""

    def __init__(self, dim: int, channels: int) -> None:
        super().__init__()
        self.convs = nn.Sequential(conv_bn_relu(dim, channels),
                                   conv_bn_relu(channels, channels // 2))
        self.fc = nn.Linear(channels // 2, 4)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)  # unit variance at init

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        pooled = self.convs(feat).mean(dim=(2, 3))  # (B, C/2)
        return self.fc(pooled).clamp(*LOG_VAR_RANGE)  # (B, 4)
