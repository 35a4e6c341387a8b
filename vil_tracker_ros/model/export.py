# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ONNX export of the per-frame ``track`` graph, with an onnxruntime parity check.

Two graphs are written: ``<out>.onnx`` (track: template state + search crop + temporal
context -> outputs; the context input is named ``ctx_in``) and ``<out>.template.onnx``
(template crop -> template state).
``OnnxTracker`` runs them with the same encode_template/track API as the torch model.

The exported graph has no ``None``: a missing temporal context is a zero ``temporal_ctx``
with ``ctx_weight`` = 0, which turns FiLM and the TMoE context term off exactly.

CLI: ``vil-tracker-export --checkpoint ck.pt --output out.onnx`` (or ``--variant``).
"""

import argparse
import json
from pathlib import Path
import sys
from typing import Dict, List, Optional, Sequence, Tuple
import warnings

import numpy as np
import torch
from torch import nn

from vil_tracker_ros.config import from_dict, ModelConfig, to_dict
from vil_tracker_ros.model.checkpoint import load_checkpoint
from vil_tracker_ros.model.mlstm import MLSTMState
from vil_tracker_ros.model.registry import CPU_DEFAULT_VARIANT, get_config, list_variants
from vil_tracker_ros.model.tracker_net import (build_model, OUTPUT_NAMES, TemplateState,
                                               TrackerOutput, ViLTracker)

OPSET = 17
PARITY_TOL = 1e-3
# Bumped whenever the exported graph's form changes for the same weights, so graphs cached
# by an older package are exported again (core/onnx_cache.py). 2: 2-D convs in the mLSTM.
EXPORT_REVISION = 2
_STATE_PARTS = ('conv', 'c', 'n', 'm')


def template_state_names(model: ViLTracker) -> List[str]:
    """Flat tensor names of a TemplateState for this model's scan mode."""
    if model.cfg.scan == 'full_flip':
        return ['template_tokens']
    names = [f'block{i}_{part}' for i in range(len(model.blocks)) for part in _STATE_PARTS]
    return names + (['template_features'] if model.cfg.head_correlation else [])


def flatten_state(model: ViLTracker, tstate: TemplateState) -> List[torch.Tensor]:
    if model.cfg.scan == 'full_flip':
        return [tstate.tokens]
    flat = [t for state in tstate.block_states for t in state]
    return flat + ([tstate.features] if model.cfg.head_correlation else [])


def unflatten_state(model: ViLTracker, flat: Sequence[torch.Tensor]) -> TemplateState:
    if model.cfg.scan == 'full_flip':
        return TemplateState(tokens=flat[0])
    features = None
    if model.cfg.head_correlation:
        flat, features = flat[:-1], flat[-1]
    states = [MLSTMState(*flat[i:i + 4]) for i in range(0, len(flat), 4)]
    # tokens are only used for the batch size in template_first mode
    return TemplateState(tokens=flat[0].new_zeros(flat[0].shape[0], 0, 0),
                         block_states=states, features=features)


