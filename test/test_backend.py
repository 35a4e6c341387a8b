# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Inference backends on the tiny random-weight model (CPU)."""

import numpy as np
import pytest
import torch

from vil_tracker_ros.config import BackendConfig, KalmanConfig, TrackerConfig
from vil_tracker_ros.core.backend import (BackendError, build_backend, OnnxRuntimeBackend,
                                          resolve_torch_device, TorchBackend, TrackingBackend)
from vil_tracker_ros.core.preprocess import normalize
from vil_tracker_ros.core.side_thread import usable_cores
from vil_tracker_ros.core.tracker import SingleObjectTracker

model_mod = pytest.importorskip('vil_tracker_ros.model',
                                reason='model package (issue #3) not available')


@pytest.fixture(scope='module')
def tiny_model():
    torch.manual_seed(0)
    model = model_mod.build_model(model_mod.get_config('vil_tiny')).eval()
    model.set_film_enabled(True)   # exercise the temporal-context path
    # FiLM is the identity at init; give it weights so the context changes the output.
    with torch.no_grad():
        for gen in model.film.generators:
            gen.fc2.weight.normal_(0.0, 0.2)
    return model


@pytest.fixture(scope='module')
def crops(tiny_model):
    rng = np.random.default_rng(0)
    cfg = tiny_model.cfg
    t = rng.integers(0, 256, (cfg.template_size, cfg.template_size, 3), dtype=np.uint8)
    s = rng.integers(0, 256, (cfg.search_size, cfg.search_size, 3), dtype=np.uint8)
    return t, s


@pytest.fixture(scope='module')
def exported(tiny_model, tmp_path_factory):
    """Checkpoint plus its ONNX export side by side (ck.pt, ck.onnx, ck.template.onnx)."""
    pytest.importorskip('onnxruntime', reason='onnxruntime not installed')
    from vil_tracker_ros.model.export import export_onnx
    root = tmp_path_factory.mktemp('backend')
    ckpt = root / 'ck.pt'
    model_mod.save_checkpoint(ckpt, tiny_model)
    export_onnx(tiny_model, root / 'ck.onnx')
    return ckpt


def test_device_resolution():
    assert resolve_torch_device('cpu').type == 'cpu'
    assert resolve_torch_device('auto').type == ('cuda' if torch.cuda.is_available() else 'cpu')
    if torch.cuda.is_available():
        with pytest.raises(BackendError, match='CUDA device'):
            resolve_torch_device(f'cuda:{torch.cuda.device_count()}')
    else:
        for dev in ('cuda', 'cuda:0'):
            with pytest.raises(BackendError, match='CUDA is not available'):
                resolve_torch_device(dev)
    with pytest.raises(BackendError, match='unknown device'):
        resolve_torch_device('tpu')


