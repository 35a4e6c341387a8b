# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Box formats, IoU and GIoU shared by training, the online tracker and evaluation.

Formats (last axis has 4 entries, any leading batch shape):

* ``xywh``:   top-left x, top-left y, width, height (the package default in pixels);
* ``cxcywh``: centre x, centre y, width, height (model outputs, Kalman state);
* ``xyxy``:   left, top, right, bottom.

Coordinates are continuous: pixel ``i`` covers ``[i, i + 1)``, so a box
``(0, 0, W, H)`` covers a whole ``W x H`` image. Every function works on numpy
arrays and on torch tensors (torch is only imported lazily, so evaluation code
that never touches torch does not pay for it); torch versions keep gradients,
which is what the training losses use.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

BOX_FORMATS = ('xywh', 'cxcywh', 'xyxy')


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith('torch')


def _as_array(x: Any) -> Any:
    """Keep tensors as they are; turn anything else into a float numpy array."""
    if _is_torch(x):
        return x
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[-1:] != (4,):
        raise ValueError(f'boxes must have 4 values on the last axis, got shape {arr.shape}')
    return arr


def _stack(parts: list, like: Any) -> Any:
    if _is_torch(like):
        import torch
        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def _unbind(b: Any) -> tuple:
    return b[..., 0], b[..., 1], b[..., 2], b[..., 3]


def _maximum(a: Any, b: Any) -> Any:
    if _is_torch(a):
        import torch
        return torch.maximum(a, b)
    return np.maximum(a, b)


def _minimum(a: Any, b: Any) -> Any:
    if _is_torch(a):
        import torch
        return torch.minimum(a, b)
    return np.minimum(a, b)


def _clamp_min(a: Any, lo: float) -> Any:
    return a.clamp(min=lo) if _is_torch(a) else np.maximum(a, lo)


# ------------------------------------------------------------------ conversions


def xywh_to_cxcywh(b: Any) -> Any:
    b = _as_array(b)
    x, y, w, h = _unbind(b)
    return _stack([x + 0.5 * w, y + 0.5 * h, w, h], b)


def cxcywh_to_xywh(b: Any) -> Any:
    b = _as_array(b)
    cx, cy, w, h = _unbind(b)
    return _stack([cx - 0.5 * w, cy - 0.5 * h, w, h], b)


def xywh_to_xyxy(b: Any) -> Any:
    b = _as_array(b)
    x, y, w, h = _unbind(b)
    return _stack([x, y, x + w, y + h], b)


def xyxy_to_xywh(b: Any) -> Any:
    b = _as_array(b)
    x0, y0, x1, y1 = _unbind(b)
    return _stack([x0, y0, x1 - x0, y1 - y0], b)


def cxcywh_to_xyxy(b: Any) -> Any:
    b = _as_array(b)
    cx, cy, w, h = _unbind(b)
    return _stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], b)


def xyxy_to_cxcywh(b: Any) -> Any:
    b = _as_array(b)
    x0, y0, x1, y1 = _unbind(b)
    return _stack([0.5 * (x0 + x1), 0.5 * (y0 + y1), x1 - x0, y1 - y0], b)


def convert(b: Any, src: str, dst: str) -> Any:
    """Convert boxes between any two of ``BOX_FORMATS``."""
    for name, fmt in (('src', src), ('dst', dst)):
        if fmt not in BOX_FORMATS:
            raise ValueError(f'{name}: unknown box format {fmt!r}; known: {BOX_FORMATS}')
    b = _as_array(b)
    if src == dst:
        return b.clone() if _is_torch(b) else b.copy()
    to_xyxy = {'xywh': xywh_to_xyxy, 'cxcywh': cxcywh_to_xyxy, 'xyxy': lambda v: v}
    from_xyxy = {'xywh': xyxy_to_xywh, 'cxcywh': xyxy_to_cxcywh, 'xyxy': lambda v: v}
    return from_xyxy[dst](to_xyxy[src](b))


# -------------------------------------------------------------------- overlaps


def box_area(b: Any, fmt: str = 'xywh') -> Any:
    """Area of boxes; boxes with negative width or height have area 0."""
    x0, y0, x1, y1 = _unbind(convert(b, fmt, 'xyxy'))
    return _clamp_min(x1 - x0, 0.0) * _clamp_min(y1 - y0, 0.0)


def _iou_parts(a: Any, b: Any, fmt: str, eps: float) -> tuple:
    """Intersection-over-union plus the enclosing box corners (broadcasting)."""
    a = convert(a, fmt, 'xyxy')
    b = convert(b, fmt, 'xyxy')
    ax0, ay0, ax1, ay1 = _unbind(a)
    bx0, by0, bx1, by1 = _unbind(b)
    iw = _clamp_min(_minimum(ax1, bx1) - _maximum(ax0, bx0), 0.0)
    ih = _clamp_min(_minimum(ay1, by1) - _maximum(ay0, by0), 0.0)
    inter = iw * ih
    area_a = _clamp_min(ax1 - ax0, 0.0) * _clamp_min(ay1 - ay0, 0.0)
    area_b = _clamp_min(bx1 - bx0, 0.0) * _clamp_min(by1 - by0, 0.0)
    union = area_a + area_b - inter
    iou_val = inter / (union + eps)
    enclose = (_minimum(ax0, bx0), _minimum(ay0, by0), _maximum(ax1, bx1), _maximum(ay1, by1))
    return iou_val, union, enclose