class _TemplateGraph(nn.Module):
    def __init__(self, model: ViLTracker) -> None:
        super().__init__()
        self.model = model

    def forward(self, template: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(flatten_state(self.model, self.model.encode_template(template)))


class _TrackGraph(nn.Module):
    def __init__(self, model: ViLTracker) -> None:
        super().__init__()
        self.model = model

    def forward(self, search: torch.Tensor, temporal_ctx: torch.Tensor,
                ctx_weight: torch.Tensor, *state: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        tstate = unflatten_state(self.model, state)
        return self.model.track(tstate, search, temporal_ctx, ctx_weight).as_tuple()


def template_path_for(track_path: Path) -> Path:
    return track_path.with_name(track_path.stem + '.template.onnx')


def _export(module: nn.Module, args: Tuple[torch.Tensor, ...], path: Path,
            input_names: List[str], output_names: List[str], meta: Dict[str, str]) -> None:
    import onnx
    # the exporter restores the wrapper's train flag recursively afterwards: keep it eval
    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(module, args, str(path), input_names=input_names,
                          output_names=output_names, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    proto = onnx.load(str(path))
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


def export_onnx(model: ViLTracker, output: Path) -> Tuple[Path, Path]:
    """Write the track and template graphs (batch 1, the config's crop sizes)."""
    model = model.eval()
    cfg = model.cfg
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    meta = {'vil_tracker_ros.model_config': json.dumps(to_dict(cfg)),
            'vil_tracker_ros.film_enabled': str(model.film_enabled)}
    template = torch.zeros(1, 3, cfg.template_size, cfg.template_size)
    search = torch.zeros(1, 3, cfg.search_size, cfg.search_size)
    names = template_state_names(model)
    with torch.no_grad():
        state = flatten_state(model, model.encode_template(template))
        tpath = template_path_for(output)
        _export(_TemplateGraph(model), (template,), tpath, ['template'], names, meta)
        ctx = torch.zeros(1, cfg.embed_dim)
        weight = torch.zeros(1, 1)
        _export(_TrackGraph(model), (search, ctx, weight, *state), output,
                ['search', 'ctx_in', 'ctx_weight'] + names, list(OUTPUT_NAMES), meta)
    return output, tpath


class OnnxTracker:
    """onnxruntime twin of ViLTracker.encode_template / track (numpy or torch inputs)."""

    def __init__(self, track_path: Path, threads: int = 0) -> None:
        import onnxruntime as ort
        track_path = Path(track_path)
        opts = ort.SessionOptions()
        if threads > 0:
            opts.intra_op_num_threads = threads
        providers = ['CPUExecutionProvider']
        self.track_session = ort.InferenceSession(str(track_path), opts, providers=providers)
        self.template_session = ort.InferenceSession(str(template_path_for(track_path)), opts,
                                                     providers=providers)
        meta = self.track_session.get_modelmeta().custom_metadata_map
        self.cfg = from_dict(ModelConfig, json.loads(meta['vil_tracker_ros.model_config']))
        self.state_names = [i.name for i in self.template_session.get_outputs()]
        self.input_names = {i.name for i in self.track_session.get_inputs()}

    def encode_template(self, template) -> List[np.ndarray]:
        template = np.ascontiguousarray(_np(template), dtype=np.float32)
        return self.template_session.run(None, {'template': template})

    def track(self, tstate: List[np.ndarray], search,
              temporal_ctx=None) -> TrackerOutput:
        search = np.ascontiguousarray(_np(search), dtype=np.float32)
        batch = search.shape[0]
        if temporal_ctx is None:
            ctx = np.zeros((batch, self.cfg.embed_dim), np.float32)
            weight = np.zeros((batch, 1), np.float32)
        else:
            ctx = np.ascontiguousarray(_np(temporal_ctx), dtype=np.float32)
            weight = np.ones((batch, 1), np.float32)
        feeds = {'search': search, 'ctx_in': ctx, 'ctx_weight': weight}
        feeds.update(zip(self.state_names, tstate))
        # the exporter drops inputs a graph does not use (e.g. ctx when FiLM is off)
        feeds = {k: v for k, v in feeds.items() if k in self.input_names}
        outs = self.track_session.run(list(OUTPUT_NAMES), feeds)
        return TrackerOutput(*[torch.from_numpy(o) for o in outs])


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def check_parity(model: ViLTracker, track_path: Path, seed: int = 0,
                 tol: float = PARITY_TOL) -> Dict[str, float]:
    """Max |torch - onnxruntime| of the decoding maps (``compare_outputs``), both contexts."""
    cfg = model.cfg
    gen = torch.Generator().manual_seed(seed)
    template = torch.randn(1, 3, cfg.template_size, cfg.template_size, generator=gen)
    search = torch.randn(1, 3, cfg.search_size, cfg.search_size, generator=gen)
    runtime = OnnxTracker(track_path)
    with torch.no_grad():
        ref0 = model.track(model.encode_template(template), search)
        ref1 = model.track(model.encode_template(template), search, ref0.temporal_ctx)
    state = runtime.encode_template(template)
    got0 = runtime.track(state, search)
    got1 = runtime.track(state, search, ref0.temporal_ctx)
    return compare_outputs((ref0, ref1), (got0, got1), tol, 'onnxruntime parity failed')


# What compare_outputs compares: the score map's peak and every map a box is decoded from.
DECODED_FROM = ('scores', 'score_map', 'size_map', 'offset_map')


def compare_outputs(refs: Sequence[TrackerOutput], gots: Sequence[TrackerOutput], tol: float,
                    failure: str) -> Dict[str, float]:
    """Max |ref - got| of the maps a box is decoded from and of the peak score.

    Without and with temporal context (in that order). The decoded box itself is not
    compared: where two cells score almost alike (random crops make that likely), a tiny
    difference swaps the peak and moves the box by a whole cell although every map agrees.
    Raises RuntimeError starting with ``failure`` when one exceeds ``tol``.
    """
    diffs = {}
    for tag, ref, got in zip(('no_ctx', 'ctx'), refs, gots):
        for name in DECODED_FROM:
            diffs[f'{tag}_{name}'] = float((getattr(ref, name) - getattr(got, name)).abs().max())
    worst = max(diffs.values())
    if not worst <= tol:
        raise RuntimeError(f'{failure}: max abs diff {worst:.3g} > {tol} ({diffs})')
    return diffs


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog='vil-tracker-export',
        description='Export the per-frame track graph to ONNX and check onnxruntime parity.')
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument('--checkpoint', help='checkpoint written by save_checkpoint')
    src.add_argument('--variant', choices=list_variants(),
                     help=f'random-init variant (e.g. {CPU_DEFAULT_VARIANT}); for testing')
    parser.add_argument('--output', required=True, help='track graph path (.onnx); the '
                        'template graph goes next to it as <stem>.template.onnx')
    parser.add_argument('--no-check', action='store_true', help='skip the parity check')
    args = parser.parse_args(argv)
    if args.checkpoint:
        model, _ = load_checkpoint(args.checkpoint)
    else:
        torch.manual_seed(0)
        model = build_model(get_config(args.variant)).eval()
        model.set_film_enabled(True)  # export the full per-frame cost
    track_path, template_path = export_onnx(model, Path(args.output))
    print(f'wrote {track_path} and {template_path} (opset {OPSET})')
    if not args.no_check:
        try:
            diffs = check_parity(model, track_path)
        except RuntimeError as exc:
            print(f'error: {exc}', file=sys.stderr)
            return 1
        print('onnxruntime parity ok: ' + ', '.join(f'{k}={v:.2e}' for k, v in diffs.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
