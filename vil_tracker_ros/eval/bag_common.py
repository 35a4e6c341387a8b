# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""What offline and live bag evaluation share: the error type, a pass's outcome, ground truth.

:mod:`~vil_tracker_ros.eval.bag_replay` (the CLI and the offline mode) and
:mod:`~vil_tracker_ros.eval.bag_live` (the live mode, through the node) both import from here,
so neither imports the other at module level.
"""

import dataclasses
import os
from typing import Dict, List, Optional, Sequence as SequenceT

import numpy as np

from vil_tracker_ros.eval import bag_io


class BagEvalError(ValueError):
    """The evaluation cannot run as asked; the message says why."""


@dataclasses.dataclass
class EvalRun:
    """Per-frame outcome of one pass, from the init frame to the end (same length arrays)."""

    stamps_ns: List[int]
    gt: np.ndarray                  # (N, 4) xywh, NaN where no ground truth
    boxes: np.ndarray               # (N, 4) predicted xywh, NaN where no output
    scores: np.ndarray              # (N,)
    statuses: List[str]
    latencies_ms: List[float]
    dropped: int
    skipped_before_init: int
    extra: Dict[str, object] = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------- ground truth

def load_gt_file(path: str) -> np.ndarray:
    """Read ``x,y,w,h`` lines (comma, tab or space separated; NaN allowed) as (N, 4)."""
    rows = []
    try:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                parts = line.replace(',', ' ').split()
                if len(parts) != 4:
                    raise BagEvalError(f'{path}:{number}: expected x,y,w,h, got {line!r}')
                try:
                    rows.append([float(v) for v in parts])
                except ValueError:
                    raise BagEvalError(f'{path}:{number}: not numbers: {line!r}') from None
    except OSError as err:
        raise BagEvalError(f'cannot read ground-truth file: {err}') from err
    if not rows:
        raise BagEvalError(f'ground-truth file {path} has no boxes')
    return np.array(rows, dtype=np.float64)


def valid_box(box) -> bool:
    """Tell whether ``box`` is finite with a positive size."""
    return box is not None and bool(np.all(np.isfinite(box))) and box[2] > 0 and box[3] > 0


class GroundTruth:
    """Ground truth per frame: by stamp from a Detection2D topic, or by index from a file."""

    def __init__(self, by_stamp: Optional[Dict[int, np.ndarray]] = None,
                 by_index: Optional[np.ndarray] = None, source: str = '') -> None:
        self.by_stamp = by_stamp
        self.by_index = by_index
        self.source = source
        self.matched = 0

    @classmethod
    def from_topic(cls, bag: str, topic: str) -> 'GroundTruth':
        dets = bag_io.read_detections(bag, topic)
        if not dets:
            raise BagEvalError(f'ground-truth topic {topic!r} in {bag} has no messages')
        return cls(by_stamp={d.stamp_ns: d.box for d in dets}, source=f'topic:{topic}')

    @classmethod
    def from_file(cls, path: str) -> 'GroundTruth':
        return cls(by_index=load_gt_file(path), source=f'file:{os.path.abspath(path)}')

    @classmethod
    def none(cls) -> 'GroundTruth':
        return cls(source='none')

    def box(self, index: int, stamp_ns: int) -> np.ndarray:
        if self.by_stamp is not None:
            box = self.by_stamp.get(stamp_ns)
        elif self.by_index is not None:
            if index >= len(self.by_index):
                raise BagEvalError(f'ground-truth file has {len(self.by_index)} boxes but the '
                                   f'bag has more images (frame {index})')
            box = self.by_index[index]
        else:
            box = None
        if box is None or not valid_box(box):
            return np.full(4, np.nan)
        self.matched += 1
        return np.asarray(box, dtype=np.float64)

    def check_length(self, frames: int) -> None:
        if self.by_index is not None and len(self.by_index) != frames:
            raise BagEvalError(f'ground-truth file has {len(self.by_index)} boxes for '
                               f'{frames} images')


def fps_of(stamps_ns: SequenceT[int], default: float = 30.0) -> float:
    if len(stamps_ns) < 2:
        return default
    dt = np.median(np.diff(np.asarray(stamps_ns, dtype=np.float64))) / 1e9
    return float(1.0 / dt) if dt > 0 else default
