# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Temporal mixture-of-experts MLP (dense routing) for the last backbone blocks.

Output = shared_expert(x) + sum_e softmax(router)_e * expert_e(x). The router sees the
token and, for search tokens, the temporal context. The shared expert can be frozen
(phase 2 of training).
"""

from typing import Optional

import torch
from torch import nn


class ExpertMLP(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))  # (B, S, d)


class TMoE(nn.Module):
    def __init__(self, dim: int, num_experts: int, hidden: int, shared_hidden: int) -> None:
        super().__init__()
        self.shared = ExpertMLP(dim, shared_hidden)
        self.experts = nn.ModuleList(ExpertMLP(dim, hidden) for _ in range(num_experts))
        self.router = nn.Linear(dim, num_experts)
        self.router_ctx = nn.Linear(dim, num_experts, bias=False)
        nn.init.zeros_(self.router_ctx.weight)  # starts as a token-only router

    def set_shared_frozen(self, frozen: bool) -> None:
        for p in self.shared.parameters():
            p.requires_grad_(not frozen)

    def forward(self, x: torch.Tensor, ctx: Optional[torch.Tensor] = None,
                num_template: int = 0, ctx_weight: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """Mix experts over tokens x (B, S, d); the first ``num_template`` are template tokens."""
        logits = self.router(x)  # (B, S, E)
        if ctx is not None:
            bias = self.router_ctx(ctx)  # (B, E)
            if ctx_weight is not None:
                bias = bias * ctx_weight  # (B, E)
            pos = torch.arange(x.shape[1], device=x.device).unsqueeze(-1)  # (S, 1)
            is_search = (pos >= num_template).to(x.dtype)  # (S, 1)
            logits = logits + bias.unsqueeze(1) * is_search  # (B, S, E)
        weights = logits.softmax(dim=-1)  # (B, S, E)
        out = self.shared(x)  # (B, S, d)
        for e, expert in enumerate(self.experts):
            out = out + weights[..., e:e + 1] * expert(x)  # (B, S, d)
        return out
