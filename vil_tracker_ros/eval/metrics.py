# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""One-pass evaluation (OPE) metrics.

Per sequence, over the *scored* frames (every frame but the first, where the
tracker is initialised, and only where the target is visible with a valid
ground-truth box):

* success curve: fraction of frames with IoU > t for t in 21 thresholds
  0, 0.05, ..., 1; success AUC is its mean (OTB / LaSOT);
* precision curve: fraction with centre error <= t px, t = 0..50; the
  score is the value at 20 px;
* normalised precision: centre error divided by the ground-truth size per
  axis, curve over 0..0.5 (51 points); the score is the value at 0.2, and its
  AUC is reported as well (LaSOT / TrackingNet);
* AO / SR0.5 / SR0.75: mean IoU and fractions with IoU > 0.5 / 0.75 (GOT-10k).

A missing or degenerate prediction (NaN, width or height <= 0) scores IoU 0
and an infinite centre error. Over a dataset, curve metrics are the mean of
per-sequence curves (OTB / LaSOT toolkits); AO and SR are averaged over all
scored frames of all sequences (GOT-10k toolkit). Sequences without scored
frames are left out.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Dict, Iterable, List, Optional

import numpy as np

from vil_tracker_ros import geometry

IOU_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)      # pixels
NORM_PRECISION_THRESHOLDS = np.linspace(0.0, 0.5, 51)
PRECISION_AT = 20.0
NORM_PRECISION_AT = 0.2


def _as_boxes(boxes: np.ndarray, what: str) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f'{what} must have shape (N, 4), got {b.shape}')
    return b


def _valid(b: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(b), axis=1) & (b[:, 2] > 0) & (b[:, 3] > 0)


