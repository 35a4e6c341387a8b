# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The follow demo's outputs: the error plot (matplotlib) and the annotated MP4."""

from __future__ import annotations

import math
from typing import Any, Dict, List

from vision_msgs.msg import Detection2D


def _stamp_s(stamp: Any) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def _truth_box(msg: Detection2D) -> List[float]:
    b = msg.bbox
    return [b.center.position.x - b.size_x / 2, b.center.position.y - b.size_y / 2,
            b.size_x, b.size_y]


def write_plot(result: Dict[str, Any], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    errs = result['series']['error']
    rates = result['series']['rates']
    ph = result['phases']
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    rates = [r for r in rates if r[0] >= -1.0]
    vis = [(t, math.hypot(x, y)) for t, x, y, v in errs if v > 0]
    hid = [(t, math.hypot(x, y)) for t, x, y, v in errs if v <= 0 and math.isfinite(x)]
    ax.plot([t for t, _ in vis], [e for _, e in vis], '.', ms=3, label='target visible')
    if hid:
        ax.plot([t for t, _ in hid], [e for _, e in hid], '.', ms=3, color='grey',
                label='target hidden (true position)')
    ax.axhline(result['settle_px'], color='k', ls=':', lw=0.8,
               label=f'settle bound {result["settle_px"]:g} px')
    if result['settling_time_s'] is not None:
        ax.axvline(result['settling_time_s'], color='g', ls='--', lw=0.8,
                   label=f'settled at {result["settling_time_s"]:.1f} s')
    ax.set_ylabel('|true target offset| (px)')
    ax.set_title('Closed loop: gimbal sim -> tracker -> follow controller (320x240, 60 deg)')
    ax2.plot([t for t, _, _ in rates], [y for _, y, _ in rates], lw=1, label='yaw rate')
    ax2.plot([t for t, _, _ in rates], [p for _, _, p in rates], lw=1, label='pitch rate')
    ax2.set_ylabel('setpoint (rad/s)')
    ax2.set_xlabel('time since init (s)')
    for a in (ax, ax2):
        a.axvspan(ph['hide'], ph['stop'], color='orange', alpha=0.12, lw=0)
        a.axvspan(ph['stop'], ph['end'], color='grey', alpha=0.12, lw=0)
        a.grid(alpha=0.3)
    ax.text(ph['hide'], ax.get_ylim()[1] * 0.6, ' hidden', fontsize=8)
    ax.text(ph['stop'], ax.get_ylim()[1] * 0.6, ' reset', fontsize=8)
    ax.legend(fontsize=7, loc='upper right')
    ax2.legend(fontsize=7, loc='upper right')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_video(rec: Any, t0: float, path: str, fps: float) -> int:
    from vil_tracker_ros.eval.video import draw_track_overlay, Mp4Writer
    import cv2
    # A frame's tracker status: the last status message that arrived before its detection.
    statuses = [(at, m.data) for at, m in rec.get('status')]
    dets = {}
    for at, m in rec.get('detection'):
        known = [text for t, text in statuses if t <= at]
        dets[_stamp_s(m.header.stamp)] = (m, known[-1] if known else 'tracking')
    truths = {_stamp_s(m.header.stamp): m for _, m in rec.get('truth')}
    errors = {_stamp_s(m.header.stamp): m for _, m in rec.get('error')}
    with rec.lock:
        frames = sorted(rec.frames.items())
    with Mp4Writer(path, fps) as out:
        for stamp, rgb in frames:
            det, status = dets.get(stamp, (None, 'idle'))
            box, confidence = None, None
            if det is not None:
                b = det.bbox
                box = [b.center.position.x - b.size_x / 2, b.center.position.y - b.size_y / 2,
                       b.size_x, b.size_y]
                confidence = det.results[0].hypothesis.score if det.results else None
            truth = truths.get(stamp)
            err = errors.get(stamp)
            extra = f't={stamp - t0:5.1f}s'
            if err is not None and math.isfinite(err.vector.x):
                extra += f' err={math.hypot(err.vector.x, err.vector.y):4.1f}px'
            frame = draw_track_overlay(rgb, box, status, confidence,
                                       gt_xywh=_truth_box(truth) if truth else None, extra=extra)
            h, w = frame.shape[:2]
            cv2.drawMarker(frame, (w // 2, h // 2), (255, 255, 255), cv2.MARKER_CROSS, 12, 1)
            out.write(frame)
        return out.frames
