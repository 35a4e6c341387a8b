# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The one crop / resize / normalise implementation (tracker, training, evaluation).

A crop around box ``(x, y, w, h)`` at context ``factor`` is the square of side
``ceil(sqrt(w * h) * factor)`` pixels centred on the box centre, resampled to
``out_size x out_size``. Parts outside the image are filled with the image's
mean colour. The map between image and crop coordinates is the exact affine
``crop = (image - origin) * scale``, carried by ``CropTransform`` so boxes can
be mapped both ways without rounding. Coordinates are continuous (pixel ``i``
covers ``[i, i + 1)``); the warp below accounts for OpenCV's pixel-centre
convention so the image content and the transform agree to sub-pixel level.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Optional, Sequence, Tuple

import cv2
import numpy as np

from vil_tracker_ros.geometry import box_error

IMAGENET_MEAN = (0.485, 0.456, 0.406)   # RGB, of [0, 1] images
IMAGENET_STD = (0.229, 0.224, 0.225)
MIN_CROP_BOX = 2.0     # px; the smallest box side a tracker crop is built around


@dataclass(frozen=True)
class CropTransform:
    """Affine map between image pixels and crop pixels: ``crop = (img - origin) * scale``."""

    origin_x: float     # image x of the crop's left edge
    origin_y: float     # image y of the crop's top edge
    side: float         # crop side in image pixels
    out_size: int       # crop side in crop pixels

    @property
    def scale(self) -> float:
        """Crop pixels per image pixel."""
        return self.out_size / self.side

    def image_to_crop(self, box_xywh: Any) -> np.ndarray:
        """Map xywh box(es) (..., 4) from image pixels to crop pixels."""
        b = np.asarray(box_xywh, dtype=np.float64)
        s = self.scale
        return np.stack([(b[..., 0] - self.origin_x) * s, (b[..., 1] - self.origin_y) * s,
                         b[..., 2] * s, b[..., 3] * s], axis=-1)

    def crop_to_image(self, box_xywh: Any) -> np.ndarray:
        """Map xywh box(es) (..., 4) from crop pixels back to image pixels."""
        b = np.asarray(box_xywh, dtype=np.float64)
        inv = self.side / self.out_size
        return np.stack([b[..., 0] * inv + self.origin_x, b[..., 1] * inv + self.origin_y,
                         b[..., 2] * inv, b[..., 3] * inv], axis=-1)

    def points_to_image(self, pts: Any) -> np.ndarray:
        """Map points (..., 2) from crop pixels to image pixels."""
        p = np.asarray(pts, dtype=np.float64)
        inv = self.side / self.out_size
        return np.stack([p[..., 0] * inv + self.origin_x, p[..., 1] * inv + self.origin_y],
                        axis=-1)


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, 'shape', None)
        raise ValueError(f'image must be an HxWx3 numpy array, got shape {shape}')
    if image.dtype != np.uint8:
        raise ValueError(f'image must be uint8 RGB, got dtype {image.dtype}')
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f'image is empty: shape {image.shape}')


def crop_side(w: float, h: float, factor: float) -> int:
    """Square crop side in image pixels: ``ceil(sqrt(w * h) * factor)``, at least 1."""
    return max(1, int(math.ceil(math.sqrt(w * h) * factor)))


def crop_transform(box_xywh: Sequence[float], factor: float, out_size: int) -> CropTransform:
    """Compute the transform ``crop_region`` uses, without touching pixels."""
    err = box_error(box_xywh)
    if err is not None:
        raise ValueError(f'cannot crop around box: {err}')
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f'crop factor must be a finite number > 0, got {factor!r}')
    if int(out_size) != out_size or out_size < 1:
        raise ValueError(f'out_size must be a positive integer, got {out_size!r}')
    x, y, w, h = (float(v) for v in box_xywh)
    side = crop_side(w, h, factor)
    cx, cy = x + 0.5 * w, y + 0.5 * h
    return CropTransform(cx - 0.5 * side, cy - 0.5 * side, float(side), int(out_size))


