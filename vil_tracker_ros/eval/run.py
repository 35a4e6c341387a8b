# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``vil-tracker-eval``: run a tracker over a benchmark (OPE), then score it.

Outputs under ``--out``:

* ``results/<seq>.txt``: one ``x,y,w,h`` line per frame (frame 1 = the init box);
* ``times/<seq>_time.txt``: seconds per frame (line 1 = ``initialize``);
* ``per_sequence.csv``, ``summary.json`` and ``success_plot.png``,
  ``precision_plot.png``, ``norm_precision_plot.png``.

Stdout gets exactly one JSON line with ``success_auc``, ``precision_20``,
``norm_precision``, ``ao``, ``sr50``, ``sr75``, ``fps``, ``sequences`` and ``settings``;
progress goes to stderr. ``--score-only`` re-scores existing result files.
``--set tracker.KEY=VALUE`` / ``--set kalman.KEY=VALUE`` (repeatable, values as YAML) run
``vil`` with other online settings than the shipped defaults (``config/tracker.yaml``);
``summary.json`` records them under ``settings``.
FPS is scored frames tracked / seconds spent in ``track()`` (crop, network and
post-processing; image decoding excluded), over all sequences.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import math
import multiprocessing
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence as SequenceT, Tuple

import numpy as np

from vil_tracker_ros.config import ConfigError, KalmanConfig, TrackerConfig
from vil_tracker_ros.config.loading import apply_override
from vil_tracker_ros.config.tracker import online_configs
from vil_tracker_ros.data.datasets import DatasetError, load_dataset, read_boxes
from vil_tracker_ros.data.sequence import Sequence
from vil_tracker_ros.eval import metrics, report
from vil_tracker_ros.eval.baselines import OPENCV_TRACKERS, OpenCVTracker
from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, default_precision, DEFAULT_THREADS
from vil_tracker_ros.shipped import resolve_checkpoint

DATASETS = ('lasot', 'uav123', 'dtb70', 'visdrone', 'got10k', 'otb', 'trackingnet')
TRACKERS = ('vil',) + tuple(f'opencv-{k}' for k in OPENCV_TRACKERS)


class EvalError(RuntimeError):
    """The evaluation cannot proceed; the message says why."""


@dataclasses.dataclass(frozen=True)
class TrackerSpec:
    """Everything needed to build a tracker in any process (picklable)."""

    name: str
    checkpoint: str = ''
    device: str = 'auto'
    precision: str = 'fp32'
    backend: str = 'torch'
    threads: int = 0
    settings: Tuple[str, ...] = ()     # vil: 'tracker.KEY=VALUE' / 'kalman.KEY=VALUE'

    def online_configs(self) -> Tuple[TrackerConfig, KalmanConfig]:
        """Build the vil tracker's settings: the defaults with ``settings`` applied.

        Raises ``ConfigError`` naming an unknown section or key, or a bad value.
        """
        overrides: Dict[str, Any] = {}
        for assignment in self.settings:
            apply_override(overrides, assignment)
        return online_configs(overrides)

    def build(self) -> Any:
        if self.name.startswith('opencv-'):
            return OpenCVTracker(self.name[len('opencv-'):])
        if self.name == 'vil':
            from vil_tracker_ros.config import BackendConfig
            from vil_tracker_ros.core.backend import build_backend
            from vil_tracker_ros.core.tracker import SingleObjectTracker
            backend = build_backend(BackendConfig(
                checkpoint=self.checkpoint, device=self.device, precision=self.precision,
                backend=self.backend, threads=self.threads))
            return SingleObjectTracker(backend, *self.online_configs())
        raise ValueError(f'unknown tracker {self.name!r}; known: {", ".join(TRACKERS)}')


def _safe_name(name: str) -> str:
    return name.replace(os.sep, '_').replace('/', '_')


def result_path(out_dir: str, name: str) -> str:
    return os.path.join(out_dir, 'results', f'{_safe_name(name)}.txt')


def times_path(out_dir: str, name: str) -> str:
    return os.path.join(out_dir, 'times', f'{_safe_name(name)}_time.txt')


# ---------------------------------------------------------------------- running