def test_torch_backend_matches_the_model(tiny_model, crops):
    be = TorchBackend(tiny_model, device='cpu')
    assert isinstance(be, TrackingBackend)
    assert (be.template_size, be.search_size) == (tiny_model.cfg.template_size,
                                                  tiny_model.cfg.search_size)
    t, s = crops
    state = be.encode_template(t)
    out0 = be.track(state, s)
    out1 = be.track(state, s, out0.temporal_ctx)
    with torch.no_grad():
        ref0 = tiny_model.track(tiny_model.encode_template(normalize(t)), normalize(s))
        ref1 = tiny_model.track(tiny_model.encode_template(normalize(t)), normalize(s),
                                ref0.temporal_ctx)
    hf = tiny_model.cfg.search_size // tiny_model.cfg.patch_size
    assert out0.score_map.shape == (hf, hf) and out0.size_map.shape == (2, hf, hf)
    assert out0.offset_map.shape == (2, hf, hf) and out0.log_var.shape == (4,)
    np.testing.assert_allclose(out0.box, ref0.boxes[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(out1.box, ref1.boxes[0].numpy(), atol=1e-6)
    assert out1.score == pytest.approx(float(ref1.scores[0]), abs=1e-6)
    with pytest.raises(ValueError, match='search crop'):
        be.track(state, s[:-1])
    with pytest.raises(ValueError, match='template crop'):
        be.encode_template(t.astype(np.float32))


def test_torch_backend_precision_and_threads(tiny_model, crops):
    with pytest.raises(BackendError, match='fp16 needs a CUDA'):
        TorchBackend(tiny_model, device='cpu', precision='fp16')
    with pytest.raises(BackendError, match='precision'):
        TorchBackend(tiny_model, device='cpu', precision='int8')
    before = torch.get_num_threads()
    try:
        be = TorchBackend(tiny_model, device='cpu', precision='bf16', threads=1)
        assert torch.get_num_threads() == 1
        t, s = crops
        out = be.track(be.encode_template(t), s)
        ref = TorchBackend(tiny_model, device='cpu').track(
            TorchBackend(tiny_model, device='cpu').encode_template(t), s)
        assert out.score_map.dtype == np.float32
        assert np.all(np.isfinite(out.score_map))
        # bf16 keeps ~3 significant digits: close to fp32, not equal.
        np.testing.assert_allclose(out.score_map, ref.score_map, atol=0.05)
    finally:
        torch.set_num_threads(before)


def test_build_backend_errors(tmp_path):
    with pytest.raises(BackendError, match='checkpoint is empty'):
        build_backend(BackendConfig())
    with pytest.raises(BackendError, match='does not exist'):
        build_backend(BackendConfig(checkpoint=str(tmp_path / 'nope.pt'), device='cpu'))
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(BackendError, match='bad.pt'):
        build_backend(BackendConfig(checkpoint=str(bad), device='cpu'))
    with pytest.raises(BackendError, match='x.pt: checkpoint does not exist'):
        build_backend(BackendConfig(checkpoint=str(tmp_path / 'x.pt'), backend='onnxruntime'))
    with pytest.raises(BackendError, match='ONNX file does not exist'):
        build_backend(BackendConfig(checkpoint=str(tmp_path / 'x.onnx'), backend='onnxruntime'))


def test_build_torch_backend_from_checkpoint(exported, crops, tiny_model):
    be = build_backend(BackendConfig(checkpoint=str(exported), device='cpu'))
    assert isinstance(be, TorchBackend) and be.device == 'cpu'
    t, s = crops
    ref = TorchBackend(tiny_model, device='cpu')
    np.testing.assert_allclose(be.track(be.encode_template(t), s).score_map,
                               ref.track(ref.encode_template(t), s).score_map, atol=1e-6)


def test_onnxruntime_backend_matches_torch(exported, crops, tiny_model):
    be = build_backend(BackendConfig(checkpoint=str(exported), backend='onnxruntime',
                                     device='cpu', threads=1))
    assert isinstance(be, OnnxRuntimeBackend) and isinstance(be, TrackingBackend)
    assert (be.template_size, be.search_size) == (tiny_model.cfg.template_size,
                                                  tiny_model.cfg.search_size)
    ref = TorchBackend(tiny_model, device='cpu')
    t, s = crops
    st_o, st_t = be.encode_template(t), ref.encode_template(t)
    o0, r0 = be.track(st_o, s), ref.track(st_t, s)
    o1, r1 = be.track(st_o, s, o0.temporal_ctx), ref.track(st_t, s, r0.temporal_ctx)
    for o, r in ((o0, r0), (o1, r1)):
        for name in ('box', 'score_map', 'size_map', 'offset_map', 'log_var'):
            np.testing.assert_allclose(getattr(o, name), getattr(r, name), atol=1e-3,
                                       err_msg=name)
    # The context actually matters (FiLM enabled), so carrying it is tested, not a no-op.
    assert np.abs(o1.score_map - o0.score_map).max() > 0 or \
        np.abs(o1.box - o0.box).max() > 0


def test_onnxruntime_template_states_keep_their_own_bound_inputs(exported, crops):
    # each state binds its tensors once; a tracker may switch between two of them
    be = build_backend(BackendConfig(checkpoint=str(exported), backend='onnxruntime',
                                     device='cpu', threads=1))
    t, s = crops
    first, second = be.encode_template(t), be.encode_template(255 - t)
    a = be.track(first, s)
    b = be.track(second, s)
    assert np.abs(a.score_map - b.score_map).max() > 0
    for name in ('box', 'score_map', 'size_map', 'offset_map', 'log_var'):
        np.testing.assert_array_equal(getattr(be.track(first, s), name), getattr(a, name))
        np.testing.assert_array_equal(getattr(be.track(second, s), name), getattr(b, name))
    with pytest.raises(BackendError, match='not one this backend encoded'):
        be.track(list(first.tensors.values()), s)


def test_onnxruntime_backend_exports_a_bare_checkpoint_once_into_the_cache(
        tiny_model, crops, tmp_path, monkeypatch):
    pytest.importorskip('onnxruntime', reason='onnxruntime not installed')
    monkeypatch.setenv('VIL_TRACKER_CACHE', str(tmp_path / 'cache'))
    ckpt = tmp_path / 'bare.pt'                   # no .onnx beside it
    model_mod.save_checkpoint(ckpt, tiny_model)
    cfg = BackendConfig(checkpoint=str(ckpt), backend='onnxruntime', device='cpu', threads=1)
    be = build_backend(cfg)
    graphs = sorted(p.name for p in (tmp_path / 'cache' / 'onnx').iterdir())
    assert len(graphs) == 2 and graphs[0].startswith('bare-')
    assert not (tmp_path / 'bare.onnx').exists()
    mtimes = [p.stat().st_mtime_ns for p in (tmp_path / 'cache' / 'onnx').iterdir()]
    t, s = crops
    ref = TorchBackend(tiny_model, device='cpu')
    np.testing.assert_allclose(be.track(be.encode_template(t), s).box,
                               ref.track(ref.encode_template(t), s).box, atol=1e-3)
    build_backend(cfg)                            # cached: not exported again
    assert [p.stat().st_mtime_ns for p in (tmp_path / 'cache' / 'onnx').iterdir()] == mtimes
    with torch.no_grad():                         # new weights, new graph
        next(tiny_model.parameters()).add_(1.0)
    try:
        model_mod.save_checkpoint(ckpt, tiny_model)
        build_backend(cfg)
        assert len(list((tmp_path / 'cache' / 'onnx').iterdir())) == 4
    finally:
        with torch.no_grad():
            next(tiny_model.parameters()).sub_(1.0)


def test_onnxruntime_backend_config_errors(exported):
    onnx_path = str(exported.with_suffix('.onnx'))
    with pytest.raises(BackendError, match='fp32'):
        OnnxRuntimeBackend(onnx_path, device='cpu', precision='fp16')
    import onnxruntime as ort
    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        with pytest.raises(BackendError, match='no CUDA provider'):
            OnnxRuntimeBackend(onnx_path, device='cuda')


def test_backends_report_the_cpu_threads_their_network_takes(exported, tiny_model):
    # the tracker's side thread runs only where the network leaves a core free
    cores = usable_cores()
    for threads, busy in ((1, 1), (0, cores)):
        be = build_backend(BackendConfig(checkpoint=str(exported), backend='onnxruntime',
                                         device='cpu', threads=threads))
        assert be.cpu_threads == busy
        trk = SingleObjectTracker(be, TrackerConfig(), KalmanConfig())
        assert trk.side.enabled == (busy < cores)
    before = torch.get_num_threads()
    try:
        assert TorchBackend(tiny_model, device='cpu', threads=1).cpu_threads == 1
    finally:
        torch.set_num_threads(before)


def test_tracker_runs_on_both_backends_alike(exported):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    box = (40.0, 30.0, 20.0, 16.0)
    runs = []
    for kind in ('torch', 'onnxruntime'):
        be = build_backend(BackendConfig(checkpoint=str(exported), backend=kind,
                                         device='cpu'))
        trk = SingleObjectTracker(be, TrackerConfig(template_update_interval=2,
                                                    template_update_confidence=0.0),
                                  KalmanConfig())
        trk.initialize(img, box, 0.0)
        runs.append([trk.track(img, k / 30) for k in range(1, 4)])
    for a, b in zip(*runs):
        assert a.status == b.status and a.accepted == b.accepted
        assert a.confidence == pytest.approx(b.confidence, abs=1e-3)
        np.testing.assert_allclose(a.box, b.box, atol=0.05)


def test_int8_precision_runs_the_quantised_twin_from_the_cache(exported, crops, tmp_path,
                                                               monkeypatch):
    onnx = pytest.importorskip('onnx', reason='onnx not installed')
    monkeypatch.setenv('VIL_TRACKER_CACHE', str(tmp_path / 'cache'))
    cfg = BackendConfig(checkpoint=str(exported), backend='onnxruntime', device='cpu',
                        threads=1, precision='int8')
    be = build_backend(cfg)
    assert be.precision == 'int8'
    twins = sorted(p.name for p in (tmp_path / 'cache' / 'onnx').iterdir())
    assert len(twins) == 2 and all('.int8-per-channel.' in name for name in twins)
    graph = onnx.load(str(tmp_path / 'cache' / 'onnx' / twins[0]))
    ops = {node.op_type for node in graph.graph.node}
    assert 'MatMulInteger' in ops and 'ConvInteger' not in ops
    fp32 = build_backend(BackendConfig(checkpoint=str(exported), backend='onnxruntime',
                                       device='cpu', threads=1))
    t, s = crops
    got, ref = be.track(be.encode_template(t), s), fp32.track(fp32.encode_template(t), s)
    assert not np.array_equal(got.score_map, ref.score_map)     # it is another graph
    np.testing.assert_allclose(got.box, ref.box, atol=0.05)
    assert got.score == pytest.approx(ref.score, abs=0.05)
    mtimes = [p.stat().st_mtime_ns for p in (tmp_path / 'cache' / 'onnx').iterdir()]
    build_backend(cfg)                            # cached: not quantised again
    assert [p.stat().st_mtime_ns for p in (tmp_path / 'cache' / 'onnx').iterdir()] == mtimes


def test_int8_precision_errors(exported, tmp_path):
    with pytest.raises(BackendError, match='ONNX file does not exist'):
        build_backend(BackendConfig(checkpoint=str(tmp_path / 'x.onnx'), backend='onnxruntime',
                                    precision='int8'))
    from vil_tracker_ros.config import ConfigError
    with pytest.raises(ConfigError, match='int8 needs backend onnxruntime'):
        BackendConfig(checkpoint=str(exported), precision='int8').validate()
    with pytest.raises(ConfigError, match='int8 is for CPU inference'):
        BackendConfig(checkpoint=str(exported), backend='onnxruntime', device='cuda',
                      precision='int8').validate()
    with pytest.raises(BackendError, match='int8 is for CPU inference'):
        OnnxRuntimeBackend(str(exported.with_suffix('.onnx')), device='cuda:0',
                           precision='int8')


def test_the_shipped_precision_is_int8_only_for_onnxruntime_on_the_cpu():
    from vil_tracker_ros.shipped import default_precision
    assert default_precision('onnxruntime', 'cpu') == 'int8'
    assert default_precision('onnxruntime', 'cuda:0') == 'fp32'
    assert default_precision('torch', 'cpu') == 'fp32'
    import onnxruntime as ort
    gpu = 'CUDAExecutionProvider' in ort.get_available_providers()
    assert default_precision('onnxruntime', 'auto') == ('fp32' if gpu else 'int8')