def iou(a: Any, b: Any, fmt: str = 'xywh', eps: float = 1e-12) -> Any:
    """Element-wise IoU of two broadcastable box arrays/tensors, in [0, 1]."""
    return _iou_parts(a, b, fmt, eps)[0]


def giou(a: Any, b: Any, fmt: str = 'xywh', eps: float = 1e-12) -> Any:
    """Element-wise generalised IoU (Rezatofighi et al. 2019), in [-1, 1]."""
    iou_val, union, (ex0, ey0, ex1, ey1) = _iou_parts(a, b, fmt, eps)
    enclose_area = _clamp_min(ex1 - ex0, 0.0) * _clamp_min(ey1 - ey0, 0.0)
    return iou_val - (enclose_area - union) / (enclose_area + eps)


def pairwise_iou(a: Any, b: Any, fmt: str = 'xywh') -> Any:
    """Compute the IoU matrix (N, M) between box sets a (N, 4) and b (M, 4)."""
    a = _as_array(a)
    b = _as_array(b)
    return iou(a[:, None, :], b[None, :, :], fmt)


def center_distance(a: Any, b: Any, fmt: str = 'xywh') -> Any:
    """Euclidean distance between box centres (the precision metric's error)."""
    ac = convert(a, fmt, 'cxcywh')
    bc = convert(b, fmt, 'cxcywh')
    d = ac[..., :2] - bc[..., :2]
    return (d ** 2).sum(-1) ** 0.5


def blend_aspect(box: Any, log_aspect: float, weight: float) -> np.ndarray:
    """Pull an xywh box's aspect ratio towards ``exp(log_aspect)`` (w / h) by ``weight``.

    The log aspect becomes ``(1 - weight) * log(w / h) + weight * log_aspect``; the centre
    and the area stay. ``weight`` 0 returns the box unchanged, 1 imposes the aspect.
    """
    x, y, w, h = (float(v) for v in box)
    if weight == 0.0:
        return np.array([x, y, w, h])
    aspect = math.exp((1.0 - weight) * math.log(w / h) + weight * log_aspect)
    area = w * h
    w2, h2 = math.sqrt(area * aspect), math.sqrt(area / aspect)
    return np.array([x + 0.5 * (w - w2), y + 0.5 * (h - h2), w2, h2])


# ---------------------------------------------------------------- image bounds


def clip_box_xywh(box: Any, width: float, height: float, min_size: float = 1.0) -> np.ndarray:
    """Clip an xywh box (numpy, shape (..., 4)) to a ``width x height`` image.

    The result always lies inside the image and is at least ``min_size`` wide
    and high (a box entirely outside collapses onto the nearest border).
    """
    if width < min_size or height < min_size:
        raise ValueError(f'image {width}x{height} is smaller than min_size={min_size}')
    x0, y0, x1, y1 = _unbind(xywh_to_xyxy(np.asarray(box, dtype=np.float64)))
    x0 = np.clip(x0, 0.0, width - min_size)
    y0 = np.clip(y0, 0.0, height - min_size)
    x1 = np.clip(x1, x0 + min_size, width)
    y1 = np.clip(y1, y0 + min_size, height)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=-1)


MAX_BOX_PER_IMAGE = 16.0   # box_error: longest usable box side, in image sides


def box_error(box: Any, width: float | None = None, height: float | None = None) -> str | None:
    """Say what is wrong with a single xywh pixel box, or return None if it is usable.

    Usable means: 4 finite numbers, width and height > 0 and, when the image
    size is given, at least partly inside the image and no side longer than
    ``MAX_BOX_PER_IMAGE`` times the image's longer side (larger boxes overflow the
    crop and Kalman arithmetic and are never a target).
    """
    try:
        arr = np.asarray(box, dtype=np.float64)
    except (TypeError, ValueError):
        return f'box {box!r} is not 4 numbers'
    if arr.shape != (4,):
        return f'box must be 4 numbers (x, y, w, h), got shape {arr.shape}'
    if not np.all(np.isfinite(arr)):
        return f'box {arr.tolist()} contains NaN or infinity'
    x, y, w, h = arr.tolist()
    if w <= 0 or h <= 0:
        return f'box {arr.tolist()} has non-positive size (w={w:g}, h={h:g})'
    if width is not None and height is not None:
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            return (f'box {arr.tolist()} lies entirely outside the '
                    f'{int(width)}x{int(height)} image')
        if max(w, h) > MAX_BOX_PER_IMAGE * max(width, height):
            return (f'box {arr.tolist()} is more than {MAX_BOX_PER_IMAGE:g} times the size of '
                    f'the {int(width)}x{int(height)} image')
    return None
