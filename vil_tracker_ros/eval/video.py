# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Annotated frames and MP4 output, shared by the node's debug image, the demo and bag replay."""

from __future__ import annotations

import math
import os
from typing import Optional, Sequence

import cv2
import numpy as np

STATUS_COLOURS = {'tracking': (0, 255, 0), 'lost': (255, 160, 0), 'idle': (200, 200, 200)}
GT_COLOUR = (255, 255, 255)


def _finite_box(box) -> bool:
    return box is not None and len(box) == 4 and all(math.isfinite(float(v)) for v in box)


def draw_track_overlay(rgb: np.ndarray, box_xywh: Optional[Sequence[float]], status: str,
                       confidence: Optional[float] = None, track_id: str = '',
                       gt_xywh: Optional[Sequence[float]] = None,
                       extra: str = '') -> np.ndarray:
    """Return a copy of ``rgb`` with the box, the ground truth (thin, white) and a status."""
    out = np.ascontiguousarray(rgb).copy()
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS['idle'])
    if _finite_box(gt_xywh):
        x, y, w, h = (int(round(float(v))) for v in gt_xywh)
        cv2.rectangle(out, (x, y), (x + w, y + h), GT_COLOUR, 1, cv2.LINE_AA)
    if _finite_box(box_xywh):
        x, y, w, h = (int(round(float(v))) for v in box_xywh)
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2, cv2.LINE_AA)
    parts = [status]
    if track_id:
        parts.append(f'id={track_id}')
    if confidence is not None and math.isfinite(confidence):
        parts.append(f'conf={confidence:.2f}')
    if extra:
        parts.append(extra)
    label = ' '.join(parts)
    # Dark band behind the text keeps it readable on any background.
    (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    cv2.rectangle(out, (0, 0), (tw + 8, th + 8), (0, 0, 0), -1)
    cv2.putText(out, label, (4, th + 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1,
                cv2.LINE_AA)
    return out


class Mp4Writer:
    """Write RGB frames to an MP4 file (mp4v); the size is fixed by the first frame."""

    def __init__(self, path: str, fps: float) -> None:
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError(f'fps must be > 0, got {fps!r}')
        self.path = path
        self.fps = float(fps)
        self.frames = 0
        self._writer: Optional[cv2.VideoWriter] = None
        self._size = None

    def write(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        if self._writer is None:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            self._writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*'mp4v'),
                                           self.fps, (w, h))
            if not self._writer.isOpened():
                raise OSError(f'cannot open {self.path} for writing MP4')
            self._size = (w, h)
        if (w, h) != self._size:
            raise ValueError(f'frame size {w}x{h} differs from the first frame {self._size}')
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> 'Mp4Writer':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
