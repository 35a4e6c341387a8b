# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""One annotated video: frames, ground truth boxes and a visibility mask.

Boxes are ``xywh`` in pixels (top-left corner, width, height). A frame whose
target is unannotated, absent, fully occluded or out of view has
``visible[i] == False``; rows without a usable box are NaN.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Dict, List, Optional, Sequence as SequenceT

import cv2
import numpy as np

FrameLoader = Callable[[int], np.ndarray]


def read_rgb(path: str) -> np.ndarray:
    """Read an image file as HxWx3 uint8 RGB; raise FileNotFoundError if unreadable."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        if not os.path.exists(path):
            raise FileNotFoundError(f'frame not found: {path}')
        raise ValueError(f'frame is not a readable image: {path}')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@dataclasses.dataclass
class Sequence:
    """An annotated sequence.

    Either ``frames`` (image paths, one per frame) or ``loader`` (a callable
    ``index -> RGB uint8 array``) provides the images; ``frames`` wins when
    both are set. ``gt`` is (N, 4) float64 xywh with NaN rows where there is no
    box; ``visible`` is (N,) bool and is False wherever ``gt`` is NaN.
    """

    name: str
    gt: np.ndarray
    visible: Optional[np.ndarray] = None
    frames: List[str] = dataclasses.field(default_factory=list)
    loader: Optional[FrameLoader] = None
    num_frames: Optional[int] = None
    dataset: str = ''
    attributes: Dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        gt = np.asarray(self.gt, dtype=np.float64)
        if gt.ndim != 2 or gt.shape[1] != 4:
            raise ValueError(f'{self.name}: gt must have shape (N, 4), got {gt.shape}')
        self.gt = gt
        if self.num_frames is None:
            self.num_frames = len(self.frames) if self.frames else len(gt)
        if self.frames and len(self.frames) != self.num_frames:
            raise ValueError(f'{self.name}: {len(self.frames)} frame paths for '
                             f'{self.num_frames} frames')
        if len(gt) != self.num_frames:
            raise ValueError(f'{self.name}: {len(gt)} ground-truth rows for '
                             f'{self.num_frames} frames')
        if not self.frames and self.loader is None:
            raise ValueError(f'{self.name}: needs frame paths or a frame loader')
        has_box = np.all(np.isfinite(gt), axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
        if self.visible is None:
            visible = has_box
        else:
            visible = np.asarray(self.visible, dtype=bool).reshape(-1)
            if len(visible) != self.num_frames:
                raise ValueError(f'{self.name}: visible has {len(visible)} entries for '
                                 f'{self.num_frames} frames')
            visible = visible & has_box
        self.visible = visible

    def __len__(self) -> int:
        return int(self.num_frames)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as HxWx3 uint8 RGB."""
        if not 0 <= index < len(self):
            raise IndexError(f'{self.name}: frame {index} out of range [0, {len(self)})')
        if self.frames:
            return read_rgb(self.frames[index])
        image = self.loader(index)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'{self.name}: loader returned {image.dtype} {image.shape}, '
                             'expected HxWx3 uint8')
        return image

    def init_box(self) -> np.ndarray:
        """Return the first frame's box (OPE starts there); error if it is not visible."""
        if len(self) == 0 or not self.visible[0]:
            raise ValueError(f'{self.name}: the first frame has no visible target box')
        return self.gt[0].copy()


def check_boxes(name: str, boxes: np.ndarray, num_frames: int) -> np.ndarray:
    """Validate an (N, 4) box array read from a file and return it as float64."""
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim == 1 and boxes.size == 4:
        boxes = boxes.reshape(1, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'{name}: expected 4 numbers per line, got shape {boxes.shape}')
    if len(boxes) != num_frames:
        raise ValueError(f'{name}: {len(boxes)} box rows for {num_frames} frames')
    return boxes


def subset(sequences: SequenceT[Sequence], names: SequenceT[str]) -> List[Sequence]:
    """Sequences named in ``names`` in that order; unknown names are an error."""
    by_name = {s.name: s for s in sequences}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise KeyError(f'unknown sequence(s): {", ".join(missing[:10])}')
    return [by_name[n] for n in names]
