# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""FiLM temporal modulation of search tokens between backbone blocks.

A temporal context vector (the previous frame's pooled search features) yields a
channel-wise (gamma, beta) for each FiLM position; search tokens become
``x * (1 + gamma) + beta``. The generators' last layers start at zero, so FiLM is the
identity at init, and it stays the identity while disabled or when no context is given.
"""

from typing import Optional, Sequence

import torch
from torch import nn


class FiLMGenerator(nn.Module):
    """MLP ctx (B, d) -> (gamma, beta), each (B, d)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, 2 * dim)
        nn.init.zeros_(self.fc2.weight)  # identity at init
        nn.init.zeros_(self.fc2.bias)

    def forward(self, ctx: torch.Tensor):
        gamma_beta = self.fc2(self.act(self.fc1(ctx)))  # (B, 2d)
        return gamma_beta.chunk(2, dim=-1)  # (B, d), (B, d)


class TemporalFiLM(nn.Module):
    """FiLM generators for the blocks listed in ``after_blocks`` (block indices)."""

    def __init__(self, dim: int, hidden: int, after_blocks: Sequence[int]) -> None:
        super().__init__()
        self.after_blocks = tuple(int(b) for b in after_blocks)
        self.ctx_norm = nn.LayerNorm(dim)
        self.generators = nn.ModuleList(FiLMGenerator(dim, hidden) for _ in self.after_blocks)
        # persistent so a checkpoint remembers whether FiLM was trained in
        self.register_buffer('enabled', torch.tensor(False))
        self._slot = {b: i for i, b in enumerate(self.after_blocks)}

    def applies_after(self, block_index: int) -> bool:
        return block_index in self._slot

    def modulate(self, block_index: int, x_search: torch.Tensor,
                 ctx: Optional[torch.Tensor], ctx_weight: Optional[torch.Tensor] = None
                 ) -> torch.Tensor:
        """Modulate search tokens (B, Ns, d) after ``block_index``.

        ``ctx_weight`` (B, 1) scales the modulation (0 = identity); the ONNX graph uses it
        in place of ``ctx=None``.
        """
        if ctx is None or not bool(self.enabled) or block_index not in self._slot:
            return x_search
        gamma, beta = self.generators[self._slot[block_index]](self.ctx_norm(ctx))  # (B, d)
        if ctx_weight is not None:
            gamma = gamma * ctx_weight  # (B, d)
            beta = beta * ctx_weight  # (B, d)
        return x_search * (1.0 + gamma.unsqueeze(1)) + beta.unsqueeze(1)  # (B, Ns, d)
