# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The shipped default checkpoint loads, is small, runs, and has its training card."""

import glob
import os

import pytest
import torch

from vil_tracker_ros.model.checkpoint import load_checkpoint

WEIGHTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       'vil_tracker_ros', 'weights')
SHIPPED = sorted(glob.glob(os.path.join(WEIGHTS, '*.pt')))


@pytest.mark.skipif(not SHIPPED, reason='no checkpoint shipped in vil_tracker_ros/weights/')
@pytest.mark.parametrize('path', SHIPPED, ids=os.path.basename)
def test_shipped_checkpoint_loads_and_tracks(path):
    assert os.path.getsize(path) < 30 * 1024 * 1024
    model, info = load_checkpoint(path)
    training = info['extra'].get('training', {})
    assert training.get('step', 0) > 0, 'the shipped checkpoint records its training steps'
    cfg = model.cfg
    torch.manual_seed(0)
    template = torch.randn(1, 3, cfg.template_size, cfg.template_size)
    search = torch.randn(1, 3, cfg.search_size, cfg.search_size)
    with torch.no_grad():
        state = model.encode_template(template)
        out = model.track(state, search)
        ref = model(template, search)
    assert torch.isfinite(out.boxes).all() and out.boxes.shape == (1, 4)
    assert torch.allclose(out.boxes, ref.boxes, atol=1e-4)
    card = os.path.join(WEIGHTS, 'README.md')
    assert os.path.isfile(card)
    assert os.path.basename(path) in open(card, encoding='utf-8').read()
