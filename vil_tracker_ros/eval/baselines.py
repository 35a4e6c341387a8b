# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""OpenCV trackers (CSRT, KCF, MIL) behind the same interface as ``SingleObjectTracker``.

``initialize(image_rgb, box_xywh, stamp)`` and ``track(image_rgb, stamp)``
return a result with ``.box`` (x, y, w, h pixels), ``.confidence`` and
``.status``. CSRT and KCF come from OpenCV's contrib build
(``opencv-contrib-python-headless``). When OpenCV reports a failure the last
box is kept (standard OPE practice) and the status is ``lost``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional

import cv2
import numpy as np

from vil_tracker_ros.geometry import box_error

OPENCV_TRACKERS: Dict[str, str] = {
    'csrt': 'TrackerCSRT_create',
    'kcf': 'TrackerKCF_create',
    'mil': 'TrackerMIL_create',
}


@dataclasses.dataclass(frozen=True)
class BaselineResult:
    """What a baseline reports per frame (a subset of ``core.tracker.TrackResult``)."""

    box: np.ndarray          # (4,) x, y, w, h in pixels
    confidence: float        # 1 when OpenCV reports success, else 0
    status: str              # 'tracking' | 'lost'
    stamp: float


class OpenCVTracker:
    """One OpenCV single-object tracker; re-``initialize`` to start over."""

    def __init__(self, kind: str) -> None:
        if kind not in OPENCV_TRACKERS:
            raise ValueError(f'unknown OpenCV tracker {kind!r}; known: '
                             f'{", ".join(OPENCV_TRACKERS)}')
        factory = getattr(cv2, OPENCV_TRACKERS[kind], None)
        if factory is None:
            raise RuntimeError(f'cv2.{OPENCV_TRACKERS[kind]} is missing: install '
                               'opencv-contrib-python-headless (not opencv-python-headless)')
        self.kind = kind
        self._factory = factory
        self._tracker: Any = None
        self._box: Optional[np.ndarray] = None

    @staticmethod
    def _bgr(image: np.ndarray) -> np.ndarray:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 \
                or image.dtype != np.uint8:
            raise ValueError(f'image must be an HxWx3 uint8 RGB array, got '
                             f'{getattr(image, "dtype", type(image).__name__)} '
                             f'{getattr(image, "shape", "")}')
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)

    def initialize(self, image: np.ndarray, box_xywh: Any, stamp: float = 0.0) -> BaselineResult:
        bgr = self._bgr(image)
        h, w = bgr.shape[:2]
        err = box_error(box_xywh, w, h)
        if err is not None:
            raise ValueError(f'bad initial box: {err}')
        x, y, bw, bh = (float(v) for v in box_xywh)
        # OpenCV wants an integer rectangle inside the image.
        x0, y0 = int(np.clip(round(x), 0, w - 1)), int(np.clip(round(y), 0, h - 1))
        x1, y1 = int(np.clip(round(x + bw), x0 + 1, w)), int(np.clip(round(y + bh), y0 + 1, h))
        self._tracker = self._factory()
        self._tracker.init(bgr, (x0, y0, x1 - x0, y1 - y0))
        self._box = np.array([x, y, bw, bh], np.float64)
        return BaselineResult(self._box.copy(), 1.0, 'tracking', float(stamp))

    def track(self, image: np.ndarray, stamp: float = 0.0) -> BaselineResult:
        if self._tracker is None:
            raise RuntimeError('track() called before initialize()')
        ok, rect = self._tracker.update(self._bgr(image))
        if ok and rect[2] > 0 and rect[3] > 0:
            self._box = np.asarray(rect, np.float64)
            return BaselineResult(self._box.copy(), 1.0, 'tracking', float(stamp))
        return BaselineResult(self._box.copy(), 0.0, 'lost', float(stamp))
