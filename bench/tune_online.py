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
printed last. ``--root`` may repeat: the line then gives each split's AUC and the AUC
pooled over all their sequences.

One deterministic pass is noisy: a tiny change can flip a sequence between holding and
losing its target, and such flips move a 20-30 sequence split by 0.02-0.03
(weights/README.md, session 9). ``--repeats N --jitter PX`` runs every sequence N times,
the first box shifted by a seeded random offset of up to PX pixels in x and y from the
second run on (the first run is plain OPE), and reports the mean over the runs.
"""

import argparse
import dataclasses
import itertools
import json
import sys
import time
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from vil_tracker_ros.config import BackendConfig, KalmanConfig, TrackerConfig
from vil_tracker_ros.config.tracker import online_configs
from vil_tracker_ros.core.backend import build_backend
from vil_tracker_ros.core.tracker import SingleObjectTracker
from vil_tracker_ros.data.datasets import load_dataset
from vil_tracker_ros.eval import metrics
from vil_tracker_ros.eval.run import run_sequence
from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, default_precision, resolve_checkpoint

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
        sections: Dict[str, dict] = {}
        for key, value in overrides.items():
            section, field = key.split('.', 1)
            sections.setdefault(section, {})[field] = value
        yield (overrides, *online_configs(sections))


class _ShiftedStart:
    """A sequence whose first box (the one the tracker starts from) is shifted."""

    def __init__(self, seq: Any, shift: np.ndarray) -> None:
        self.seq = seq
        self.shift = shift          # (dx, dy) px

    def __len__(self) -> int:
        return len(self.seq)

    def frame(self, index: int) -> np.ndarray:
        return self.seq.frame(index)

    def init_box(self) -> np.ndarray:
        box = self.seq.init_box()
        box[:2] += self.shift
        return box


def score_split(sequences: Sequence[Any], tracker: SingleObjectTracker, frame_rate: float,
                repeat: int, jitter: float) -> List[metrics.SequenceScore]:
    """OPE over one split; from ``repeat`` 1 on, each first box is shifted (seeded)."""
    scores = []
    for index, seq in enumerate(sequences):
        run = seq
        if repeat > 0 and jitter > 0.0:
            rng = np.random.default_rng([repeat, index])
            run = _ShiftedStart(seq, rng.uniform(-jitter, jitter, size=2))
        boxes, _ = run_sequence(run, tracker, frame_rate)
        boxes[0] = seq.init_box()           # frame 1 is scored against the drawn box
        scores.append(metrics.score_sequence(seq.name, boxes, seq.gt, seq.visible))
    return scores


def main(argv=None) -> int:
    """Run the grid; one JSON line per combination, then the best."""
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--root', required=True, action='append',
                   help='dataset root (validation split); repeat to pool several')
    p.add_argument('--dataset', default='lasot')
    p.add_argument('--checkpoint', default=DEFAULT_CHECKPOINT)
    p.add_argument('--backend', default='onnxruntime', choices=('torch', 'onnxruntime'))
    p.add_argument('--precision', default=None, choices=('fp32', 'int8'),
                   help="vil: default: the node's (int8 for onnxruntime, else fp32)")
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--frame-rate', type=float, default=30.0)
    p.add_argument('--grid', action='append', default=[], metavar='SECTION.KEY=V1,V2,...')
    p.add_argument('--repeats', type=int, default=1, help='runs per sequence (mean reported)')
    p.add_argument('--jitter', type=float, default=0.0,
                   help='px: shift of the first box in runs 2.. (uniform in +-jitter, x and y)')
    args = p.parse_args(argv)
    if args.repeats < 1 or args.jitter < 0.0 or (args.repeats > 1 and args.jitter == 0.0):
        p.error('--repeats must be >= 1, and > 1 only with a --jitter > 0 (runs would repeat)')
    splits = {root: load_dataset(args.dataset, root) for root in args.root}
    backend = build_backend(BackendConfig(checkpoint=resolve_checkpoint(args.checkpoint),
                                          device='cpu', backend=args.backend,
                                          precision=args.precision or default_precision(
                                              args.backend),
                                          threads=args.threads))
    best = None
    for overrides, tracker_cfg, kalman_cfg in configs(parse_grid(args.grid)):
        t0 = time.monotonic()
        tracker = SingleObjectTracker(backend, tracker_cfg, kalman_cfg)
        pooled, precision, per_root = [], [], {}
        for repeat in range(args.repeats):
            everything = []
            for root, sequences in splits.items():
                scores = score_split(sequences, tracker, args.frame_rate, repeat, args.jitter)
                per_root.setdefault(root, []).append(metrics.summarize(scores).success_auc)
                everything += scores
            summary = metrics.summarize(everything)
            pooled.append(summary.success_auc)
            precision.append(summary.precision_20)
        line = {**overrides, 'success_auc': round(float(np.mean(pooled)), 4),
                'precision_20': round(float(np.mean(precision)), 4)}
        if len(splits) > 1:
            line['per_root'] = {root: round(float(np.mean(v)), 4) for root, v in per_root.items()}
        if args.repeats > 1:
            line['success_auc_per_run'] = [round(v, 4) for v in pooled]
        line['seconds'] = round(time.monotonic() - t0, 1)
        print(json.dumps(line), flush=True)
        if best is None or line['success_auc'] > best['success_auc']:
            best = line
    print('best:', json.dumps(best))
    return 0


if __name__ == '__main__':
    sys.exit(main())
