# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Turn a training checkpoint into a deployable one (no optimiser state, optional fp16).

``python -m vil_tracker_ros.train.export_weights --checkpoint runs/x/last.pt
--out vil_tracker_ros/weights/NAME.pt [--fp16]``

The result loads with ``model.load_checkpoint`` (which rebuilds the model in
fp32 and copies the weights in). ``extra['training']`` keeps a summary: steps,
seconds spent in steps, and the full training configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

import torch

from vil_tracker_ros.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def export_weights(src: str, dst: str, fp16: bool = False) -> dict:
    """Write the weights of training checkpoint ``src`` to ``dst``; return a summary."""
    model, info = load_checkpoint(src, map_location='cpu')
    state = info['extra'].get('train_state', {})
    summary = {
        'source': os.path.basename(src),
        'step': int(state.get('step', 0)),
        'elapsed_s': float(state.get('elapsed', 0.0)),
        'world_size': int(state.get('world_size', 1)),
        'precision': 'fp16' if fp16 else 'fp32',
        'config': state.get('config', {}),
    }
    reference = None
    if fp16:
        torch.manual_seed(0)
        cfg = model.cfg
        probe = (torch.randn(2, 3, cfg.template_size, cfg.template_size),
                 torch.randn(2, 3, cfg.search_size, cfg.search_size))
        with torch.no_grad():
            reference = model(*probe)
        model.half()
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    save_checkpoint(dst, model, extra={'training': summary})
    reloaded, _ = load_checkpoint(dst, map_location='cpu')
    if reference is not None:
        with torch.no_grad():
            out = reloaded(*probe)
        summary['fp16_max_abs_diff_boxes'] = float((out.boxes - reference.boxes).abs().max())
        summary['fp16_max_abs_diff_scores'] = float(
            (out.scores - reference.scores).abs().max())
    summary['bytes'] = os.path.getsize(dst)
    return summary


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--checkpoint', required=True, help='training checkpoint (last.pt)')
    p.add_argument('--out', required=True, help='deployable checkpoint to write')
    p.add_argument('--fp16', action='store_true', help='store the weights as float16')
    args = p.parse_args(argv)
    try:
        summary = export_weights(args.checkpoint, args.out, args.fp16)
    except CheckpointError as exc:
        print(f'export_weights: {exc}', file=sys.stderr)
        return 1
    summary.pop('config')
    print(json.dumps(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
