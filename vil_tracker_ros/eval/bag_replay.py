# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``vil-tracker-bag-eval``: evaluate the tracker on a rosbag2 recording.

Modes:

* ``offline``: frames go straight into the core SingleObjectTracker, one after another
  (deterministic; latency is the per-frame ``track()`` time; nothing is dropped).
* ``live``: the bag is played through a running ``tracker_node`` over DDS at the recorded
  timing (or ``--rate``); the node's outputs are recorded into ``<out>/output_bag``; latency is
  detection receipt minus frame send time; frames without a detection count as dropped.

The tracker is initialised on the first frame that has a ground-truth box (or on frame 0 with
``--init-box``) and scored one-pass (OPE) from there. Ground truth comes from a Detection2D
topic (matched to frames by header stamp) or a text file with one ``x,y,w,h`` line per image
message (NaN for none). Writes ``summary.json``, ``boxes.txt`` (one predicted ``x,y,w,h`` per
evaluated frame) and ``annotated.mp4`` to ``--out``, and prints one JSON summary line.
"""

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from typing import Dict, Optional, Sequence as SequenceT

import numpy as np

from vil_tracker_ros.eval import bag_io
from vil_tracker_ros.eval.bag_common import BagEvalError, EvalRun, fps_of, GroundTruth, valid_box
from vil_tracker_ros.eval.video import draw_track_overlay, Mp4Writer

SUMMARY_KEYS = ('success_auc', 'precision_20', 'frames', 'latency_ms_p50', 'dropped')
VIDEO_NAME = 'annotated.mp4'


def parse_box(text: str) -> np.ndarray:
    """``x,y,w,h`` -> array, or BagEvalError."""
    try:
        box = np.array([float(v) for v in text.split(',')], dtype=np.float64)
    except ValueError:
        raise BagEvalError(f'--init-box must be x,y,w,h numbers, got {text!r}') from None
    if box.shape != (4,) or not valid_box(box):
        raise BagEvalError(f'--init-box must be 4 finite numbers with w, h > 0, got {text!r}')
    return box


# ---------------------------------------------------------------- tracker

def resolve_checkpoint(checkpoint: Optional[str]) -> str:
    """Return ``checkpoint`` (a path or a name in weights/), or the shipped default."""
    from vil_tracker_ros.config import ConfigError
    from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, resolve_checkpoint
    try:
        return resolve_checkpoint(checkpoint or DEFAULT_CHECKPOINT)
    except ConfigError as exc:
        raise BagEvalError(str(exc)) from exc


def build_tracker(args):
    """Build the offline tracker: ours (``vil``) or an OpenCV baseline, as vil-tracker-eval."""
    from vil_tracker_ros.eval.run import TrackerSpec
    from vil_tracker_ros.shipped import default_precision, DEFAULT_THREADS
    device, backend = args.device or 'cpu', args.backend or 'torch'
    spec = TrackerSpec(name=args.tracker, device=device, backend=backend,
                       precision=args.precision or default_precision(backend, device),
                       threads=args.threads if args.threads is not None else DEFAULT_THREADS)
    if args.tracker == 'vil':
        spec = dataclasses.replace(spec, checkpoint=args.checkpoint)
    return spec.build()


# ---------------------------------------------------------------- offline

@dataclasses.dataclass
class _Skipped:
    box: np.ndarray
    confidence: float
    status: str = 'skipped'
    track_id: str = ''


def run_offline(bag: str, image_topic: str, gt: GroundTruth, tracker,
                init_box: Optional[np.ndarray] = None, video: Optional[str] = None,
                video_fps: float = 30.0, max_frames: int = 0) -> EvalRun:
    """Feed every image of ``image_topic`` to ``tracker`` in order (``max_frames``: 0 = all)."""
    stamps, gts, boxes, scores, statuses, latencies = [], [], [], [], [], []
    from vil_tracker_ros.core.tracker import StampOrderError
    skipped = stamp_errors = total = 0
    t0_ns = None
    writer = Mp4Writer(video, video_fps) if video else None
    try:
        for frame in bag_io.read_frames(bag, image_topic):
            if max_frames and frame.index >= max_frames:
                break
            total += 1
            gt_box = gt.box(frame.index, frame.stamp_ns)
            if t0_ns is None:
                start = init_box if init_box is not None else gt_box
                if not valid_box(start):
                    skipped += 1  # no box to start from yet
                    continue
                t0_ns = frame.stamp_ns
                result = tracker.initialize(frame.rgb, start, 0.0)
            else:
                begin = time.perf_counter()
                try:
                    result = tracker.track(frame.rgb, (frame.stamp_ns - t0_ns) / 1e9)
                except StampOrderError:
                    # A repeated or older stamp (as the node does): skip the frame, keep
                    # the previous box for scoring.
                    stamp_errors += 1
                    result = _Skipped(boxes[-1], scores[-1])
                latencies.append((time.perf_counter() - begin) * 1e3)
            box = np.asarray(result.box, dtype=np.float64) if result.box is not None \
                else np.full(4, np.nan)
            stamps.append(frame.stamp_ns)
            gts.append(gt_box)
            boxes.append(box)
            scores.append(float(result.confidence))
            statuses.append(str(result.status))
            if writer is not None:
                writer.write(draw_track_overlay(
                    frame.rgb, box, str(result.status), float(result.confidence),
                    str(getattr(result, 'track_id', '')), gt_box, extra=f'#{frame.index}'))
    finally:
        if writer is not None:
            writer.close()
    if total == 0:
        raise BagEvalError(f'no images on {image_topic!r} in {bag}')
    if t0_ns is None:
        raise BagEvalError(f'none of the {total} frames has a ground-truth box to initialise '
                           f'on ({gt.source}); pass --init-box x,y,w,h')
    if not max_frames:
        gt.check_length(total)
    return EvalRun(stamps, np.array(gts).reshape(-1, 4), np.array(boxes).reshape(-1, 4),
                   np.array(scores), statuses, latencies, 0, skipped,
                   extra={'stamp_order_errors': stamp_errors})


# ---------------------------------------------------------------- summary

def _percentile(values: SequenceT[float], q: float) -> Optional[float]:
    return float(np.percentile(values, q)) if len(values) else None


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def ope_scores(name: str, boxes: np.ndarray, gt: np.ndarray) -> Dict[str, Optional[float]]:
    """OPE scores over the frames after the init frame that have ground truth (else None)."""
    from vil_tracker_ros.eval.metrics import score_sequence
    visible = np.all(np.isfinite(gt), axis=1)
    score = score_sequence(name, boxes, gt, visible)
    keys = ('success_auc', 'precision_20', 'norm_precision', 'ao', 'sr50', 'sr75')
    if score is None:
        return dict.fromkeys(keys + ('scored_frames',))
    row = score.row()
    return {**{k: _json_number(row[k]) for k in keys}, 'scored_frames': int(score.scored)}


def summarise(run: EvalRun, mode: str, bag: str, image_topic: str, gt_source: str) -> dict:
    summary = {
        **ope_scores(os.path.basename(os.path.normpath(bag)), run.boxes, run.gt),
        'frames': len(run.stamps_ns),
        'latency_ms_p50': _json_number(_percentile(run.latencies_ms, 50)),
        'dropped': int(run.dropped),
        'latency_ms_p95': _json_number(_percentile(run.latencies_ms, 95)),
        'gt_frames': int(np.all(np.isfinite(run.gt), axis=1).sum()),
        'skipped_before_init': int(run.skipped_before_init),
        'mode': mode, 'bag': os.path.abspath(bag), 'image_topic': image_topic,
        'gt_source': gt_source,
    }
    summary.update(run.extra)
    return summary


def write_outputs(out_dir: str, run: EvalRun, summary: dict) -> None:
    with open(os.path.join(out_dir, 'boxes.txt'), 'w') as f:
        for box in run.boxes:
            f.write(','.join('NaN' if not math.isfinite(v) else f'{v:.2f}' for v in box) + '\n')
    with open(os.path.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
        f.write('\n')


# ---------------------------------------------------------------- CLI

def _tracker_choices():
    from vil_tracker_ros.eval.run import TRACKERS
    return TRACKERS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='vil-tracker-bag-eval',
        description='Replay a rosbag2 (sqlite3 or mcap) through the tracker and score it.')
    parser.add_argument('bag', help='rosbag2 directory (or a .db3 / .mcap file)')
    parser.add_argument('--image-topic', required=True,
                        help='sensor_msgs/Image or CompressedImage topic')
    gt = parser.add_mutually_exclusive_group()
    gt.add_argument('--gt-topic', help='vision_msgs/Detection2D ground-truth topic')
    gt.add_argument('--gt-file', help='x,y,w,h per image message, in bag order (NaN: none)')
    parser.add_argument('--init-box', help='x,y,w,h to start on frame 0 (default: first gt box)')
    parser.add_argument('--mode', choices=('offline', 'live'), default='offline')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--tracker', default='vil', choices=_tracker_choices(),
                        help='offline: our tracker or an OpenCV baseline on the same frames')
    parser.add_argument('--checkpoint', default=None,
                        help='model checkpoint (default: the one shipped in weights/); '
                             'live mode passes it to the node over the params file')
    parser.add_argument('--device', default=None,
                        help='auto | cpu | cuda | cuda:N (offline default cpu; live default: '
                             'the params file)')
    parser.add_argument('--backend', choices=('torch', 'onnxruntime'), default=None,
                        help='offline default torch; live default: the params file')
    parser.add_argument('--precision', choices=('fp32', 'fp16', 'bf16', 'int8'), default=None,
                        help="default: the node's for the backend and device (int8 for "
                             'onnxruntime on the CPU, else fp32); live: as the params file '
                             'unless --backend or --device is given')
    parser.add_argument('--threads', type=int, default=None,
                        help="CPU threads for the network, 0: the library's (offline default: "
                             "the node's, 1; live default: the params file)")
    parser.add_argument('--max-frames', type=int, default=0, help='0 = all images')
    parser.add_argument('--no-video', action='store_true', help='skip the annotated MP4')
    live = parser.add_argument_group('live mode')
    live.add_argument('--rate', type=float, default=0.0,
                      help='play at this frame rate (Hz) instead of the recorded timing')
    live.add_argument('--attach', action='store_true',
                      help='use an already running tracker_node instead of starting one')
    live.add_argument('--node', default='/vil_tracker', help='node name (with namespace)')
    live.add_argument('--init-topic', default='/init_bbox',
                      help='init_bbox topic of an attached node')
    live.add_argument('--camera-info-topic', default='',
                      help="CameraInfo topic to play too (default: the bag's only one, if any)")
    live.add_argument('--params-file', default=None,
                      help="the started node's parameters file (default: the package's "
                           'config/tracker.yaml, as the launch file and the demo use)')
    live.add_argument('--node-param', action='append', default=[], metavar='KEY=VALUE',
                      help='extra parameter for the node started here (repeatable)')
    live.add_argument('--storage', choices=sorted(bag_io.STORAGES), default='sqlite3',
                      help='storage of the output bag')
    live.add_argument('--timeout', type=float, default=120.0,
                      help='seconds to wait for the node to start and become active')
    return parser


def _gt_from_args(args) -> GroundTruth:
    if args.gt_topic:
        return GroundTruth.from_topic(args.bag, args.gt_topic)
    if args.gt_file:
        return GroundTruth.from_file(args.gt_file)
    if not args.init_box:
        raise BagEvalError('give --gt-topic or --gt-file (or at least --init-box)')
    return GroundTruth.none()


def evaluate(args) -> dict:
    """Run the evaluation described by parsed ``args``; return the summary."""
    if not os.path.exists(args.bag):
        raise BagEvalError(f'bag not found: {args.bag}')
    topics = bag_io.bag_topics(args.bag)
    if args.image_topic not in topics:
        listing = ', '.join(f'{t} [{m}]' for t, m in sorted(topics.items()))
        raise BagEvalError(f'image topic {args.image_topic!r} is not in the bag; topics: '
                           f'{listing}')
    if topics[args.image_topic] not in bag_io.IMAGE_TYPES:
        raise BagEvalError(f'{args.image_topic!r} is {topics[args.image_topic]}, not an Image '
                           'or CompressedImage')
    gt = _gt_from_args(args)
    if args.tracker == 'vil':
        args.checkpoint = resolve_checkpoint(args.checkpoint)
    init_box = parse_box(args.init_box) if args.init_box else None
    os.makedirs(args.out, exist_ok=True)
    video = None if args.no_video else os.path.join(args.out, VIDEO_NAME)
    if args.mode == 'offline':
        tracker = build_tracker(args)
        stamps = [stamp for stamp, _ in bag_io.image_stamps(args.bag, args.image_topic)]
        run = run_offline(args.bag, args.image_topic, gt, tracker, init_box, video,
                          fps_of(stamps), args.max_frames)
    else:
        if args.tracker != 'vil':
            raise BagEvalError('live mode runs the tracker_node; --tracker applies to offline')
        from vil_tracker_ros.eval.bag_live import run_live
        run = run_live(args, gt, init_box, video)
    summary = summarise(run, args.mode, args.bag, args.image_topic, gt.source)
    summary['tracker'] = args.tracker
    summary['checkpoint'] = args.checkpoint if args.tracker == 'vil' else None
    summary['video'] = video
    write_outputs(args.out, run, summary)
    return summary


def main(argv: Optional[SequenceT[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = evaluate(args)
    except (ValueError, OSError, RuntimeError) as err:
        print(f'vil-tracker-bag-eval: error: {err}', file=sys.stderr)
        return 2
    print(json.dumps({k: summary[k] for k in SUMMARY_KEYS}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
