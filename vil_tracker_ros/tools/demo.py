# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The main job (``make demo``): track a synthetic camera stream through the real node.

1. Render a held-out synthetic sequence (scikit-image photographs, exact ground truth).
2. Start ``tracker_node`` as a separate process with the package's ``config/tracker.yaml``
   (the shipped default model) and drive it to ``active`` over the lifecycle services.
   With ``--external-node`` the node is already running (``ros2 launch ... demo.launch.py``).
3. Stream the frames as sensor_msgs/Image + CameraInfo at a camera rate, send the init box
   as a stamped Detection2D naming the first frame, and record every output topic.
4. Write ``demo_out/``: an annotated MP4, one annotated PNG, ``metrics.json`` (success AUC
   against the ground truth, fps, stamp-to-receipt latency p50/p95, dropped frames) and print
   a short summary. Exit non-zero if the node failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Dict, List, Optional

import cv2
import numpy as np

from vil_tracker_ros.config import SyntheticConfig
from vil_tracker_ros.data.synthetic import make_scene
from vil_tracker_ros.eval.metrics import score_sequence
from vil_tracker_ros.eval.video import draw_track_overlay, Mp4Writer
from vil_tracker_ros.shipped import share_file

DRAIN_IDLE_S = 2.0


class DemoError(RuntimeError):
    """The node failed; the message says how."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog='vil-tracker-demo', description=__doc__.split('\n')[0])
    p.add_argument('--out', default='demo_out', help='output folder (default: demo_out)')
    p.add_argument('--frames', type=int, default=240, help='frames to stream (default: 240)')
    p.add_argument('--rate', type=float, default=20.0, help='camera rate in Hz (default: 20)')
    p.add_argument('--seed', type=int, default=3,
                   help='held-out synthetic sequence seed (default 3; see weights/README.md '
                        'for the model across the whole held-out split)')
    p.add_argument('--width', type=int, default=640)
    p.add_argument('--height', type=int, default=480)
    p.add_argument('--params-file', default='',
                   help='node parameters (default: the package share config/tracker.yaml)')
    p.add_argument('--checkpoint', default='',
                   help='override model.checkpoint (default: the shipped model)')
    p.add_argument('--external-node', action='store_true',
                   help='do not start tracker_node: use the one already running')
    p.add_argument('--timeout', type=float, default=180.0,
                   help='seconds allowed for the node to become active')
    args = p.parse_args(argv)
    if args.frames < 2:
        p.error('--frames must be >= 2')
    if not (math.isfinite(args.rate) and args.rate > 0):
        p.error('--rate must be > 0')
    return args


def render_sequence(args: argparse.Namespace):
    cfg = SyntheticConfig(split='heldout', frame_width=args.width, frame_height=args.height,
                          length=args.frames, seed=args.seed)
    scene = make_scene(cfg, 0)
    frames = [scene.frame(i) for i in range(args.frames)]
    return scene.to_sequence(), frames


def _percentile(values: List[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def run_stream(args, frames, init_box) -> Dict[str, object]:
    """Bring the node up, stream, record; returns the recorded outputs and node facts."""
    import rclpy
    from vil_tracker_ros.tools.client import LifecycleClient, NodeProcess
    from vil_tracker_ros.tools.live import (camera_info_for, CameraStreamer, OutputRecorder,
                                            spin_until, use_large_frame_transport)

    proc = None
    if not args.external_node:
        params = {}
        if args.checkpoint:
            params['model.checkpoint'] = os.path.abspath(args.checkpoint)
        proc = NodeProcess(params=params,
                           params_file=args.params_file or share_file('config', 'tracker.yaml'),
                           log_path=os.path.join(args.out, 'node.log')).start()
    use_large_frame_transport()
    rclpy.init()
    node = rclpy.create_node('vil_tracker_demo_camera')
    result: Dict[str, object] = {}
    try:
        lifecycle = LifecycleClient(node)
        lifecycle.wait_for_services(timeout=args.timeout)
        lifecycle.activate(timeout=args.timeout)
        recorder = OutputRecorder(node)
        camera = CameraStreamer(node)
        camera.wait_for_node()
        h, w = frames[0].shape[:2]
        sent = camera.stream(frames, init_box, args.rate, recorder,
                             camera_info_for(w, h, camera.frame_id))
        # Drain: wait until outputs stop arriving (or the last frame's answer arrived).
        last_count = -1
        while True:
            # /diagnostics comes every second whatever happens: it never drains.
            count = sum(len(v) for t, v in recorder.messages.items() if t != '/diagnostics')
            if count == last_count:
                break
            last_count = count
            deadline = time.monotonic() + DRAIN_IDLE_S
            spin_until(node, lambda: time.monotonic() > deadline, DRAIN_IDLE_S + 1, 'drain')
        lifecycle.change_state('deactivate')
        result.update(recorder=recorder, sent=sent)
        if proc is not None and not proc.alive():
            raise DemoError(f'tracker_node died (exit code {proc.proc.returncode})')
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        if proc is not None:
            code = proc.stop()
            result['node_exit_code'] = code
    return result


def analyse(args, sequence, frames, recorded) -> Dict[str, object]:
    from vil_tracker_ros.ros.messages import stamp_to_ns
    recorder, sent = recorded['recorder'], recorded['sent']
    detections = {stamp_to_ns(r.msg.header.stamp): r for r in recorder.of('/detection')}
    statuses = [(r.receipt_ns, r.msg.data) for r in recorder.of('/status')]

    n = len(frames)
    pred = np.full((n, 4), np.nan)
    pred[0] = sequence.gt[0]
    info: List[Dict[str, object]] = [{'status': 'init', 'confidence': None, 'held': False}]
    latencies, answered = [], 0
    for i in range(1, n):
        rec = detections.get(sent.stamps_ns[i])
        if rec is None:  # never processed (dropped): the consumer still sees the last output
            pred[i] = pred[i - 1]
            info.append({**info[-1], 'held': True})
            continue
        answered += 1
        bbox = rec.msg.bbox
        cx, cy = bbox.center.position.x, bbox.center.position.y
        pred[i] = (cx - bbox.size_x / 2, cy - bbox.size_y / 2, bbox.size_x, bbox.size_y)
        latencies.append((rec.receipt_ns - sent.stamps_ns[i]) / 1e6)
        status = [s for t, s in statuses if t <= rec.receipt_ns]
        score = rec.msg.results[0].hypothesis.score if rec.msg.results else math.nan
        info.append({'status': status[-1] if status else '?', 'confidence': float(score),
                     'held': False})
    score = score_sequence(sequence.name, pred, sequence.gt, sequence.visible)
    receipts = sorted(r.receipt_ns for r in detections.values())
    span = (receipts[-1] - receipts[0]) / 1e9 if len(receipts) > 1 else math.nan
    metrics = {
        'sequence': sequence.name,
        'frames_sent': n,
        'frames_answered': answered,
        'dropped_frames': n - 1 - answered,
        'success_auc': score.success_auc if score else math.nan,
        'precision_20': score.precision_20 if score else math.nan,
        'fps': (len(receipts) - 1) / span if span and span > 0 else math.nan,
        'camera_rate_hz': args.rate,
        'latency_ms_p50': _percentile(latencies, 50),
        'latency_ms_p95': _percentile(latencies, 95),
        'status_changes': [s for _, s in statuses],
        'node_exit_code': recorded.get('node_exit_code'),
    }
    return {'metrics': metrics, 'pred': pred, 'info': info}


def write_outputs(args, sequence, frames, analysis) -> str:
    os.makedirs(args.out, exist_ok=True)
    pred, info = analysis['pred'], analysis['info']
    video = os.path.join(args.out, 'demo.mp4')
    best_png = None
    with Mp4Writer(video, args.rate) as writer:
        for i, rgb in enumerate(frames):
            extra = f'frame {i}' + (' (held: frame dropped)' if info[i]['held'] else '')
            image = draw_track_overlay(rgb, pred[i], str(info[i]['status']),
                                       info[i]['confidence'], gt_xywh=sequence.gt[i],
                                       extra=extra)
            writer.write(image)
            if i == len(frames) // 2:
                best_png = image
    cv2.imwrite(os.path.join(args.out, 'frame.png'), cv2.cvtColor(best_png, cv2.COLOR_RGB2BGR))
    np.savetxt(os.path.join(args.out, 'boxes.txt'), pred, fmt='%.2f', delimiter=',')
    with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
        json.dump(analysis['metrics'], f, indent=2)
    return video


def summary_text(m: Dict[str, object], out: str) -> str:
    return '\n'.join([
        'vil_tracker_ros demo',
        f'  sequence        {m["sequence"]} ({m["frames_sent"]} frames at '
        f'{m["camera_rate_hz"]:.0f} Hz)',
        f'  success AUC     {m["success_auc"]:.3f}   precision@20px {m["precision_20"]:.3f}',
        f'  node output     {m["fps"]:.1f} fps, {m["frames_answered"]} frames answered, '
        f'{m["dropped_frames"]} dropped',
        f'  latency         p50 {m["latency_ms_p50"]:.1f} ms, p95 {m["latency_ms_p95"]:.1f} ms '
        '(image stamp -> detection received)',
        f'  status changes  {" -> ".join(m["status_changes"]) or "none"}',
        f'  outputs         {out}/demo.mp4, {out}/frame.png, {out}/metrics.json',
    ])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    print(f'demo: rendering {args.frames} held-out synthetic frames...', flush=True)
    sequence, frames = render_sequence(args)
    print('demo: starting tracker_node and streaming...', flush=True)
    try:
        recorded = run_stream(args, frames, sequence.init_box())
    except Exception as exc:  # report any failure of the node or DDS as a failed demo
        print(f'demo FAILED: {exc}', file=sys.stderr)
        log = os.path.join(args.out, 'node.log')
        if os.path.exists(log):
            print(f'--- last lines of {log} ---', file=sys.stderr)
            with open(log, errors='replace') as f:
                print(''.join(f.readlines()[-20:]), file=sys.stderr)
        return 1
    analysis = analyse(args, sequence, frames, recorded)
    write_outputs(args, sequence, frames, analysis)
    m = analysis['metrics']
    print(summary_text(m, args.out))
    if m['node_exit_code'] not in (None, 0):
        print(f'demo FAILED: tracker_node exited with code {m["node_exit_code"]}',
              file=sys.stderr)
        return 1
    if m['frames_answered'] == 0:
        print('demo FAILED: the node published no detection', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
