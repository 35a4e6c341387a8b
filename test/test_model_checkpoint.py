# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Checkpoint round trip and clear errors for bad files."""

import pytest
import torch

from vil_tracker_ros.config import to_dict
from vil_tracker_ros.model import (build_model, CheckpointError, get_config, load_checkpoint,
                                   save_checkpoint)
from vil_tracker_ros.model.checkpoint import FORMAT, FORMAT_VERSION


@pytest.fixture()
def tiny_model():
    torch.manual_seed(0)
    model = build_model(get_config('vil_tiny', scan='template_first'))
    model.set_film_enabled(True)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))  # differ from any fresh init
    return model.eval()


def test_round_trip(tmp_path, tiny_model):
    path = tmp_path / 'ck.pt'
    save_checkpoint(path, tiny_model, extra={'epoch': 7, 'note': 'x', 'hist': [1.0, 2.0]})
    model, info = load_checkpoint(path)
    assert info['model_config'] == tiny_model.cfg
    assert info['format_version'] == FORMAT_VERSION
    assert info['extra'] == {'epoch': 7, 'note': 'x', 'hist': [1.0, 2.0]}
    assert model.film_enabled and not model.training
    cfg = tiny_model.cfg
    template = torch.randn(1, 3, cfg.template_size, cfg.template_size)
    search = torch.randn(1, 3, cfg.search_size, cfg.search_size)
    with torch.no_grad():
        for a, b in zip(tiny_model(template, search).as_tuple(),
                        model(template, search).as_tuple()):
            assert torch.equal(a, b)
    assert not (tmp_path / 'ck.pt.tmp').exists()


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match='does not exist'):
        load_checkpoint(tmp_path / 'nope.pt')


@pytest.mark.parametrize('content', [b'', b'garbage' * 100])
def test_corrupt_file(tmp_path, content):
    path = tmp_path / 'bad.pt'
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match='corrupt or truncated'):
        load_checkpoint(path)


def test_truncated_file(tmp_path, tiny_model):
    path = tmp_path / 'ck.pt'
    save_checkpoint(path, tiny_model)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match='corrupt or truncated'):
        load_checkpoint(path)


def _payload(model, **changes):
    payload = {'format': FORMAT, 'format_version': FORMAT_VERSION,
               'model_config': to_dict(model.cfg), 'state_dict': model.state_dict(),
               'extra': {}}
    payload.update(changes)
    return payload


def test_foreign_file(tmp_path, tiny_model):
    path = tmp_path / 'other.pt'
    torch.save(tiny_model.state_dict(), path)  # a bare state dict, no format tag
    with pytest.raises(CheckpointError, match='not a vil_tracker_ros model checkpoint'):
        load_checkpoint(path)


def test_wrong_version(tmp_path, tiny_model):
    path = tmp_path / 'v99.pt'
    torch.save(_payload(tiny_model, format_version=99), path)
    with pytest.raises(CheckpointError, match='format version 99'):
        load_checkpoint(path)


def test_invalid_config(tmp_path, tiny_model):
    cfg = dict(to_dict(tiny_model.cfg), warp_drive=True)
    path = tmp_path / 'cfg.pt'
    torch.save(_payload(tiny_model, model_config=cfg), path)
    with pytest.raises(CheckpointError, match='warp_drive'):
        load_checkpoint(path)


def test_weights_do_not_match_config(tmp_path, tiny_model):
    cfg = dict(to_dict(tiny_model.cfg), embed_dim=48)
    path = tmp_path / 'mismatch.pt'
    torch.save(_payload(tiny_model, model_config=cfg), path)
    with pytest.raises(CheckpointError, match='shape mismatches'):
        load_checkpoint(path)
    state = dict(tiny_model.state_dict())
    state.pop('norm.weight')
    torch.save(_payload(tiny_model, state_dict=state), path)
    with pytest.raises(CheckpointError, match=r"missing keys \['norm.weight'\]"):
        load_checkpoint(path)


def test_save_rejects_non_model(tmp_path):
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / 'x.pt', torch.nn.Linear(2, 2))
