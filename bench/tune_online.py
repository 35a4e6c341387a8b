# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

r"""Grid-search online tracker settings (TrackerConfig / KalmanConfig) for one checkpoint.

Tune on a validation split drawn from the *training* distribution, never on the held-out
benchmark you report:

    python -m vil_tracker_ros.data.synthetic_io --out runs/val_synth --format lasot \
        --split train --seed 7 --num 12 --length 100
    python bench/tune_online.py --root runs/val_synth \
        --grid tracker.lost_confidence=0.0,0.15,0.25 --grid tracker.hann_weight=0.3,0.49

Every combination runs OPE over the whole split with one shared backend (the network does
not depend on these settings) and prints one JSON line; the best one by success AUC is
printed last.
"""

import argparse
import dataclasses
import itertools
import json
import sys
import time
from typing import Dict, List, Sequence, Tuple

from vil_tracker_ros.config import BackendConfig, from_dict, KalmanConfig, to_dict
from vil_tracker_ros.config import TrackerConfig
from vil_tracker_ros.core.backend import build_backend
from vil_tracker_ros.core.tracker import SingleObjectTracker
from vil_tracker_ros.data.datasets import load_dataset
from vil_tracker_ros.eval import metrics
from vil_tracker_ros.eval.run import run_sequence
from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, resolve_checkpoint

SECTIONS = {'tracker': TrackerConfig, 'kalman': KalmanConfig}


def parse_grid(items: Sequence[str]) -> List[Tuple[str, List[str]]]:
    """``section.key=v1,v2`` (JSON values) -> [(``section.key``, [v1, v2])]; unknown keys fail."""
    grid = []
    for item in items:
        key, sep, values = item.partition('=')
        section, _, field = key.partition('.')
        if not sep or section not in SECTIONS or field not in {
                f.name for f in dataclasses.fields(SECTIONS[section])}:
            raise SystemExit(f'--grid expects tracker.KEY=V1,V2 or kalman.KEY=V1,V2 naming a '
                             f'field of TrackerConfig / KalmanConfig, got {item!r}')
        try:
            grid.append((key, [json.loads(v) for v in values.split(',')]))
        except json.JSONDecodeError as err:
            raise SystemExit(f'--grid {key}: values must be JSON numbers or booleans ({err})')
    return grid


def configs(grid: List[Tuple[str, List[str]]]):
    """Yield (overrides, TrackerConfig, KalmanConfig) for every combination."""
    for combo in itertools.product(*[values for _, values in grid]):
        overrides = dict(zip([key for key, _ in grid], combo))
        sections: Dict[str, dict] = {name: to_dict(cls()) for name, cls in SECTIONS.items()}
        for key, value in overrides.items():
            section, field = key.split('.', 1)
            sections[section][field] = value
        yield (overrides, from_dict(TrackerConfig, sections['tracker'], 'tracker.'),
               from_dict(KalmanConfig, sections['kalman'], 'kalman.'))


def main(argv=None) -> int:
    """Run the grid; one JSON line per combination, then the best."""
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--root', required=True, help='dataset root (validation split)')
    p.add_argument('--dataset', default='lasot')
    p.add_argument('--checkpoint', default=DEFAULT_CHECKPOINT)
    p.add_argument('--backend', default='onnxruntime', choices=('torch', 'onnxruntime'))
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--frame-rate', type=float, default=30.0)
    p.add_argument('--grid', action='append', default=[], metavar='SECTION.KEY=V1,V2,...')
    args = p.parse_args(argv)
    sequences = load_dataset(args.dataset, args.root)
    backend = build_backend(BackendConfig(checkpoint=resolve_checkpoint(args.checkpoint),
                                          device='cpu', backend=args.backend,
                                          threads=args.threads))
    best = None
    for overrides, tracker_cfg, kalman_cfg in configs(parse_grid(args.grid)):
        t0 = time.monotonic()
        tracker = SingleObjectTracker(backend, tracker_cfg, kalman_cfg)
        scores = []
        for seq in sequences:
            boxes, _ = run_sequence(seq, tracker, args.frame_rate)
            scores.append(metrics.score_sequence(seq.name, boxes, seq.gt, seq.visible))
        summary = metrics.summarize(scores)
        line = {**overrides, 'success_auc': round(summary.success_auc, 4),
                'precision_20': round(summary.precision_20, 4),
                'seconds': round(time.monotonic() - t0, 1)}
        print(json.dumps(line), flush=True)
        if best is None or line['success_auc'] > best['success_auc']:
            best = line
    print('best:', json.dumps(best))
    return 0


if __name__ == '__main__':
    sys.exit(main())
