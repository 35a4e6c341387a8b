# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

r"""The shipped tracker and OpenCV CSRT on the same sequences, interleaved, in one process.

Issue #10's bar compares success AUC and the tracker step in the same run. This CPU's
speed drifts by up to 40 % over minutes (weights/README.md, session 11), so two
evaluations run one after the other can favour either tracker. Here the two alternate
sequence by sequence (vil first on even sequences, CSRT first on odd ones), with every
sequence's frames decoded into memory first; the step is timed around ``track()`` alone,
as ``vil-tracker-eval`` does:

    python bench/versus_csrt.py --root runs/heldout_std60 --root runs/heldout_small

One Markdown table row per tracker and root: success AUC, SR0.5, SR0.75 and the step's
median (mean) in ms.
"""

import argparse
import dataclasses
import sys
from typing import Any, Dict, List

import numpy as np

from vil_tracker_ros.config import BackendConfig, KalmanConfig, TrackerConfig
from vil_tracker_ros.core.backend import build_backend
from vil_tracker_ros.core.tracker import SingleObjectTracker
from vil_tracker_ros.data.datasets import load_dataset
from vil_tracker_ros.data.sequence import Sequence
from vil_tracker_ros.eval import metrics
from vil_tracker_ros.eval.baselines import OpenCVTracker
from vil_tracker_ros.eval.run import run_sequence
from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, default_precision, DEFAULT_THREADS
from vil_tracker_ros.shipped import resolve_checkpoint


def in_memory(seq: Sequence) -> Sequence:
    """Return ``seq`` with its frames decoded once, so that no tracker's time has I/O."""
    decoded = [seq.frame(i) for i in range(len(seq))]
    return dataclasses.replace(seq, frames=[], loader=decoded.__getitem__)


def compare(sequences: List[Sequence], trackers: Dict[str, Any], frame_rate: float) -> List[str]:
    """Table rows for each tracker on ``sequences``, run alternately."""
    names = list(trackers)
    scores: Dict[str, list] = {name: [] for name in names}
    steps: Dict[str, list] = {name: [] for name in names}
    for index, seq in enumerate(sequences):
        run = in_memory(seq)
        for name in names if index % 2 == 0 else reversed(names):
            boxes, seconds = run_sequence(run, trackers[name], frame_rate)
            scores[name].append(metrics.score_sequence(seq.name, boxes, seq.gt, seq.visible))
            steps[name].append(seconds[1:] * 1e3)
    rows = []
    for name in names:
        summary = metrics.summarize(scores[name])
        ms = np.concatenate(steps[name])
        rows.append(f'| {name} | {summary.success_auc:.3f} | {summary.sr50:.3f} | '
                    f'{summary.sr75:.3f} | {np.median(ms):.1f} ({ms.mean():.1f}) |')
    return rows


def main(argv=None) -> int:
    """Run both trackers on each ``--root`` and print the tables."""
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--root', required=True, action='append', help='dataset root; may repeat')
    p.add_argument('--dataset', default='lasot')
    p.add_argument('--checkpoint', default=DEFAULT_CHECKPOINT)
    p.add_argument('--backend', default='onnxruntime', choices=('torch', 'onnxruntime'))
    p.add_argument('--precision', default=None, choices=('fp32', 'int8'),
                   help="vil: default: the node's (int8 for onnxruntime, else fp32)")
    p.add_argument('--threads', type=int, default=DEFAULT_THREADS,
                   help="CPU threads for vil's network (default: the node's)")
    p.add_argument('--frame-rate', type=float, default=30.0)
    p.add_argument('--limit', type=int, default=0, help='only the first N sequences (0: all)')
    args = p.parse_args(argv)
    backend = build_backend(BackendConfig(checkpoint=resolve_checkpoint(args.checkpoint),
                                          device='cpu', backend=args.backend,
                                          precision=args.precision or default_precision(
                                              args.backend),
                                          threads=args.threads))
    for root in args.root:
        sequences = list(load_dataset(args.dataset, root))
        if args.limit > 0:
            sequences = sequences[:args.limit]
        trackers = {'vil': SingleObjectTracker(backend, TrackerConfig(), KalmanConfig()),
                    'opencv-csrt': OpenCVTracker('csrt')}
        print(f'\n{root} ({len(sequences)} sequences)\n\n'
              '| tracker | success AUC | SR0.5 | SR0.75 | ms/frame median (mean) |\n'
              '|---|---|---|---|---|', flush=True)
        for row in compare(sequences, trackers, args.frame_rate):
            print(row, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