def _per_valid_pair(pred: np.ndarray, gt: np.ndarray, fill: float,
                    measure: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """``measure`` on the frames where both boxes are valid; ``fill`` elsewhere."""
    pred, gt = _as_boxes(pred, 'pred'), _as_boxes(gt, 'gt')
    ok = _valid(pred) & _valid(gt)
    out = np.full(len(pred), fill)
    if ok.any():
        out[ok] = measure(pred[ok], gt[ok])
    return out


def overlap(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame IoU of xywh boxes; invalid predictions or ground truth give 0."""
    return _per_valid_pair(pred, gt, 0.0,
                           lambda p, g: np.clip(geometry.iou(p, g), 0.0, 1.0))


def center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame distance between box centres in pixels; inf where a box is invalid."""
    return _per_valid_pair(pred, gt, np.inf, geometry.center_distance)


def normalized_center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Centre error with each axis divided by the ground-truth width / height."""
    def normalized(p: np.ndarray, g: np.ndarray) -> np.ndarray:
        dx = (p[:, 0] + p[:, 2] / 2 - g[:, 0] - g[:, 2] / 2) / g[:, 2]
        dy = (p[:, 1] + p[:, 3] / 2 - g[:, 1] - g[:, 3] / 2) / g[:, 3]
        return np.hypot(dx, dy)
    return _per_valid_pair(pred, gt, np.inf, normalized)


def scored_frames(gt: np.ndarray, visible: Optional[np.ndarray] = None) -> np.ndarray:
    """Mask of frames that count: not the first, visible, with a valid box."""
    gt = _as_boxes(gt, 'gt')
    mask = _valid(gt)
    if visible is not None:
        visible = np.asarray(visible, bool).reshape(-1)
        if len(visible) != len(gt):
            raise ValueError(f'visible has {len(visible)} entries for {len(gt)} frames')
        mask &= visible
    if len(mask):
        mask[0] = False
    return mask


def success_curve(ious: np.ndarray) -> np.ndarray:
    return (np.asarray(ious)[:, None] > IOU_THRESHOLDS[None, :]).mean(0)


def precision_curve(errors: np.ndarray, thresholds: np.ndarray = PRECISION_THRESHOLDS
                    ) -> np.ndarray:
    return (np.asarray(errors)[:, None] <= thresholds[None, :]).mean(0)


@dataclasses.dataclass
class SequenceScore:
    """Metrics of one sequence (curves plus the scalar scores)."""

    name: str
    frames: int                       # frames in the sequence
    scored: int                       # frames that count
    ious: np.ndarray                  # (scored,)
    success: np.ndarray               # (21,)
    precision: np.ndarray             # (51,)
    norm_precision: np.ndarray        # (51,)

    @property
    def success_auc(self) -> float:
        return float(self.success.mean())

    @property
    def precision_20(self) -> float:
        return float(self.precision[int(PRECISION_AT)])

    @property
    def norm_precision_02(self) -> float:
        return float(self.norm_precision[int(round(NORM_PRECISION_AT / 0.01))])

    @property
    def ao(self) -> float:
        return float(self.ious.mean())

    @property
    def sr50(self) -> float:
        return float((self.ious > 0.5).mean())

    @property
    def sr75(self) -> float:
        return float((self.ious > 0.75).mean())

    def row(self) -> Dict[str, float]:
        return {'sequence': self.name, 'frames': self.frames, 'scored_frames': self.scored,
                'success_auc': self.success_auc, 'precision_20': self.precision_20,
                'norm_precision': self.norm_precision_02, 'ao': self.ao, 'sr50': self.sr50,
                'sr75': self.sr75}


def score_sequence(name: str, pred: np.ndarray, gt: np.ndarray,
                   visible: Optional[np.ndarray] = None) -> Optional[SequenceScore]:
    """Score one sequence; None when it has no scored frames (e.g. GOT-10k test)."""
    pred, gt = _as_boxes(pred, 'pred'), _as_boxes(gt, 'gt')
    if len(pred) != len(gt):
        raise ValueError(f'{name}: {len(pred)} predicted boxes for {len(gt)} frames')
    mask = scored_frames(gt, visible)
    if not mask.any():
        return None
    p, g = pred[mask], gt[mask]
    ious = overlap(p, g)
    return SequenceScore(
        name=name, frames=len(gt), scored=int(mask.sum()), ious=ious,
        success=success_curve(ious),
        precision=precision_curve(center_error(p, g)),
        norm_precision=precision_curve(normalized_center_error(p, g),
                                       NORM_PRECISION_THRESHOLDS))


@dataclasses.dataclass
class Summary:
    """Dataset-level metrics."""

    sequences: int
    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    ao: float
    sr50: float
    sr75: float

    @property
    def success_auc(self) -> float:
        return float(self.success.mean()) if self.sequences else math.nan

    @property
    def precision_20(self) -> float:
        return float(self.precision[int(PRECISION_AT)]) if self.sequences else math.nan

    @property
    def norm_precision_02(self) -> float:
        if not self.sequences:
            return math.nan
        return float(self.norm_precision[int(round(NORM_PRECISION_AT / 0.01))])

    @property
    def norm_precision_auc(self) -> float:
        return float(self.norm_precision.mean()) if self.sequences else math.nan

    def scalars(self) -> Dict[str, float]:
        return {'success_auc': self.success_auc, 'precision_20': self.precision_20,
                'norm_precision': self.norm_precision_02, 'ao': self.ao, 'sr50': self.sr50,
                'sr75': self.sr75, 'norm_precision_auc': self.norm_precision_auc}


def summarize(scores: Iterable[Optional[SequenceScore]]) -> Summary:
    """Combine per-sequence scores (None entries are skipped)."""
    kept: List[SequenceScore] = [s for s in scores if s is not None]
    if not kept:
        nan21, nan51 = np.full(21, np.nan), np.full(51, np.nan)
        return Summary(0, nan21, nan51, nan51.copy(), math.nan, math.nan, math.nan)
    ious = np.concatenate([s.ious for s in kept])
    return Summary(
        sequences=len(kept),
        success=np.mean([s.success for s in kept], axis=0),
        precision=np.mean([s.precision for s in kept], axis=0),
        norm_precision=np.mean([s.norm_precision for s in kept], axis=0),
        ao=float(ious.mean()), sr50=float((ious > 0.5).mean()),
        sr75=float((ious > 0.75).mean()))