def run_sequence(seq: Sequence, tracker: Any, frame_rate: float = 30.0
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """OPE on one sequence: initialise on frame 1 with its box, track the rest.

    Returns ``(boxes (N, 4), seconds (N,))``; a frame without a box is NaN.
    """
    n = len(seq)
    boxes = np.full((n, 4), np.nan)
    seconds = np.zeros(n)
    init_box = seq.init_box()
    image = seq.frame(0)
    t0 = time.perf_counter()
    tracker.initialize(image, init_box, 0.0)
    seconds[0] = time.perf_counter() - t0
    boxes[0] = init_box
    for i in range(1, n):
        image = seq.frame(i)
        t0 = time.perf_counter()
        result = tracker.track(image, i / frame_rate)
        seconds[i] = time.perf_counter() - t0
        if result.box is not None:
            boxes[i] = np.asarray(result.box, np.float64)
    return boxes, seconds


def save_results(out_dir: str, name: str, boxes: np.ndarray, seconds: np.ndarray) -> None:
    for path in (result_path(out_dir, name), times_path(out_dir, name)):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(result_path(out_dir, name), 'w') as f:
        for row in boxes:
            f.write(','.join('NaN' if not math.isfinite(v) else f'{v:.2f}' for v in row) + '\n')
    with open(times_path(out_dir, name), 'w') as f:
        f.write(''.join(f'{s:.6f}\n' for s in seconds))


def load_results(out_dir: str, seq: Sequence) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    path = result_path(out_dir, seq.name)
    if not os.path.isfile(path):
        raise EvalError(f'no result file for sequence {seq.name}: {path}')
    boxes = read_boxes(path)
    if len(boxes) != len(seq):
        raise EvalError(f'{path}: {len(boxes)} boxes for {len(seq)} frames')
    seconds = None
    tpath = times_path(out_dir, seq.name)
    if os.path.isfile(tpath):
        seconds = np.loadtxt(tpath, dtype=np.float64, ndmin=1)
        if len(seconds) != len(seq):
            raise EvalError(f'{tpath}: {len(seconds)} timings for {len(seq)} frames')
    return boxes, seconds


_WORKER_TRACKER: Dict[TrackerSpec, Any] = {}


def _worker_run(seq: Sequence, spec: TrackerSpec, out_dir: str, frame_rate: float) -> str:
    tracker = _WORKER_TRACKER.get(spec)
    if tracker is None:
        tracker = _WORKER_TRACKER[spec] = spec.build()
    boxes, seconds = run_sequence(seq, tracker, frame_rate)
    save_results(out_dir, seq.name, boxes, seconds)
    return seq.name


def run_all(sequences: SequenceT[Sequence], spec: TrackerSpec, out_dir: str, workers: int = 1,
            frame_rate: float = 30.0, progress: bool = True) -> None:
    """Track every sequence and write its result and timing files."""
    from tqdm import tqdm
    bar = tqdm(total=len(sequences), desc=f'{spec.name}', unit='seq', file=sys.stderr,
               disable=not progress)
    try:
        if workers <= 1:
            tracker = spec.build()
            for seq in sequences:
                boxes, seconds = run_sequence(seq, tracker, frame_rate)
                save_results(out_dir, seq.name, boxes, seconds)
                fps = (len(seq) - 1) / max(seconds[1:].sum(), 1e-9)
                bar.set_postfix_str(f'{seq.name} {fps:.1f} fps')
                bar.update(1)
            return
        ctx = multiprocessing.get_context('spawn')
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = [pool.submit(_worker_run, seq, spec, out_dir, frame_rate)
                       for seq in sequences]
            for future in concurrent.futures.as_completed(futures):
                bar.set_postfix_str(future.result())
                bar.update(1)
    finally:
        bar.close()


# ---------------------------------------------------------------------- scoring


def score(sequences: SequenceT[Sequence], out_dir: str, tracker_name: str,
          dataset: str, compare: SequenceT[str] = (),
          settings: SequenceT[str] = ()) -> Dict[str, Any]:
    """Score the result files in ``out_dir``; write the CSV, summary.json and plots.

    ``compare`` lists other output folders whose ``summary.json`` curves are
    drawn in the same plots; ``settings`` (the ``--set`` assignments) go into the summary.
    """
    rows: List[Dict[str, Any]] = []
    scores = []
    tracked_frames, tracked_seconds = 0, 0.0
    for seq in sequences:
        boxes, seconds = load_results(out_dir, seq)
        s = metrics.score_sequence(seq.name, boxes, seq.gt, seq.visible)
        scores.append(s)
        row: Dict[str, Any] = s.row() if s is not None else {
            'sequence': seq.name, 'frames': len(seq), 'scored_frames': 0}
        if seconds is not None and len(seconds) > 1:
            tracked_frames += len(seconds) - 1
            tracked_seconds += float(seconds[1:].sum())
            row['fps'] = (len(seconds) - 1) / max(float(seconds[1:].sum()), 1e-9)
        rows.append(row)
    summary = metrics.summarize(scores)
    fps = tracked_frames / tracked_seconds if tracked_seconds > 0 else math.nan
    report.write_per_sequence_csv(os.path.join(out_dir, 'per_sequence.csv'), rows)
    data = report.summary_dict(summary, fps, extra={
        'tracker': tracker_name, 'dataset': dataset, 'total_sequences': len(sequences),
        'scored_frames': int(sum(s.scored for s in scores if s is not None)),
        'settings': list(settings)})
    report.write_summary(os.path.join(out_dir, 'summary.json'), data)
    curves = {tracker_name: summary}
    for other in compare:
        path = os.path.join(other, 'summary.json')
        if not os.path.isfile(path):
            raise EvalError(f'--compare: no summary.json in {other}')
        try:
            label, other_summary = report.summary_from_json(path)
        except ValueError as exc:
            raise EvalError(str(exc)) from exc
        curves[label] = other_summary
    if summary.sequences:
        report.write_plots(out_dir, curves, f' on {dataset}')
    return data


def _recorded_settings(out_dir: str) -> List[str]:
    """Read the ``--set`` assignments an earlier run in ``out_dir`` recorded (none if unknown)."""
    path = os.path.join(out_dir, 'summary.json')
    try:
        with open(path) as f:
            recorded = json.load(f).get('settings', [])
    except (OSError, ValueError, AttributeError):
        return []
    return [str(v) for v in recorded] if isinstance(recorded, list) else []


# -------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog='vil-tracker-eval',
        description='One-pass evaluation of a tracker on a benchmark, then scoring.')
    p.add_argument('--dataset', required=True, choices=DATASETS)
    p.add_argument('--root', required=True, help='dataset root in its original layout')
    p.add_argument('--split', default=None,
                   help='reader split (got10k: train|val|test, lasot: train|test, '
                        'uav123: UAV123|UAV20L, trackingnet: train|test|TRAIN_<k>)')
    p.add_argument('--tracker', required=True, choices=TRACKERS)
    p.add_argument('--checkpoint', default=None,
                   help='vil: model checkpoint (default: the one shipped in weights/)')
    p.add_argument('--device', default='auto', help='vil: auto | cpu | cuda | cuda:N')
    p.add_argument('--precision', default=None, choices=('fp32', 'fp16', 'bf16', 'int8'),
                   help="vil: default: the node's, int8 for onnxruntime on the CPU, else fp32")
    p.add_argument('--backend', default='onnxruntime', choices=('torch', 'onnxruntime'),
                   help="vil: the node's default, onnxruntime (CPU), or torch (for a GPU)")
    p.add_argument('--threads', type=int, default=DEFAULT_THREADS,
                   help=f"vil: CPU threads for the network; default: the node's, "
                        f"{DEFAULT_THREADS} (0: the library's, a thread per core)")
    p.add_argument('--out', required=True, help='output directory')
    p.add_argument('--workers', type=int, default=1, help='parallel sequences')
    p.add_argument('--limit', type=int, default=0, help='only the first N sequences')
    p.add_argument('--frame-rate', type=float, default=30.0,
                   help='stamps given to the tracker are frame_index / frame_rate')
    p.add_argument('--score-only', action='store_true',
                   help='do not track; score the existing result files in --out')
    p.add_argument('--compare', nargs='+', default=[], metavar='DIR',
                   help='other --out folders to draw in the same plots (side by side)')
    p.add_argument('--set', dest='settings', action='append', default=[],
                   metavar='SECTION.KEY=VALUE',
                   help='vil: an online setting other than the default, e.g. '
                        'tracker.scale_filter_weight=0 (sections tracker, kalman; repeatable)')
    p.add_argument('--no-progress', action='store_true')
    return p


