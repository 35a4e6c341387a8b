# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Training augmentations on uint8 RGB crops (flip, colour, grey, blur, JPEG artefacts).

Scale and shift jitter happen before cropping (``core/preprocess.jitter_box``);
these functions act on the crops themselves. A pair (template, search and the
optional previous search) gets the same flip and colour change, as a real
video would show the same object under the same light; blur hits the search
crop only (motion blur in the live frame), and so do JPEG artefacts (a compressed
camera stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import cv2
import numpy as np

from vil_tracker_ros.config import AugmentConfig


@dataclass
class CropPair:
    """Crops of one training sample; ``box`` is the search target, normalised cx, cy, w, h."""

    template: np.ndarray
    search: np.ndarray
    box: np.ndarray
    prev_search: Optional[np.ndarray] = None
    prev_box: Optional[np.ndarray] = None


def hflip(pair: CropPair) -> CropPair:
    """Mirror every crop left-right and the boxes with them (cx -> 1 - cx)."""
    def flip_box(b):
        if b is None:
            return None
        b = np.array(b, dtype=np.float64, copy=True)
        b[0] = 1.0 - b[0]
        return b
    return CropPair(
        template=np.ascontiguousarray(pair.template[:, ::-1]),
        search=np.ascontiguousarray(pair.search[:, ::-1]),
        box=flip_box(pair.box),
        prev_search=None if pair.prev_search is None
        else np.ascontiguousarray(pair.prev_search[:, ::-1]),
        prev_box=flip_box(pair.prev_box))


def colour_jitter(images: List[np.ndarray], brightness: float, contrast: float,
                  saturation: float, grey: bool) -> List[np.ndarray]:
    """Apply the same brightness/contrast/saturation factors (and greyscale) to all images."""
    out = []
    for img in images:
        x = img.astype(np.float32)
        x = x * brightness
        mean = x.mean()
        x = (x - mean) * contrast + mean
        grey_img = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)   # (H, W)
        if grey:
            x = np.repeat(grey_img[..., None], 3, axis=2)
        else:
            x = (x - grey_img[..., None]) * saturation + grey_img[..., None]
        out.append(np.clip(x, 0, 255).astype(np.uint8))
    return out


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with a kernel of about 6 sigma (odd)."""
    if sigma <= 0:
        return image
    k = max(3, int(2 * round(3 * sigma) + 1))
    return cv2.GaussianBlur(image, (k, k), sigmaX=sigma, sigmaY=sigma)


def jpeg_artefacts(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an RGB image through JPEG at ``quality`` (1..100)."""
    ok, buf = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError('JPEG encoding failed')
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def augment_pair(pair: CropPair, cfg: AugmentConfig, rng: np.random.Generator) -> CropPair:
    """Random flip, colour, blur and JPEG artefacts for one sample, drawn from ``rng``."""
    if rng.random() < cfg.flip_prob:
        pair = hflip(pair)
    b = 1.0 + rng.uniform(-cfg.brightness, cfg.brightness)
    c = 1.0 + rng.uniform(-cfg.contrast, cfg.contrast)
    s = 1.0 + rng.uniform(-cfg.saturation, cfg.saturation)
    grey = rng.random() < cfg.grayscale_prob
    images = [pair.template, pair.search]
    if pair.prev_search is not None:
        images.append(pair.prev_search)
    images = colour_jitter(images, b, c, s, grey)
    search = images[1]
    if rng.random() < cfg.blur_prob:
        search = gaussian_blur(search, rng.uniform(0.1, max(0.1, cfg.blur_sigma_max)))
    if cfg.jpeg_prob > 0 and rng.random() < cfg.jpeg_prob:
        search = jpeg_artefacts(search, int(rng.integers(cfg.jpeg_quality_min, 96)))
    return CropPair(template=images[0], search=search, box=pair.box,
                    prev_search=images[2] if pair.prev_search is not None else None,
                    prev_box=pair.prev_box)
