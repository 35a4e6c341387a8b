# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``vil-tracker-model-report``: parameters, fp16 size and FLOPs of every model variant.

FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode`` on one
``forward(template, search, temporal_ctx)`` at template 128 / search 256 (batch 1, FiLM
on). FlopCounterMode counts 2 FLOPs per multiply-accumulate and only matmul/conv-like ops;
tracking papers' "GFLOPs" are MACs, so both ``gflops`` and ``gmacs`` (= gflops / 2) are
given. fp16_mb is parameters x 2 bytes in MiB (the seed's convention: 36.33M -> 69.3).

``--json`` prints one object:
``{variant: {"params_total", "params": {component: n}, "gflops", "gmacs", "fp16_mb"}}``.
"""

import argparse
import json
import sys
from typing import Any, Dict, Optional, Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from vil_tracker_ros.model.registry import get_config, list_variants
from vil_tracker_ros.model.tracker_net import build_model, COMPONENTS, ViLTracker

FLOP_SIZES = (128, 256)  # template, search


def count_params(model: ViLTracker) -> Dict[str, int]:
    return {name: sum(p.numel() for mod in mods for p in mod.parameters())
            for name, mods in model.component_modules().items()}


def count_flops(model: ViLTracker, template_size: int = FLOP_SIZES[0],
                search_size: int = FLOP_SIZES[1]) -> int:
    """Count FLOPs (FlopCounterMode convention) of one forward with temporal context."""
    model = model.eval()
    template = torch.zeros(1, 3, template_size, template_size)
    search = torch.zeros(1, 3, search_size, search_size)
    ctx = torch.zeros(1, model.cfg.embed_dim)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(template, search, ctx)
    return int(counter.get_total_flops())


def variant_report(name: str) -> Dict[str, Any]:
    torch.manual_seed(0)
    model = build_model(get_config(name)).eval()
    model.set_film_enabled(True)  # count the full per-frame cost
    params = count_params(model)
    total = sum(p.numel() for p in model.parameters())
    assert total == sum(params.values()), 'components must cover every parameter'
    flops = count_flops(model)
    return {'params_total': total, 'params': params,
            'gflops': round(flops / 1e9, 4), 'gmacs': round(flops / 2e9, 4),
            'fp16_mb': round(total * 2 / 2 ** 20, 2)}


def track_flops(name: str) -> int:
    """Count FLOPs of one per-frame ``track`` step at the variant's own crop sizes."""
    torch.manual_seed(0)
    model = build_model(get_config(name)).eval()
    model.set_film_enabled(True)
    cfg = model.cfg
    template = torch.zeros(1, 3, cfg.template_size, cfg.template_size)
    search = torch.zeros(1, 3, cfg.search_size, cfg.search_size)
    ctx = torch.zeros(1, cfg.embed_dim)
    counter = FlopCounterMode(display=False)
    with torch.no_grad():
        tstate = model.encode_template(template)
        with counter:
            model.track(tstate, search, ctx)
    return int(counter.get_total_flops())


def format_text(reports: Dict[str, Dict[str, Any]]) -> str:
    lines = []
    for name, rep in reports.items():
        cfg = get_config(name)
        step = track_flops(name)
        lines.append(f'{name}: d={cfg.embed_dim} depth={cfg.depth} '
                     f'crops={cfg.template_size}/{cfg.search_size} scan={cfg.scan}')
        for comp in COMPONENTS:
            lines.append(f'  {comp:<18} {rep["params"][comp]:>12,d}  '
                         f'({rep["params"][comp] / 1e6:.3f}M)')
        lines.append(f'  {"total":<18} {rep["params_total"]:>12,d}  '
                     f'({rep["params_total"] / 1e6:.3f}M)')
        lines.append(f'  fp16 size {rep["fp16_mb"]:.2f} MiB; at {FLOP_SIZES[0]}/{FLOP_SIZES[1]}: '
                     f'{rep["gflops"]:.3f} GFLOPs (FlopCounterMode) = {rep["gmacs"]:.3f} GMACs')
        lines.append(f'  per-frame track step at its crops {cfg.template_size}/{cfg.search_size}: '
                     f'{step / 1e9:.3f} GFLOPs = {step / 2e9:.3f} GMACs')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog='vil-tracker-model-report',
        description='Per-component parameters, fp16 size and FLOPs of the model variants.')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    parser.add_argument('--variants', nargs='+', choices=list_variants(),
                        default=list_variants(), help='variants to report (default: all)')
    args = parser.parse_args(argv)
    reports = {name: variant_report(name) for name in args.variants}
    print(json.dumps(reports, indent=2) if args.json else format_text(reports))
    return 0


if __name__ == '__main__':
    sys.exit(main())
