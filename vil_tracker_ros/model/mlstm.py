# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The mLSTM layer of Vision-LSTM, in parallel and chunkwise (stateful) form.

Layer (per ViL): proj_up d -> 2*inner split into (x, z); causal depthwise conv1d on
x then SiLU; q, k from the conv branch and v from the pre-conv branch via block-diagonal
LinearHeadwiseExpand; input/forget gates Linear(3*inner -> heads); stabilised mLSTM cell;
per-head group norm; learnable skip; gate with SiLU(z); proj_down inner -> d.

The chunkwise form takes and returns ``MLSTMState`` (conv state, C, n, m) so a prefix of
the sequence (the template) can be processed once and its state reused.
"""

import math
from typing import NamedTuple, Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F


class MLSTMState(NamedTuple):
    """Recurrent state of one mLSTM layer after a processed prefix."""

    conv: torch.Tensor  # (B, inner, k-1) last pre-conv inputs
    c: torch.Tensor     # (B, NH, DH, DH) matrix memory, scaled by exp(-m)
    n: torch.Tensor     # (B, NH, DH) normaliser, scaled by exp(-m)
    m: torch.Tensor     # (B, NH, 1) stabiliser (log scale)


def small_init_(param: torch.Tensor, dim: int) -> torch.Tensor:
    """Init from N(0, 2 / (5 dim)) (Nguyen & Salazar), as in ViL."""
    return nn.init.normal_(param, mean=0.0, std=math.sqrt(2.0 / (5.0 * dim)))


def wang_init_(param: torch.Tensor, dim: int, num_blocks: int = 1) -> torch.Tensor:
    """Init from N(0, (2 / num_blocks / sqrt(dim))^2), ViL's proj_down init."""
    return nn.init.normal_(param, mean=0.0, std=2.0 / num_blocks / math.sqrt(dim))


