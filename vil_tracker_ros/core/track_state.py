# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""What the single-object tracker reports and keeps between frames, and its input checks."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
import enum
import math
from typing import Any, Dict, NamedTuple, Optional, Tuple

import numpy as np

from vil_tracker_ros.core.appearance_filter import AppearanceModel
from vil_tracker_ros.core.scale_filter import ScaleModel
from vil_tracker_ros.geometry import clip_box_xywh, cxcywh_to_xywh


class TrackStatus(str, enum.Enum):
    """Tracker state; compares equal to its string value."""

    IDLE = 'idle'
    TRACKING = 'tracking'
    LOST = 'lost'

    def __str__(self) -> str:
        return self.value


class SearchOutcome(NamedTuple):
    """One search crop's outcome (see ``SingleObjectTracker._search``)."""

    out: Any                    # backend output
    transform: Any              # crop <-> image
    raw_box: np.ndarray         # x, y, w, h in image pixels, clipped
    confidence: float
    spectrum: Optional[np.ndarray] = None   # the crop's appearance features, to learn from
    peak: float = 0.0           # the appearance filter's pooled response maximum
    agrees: bool = True         # the network's own strongest cell is at most a cell away


class SearchedFrame(NamedTuple):
    """What a frame's search (the tracker's steps 1-4) found, for its update (5-6)."""

    best: SearchOutcome
    mean: np.ndarray               # predicted state
    cov: np.ndarray
    size: Tuple[float, float]      # (w, h) the crops were made for
    template: Any                  # the template state searched with
    global_search: bool
    timings: Dict[str, float]
    centre_field: Optional[Future]           # of core.centre_filter.CentreField


class StampOrderError(ValueError):
    """A frame's stamp is not later than the previous frame's (out of order or duplicate)."""


@dataclass(frozen=True)
class TrackResult:
    """Outcome of one ``initialize`` / ``track`` call (pixel units, image coordinates)."""

    status: TrackStatus
    track_id: int                       # 0 while idle; new id per initialize
    stamp: float                        # seconds
    frame_index: int = 0                # frames since initialize (0 = the init frame)
    box: Optional[np.ndarray] = None    # (4,) filtered x, y, w, h, clipped to the image
    raw_box: Optional[np.ndarray] = None  # (4,) network measurement x, y, w, h (clipped)
    confidence: float = 0.0             # peak of the (blended) score map, in [0, 1]
    cov_xy: Optional[np.ndarray] = None  # (2, 2) Kalman covariance of (cx, cy), px^2
    cov: Optional[np.ndarray] = None    # (8, 8) full Kalman covariance
    accepted: bool = False              # the measurement updated the filter
    gated: bool = False                 # the measurement failed the chi-square gate
    gate_distance: float = math.nan     # squared Mahalanobis distance of the measurement
    search_factor: float = math.nan     # search crop factor used on this frame
    template_updated: bool = False
    global_search: bool = False         # this frame also searched the whole image
    timings: Dict[str, float] = field(default_factory=dict)   # stage -> milliseconds


@dataclass
class TrackState:
    """Mutable per-track state; the tracker replaces it wholesale after a successful call."""

    track_id: int
    stamp: float
    mean: np.ndarray
    cov: np.ndarray
    template_state: Any
    initial_template_state: Any
    initial_log_aspect: float           # log(w / h) of the initial box
    status: TrackStatus = TrackStatus.TRACKING
    frame_index: int = 0
    bad_frames: int = 0
    frames_since_template: int = 0
    search_factor: float = 4.0
    temporal_ctx: Any = None
    appearance_model: Optional[AppearanceModel] = None   # (appearance_weight > 0)
    appearance_peak: float = 0.0        # running mean of its response peak on good frames
    scale_model: Optional[ScaleModel] = None   # learnt DSST filter (scale_filter_weight > 0)
    centre_model: Optional[AppearanceModel] = None   # (centre_filter_weight > 0)

    def result(self, shape: tuple, **kw: Any) -> TrackResult:
        """Report this state for an image of ``shape``; ``kw`` fills the frame's fields."""
        height, width = shape[:2]
        box = clip_box_xywh(cxcywh_to_xywh(self.mean[:4]), width, height)
        return TrackResult(status=self.status, track_id=self.track_id, stamp=self.stamp,
                           frame_index=self.frame_index, box=box,
                           cov_xy=self.cov[:2, :2].copy(), cov=self.cov.copy(), **kw)


def check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 \
            or image.dtype != np.uint8:
        raise ValueError(f'image must be an HxWx3 uint8 RGB numpy array, got '
                         f'{getattr(image, "dtype", type(image).__name__)} '
                         f'{getattr(image, "shape", "")}')
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ValueError(f'image is too small: {image.shape}')


def check_stamp(stamp: float) -> float:
    try:
        value = float(stamp)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'stamp must be a number of seconds, got {stamp!r}') from exc
    if not math.isfinite(value):
        raise ValueError(f'stamp must be finite, got {stamp!r}')
    return value
