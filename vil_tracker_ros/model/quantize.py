# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""int8 twin of an exported track graph: onnxruntime's dynamic quantisation.

The per-frame network is compute-bound on a CPU (about 80% of one core's fp32 GEMM rate),
so the only large saving left is cheaper arithmetic. ``quantize_track_graph`` stores the
weights of every MatMul/Gemm layer as int8 with one scale per output channel, and
onnxruntime quantises their inputs per frame (``quantize_dynamic``, after
``quant_pre_process``'s shape inference). On the shipped model this takes about 20% off the
network's step (weights/README.md, session 13). Left in fp32:

* convolutions (patch embedding, heads): onnxruntime's ConvInteger ran slower than fp32;
* the template graph, which runs once per track (copied beside the int8 track graph).

Measured on validation and not done: one scale per weight tensor (small targets lost
0.015 success AUC), and the mLSTM gates and TMoE routers kept in fp32 (lower overall).

``check_agreement`` compares the twin with its fp32 source on one input.
"""

from __future__ import annotations

from pathlib import Path
import shutil
import tempfile
from typing import Dict

import numpy as np

from vil_tracker_ros.model.export import template_path_for

# Names the scheme in a cached twin's file name (core/onnx_cache.py): change it with the
# scheme, so that a cache never serves a twin quantised another way.
SCHEME = 'int8-per-channel'
# An int8 twin's boxes (normalised crop units) and scores may differ this much from fp32.
AGREEMENT_TOL = 0.05


def quantize_track_graph(source: Path, target: Path) -> Path:
    """Write the int8 twin of the fp32 track graph ``source`` to ``target``.

    The fp32 template graph next to ``source`` is copied next to ``target``
    (``<target stem>.template.onnx``). Returns ``target``.
    """
    from onnxruntime.quantization import quantize_dynamic, QuantType
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source, target = Path(source), Path(target)
    template = template_path_for(source)
    for path in (source, template):
        if not path.is_file():
            raise FileNotFoundError(f'{path}: ONNX file does not exist')
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / 'prepared.onnx'
        # shape inference only: onnxruntime's graph optimisations here would fuse layers
        # into forms that quantise differently from the twin measured on validation
        quant_pre_process(str(source), str(prepared), skip_optimization=True)
        quantize_dynamic(str(prepared), str(target), op_types_to_quantize=['MatMul', 'Gemm'],
                         per_channel=True, weight_type=QuantType.QInt8)
    shutil.copyfile(template, template_path_for(target))
    return target


def check_agreement(fp32_path: Path, int8_path: Path, seed: int = 0,
                    tol: float = AGREEMENT_TOL) -> Dict[str, float]:
    """Max |fp32 - int8| of the decoding maps (``compare_outputs``) on a random crop pair.

    Raises RuntimeError above ``tol``: a twin that far off was quantised wrongly.
    """
    from vil_tracker_ros.model.export import compare_outputs, OnnxTracker
    fp32, int8 = OnnxTracker(Path(fp32_path)), OnnxTracker(Path(int8_path))
    cfg = fp32.cfg
    rng = np.random.default_rng(seed)
    template = rng.standard_normal((1, 3, cfg.template_size, cfg.template_size), np.float32)
    search = rng.standard_normal((1, 3, cfg.search_size, cfg.search_size), np.float32)
    ref_state, got_state = fp32.encode_template(template), int8.encode_template(template)
    ref0, got0 = fp32.track(ref_state, search), int8.track(got_state, search)
    ref1 = fp32.track(ref_state, search, ref0.temporal_ctx)
    got1 = int8.track(got_state, search, ref0.temporal_ctx)
    return compare_outputs((ref0, ref1), (got0, got1), tol,
                           'int8 graph disagrees with its fp32 source')