def mean_colour(image: np.ndarray) -> Tuple[float, float, float]:
    """Per-channel mean of an image, used as the padding colour."""
    m = cv2.mean(image)
    return (m[0], m[1], m[2])


def warp_crop(image: np.ndarray, transform: CropTransform,
              pad_colour: Optional[Tuple[float, float, float]] = None) -> np.ndarray:
    """Resample the crop that ``transform`` describes (bilinear, padded)."""
    _check_image(image)
    if pad_colour is None:
        pad_colour = mean_colour(image)
    n = transform.out_size
    scale = transform.scale
    if scale >= 0.5:
        return cv2.warpAffine(image, _index_matrix(scale, scale, -transform.origin_x * scale,
                                                   -transform.origin_y * scale), (n, n),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=pad_colour)
    # Strong downscaling aliases with bilinear sampling, so first shrink the part of
    # the image the crop covers with INTER_AREA, then warp that with the exact
    # remaining affine (continuous coords: resize maps x to x * f exactly).
    h_img, w_img = image.shape[:2]
    x0 = max(0, int(math.floor(transform.origin_x)) - 1)
    y0 = max(0, int(math.floor(transform.origin_y)) - 1)
    x1 = min(w_img, int(math.ceil(transform.origin_x + transform.side)) + 1)
    y1 = min(h_img, int(math.ceil(transform.origin_y + transform.side)) + 1)
    if x1 <= x0 or y1 <= y0:   # crop entirely outside the image: all padding
        return np.full((n, n, 3), np.round(pad_colour[:3]), dtype=np.uint8)
    roi = image[y0:y1, x0:x1]
    new_w = max(1, int(round(roi.shape[1] * scale)))
    new_h = max(1, int(round(roi.shape[0] * scale)))
    small = cv2.resize(roi, (new_w, new_h), interpolation=cv2.INTER_AREA)
    fx, fy = new_w / roi.shape[1], new_h / roi.shape[0]
    m = _index_matrix(scale / fx, scale / fy, (x0 - transform.origin_x) * scale,
                      (y0 - transform.origin_y) * scale)
    return cv2.warpAffine(small, m, (n, n), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=pad_colour)


def _index_matrix(ax: float, ay: float, bx: float, by: float) -> np.ndarray:
    """Build the OpenCV matrix for the continuous map ``u = ax * x + bx``, ``v = ay * y + by``.

    OpenCV samples pixel index i at continuous coordinate i + 0.5 on both sides.
    """
    return np.array([[ax, 0.0, 0.5 * ax + bx - 0.5],
                     [0.0, ay, 0.5 * ay + by - 0.5]], dtype=np.float64)


def crop_region(image: np.ndarray, box_xywh: Sequence[float], factor: float,
                out_size: int, pad_colour: Optional[Tuple[float, float, float]] = None
                ) -> Tuple[np.ndarray, CropTransform]:
    """Crop a square of ``factor`` x the box size around the box centre.

    Returns ``(crop, transform)``: ``crop`` is ``out_size x out_size x 3`` uint8
    (same colour order as ``image``), padded with ``pad_colour``, by default the image's
    mean colour (``mean_colour``; pass it in to crop one image several times).
    Raises ``ValueError`` for a bad image, box, factor or size.
    """
    transform = crop_transform(box_xywh, factor, out_size)
    return warp_crop(image, transform, pad_colour), transform


