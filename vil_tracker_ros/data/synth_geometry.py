# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Geometry of the synthetic scenes: convex polygons, homographies and smooth motion.

Coordinates are pixel corners (pixel ``i`` covers ``[i, i + 1)``); ``to_opencv`` converts
a homography to OpenCV's pixel-centre convention.
"""

import math

import cv2
import numpy as np


# ------------------------------------------------------------------- polygons


def shape_polygon(kind: str, width: float, height: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Make a convex silhouette (K, 2) touching all sides of [0, width] x [0, height]."""
    if kind == 'rect':
        return np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    if kind == 'ellipse':
        angles = np.linspace(0, 2 * math.pi, 32, endpoint=False)
    elif kind == 'convex':
        angles = np.sort(rng.uniform(0, 2 * math.pi, size=int(rng.integers(5, 10))))
        angles = np.concatenate([angles, [0, math.pi / 2, math.pi, 1.5 * math.pi]])
        angles = np.unique(np.round(angles, 6))
    else:
        raise ValueError(f'unknown shape {kind!r}')
    pts = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    lo, hi = pts.min(0), pts.max(0)
    pts = (pts - lo) / (hi - lo) * np.array([width, height])
    return pts


def polygon_area(poly: np.ndarray) -> float:
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def clip_polygon(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: ``subject`` intersected with the convex polygon ``clip``."""
    if polygon_area(clip) < 0:
        clip = clip[::-1]
    out = [(float(x), float(y)) for x, y in subject]
    for i in range(len(clip)):
        if not out:
            break
        ax, ay = float(clip[i][0]), float(clip[i][1])
        ex = float(clip[(i + 1) % len(clip)][0]) - ax
        ey = float(clip[(i + 1) % len(clip)][1]) - ay
        sides = [ex * (py - ay) - ey * (px - ax) for px, py in out]
        src, out = out, []
        for j in range(len(src)):
            p, q = src[j], src[(j + 1) % len(src)]
            sp, sq = sides[j], sides[(j + 1) % len(src)]
            if sp >= 0:
                out.append(p)
            if (sp >= 0) != (sq >= 0):
                t = sp / (sp - sq)
                out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return np.array(out, np.float64).reshape(-1, 2)


def bounds_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a.min(0) < b.max(0)) and np.all(b.min(0) < a.max(0)))


def inside_convex(points: np.ndarray, poly: np.ndarray) -> bool:
    if polygon_area(poly) < 0:
        poly = poly[::-1]
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        cross = (b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0])
        if np.any(cross < 0):
            return False
    return True


def apply_homography(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = pts @ h[:2, :2].T + h[:2, 2]
    w = pts @ h[2, :2] + h[2, 2]
    return p / w[:, None]


def rasterise_alpha(poly: np.ndarray, width: int, height: int) -> np.ndarray:
    """Anti-aliased 0..255 mask of ``poly`` (corner coordinates) on a width x height grid."""
    mask = np.zeros((height, width), np.uint8)
    shift = 4
    pts = np.round((poly - 0.5) * (1 << shift)).astype(np.int32)  # OpenCV: centres at i
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift)
    return mask


# ------------------------------------------------------------- smooth motion


def smooth_signal(rng: np.random.Generator, t: np.ndarray, dims: int = 1, terms: int = 3,
                  fmin: float = 0.003, fmax: float = 0.03) -> np.ndarray:
    """Random smooth signal(s) in [-1, 1], shape (len(t), dims), zero at t = 0."""
    out = np.zeros((len(t), dims))
    for d in range(dims):
        amps = rng.uniform(0.3, 1.0, terms)
        freqs = rng.uniform(fmin, fmax, terms)
        phases = rng.uniform(0, 2 * math.pi, terms)
        sig = (amps * np.sin(2 * math.pi * freqs * t[:, None] + phases)).sum(1)
        sig -= (amps * np.sin(phases)).sum()
        out[:, d] = sig / (2 * amps.sum())
    return out


def trapezoid(t: np.ndarray, start: float, ramp: float, hold: float) -> np.ndarray:
    """0 -> 1 (raised cosine over ``ramp``), flat for ``hold``, then back to 0."""
    up = np.clip((t - start) / ramp, 0, 1)
    down = np.clip((t - start - ramp - hold) / ramp, 0, 1)
    return 0.5 - 0.5 * np.cos(math.pi * (up - down))


def translate(x: float, y: float) -> np.ndarray:
    return np.array([[1, 0, x], [0, 1, y], [0, 0, 1]], np.float64)


def rot_scale(angle: float, sx: float, sy: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c * sx, -s * sy, 0], [s * sx, c * sy, 0], [0, 0, 1]], np.float64)


def to_opencv(h: np.ndarray) -> np.ndarray:
    """Corner-coordinate homography -> OpenCV's pixel-centre convention."""
    return translate(-0.5, -0.5) @ h @ translate(0.5, 0.5)
