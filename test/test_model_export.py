# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ONNX export of the track graph and onnxruntime parity (tiny variant)."""

import pytest
import torch

from vil_tracker_ros.model import build_model, get_config, save_checkpoint
from vil_tracker_ros.model import export

onnx = pytest.importorskip('onnx', reason='onnx is not installed')
pytest.importorskip('onnxruntime', reason='onnxruntime is not installed')


def _trained_like_tiny(scan, correlation=False):
    torch.manual_seed(0)
    model = build_model(get_config('vil_tiny', scan=scan, head_correlation=correlation))
    model.set_film_enabled(True)
    with torch.no_grad():  # non-trivial FiLM / TMoE context / BN statistics
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        for name, buf in model.named_buffers():
            if name.endswith('running_var'):
                buf.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize('scan,correlation', [('full_flip', False), ('template_first', False),
                                              ('full_flip', True), ('template_first', True)])
def test_onnx_parity(tmp_path, scan, correlation):
    model = _trained_like_tiny(scan, correlation)
    track_path, template_path = export.export_onnx(model, tmp_path / 'tiny.onnx')
    assert track_path.is_file() and template_path.is_file()
    proto = onnx.load(str(track_path))
    assert max(o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx')) >= 17
    diffs = export.check_parity(model, track_path)
    assert max(diffs.values()) <= 1e-3
    assert set(diffs) == {f'{tag}_{name}' for tag in ('no_ctx', 'ctx')
                          for name in ('scores', 'score_map', 'size_map', 'offset_map')}

    runtime = export.OnnxTracker(track_path)
    assert runtime.cfg == model.cfg
    template = torch.randn(1, 3, 32, 32)
    search = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = model.track(model.encode_template(template), search)
    got = runtime.track(runtime.encode_template(template), search)
    for name in ('score_map', 'size_map', 'offset_map', 'log_var', 'temporal_ctx'):
        assert (getattr(ref, name) - getattr(got, name)).abs().max() <= 1e-3


def test_parity_check_detects_mismatch(tmp_path):
    model = _trained_like_tiny('full_flip')
    track_path, _ = export.export_onnx(model, tmp_path / 'tiny.onnx')
    with torch.no_grad():
        model.center_head.size[-1].bias.add_(1.0)  # torch model now differs from the file
    with pytest.raises(RuntimeError, match='parity failed'):
        export.check_parity(model, track_path)


def test_cli_from_checkpoint(tmp_path, capsys):
    ck = tmp_path / 'ck.pt'
    save_checkpoint(ck, _trained_like_tiny('template_first'))
    out = tmp_path / 'out' / 'model.onnx'
    assert export.main(['--checkpoint', str(ck), '--output', str(out)]) == 0
    assert 'parity ok' in capsys.readouterr().out
    assert out.is_file() and (tmp_path / 'out' / 'model.template.onnx').is_file()