class LinearHeadwiseExpand(nn.Module):
    """Block-diagonal linear map: ``dim / block`` independent ``block x block`` matrices."""

    def __init__(self, dim: int, block_size: int, bias: bool = True) -> None:
        super().__init__()
        if dim % block_size:
            raise ValueError(f'dim={dim} is not a multiple of block_size={block_size}')
        self.dim = dim
        self.block_size = block_size
        self.num_blocks = dim // block_size
        self.weight = nn.Parameter(torch.empty(self.num_blocks, block_size, block_size))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None
        nn.init.normal_(self.weight, std=math.sqrt(2.0 / 5.0 / block_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Channels-last input (..., dim)."""
        lead = x.shape[:-1]
        y = self.forward_cf(x.reshape(-1, self.dim, 1))  # (N, dim, 1)
        return y.reshape(*lead, self.dim)

    def forward_cf(self, x: torch.Tensor) -> torch.Tensor:
        """Channels-first input (B, dim, S).

        Same maths two ways: batched 4x4 matmuls are fastest in eager torch, a grouped
        1x1 conv is fastest in onnxruntime (measured on the 2-core CPU). It is exported as
        a 2-D conv, which made the whole graph about 0.1 ms faster than the 1-D form.
        """
        if torch.onnx.is_in_onnx_export():
            weight = self.weight.reshape(self.dim, self.block_size, 1, 1)  # (dim, bs, 1, 1)
            y = F.conv2d(x.unsqueeze(2), weight, self.bias, groups=self.num_blocks)
            return y.squeeze(2)  # (B, dim, S)
        bsz, _, seq = x.shape
        xb = x.reshape(bsz, self.num_blocks, self.block_size, seq)  # (B, NB, bs, S)
        y = (self.weight @ xb).reshape(bsz, self.dim, seq)  # (B, dim, S)
        return y if self.bias is None else y + self.bias.unsqueeze(-1)


def parallel_stabilized(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                        igate: torch.Tensor, fgate: torch.Tensor,
                        eps: float = 1e-6) -> torch.Tensor:
    """Stabilised parallel mLSTM over a whole sequence from an empty state.

    q, k, v: (B, NH, S, DH); igate, fgate: (B, NH, S) pre-activations.
    Returns h (B, NH, S, DH).
    """
    seq, dh = q.shape[-2], q.shape[-1]
    log_f = F.logsigmoid(fgate)  # (B, NH, S)
    cum = torch.cumsum(log_f, dim=-1)  # (B, NH, S)
    causal = torch.ones(seq, seq, dtype=torch.bool, device=q.device).tril()  # (S, S)
    # log D_ij = sum_{k=j+1..i} log f_k + i_j for j <= i
    log_d = cum.unsqueeze(-1) - cum.unsqueeze(-2) + igate.unsqueeze(-2)  # (B, NH, S, S)
    log_d = log_d.masked_fill(~causal, float('-inf'))  # (B, NH, S, S)
    m = log_d.amax(dim=-1, keepdim=True)  # (B, NH, S, 1)
    decay = torch.exp(log_d - m)  # (B, NH, S, S)
    scores = (q @ k.transpose(-2, -1)) * (decay / math.sqrt(dh))  # (B, NH, S, S)
    norm = torch.maximum(scores.sum(-1, keepdim=True).abs(), torch.exp(-m))  # (B, NH, S, 1)
    return (scores / (norm + eps)) @ v  # (B, NH, S, DH)


def chunk_stabilized(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     igate: torch.Tensor, fgate: torch.Tensor,
                     c_prev: torch.Tensor, n_prev: torch.Tensor, m_prev: torch.Tensor,
                     eps: float = 1e-6
                     ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One chunk of the mLSTM that continues from state (c_prev, n_prev, m_prev).

    Intra-chunk terms use the parallel form; the prefix enters through C and n with
    weight exp(sum log f + m_prev). Equal to the recurrent form step by step.
    Returns h (B, NH, L, DH) and the new (c, n, m).
    """
    seq, dh = q.shape[-2], q.shape[-1]
    log_f = F.logsigmoid(fgate)  # (B, NH, L)
    cum = torch.cumsum(log_f, dim=-1)  # (B, NH, L)
    causal = torch.ones(seq, seq, dtype=torch.bool, device=q.device).tril()  # (L, L)
    log_d = cum.unsqueeze(-1) - cum.unsqueeze(-2) + igate.unsqueeze(-2)  # (B, NH, L, L)
    log_d = log_d.masked_fill(~causal, float('-inf'))  # (B, NH, L, L)
    log_prev = cum + m_prev  # (B, NH, L)
    m = torch.maximum(log_d.amax(dim=-1), log_prev)  # (B, NH, L)
    decay = torch.exp(log_d - m.unsqueeze(-1))  # (B, NH, L, L)
    w_prev = torch.exp(log_prev - m)  # (B, NH, L)
    k_scaled = k / math.sqrt(dh)  # (B, NH, L, DH)
    scores = (q @ k_scaled.transpose(-2, -1)) * decay  # (B, NH, L, L)
    num = scores @ v + w_prev.unsqueeze(-1) * (q @ c_prev)  # (B, NH, L, DH)
    den = scores.sum(-1) + w_prev * (q @ n_prev.unsqueeze(-1)).squeeze(-1)  # (B, NH, L)
    den = torch.maximum(den.abs(), torch.exp(-m)) + eps  # (B, NH, L)
    h = num / den.unsqueeze(-1)  # (B, NH, L, DH)

    m_last = m[..., -1:]  # (B, NH, 1)
    cum_last = cum[..., -1:]  # (B, NH, 1)
    w_in = torch.exp(cum_last - cum + igate - m_last)  # (B, NH, L)
    k_w = k_scaled * w_in.unsqueeze(-1)  # (B, NH, L, DH)
    carry = torch.exp(cum_last + m_prev - m_last)  # (B, NH, 1)
    c_new = carry.unsqueeze(-1) * c_prev + k_w.transpose(-2, -1) @ v  # (B, NH, DH, DH)
    n_new = carry * n_prev + k_w.sum(-2)  # (B, NH, DH)
    return h, c_new, n_new, m_last


def recurrent_step(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   igate: torch.Tensor, fgate: torch.Tensor,
                   c_prev: torch.Tensor, n_prev: torch.Tensor, m_prev: torch.Tensor,
                   eps: float = 1e-6
                   ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One token of the recurrent mLSTM (reference form, used by tests).

    q, k, v: (B, NH, DH); igate, fgate: (B, NH). Returns h (B, NH, DH) and (c, n, m).
    """
    dh = q.shape[-1]
    log_f = F.logsigmoid(fgate).unsqueeze(-1)  # (B, NH, 1)
    i_pre = igate.unsqueeze(-1)  # (B, NH, 1)
    m = torch.maximum(log_f + m_prev, i_pre)  # (B, NH, 1)
    f_s = torch.exp(log_f + m_prev - m)  # (B, NH, 1)
    i_s = torch.exp(i_pre - m)  # (B, NH, 1)
    k_scaled = k / math.sqrt(dh)  # (B, NH, DH)
    c = f_s.unsqueeze(-1) * c_prev + i_s.unsqueeze(-1) * (
        k_scaled.unsqueeze(-1) * v.unsqueeze(-2))  # (B, NH, DH, DH)
    n = f_s * n_prev + i_s * k_scaled  # (B, NH, DH)
    num = (q.unsqueeze(-2) @ c).squeeze(-2)  # (B, NH, DH)
    den = (q * n).sum(-1, keepdim=True)  # (B, NH, 1)
    den = torch.maximum(den.abs(), torch.exp(-m)) + eps  # (B, NH, 1)
    return num / den, c, n, m


class MLSTMLayer(nn.Module):
    """The ViL mLSTM layer (no norm, no residual, no direction: the block adds those)."""

    def __init__(self, dim: int, num_heads: int = 4, proj_factor: int = 2,
                 conv_kernel: int = 4, qkv_block_size: int = 4) -> None:
        super().__init__()
        inner = proj_factor * dim
        if inner % num_heads:
            raise ValueError(f'inner dim {inner} is not a multiple of num_heads={num_heads}')
        self.dim = dim
        self.inner = inner
        self.num_heads = num_heads
        self.head_dim = inner // num_heads
        self.conv_kernel = conv_kernel
        self.proj_up = nn.Linear(dim, 2 * inner)
        # depthwise; causal padding is done explicitly so state can replace it
        self.conv = nn.Conv1d(inner, inner, conv_kernel, groups=inner)
        self.q_proj = LinearHeadwiseExpand(inner, qkv_block_size)
        self.k_proj = LinearHeadwiseExpand(inner, qkv_block_size)
        self.v_proj = LinearHeadwiseExpand(inner, qkv_block_size)
        self.igate = nn.Linear(3 * inner, num_heads)
        self.fgate = nn.Linear(3 * inner, num_heads)
        self.outnorm_weight = nn.Parameter(torch.ones(inner))
        self.outnorm_bias = nn.Parameter(torch.zeros(inner))
        self.learnable_skip = nn.Parameter(torch.ones(inner))
        self.proj_down = nn.Linear(inner, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Apply the official ViL ('original') initialisation."""
        small_init_(self.proj_up.weight, self.dim)
        nn.init.zeros_(self.proj_up.bias)
        wang_init_(self.proj_down.weight, self.dim, num_blocks=1)
        nn.init.zeros_(self.proj_down.bias)
        for proj in (self.q_proj, self.k_proj, self.v_proj):
            # ViL uses the embedding dim, not the inner dim, for the qkv std
            small_init_(proj.weight, self.dim)
            nn.init.zeros_(proj.bias)
        self.conv.reset_parameters()
        nn.init.zeros_(self.igate.weight)
        nn.init.normal_(self.igate.bias, mean=0.0, std=0.1)
        nn.init.zeros_(self.fgate.weight)
        with torch.no_grad():
            self.fgate.bias.copy_(torch.linspace(3.0, 6.0, self.num_heads))
        nn.init.ones_(self.outnorm_weight)
        nn.init.zeros_(self.outnorm_bias)
        nn.init.ones_(self.learnable_skip)

    def initial_state(self, batch: int, device: Optional[torch.device] = None,
                      dtype: torch.dtype = torch.float32) -> MLSTMState:
        """State of an empty prefix (zero conv padding, empty memory, m = -inf)."""
        nh, dh = self.num_heads, self.head_dim
        return MLSTMState(
            conv=torch.zeros(batch, self.inner, self.conv_kernel - 1, device=device, dtype=dtype),
            c=torch.zeros(batch, nh, dh, dh, device=device, dtype=dtype),
            n=torch.zeros(batch, nh, dh, device=device, dtype=dtype),
            # stands in for -inf: exp(m0 + finite) == 0 without inf - inf NaNs (fp16-safe)
            m=torch.full((batch, nh, 1), torch.finfo(dtype).min / 2, device=device, dtype=dtype))

    def _causal_conv(self, x_t: torch.Tensor) -> torch.Tensor:
        """Depthwise conv over (B, inner, k-1+S) without padding -> (B, inner, S)."""
        if torch.onnx.is_in_onnx_export():
            # a (1, k) 2-D conv: onnxruntime's depthwise 1-D conv is several times slower
            weight = self.conv.weight.unsqueeze(2)  # (inner, 1, 1, k)
            y = F.conv2d(x_t.unsqueeze(2), weight, self.conv.bias, groups=self.inner)
            return y.squeeze(2)  # (B, inner, S)
        # eager torch's depthwise conv1d takes a slow path on CPU: k shifted multiply-adds
        seq = x_t.shape[-1] - (self.conv_kernel - 1)
        weight = self.conv.weight.squeeze(1)  # (inner, k)
        y = self.conv.bias.unsqueeze(-1) + weight[:, :1] * x_t[..., :seq]  # (B, inner, S)
        for j in range(1, self.conv_kernel):
            y = y + weight[:, j:j + 1] * x_t[..., j:j + seq]  # (B, inner, S)
        return y

    def _branches(self, x: torch.Tensor, conv_prev: torch.Tensor):
        """Shared front half: projections, conv and gates for a (chunk of a) sequence."""
        bsz, seq, _ = x.shape
        nh, dh = self.num_heads, self.head_dim
        x_inner = self.proj_up(x)  # (B, S, 2*inner)
        x_m, z = x_inner.chunk(2, dim=-1)  # (B, S, inner) each
        x_m = x_m.transpose(1, 2)  # (B, inner, S) channels-first for conv and q/k/v
        x_t = torch.cat([conv_prev, x_m], dim=-1)  # (B, inner, k-1+S)
        conv_next = x_t[..., x_t.shape[-1] - (self.conv_kernel - 1):]  # (B, inner, k-1)
        x_c = F.silu(self._causal_conv(x_t))  # (B, inner, S)
        q = self.q_proj.forward_cf(x_c)  # (B, inner, S)
        k = self.k_proj.forward_cf(x_c)  # (B, inner, S)
        v = self.v_proj.forward_cf(x_m)  # (B, inner, S)
        gate_in = torch.cat([q, k, v], dim=1).transpose(1, 2)  # (B, S, 3*inner)
        # both gates in one matmul
        gate_w = torch.cat([self.igate.weight, self.fgate.weight], dim=0)  # (2NH, 3*inner)
        gate_b = torch.cat([self.igate.bias, self.fgate.bias], dim=0)  # (2NH,)
        gates = F.linear(gate_in, gate_w, gate_b).transpose(1, 2)  # (B, 2NH, S)
        i_pre, f_pre = gates[:, :nh], gates[:, nh:]  # (B, NH, S) each
        q = q.reshape(bsz, nh, dh, seq).transpose(-1, -2)  # (B, NH, S, DH)
        k = k.reshape(bsz, nh, dh, seq).transpose(-1, -2)  # (B, NH, S, DH)
        v = v.reshape(bsz, nh, dh, seq).transpose(-1, -2)  # (B, NH, S, DH)
        return q, k, v, i_pre, f_pre, x_c.transpose(1, 2), z, conv_next

    def _output(self, h: torch.Tensor, x_c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        bsz, nh, seq, dh = h.shape
        h = h.transpose(1, 2).reshape(bsz * seq, nh * dh)  # (B*S, inner)
        # per-head layer norm == group norm with one group per head
        h = F.group_norm(h, nh, self.outnorm_weight, self.outnorm_bias, eps=1e-5)
        h = h.view(bsz, seq, nh * dh)  # (B, S, inner)
        h = (h + self.learnable_skip * x_c) * F.silu(z)  # (B, S, inner)
        return self.proj_down(h)  # (B, S, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Parallel form over the whole sequence: (B, S, d) -> (B, S, d)."""
        conv0 = x.new_zeros(x.shape[0], self.inner, self.conv_kernel - 1)  # (B, inner, k-1)
        q, k, v, i_pre, f_pre, x_c, z, _ = self._branches(x, conv0)
        h = parallel_stabilized(q, k, v, i_pre, f_pre)  # (B, NH, S, DH)
        return self._output(h, x_c, z)

    def forward_chunk(self, x: torch.Tensor, state: Optional[MLSTMState] = None
                      ) -> Tuple[torch.Tensor, MLSTMState]:
        """Continue from ``state`` over a chunk: (B, L, d) -> ((B, L, d), new state)."""
        if state is None:
            state = self.initial_state(x.shape[0], x.device, x.dtype)
        q, k, v, i_pre, f_pre, x_c, z, conv_next = self._branches(x, state.conv)
        h, c, n, m = chunk_stabilized(q, k, v, i_pre, f_pre, state.c, state.n, state.m)
        return self._output(h, x_c, z), MLSTMState(conv_next, c, n, m)

    def forward_recurrent(self, x: torch.Tensor, state: Optional[MLSTMState] = None
                          ) -> Tuple[torch.Tensor, MLSTMState]:
        """Token-by-token recurrent form (slow reference): same signature as forward_chunk."""
        if state is None:
            state = self.initial_state(x.shape[0], x.device, x.dtype)
        q, k, v, i_pre, f_pre, x_c, z, conv_next = self._branches(x, state.conv)
        c, n, m = state.c, state.n, state.m
        hs = []
        for t in range(x.shape[1]):
            h_t, c, n, m = recurrent_step(q[:, :, t], k[:, :, t], v[:, :, t],
                                          i_pre[:, :, t], f_pre[:, :, t], c, n, m)
            hs.append(h_t)  # (B, NH, DH)
        h = torch.stack(hs, dim=2)  # (B, NH, S, DH)
        return self._output(h, x_c, z), MLSTMState(conv_next, c, n, m)