def main(argv: Optional[SequenceT[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f'--workers must be >= 1, got {args.workers}')
    if args.frame_rate <= 0:
        parser.error(f'--frame-rate must be > 0, got {args.frame_rate}')
    precision = args.precision or default_precision(args.backend, args.device)
    spec = TrackerSpec(args.tracker, device=args.device, precision=precision,
                       backend=args.backend, threads=args.threads,
                       settings=tuple(args.settings))
    if args.settings and args.tracker != 'vil':
        parser.error('--set only applies to --tracker vil')
    if args.settings and args.score_only:
        parser.error('--set changes how the tracker runs; --score-only does not run it '
                     '(the settings of the run are kept from its summary.json)')
    try:
        spec.online_configs()
    except ConfigError as exc:
        parser.error(str(exc))
    if args.tracker == 'vil' and not args.score_only:
        try:
            checkpoint = resolve_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT)
        except ConfigError as exc:
            parser.error(f'--tracker vil: {exc}')
        spec = dataclasses.replace(spec, checkpoint=checkpoint)
    elif args.checkpoint and args.tracker != 'vil':
        parser.error('--checkpoint only applies to --tracker vil')
    try:
        sequences = load_dataset(args.dataset, args.root, args.split)
    except (DatasetError, FileNotFoundError) as exc:
        print(f'vil-tracker-eval: error: {exc}', file=sys.stderr)
        return 2
    if args.limit > 0:
        sequences = sequences[:args.limit]
    os.makedirs(args.out, exist_ok=True)
    settings = list(args.settings)
    if args.score_only:
        settings = _recorded_settings(args.out)
    try:
        if not args.score_only:
            run_all(sequences, spec, args.out, args.workers, args.frame_rate,
                    progress=not args.no_progress)
        data = score(sequences, args.out, args.tracker, args.dataset, args.compare, settings)
    except (EvalError, ValueError) as exc:      # DatasetError and bad boxes included
        print(f'vil-tracker-eval: error: {exc}', file=sys.stderr)
        return 2
    keys = ('success_auc', 'precision_20', 'norm_precision', 'ao', 'sr50', 'sr75', 'fps',
            'sequences', 'tracker', 'dataset', 'settings')
    print(json.dumps({k: data.get(k) for k in keys}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
