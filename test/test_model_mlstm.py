# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""mLSTM layer: parallel == chunkwise == recurrent, flip semantics, init, sizes."""

import pytest
import torch

from vil_tracker_ros.model.mlstm import LinearHeadwiseExpand, MLSTMLayer
from vil_tracker_ros.model.vil import scan_order, ViLBlock


def _random_layer(dim=32, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    layer = MLSTMLayer(dim, num_heads=4, proj_factor=2, conv_kernel=4, qkv_block_size=4)
    # non-trivial gates (the official init zeroes the gate weights)
    with torch.no_grad():
        for gate in (layer.igate, layer.fgate):
            gate.weight.normal_(std=0.2)
            gate.bias.normal_(std=2.0)
    return layer.to(dtype)


@pytest.mark.parametrize('dtype,tol', [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_parallel_equals_recurrent_and_chunkwise(dtype, tol):
    layer = _random_layer(dtype=dtype)
    x = torch.randn(2, 23, 32, dtype=dtype)
    with torch.no_grad():
        parallel = layer(x)
        recurrent, rec_state = layer.forward_recurrent(x)
        state, chunks = None, []
        for lo, hi in ((0, 7), (7, 8), (8, 16), (16, 23)):
            out, state = layer.forward_chunk(x[:, lo:hi], state)
            chunks.append(out)
        chunked = torch.cat(chunks, dim=1)
    assert (parallel - recurrent).abs().max() <= tol
    assert (parallel - chunked).abs().max() <= tol
    for a, b in zip(rec_state, state):  # same (conv, C, n, m) state either way
        assert torch.allclose(a, b, atol=tol, rtol=1e-4)


def test_state_continues_sequence():
    """Processing a prefix, then the rest from its state, equals one pass (template caching)."""
    layer = _random_layer(dtype=torch.float32, seed=1)
    x = torch.randn(1, 40, 32)
    with torch.no_grad():
        full = layer(x)
        _, state = layer.forward_chunk(x[:, :16])
        rest, _ = layer.forward_chunk(x[:, 16:], state)
    assert (full[:, 16:] - rest).abs().max() <= 1e-4


def test_official_init():
    layer = MLSTMLayer(48, num_heads=4)
    assert torch.count_nonzero(layer.igate.weight) == 0
    assert torch.count_nonzero(layer.fgate.weight) == 0
    assert torch.allclose(layer.fgate.bias, torch.linspace(3.0, 6.0, 4))
    assert 0.0 < layer.igate.bias.std() < 0.5
    assert torch.equal(layer.learnable_skip, torch.ones(96))
    assert layer.q_proj.weight.shape == (24, 4, 4)


def test_headwise_expand_is_block_diagonal():
    torch.manual_seed(0)
    proj = LinearHeadwiseExpand(12, 4)
    x = torch.randn(3, 5, 12)
    dense = torch.block_diag(*proj.weight)  # (12, 12) with weight[b] as (out, in)
    assert torch.allclose(proj(x), x @ dense.T + proj.bias, atol=1e-6)


def test_block_param_count_formula():
    """Per block 6d^2 + 101d + 8: the official 6d^2 + 111d + 8 uses a depthwise 3x3 conv2d
    (10 params per inner channel); the seed's causal conv1d k=4 has 5, i.e. 10d fewer."""
    d = 384
    block = ViLBlock(d, reverse=False, num_heads=4, proj_factor=2, conv_kernel=4,
                     qkv_block_size=4, scan='full_flip')
    assert sum(p.numel() for p in block.parameters()) == 6 * d * d + 101 * d + 8


@pytest.mark.parametrize('scan', ['full_flip', 'template_first'])
def test_flip_semantics(scan):
    """A right-to-left block equals the flipped output of the left-to-right block on the
    flipped input (same weights)."""
    torch.manual_seed(0)
    kwargs = {'num_heads': 4, 'proj_factor': 2, 'conv_kernel': 4, 'qkv_block_size': 4,
              'scan': scan}
    fwd = ViLBlock(32, reverse=False, **kwargs)
    rev = ViLBlock(32, reverse=True, **kwargs)
    rev.load_state_dict(fwd.state_dict())
    x = torch.randn(2, 20, 32)
    nt = 6
    with torch.no_grad():
        got = rev(x, nt)
        flip = lambda t: scan_order(t, nt, True, scan)  # noqa: E731
        want = flip(fwd(flip(x), nt))
    assert (got - want).abs().max() <= 1e-5
    assert (got - fwd(x, nt)).abs().max() > 1e-3  # the direction really matters