def jitter_box(box_xywh: Sequence[float], center_jitter: float, scale_jitter: float,
               rng: np.random.Generator) -> np.ndarray:
    """Randomly shift and rescale a box, as the training crops need.

    Size is multiplied by ``exp(N(0, scale_jitter))`` per axis; the centre
    moves uniformly by up to ``+-0.5 * center_jitter * sqrt(w' * h')`` per axis
    (the OSTrack convention: search ``center_jitter=3, scale_jitter=0.25``).
    """
    err = box_error(box_xywh)
    if err is not None:
        raise ValueError(f'cannot jitter box: {err}')
    if center_jitter < 0 or scale_jitter < 0:
        raise ValueError(f'jitter must be >= 0, got center={center_jitter}, '
                         f'scale={scale_jitter}')
    x, y, w, h = (float(v) for v in box_xywh)
    wj, hj = np.array([w, h]) * np.exp(rng.standard_normal(2) * scale_jitter)
    max_offset = math.sqrt(wj * hj) * center_jitter
    cx, cy = np.array([x + 0.5 * w, y + 0.5 * h]) + max_offset * (rng.random(2) - 0.5)
    return np.array([cx - 0.5 * wj, cy - 0.5 * hj, wj, hj])


def jittered_crop(image: np.ndarray, box_xywh: Sequence[float], factor: float, out_size: int,
                  center_jitter: float, scale_jitter: float,
                  rng: np.random.Generator) -> Tuple[np.ndarray, CropTransform, np.ndarray]:
    """Crop around a jittered copy of the box (training).

    Returns ``(crop, transform, box_in_crop)`` where ``box_in_crop`` is the
    *true* box in crop pixels (xywh); divide by ``out_size`` for normalised
    coordinates.
    """
    jittered = jitter_box(box_xywh, center_jitter, scale_jitter, rng)
    crop, transform = crop_region(image, jittered, factor, out_size)
    return crop, transform, transform.image_to_crop(np.asarray(box_xywh, dtype=np.float64))


def normalize(crops: Any, device: Any = None) -> Any:
    """uint8 RGB crops -> float32 torch tensor (B, 3, H, W), ImageNet mean/std.

    ``crops`` is one HxWx3 image or a BxHxWx3 batch, as numpy or a torch uint8
    tensor (kept on its device unless ``device`` is given).
    """
    import torch
    if isinstance(crops, np.ndarray):
        if crops.dtype != np.uint8:
            raise ValueError(f'crops must be uint8, got dtype {crops.dtype}')
        t = torch.from_numpy(np.ascontiguousarray(crops))
    elif isinstance(crops, torch.Tensor):
        if crops.dtype != torch.uint8:
            raise ValueError(f'crops must be uint8, got dtype {crops.dtype}')
        t = crops
    else:
        raise ValueError(f'crops must be a numpy array or torch tensor, got {type(crops)}')
    if t.ndim == 3:
        t = t.unsqueeze(0)
    if t.ndim != 4 or t.shape[-1] != 3:
        raise ValueError(f'crops must be HxWx3 or BxHxWx3 (channels last), got {tuple(t.shape)}')
    if device is not None:
        t = t.to(device)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32, device=t.device) * 255.0
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32, device=t.device) * 255.0
    x = t.permute(0, 3, 1, 2).to(torch.float32)                          # (B, 3, H, W)
    return ((x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)).contiguous()


_MEAN_255 = np.asarray(IMAGENET_MEAN, dtype=np.float32) * np.float32(255.0)
_STD_255 = np.asarray(IMAGENET_STD, dtype=np.float32) * np.float32(255.0)


def normalize_numpy(crops: np.ndarray) -> np.ndarray:
    """Normalise like ``normalize``, but numpy in and numpy out (for onnxruntime)."""
    if not isinstance(crops, np.ndarray) or crops.dtype != np.uint8:
        raise ValueError('crops must be a uint8 numpy array')
    x = crops[None] if crops.ndim == 3 else crops
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f'crops must be HxWx3 or BxHxWx3 (channels last), got {crops.shape}')
    out = np.empty((x.shape[0], 3) + x.shape[1:3], dtype=np.float32)    # (B, 3, H, W)
    # one channel plane at a time, written in place: four times faster than a whole-array
    # expression and a transpose, with the same float32 arithmetic
    for c in range(3):
        plane = out[:, c]
        np.subtract(x[..., c], _MEAN_255[c], out=plane, dtype=np.float32)
        plane /= _STD_255[c]
    return out
