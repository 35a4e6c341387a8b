# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Seeded synthetic tracking sequences with exact ground truth.

A scene is a textured target (a patch cut from a photograph, or a procedural
texture, with a polygonal silhouette) moving over a photograph (the "world")
that a camera films while it pans, zooms, rolls and tilts (a homography per
frame). Optional effects: similar-looking distractors, an occluder passing in
front, the camera looking away (out of view), motion blur, illumination
changes and noise. Only scikit-image's bundled photographs and procedural
textures are used.

Ground truth is analytic: the target's polygon is mapped by the same
homography that warps its texture, clipped to the frame, and its axis-aligned
bounds are the box (pixel ``i`` covers ``[i, i + 1)``). Occluders do not
shrink the box (the box is the target's extent in the frame, as LaSOT and
GOT-10k annotate); a target entirely behind the occluder is flagged
``full_occlusion``, one that is not in the frame ``out_of_view``. Both make
the frame invisible.

``split`` selects disjoint photograph sets and disjoint random streams, so a
held-out set never shares a photo or a seed with training data.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import sys
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence as SequenceT, Tuple

import cv2
import numpy as np

from vil_tracker_ros.config import ConfigError, SyntheticConfig
from vil_tracker_ros.data.sequence import Sequence

# Disjoint photo sets per split ('cat' is the same image as 'chelsea', so it is unused).
SPLIT_PHOTOS: Dict[str, Tuple[str, ...]] = {
    'train': ('astronaut', 'coffee', 'hubble_deep_field', 'immunohistochemistry', 'retina',
              'camera', 'moon', 'grass', 'coins'),
    'heldout': ('rocket', 'chelsea', 'motorcycle', 'brick', 'gravel', 'clock'),
}
# Seed-stream tags: the same user seed gives unrelated streams in the two splits.
_SPLIT_TAG = {'train': 0x7A11, 'heldout': 0x4E1D}
TEXTURE_KINDS = ('noise', 'stripes', 'checker', 'blobs')


# ----------------------------------------------------------------- photographs


@functools.lru_cache(maxsize=None)
def load_photo(name: str) -> np.ndarray:
    """Load a bundled scikit-image photograph as HxWx3 uint8 RGB (read-only, cached)."""
    import skimage.data
    if name == 'motorcycle':
        image = skimage.data.stereo_motorcycle()[0]
    else:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            raise ValueError(f'unknown scikit-image photo {name!r}')
        image = loader()
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f'photo {name!r} is {image.dtype}, expected uint8')
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = np.ascontiguousarray(image[..., :3])
    image.setflags(write=False)
    return image


@functools.lru_cache(maxsize=64)
def _world_image(name: str, short_side: int) -> np.ndarray:
    photo = load_photo(name)
    k = short_side / min(photo.shape[:2])
    size = (max(1, round(photo.shape[1] * k)), max(1, round(photo.shape[0] * k)))
    world = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA)
    world.setflags(write=False)
    return world


def split_photos(cfg: SyntheticConfig) -> Tuple[str, ...]:
    """Return the photographs this config may use; one of the other split is an error."""
    allowed = SPLIT_PHOTOS[cfg.split]
    if not cfg.photos:
        return allowed
    bad = [p for p in cfg.photos if p not in allowed]
    if bad:
        raise ConfigError(f'photos: {", ".join(bad)} not in the {cfg.split!r} split '
                          f'(allowed: {", ".join(allowed)})')
    return tuple(cfg.photos)


# ------------------------------------------------------------------- textures


def procedural_texture(kind: str, width: int, height: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Draw a random HxWx3 uint8 texture of ``kind`` (one of TEXTURE_KINDS)."""
    h, w = int(height), int(width)
    colours = rng.uniform(0, 255, size=(3, 3))
    if kind == 'noise':
        field = np.zeros((h, w), np.float32)
        for octave in range(1, 5):
            cells = 2 ** octave
            grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
            field += cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC) / octave
        field = (field - field.min()) / max(1e-6, float(np.ptp(field)))
    elif kind in ('stripes', 'checker'):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = rng.uniform(0, math.pi)
        period = rng.uniform(6, 24)
        u = xx * math.cos(angle) + yy * math.sin(angle)
        field = 0.5 + 0.5 * np.sin(2 * math.pi * u / period)
        if kind == 'checker':
            v = -xx * math.sin(angle) + yy * math.cos(angle)
            field = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
            field = cv2.GaussianBlur(field, (0, 0), 0.8)
    elif kind == 'blobs':
        field = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(4, 12))):
            centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            radius = int(rng.uniform(0.08, 0.3) * min(w, h)) + 1
            cv2.circle(field, centre, radius, float(rng.uniform(0.3, 1.0)), -1, cv2.LINE_AA)
        field = cv2.GaussianBlur(field, (0, 0), 1.0)
        field = np.clip(field, 0, 1)
    else:
        raise ValueError(f'unknown texture kind {kind!r}; known: {TEXTURE_KINDS}')
    # Map the scalar field through a random three-colour ramp.
    f = field[..., None]
    low = np.clip(1 - 2 * f, 0, 1)
    high = np.clip(2 * f - 1, 0, 1)
    mid = 1 - low - high
    image = low * colours[0] + mid * colours[1] + high * colours[2]
    image += rng.normal(0, 4, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _photo_patch(photo: np.ndarray, width: int, height: int,
                 rng: np.random.Generator) -> np.ndarray:
    ph, pw = photo.shape[:2]
    aspect = width / height
    side = rng.uniform(0.15, 0.5) * min(ph, pw)
    cw = int(min(pw, max(4, side * math.sqrt(aspect))))
    ch = int(min(ph, max(4, side / math.sqrt(aspect))))
    x0 = int(rng.integers(0, pw - cw + 1))
    y0 = int(rng.integers(0, ph - ch + 1))
    patch = photo[y0:y0 + ch, x0:x0 + cw]
    return cv2.resize(patch, (width, height), interpolation=cv2.INTER_AREA)


def _colour_jitter(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    gain = np.exp(rng.normal(0, strength, size=3))
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


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


def _bounds_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a.min(0) < b.max(0)) and np.all(b.min(0) < a.max(0)))


def _inside_convex(points: np.ndarray, poly: np.ndarray) -> bool:
    if polygon_area(poly) < 0:
        poly = poly[::-1]
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        cross = (b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0])
        if np.any(cross < 0):
            return False
    return True


def _apply(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = pts @ h[:2, :2].T + h[:2, 2]
    w = pts @ h[2, :2] + h[2, 2]
    return p / w[:, None]


def _rasterise_alpha(poly: np.ndarray, width: int, height: int) -> np.ndarray:
    """Anti-aliased 0..255 mask of ``poly`` (corner coordinates) on a width x height grid."""
    mask = np.zeros((height, width), np.uint8)
    shift = 4
    pts = np.round((poly - 0.5) * (1 << shift)).astype(np.int32)  # OpenCV: centres at i
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift)
    return mask


# ------------------------------------------------------------- smooth motion


def _smooth(rng: np.random.Generator, t: np.ndarray, dims: int = 1, terms: int = 3,
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


def _trapezoid(t: np.ndarray, start: float, ramp: float, hold: float) -> np.ndarray:
    """0 -> 1 (raised cosine over ``ramp``), flat for ``hold``, then back to 0."""
    up = np.clip((t - start) / ramp, 0, 1)
    down = np.clip((t - start - ramp - hold) / ramp, 0, 1)
    return 0.5 - 0.5 * np.cos(math.pi * (up - down))


def _translate(x: float, y: float) -> np.ndarray:
    return np.array([[1, 0, x], [0, 1, y], [0, 0, 1]], np.float64)


def _rot_scale(angle: float, sx: float, sy: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c * sx, -s * sy, 0], [s * sx, c * sy, 0], [0, 0, 1]], np.float64)


def _to_opencv(h: np.ndarray) -> np.ndarray:
    """Corner-coordinate homography -> OpenCV's pixel-centre convention."""
    return _translate(-0.5, -0.5) @ h @ _translate(0.5, 0.5)


def _noise(shape: Tuple[int, int], key: Tuple[int, int], std: float) -> np.ndarray:
    """Gaussian noise (H, W, 3): a random window of a shared, tiled noise bank.

    Drawing fresh normals per frame costs ~10 ms at 640x480; a window of a
    fixed bank at a per-frame random offset looks the same and costs ~0.2 ms.
    """
    h, w = shape
    reps = (h // _NOISE_TILE + 2, w // _NOISE_TILE + 2)
    bank = _noise_bank(reps)
    oy, ox = np.random.default_rng(list(key)).integers(0, _NOISE_TILE, size=2)
    return bank[oy:oy + h, ox:ox + w] * np.float32(std)


_NOISE_TILE = 256


@functools.lru_cache(maxsize=8)
def _noise_bank(reps: Tuple[int, int]) -> np.ndarray:
    tile = np.random.default_rng(0x5EED).standard_normal((_NOISE_TILE, _NOISE_TILE, 3),
                                                         dtype=np.float32)
    bank = np.tile(tile, (reps[0], reps[1], 1))
    bank.setflags(write=False)
    return bank


# ---------------------------------------------------------------------- scene


@dataclasses.dataclass
class _Sprite:
    """A textured polygon: RGBA texture, silhouette, and a local->space map per frame."""

    rgba: np.ndarray                 # (h, w, 4) uint8
    poly: np.ndarray                 # (K, 2) local corner coordinates
    poses: np.ndarray                # (L, 3, 3) local -> world (or frame) homographies


class SyntheticScene:
    """One seeded synthetic sequence; frames are rendered on demand."""

    def __init__(self, cfg: SyntheticConfig, index: int, attempt: int = 0) -> None:
        cfg.validate()
        if index < 0:
            raise ValueError(f'sequence index must be >= 0, got {index}')
        self.cfg = cfg
        self.index = index
        self.width, self.height = cfg.frame_width, cfg.frame_height
        self.length = cfg.length
        photos = split_photos(cfg)
        rng = np.random.default_rng([_SPLIT_TAG[cfg.split], cfg.seed, index, attempt])
        self._noise_key = int(rng.integers(1 << 62))
        self._build(rng, photos)
        self._compute_ground_truth()

    # ------------------------------------------------------------ construction

    def _build(self, rng: np.random.Generator, photos: SequenceT[str]) -> None:
        cfg = self.cfg
        W, H, L = self.width, self.height, self.length
        short = min(W, H)
        t = np.arange(L, dtype=np.float64)

        self.background = str(rng.choice(photos))
        world = _world_image(self.background, int(1.8 * max(W, H)))
        self._world = world
        wh, ww = world.shape[:2]
        # Mirroring the photo (background only) doubles the variety of views.
        self._flip = (_translate(ww, 0) @ np.diag([-1.0, 1.0, 1.0]) if rng.random() < 0.5
                      else np.eye(3))

        # Camera: zoom, roll and keystone; it follows the target with a wandering offset.
        s0 = rng.uniform(0.8, 1.25)
        zoom = s0 * np.exp(cfg.camera_zoom * _smooth(rng, t)[:, 0])
        # Random initial roll/spin/offset so first frames are not all alike.
        roll = math.radians(cfg.camera_rotation) * (_smooth(rng, t)[:, 0] + rng.uniform(-.5, .5))
        half_diag = 0.5 * math.hypot(W, H)
        tilt = cfg.perspective / half_diag * _smooth(rng, t, dims=2)

        # Target: texture, silhouette and world trajectory.
        target_px = rng.uniform(*cfg.target_scale) * short
        aspect = math.exp(rng.uniform(-0.6, 0.6))
        tw = max(6, int(round(target_px * math.sqrt(aspect))))
        th = max(6, int(round(target_px / math.sqrt(aspect))))
        if rng.random() < cfg.texture:
            self.target_source = str(rng.choice(TEXTURE_KINDS))
            rgb = procedural_texture(self.target_source, tw, th, rng)
        else:
            self.target_source = str(rng.choice(photos))
            rgb = _photo_patch(load_photo(self.target_source), tw, th, rng)
        self.target_shape = 'rect' if rng.random() >= cfg.shapes else str(
            rng.choice(['ellipse', 'convex']))
        poly = shape_polygon(self.target_shape, tw, th, rng)
        rgba = np.dstack([rgb, _rasterise_alpha(poly, tw, th)])

        speed_world = cfg.target_speed * short / s0
        fmean = 0.012
        amp = min(0.3 * min(ww, wh), speed_world / (2 * math.pi * fmean) + 1e-9)
        path = np.array([ww / 2, wh / 2]) + amp * _smooth(rng, t, dims=2)
        size = np.exp(cfg.target_deform * _smooth(rng, t, dims=2))        # (L, 2) sx, sy
        spin = math.radians(cfg.target_rotation) * (_smooth(rng, t)[:, 0] + rng.uniform(-.5, .5))
        base = 1.0 / s0
        tgt_poses = np.stack([
            _translate(*path[i]) @ _rot_scale(spin[i], base * size[i, 0], base * size[i, 1])
            @ _translate(-tw / 2, -th / 2) for i in range(L)])
        self._target = _Sprite(rgba, poly, tgt_poses)

        # Camera centre: follow the target, wander, and maybe look away (out of view).
        offset_px = cfg.camera_offset * short * (_smooth(rng, t, dims=2, fmin=0.005, fmax=0.04)
                                                 + rng.uniform(-0.5, 0.5, size=2))
        self.out_of_view_event = None
        if L >= 12 and rng.random() < cfg.out_of_view:
            start = rng.uniform(0.2, 0.6) * L
            ramp = max(2.0, rng.uniform(0.03, 0.08) * L)
            hold = max(2.0, rng.uniform(0.05, 0.15) * L)
            direction = rng.normal(size=2)
            direction /= np.linalg.norm(direction)
            # Far enough that the target (at its largest) leaves the frame entirely.
            reach = (half_diag + cfg.camera_offset * short + 8
                     + 1.5 * target_px * math.exp(cfg.target_deform + cfg.camera_zoom))
            offset_px = offset_px + reach * _trapezoid(t, start, ramp, hold)[:, None] * direction
            self.out_of_view_event = (float(start), float(start + 2 * ramp + hold))
        cams = []
        for i in range(L):
            centre = path[i] + offset_px[i] / zoom[i]
            persp = np.eye(3)
            persp[2, :2] = tilt[i]
            cams.append(_translate(W / 2, H / 2) @ persp @ _rot_scale(roll[i], zoom[i], zoom[i])
                        @ _translate(-centre[0], -centre[1]))
        self._camera = np.stack(cams)

        # Distractors: colour-jittered copies wandering around the target, drawn beneath it.
        self._distractors: List[_Sprite] = []
        for _ in range(cfg.distractors):
            d_rgb = _colour_jitter(rgb, rng, 0.12)
            if rng.random() < 0.3:
                d_rgb = np.ascontiguousarray(d_rgb[:, ::-1])
            around = 2.5 * target_px / s0 * _smooth(rng, t, dims=2, fmin=0.01, fmax=0.05)
            start = rng.normal(size=2)
            start = 2.0 * target_px / s0 * start / np.linalg.norm(start)
            d_scale = rng.uniform(0.75, 1.25)
            d_spin = spin + rng.uniform(-0.5, 0.5)
            d_poses = np.stack([
                _translate(*(path[i] + start + around[i]))
                @ _rot_scale(d_spin[i], base * d_scale * size[i, 0], base * d_scale * size[i, 1])
                @ _translate(-tw / 2, -th / 2) for i in range(L)])
            self._distractors.append(_Sprite(np.dstack([d_rgb, rgba[..., 3]]), poly, d_poses))

        # Occluder: a foreground patch crossing the target's image path (frame coordinates).
        self._occluder: Optional[_Sprite] = None
        if L >= 8 and rng.random() < cfg.occlusion:
            self._occluder = self._make_occluder(rng, photos, target_px, t)

        # Photometric effects.
        self._gain = np.exp(cfg.illumination * (_smooth(rng, t, dims=1)
                                                + 0.3 * _smooth(rng, t, dims=3)))  # (L, 3)
        if cfg.illumination > 0 and L >= 4 and rng.random() < 0.5:
            step_at = int(rng.integers(L // 4, L))
            self._gain[step_at:] *= math.exp(rng.choice([-1, 1]) * cfg.illumination)
        self._blur = np.zeros((L, 2))
        if cfg.motion_blur > 0:
            centre = np.array([[W / 2, H / 2]])
            for i in range(1, L):
                prev = _apply(np.linalg.inv(self._camera[i - 1]), centre)
                self._blur[i] = cfg.motion_blur * (_apply(self._camera[i], prev) - centre)[0]
            shaky = rng.random(L) < 0.08
            self._blur[shaky] += cfg.motion_blur * rng.normal(0, 6, size=(int(shaky.sum()), 2))

    def _make_occluder(self, rng: np.random.Generator, photos: SequenceT[str],
                       target_px: float, t: np.ndarray) -> _Sprite:
        L = self.length
        size = rng.uniform(1.6, 2.6) * target_px
        ow = int(round(size * math.exp(rng.uniform(-0.3, 0.3))))
        oh = int(round(size * size / ow))
        if rng.random() < 0.5:
            rgb = procedural_texture(str(rng.choice(TEXTURE_KINDS)), ow, oh, rng)
        else:
            rgb = _photo_patch(load_photo(str(rng.choice(photos))), ow, oh, rng)
        poly = shape_polygon(str(rng.choice(['rect', 'ellipse', 'convex'])), ow, oh, rng)
        rgba = np.dstack([rgb, _rasterise_alpha(poly, ow, oh)])
        t_cross = rng.uniform(0.3, 0.8) * L
        direction = rng.normal(size=2)
        direction /= np.linalg.norm(direction)
        # Fast enough to be well clear of the target at frame 0 (which must be visible).
        clear = math.hypot(ow, oh) + 2 * target_px + 8
        speed = max(rng.uniform(0.03, 0.08) * size, clear / t_cross)
        ic = int(round(t_cross))
        centre_at_cross = self._target_centre(min(ic, L - 1))
        centres = centre_at_cross + speed * (t - t_cross)[:, None] * direction
        angle = rng.uniform(-0.4, 0.4)
        poses = np.stack([_translate(*centres[i]) @ _rot_scale(angle, 1, 1)
                          @ _translate(-ow / 2, -oh / 2) for i in range(L)])
        return _Sprite(rgba, poly, poses)

    def _target_centre(self, i: int) -> np.ndarray:
        h = self._camera[i] @ self._target.poses[i]
        th, tw = self._target.rgba.shape[:2]
        return _apply(h, np.array([[tw / 2, th / 2]]))[0]

    def _compute_ground_truth(self) -> None:
        L, W, H = self.length, self.width, self.height
        frame_rect = np.array([[0, 0], [W, 0], [W, H], [0, H]], np.float64)
        self.gt = np.full((L, 4), np.nan)
        self.full_box = np.zeros((L, 4))
        self.out_of_view = np.zeros(L, bool)
        self.full_occlusion = np.zeros(L, bool)
        self.occlusion_ratio = np.zeros(L)
        for i in range(L):
            poly = self.target_polygon(i)
            lo, hi = poly.min(0), poly.max(0)
            self.full_box[i] = [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
            if np.all(lo >= 0) and hi[0] <= W and hi[1] <= H:
                inside = poly                       # fully in frame: nothing to clip
            else:
                inside = clip_polygon(poly, frame_rect)
            if len(inside) < 3:
                self.out_of_view[i] = True
                continue
            lo, hi = inside.min(0), inside.max(0)
            if hi[0] - lo[0] < 1.0 or hi[1] - lo[1] < 1.0:
                self.out_of_view[i] = True   # a sliver under one pixel is not annotatable
                continue
            self.gt[i] = [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
            if self._occluder is not None and _bounds_overlap(inside, self.occluder_polygon(i)):
                occ = self.occluder_polygon(i)
                area = abs(polygon_area(inside))
                covered = abs(polygon_area(clip_polygon(inside, occ)))
                self.occlusion_ratio[i] = min(1.0, covered / max(area, 1e-9))
                self.full_occlusion[i] = _inside_convex(inside, occ)
        self.visible = ~(self.out_of_view | self.full_occlusion)
        if not self.visible[0] or self.occlusion_ratio[0] > 0:
            raise RuntimeError(f'synthetic sequence {self.index}: target not clear at frame 0')

    # ---------------------------------------------------------------- geometry

    def target_polygon(self, i: int) -> np.ndarray:
        """Return the target silhouette in frame ``i`` (frame pixel corner coordinates)."""
        return _apply(self._camera[i] @ self._target.poses[i], self._target.poly)

    def occluder_polygon(self, i: int) -> np.ndarray:
        if self._occluder is None:
            raise ValueError('this scene has no occluder')
        return _apply(self._occluder.poses[i], self._occluder.poly)

    def distractor_boxes(self, i: int) -> np.ndarray:
        """Unclipped xywh boxes of the distractors in frame ``i`` (D, 4)."""
        boxes = []
        for d in self._distractors:
            p = _apply(self._camera[i] @ d.poses[i], d.poly)
            lo, hi = p.min(0), p.max(0)
            boxes.append([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
        return np.array(boxes, np.float64).reshape(-1, 4)

    # --------------------------------------------------------------- rendering

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` as HxWx3 uint8 RGB."""
        return self.render(i)

    def render(self, i: int, view: Optional[np.ndarray] = None,
               out_size: Optional[Tuple[int, int]] = None,
               pad_colour: Optional[SequenceT[float]] = None) -> np.ndarray:
        """Render frame ``i`` through ``view`` (3x3, frame -> output pixels).

        With ``view=None`` this is the full frame. ``out_size`` is (width,
        height). Output pixels that fall outside the frame show ``pad_colour``
        when it is given (matching ``core.preprocess`` crops), else the scene
        continues beyond the frame edge.
        """
        if not 0 <= i < self.length:
            raise IndexError(f'frame {i} out of range [0, {self.length})')
        view = np.eye(3) if view is None else np.asarray(view, np.float64)
        if out_size is None:
            out_size = (self.width, self.height)
        ow, oh = int(out_size[0]), int(out_size[1])
        cam = view @ self._camera[i]
        image = cv2.warpPerspective(self._world, _to_opencv(cam @ self._flip), (ow, oh),
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        image = image.astype(np.float32)
        for d in self._distractors:
            self._composite(image, d, cam @ d.poses[i])
        self._composite(image, self._target, cam @ self._target.poses[i])
        if self._occluder is not None:
            self._composite(image, self._occluder, view @ self._occluder.poses[i])
        image *= self._gain[i].astype(np.float32)
        scale = math.sqrt(abs(np.linalg.det(view[:2, :2])))
        image = self._motion_blur(image, self._blur[i] * scale)
        if self.cfg.noise > 0:
            image += _noise(image.shape[:2], (self._noise_key, i), self.cfg.noise * 255)
        if pad_colour is not None:
            self._pad_outside_frame(image, view, np.asarray(pad_colour, np.float32)[:3])
        return np.clip(image, 0, 255).astype(np.uint8)

    def _pad_outside_frame(self, image: np.ndarray, view: np.ndarray,
                           colour: np.ndarray) -> None:
        """Paint output pixels whose centre maps outside the frame with ``colour``."""
        oh, ow = image.shape[:2]
        if view[0, 1] == 0 and view[1, 0] == 0 and not view[2, :2].any() and view[0, 0] > 0 \
                and view[1, 1] > 0:
            # Scale + translation (every crop): the frame is a rectangle in the output.
            x0 = view[0, 2] / view[2, 2]
            x1 = (view[0, 0] * self.width + view[0, 2]) / view[2, 2]
            y0 = view[1, 2] / view[2, 2]
            y1 = (view[1, 1] * self.height + view[1, 2]) / view[2, 2]
            c0 = int(np.clip(math.ceil(x0 - 0.5), 0, ow))
            c1 = int(np.clip(math.ceil(x1 - 0.5), 0, ow))
            r0 = int(np.clip(math.ceil(y0 - 0.5), 0, oh))
            r1 = int(np.clip(math.ceil(y1 - 0.5), 0, oh))
            image[:r0] = colour
            image[r1:] = colour
            image[:, :c0] = colour
            image[:, c1:] = colour
            return
        inside = cv2.warpPerspective(np.ones((self.height, self.width), np.uint8),
                                     _to_opencv(view), (ow, oh), flags=cv2.INTER_NEAREST,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        image[inside == 0] = colour

    @staticmethod
    def _composite(image: np.ndarray, sprite: _Sprite, h: np.ndarray) -> None:
        """Alpha-blend ``sprite`` mapped by ``h`` (local -> output pixels) into ``image``."""
        oh, ow = image.shape[:2]
        corners = np.array([[0, 0], [sprite.rgba.shape[1], 0],
                            [sprite.rgba.shape[1], sprite.rgba.shape[0]],
                            [0, sprite.rgba.shape[0]]], np.float64)
        x0, y0, x1, y1 = 0, 0, ow, oh
        if np.all(corners @ h[2, :2] + h[2, 2] > 0):
            # Warp only the sprite's bounding rectangle: far cheaper than the whole output.
            p = _apply(h, corners)
            x0, y0 = max(0, int(math.floor(p[:, 0].min())) - 1), max(0, int(math.floor(
                p[:, 1].min())) - 1)
            x1, y1 = min(ow, int(math.ceil(p[:, 0].max())) + 1), min(oh, int(math.ceil(
                p[:, 1].max())) + 1)
            if x1 <= x0 or y1 <= y0:
                return
        roi_h = _translate(-x0, -y0) @ h
        warped = cv2.warpPerspective(sprite.rgba, _to_opencv(roi_h), (x1 - x0, y1 - y0),
                                     flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                     borderValue=0)
        alpha = warped[..., 3:4].astype(np.float32) * (1.0 / 255.0)
        region = image[y0:y1, x0:x1]
        region += alpha * (warped[..., :3].astype(np.float32) - region)

    @staticmethod
    def _motion_blur(image: np.ndarray, vector: np.ndarray) -> np.ndarray:
        length = float(np.hypot(*vector))
        if length < 1.5:
            return image
        k = int(math.ceil(length)) | 1
        kernel = np.zeros((k, k), np.float32)
        c = k // 2
        d = vector / length * (length / 2)
        cv2.line(kernel, (int(round(c - d[0])), int(round(c - d[1]))),
                 (int(round(c + d[0])), int(round(c + d[1]))), 1.0, 1, cv2.LINE_AA)
        kernel /= kernel.sum()
        return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)

    def target_mask(self, i: int) -> np.ndarray:
        """Coverage (H, W) float32 in [0, 1] of the target in frame ``i``, ignoring occluders.

        Rendered with the same warp as the frame, so it shows exactly where the
        target's pixels land (tests check the ground truth against it).
        """
        return self._sprite_mask(self._target, self._camera[i] @ self._target.poses[i])

    def occluder_mask(self, i: int) -> np.ndarray:
        """Coverage (H, W) float32 of the occluder in frame ``i`` (zeros if none)."""
        if self._occluder is None:
            return np.zeros((self.height, self.width), np.float32)
        return self._sprite_mask(self._occluder, self._occluder.poses[i])

    def _sprite_mask(self, sprite: _Sprite, h: np.ndarray) -> np.ndarray:
        white = dataclasses.replace(sprite, rgba=np.dstack(
            [np.full(sprite.rgba.shape[:2] + (3,), 255, np.uint8), sprite.rgba[..., 3]]))
        canvas = np.zeros((self.height, self.width, 3), np.float32)
        self._composite(canvas, white, h)
        return canvas[..., 0] / 255.0

    def frame_mean(self, i: int) -> Tuple[float, float, float]:
        """Approximate per-channel mean of frame ``i``: its background at 32 px, lit.

        Used as the padding colour of crops (``core.preprocess`` pads with the
        frame mean); the sprites are small, so they are left out for speed.
        """
        k = 32.0 / self.width
        size = (32, max(1, int(round(self.height * k))))
        cam = np.diag([k, k, 1.0]) @ self._camera[i] @ self._flip
        thumb = cv2.warpPerspective(self._world, _to_opencv(cam), size, flags=cv2.INTER_AREA,
                                    borderMode=cv2.BORDER_REFLECT_101)
        m = thumb.reshape(-1, 3).mean(0) * self._gain[i]
        return (float(m[0]), float(m[1]), float(m[2]))

    def render_crop(self, i: int, transform: Any,
                    pad_colour: Optional[SequenceT[float]] = None) -> np.ndarray:
        """Render a ``core.preprocess.CropTransform`` crop of frame ``i`` directly.

        ``transform`` has ``origin_x, origin_y, side, out_size``. Equivalent to
        ``warp_crop(frame(i), transform)`` (outside the frame is padded with the
        frame's mean colour) but costs only the crop's pixels.
        """
        s = transform.out_size / transform.side
        view = np.array([[s, 0, -s * transform.origin_x], [0, s, -s * transform.origin_y],
                         [0, 0, 1]], np.float64)
        if pad_colour is None:
            pad_colour = self.frame_mean(i)
        n = int(transform.out_size)
        return self.render(i, view=view, out_size=(n, n), pad_colour=pad_colour)

    # -------------------------------------------------------------- metadata

    @property
    def name(self) -> str:
        return f'{self.category}-{self.index + 1}'

    @property
    def category(self) -> str:
        return self.target_source.replace('_', '')

    def attributes(self) -> dict:
        return {
            'split': self.cfg.split, 'seed': self.cfg.seed, 'index': self.index,
            'background': self.background, 'target_source': self.target_source,
            'target_shape': self.target_shape, 'distractors': len(self._distractors),
            'occluder': self._occluder is not None,
            'out_of_view_event': self.out_of_view_event,
            'frame_size': [self.width, self.height],
        }

    def description(self) -> str:
        return (f'a {self.target_shape} {self.target_source} patch moving over '
                f'{self.background}')

    def to_sequence(self) -> Sequence:
        """Wrap this scene as a ``Sequence`` whose frames are rendered on demand."""
        attrs = self.attributes()
        attrs.update(full_occlusion=self.full_occlusion.copy(),
                     out_of_view=self.out_of_view.copy(),
                     occlusion_ratio=self.occlusion_ratio.copy())
        return Sequence(name=self.name, gt=self.gt.copy(), visible=self.visible.copy(),
                        loader=self.frame, num_frames=self.length, dataset='synthetic',
                        attributes=attrs)


def make_scene(cfg: SyntheticConfig, index: int) -> SyntheticScene:
    """Scene ``index`` of the stream defined by ``cfg`` (split, seed).

    A draw whose first frame is not clear (rare) is redrawn from the next
    sub-seed, deterministically.
    """
    last_error: Optional[Exception] = None
    for attempt in range(8):
        try:
            return SyntheticScene(cfg, index, attempt)
        except RuntimeError as exc:
            last_error = exc
    raise RuntimeError(f'could not draw synthetic sequence {index}: {last_error}')


def generate(cfg: SyntheticConfig, num: int, start: int = 0) -> Iterator[SyntheticScene]:
    """Scenes ``start .. start + num - 1`` of the stream."""
    if num < 0:
        raise ValueError(f'num must be >= 0, got {num}')
    for index in range(start, start + num):
        yield make_scene(cfg, index)


def make_sequences(cfg: SyntheticConfig, num: int, start: int = 0) -> List[Sequence]:
    """In-memory sequences (frames rendered lazily when asked for)."""
    return [scene.to_sequence() for scene in generate(cfg, num, start)]


# ------------------------------------------------------------------- writers


def _write_jpeg(path: str, rgb: np.ndarray, quality: int) -> None:
    ok = cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                     [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise OSError(f'could not write {path}')


def _box_lines(boxes: np.ndarray) -> str:
    return ''.join(','.join(_fmt(v) for v in row) + '\n' for row in boxes)


def _fmt(v: float) -> str:
    return 'NaN' if not math.isfinite(v) else f'{v:.3f}'.rstrip('0').rstrip('.')


def write_lasot(scene: SyntheticScene, root: str) -> str:
    """Write ``root/<category>/<name>/img/00000001.jpg`` + LaSOT annotation files."""
    seq_dir = os.path.join(root, scene.category, scene.name)
    img_dir = os.path.join(seq_dir, 'img')
    os.makedirs(img_dir, exist_ok=True)
    for i in range(scene.length):
        _write_jpeg(os.path.join(img_dir, f'{i + 1:08d}.jpg'), scene.frame(i),
                    scene.cfg.jpeg_quality)
    # LaSOT keeps a box for fully occluded frames; out-of-view frames get zeros.
    boxes = np.where(scene.out_of_view[:, None], 0.0, scene.gt)
    with open(os.path.join(seq_dir, 'groundtruth.txt'), 'w') as f:
        f.write(_box_lines(boxes))
    for fname, flags in (('full_occlusion.txt', scene.full_occlusion),
                         ('out_of_view.txt', scene.out_of_view)):
        with open(os.path.join(seq_dir, fname), 'w') as f:
            f.write(','.join(str(int(v)) for v in flags) + '\n')
    with open(os.path.join(seq_dir, 'nlp.txt'), 'w') as f:
        f.write(scene.description() + '\n')
    with open(os.path.join(seq_dir, 'synthetic.json'), 'w') as f:
        json.dump(scene.attributes(), f, indent=1)
    return seq_dir


def write_uav123(scene: SyntheticScene, root: str) -> str:
    """Write ``root/data_seq/UAV123/<name>/000001.jpg`` + ``root/anno/UAV123/<name>.txt``."""
    img_dir = os.path.join(root, 'data_seq', 'UAV123', scene.name)
    anno_dir = os.path.join(root, 'anno', 'UAV123')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(anno_dir, exist_ok=True)
    for i in range(scene.length):
        _write_jpeg(os.path.join(img_dir, f'{i + 1:06d}.jpg'), scene.frame(i),
                    scene.cfg.jpeg_quality)
    boxes = np.where(scene.visible[:, None], scene.gt, np.nan)   # UAV123: NaN when invisible
    with open(os.path.join(anno_dir, f'{scene.name}.txt'), 'w') as f:
        f.write(_box_lines(boxes))
    return img_dir


WRITERS: Dict[str, Callable[[SyntheticScene, str], str]] = {
    'lasot': write_lasot, 'uav123': write_uav123}


def write_dataset(cfg: SyntheticConfig, out: str, fmt: str, num: int,
                  progress: bool = False) -> List[str]:
    """Render ``num`` sequences to ``out`` in ``fmt`` ('lasot' or 'uav123')."""
    if fmt not in WRITERS:
        raise ValueError(f'unknown format {fmt!r}; known: {", ".join(WRITERS)}')
    scenes = generate(cfg, num)
    if progress:
        from tqdm import tqdm
        scenes = tqdm(scenes, total=num, desc=f'synthetic {fmt}', file=sys.stderr)
    return [WRITERS[fmt](scene, out) for scene in scenes]


# ----------------------------------------------------------------------- CLI


def main(argv: Optional[SequenceT[str]] = None) -> int:
    """``vil-tracker-make-synthetic``: write a seeded synthetic benchmark to disk."""
    parser = argparse.ArgumentParser(
        prog='vil-tracker-make-synthetic',
        description='Write seeded synthetic tracking sequences in the LaSOT or UAV123 layout.')
    parser.add_argument('--out', required=True, help='output root directory')
    parser.add_argument('--format', choices=sorted(WRITERS), default='lasot')
    parser.add_argument('--split', choices=sorted(SPLIT_PHOTOS), default='heldout',
                        help='photo set and seed stream (train and heldout are disjoint)')
    parser.add_argument('--num', type=int, default=10, help='number of sequences')
    parser.add_argument('--length', type=int, default=100, help='frames per sequence')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                        help='any other SyntheticConfig field (JSON value), repeatable')
    args = parser.parse_args(argv)
    fields = {'split': args.split, 'length': args.length, 'seed': args.seed,
              'frame_width': args.width, 'frame_height': args.height}
    try:
        for item in args.set:
            key, sep, value = item.partition('=')
            if not sep:
                raise ConfigError(f'--set expects KEY=VALUE, got {item!r}')
            try:
                fields[key] = json.loads(value)
            except json.JSONDecodeError:
                fields[key] = value
        from vil_tracker_ros.config import from_dict
        cfg = from_dict(SyntheticConfig, fields)
        split_photos(cfg)
        if args.num < 1:
            raise ConfigError(f'--num must be >= 1, got {args.num}')
    except ConfigError as exc:
        parser.error(str(exc))
    paths = write_dataset(cfg, args.out, args.format, args.num, progress=True)
    print(json.dumps({'out': os.path.abspath(args.out), 'format': args.format,
                      'split': cfg.split, 'sequences': len(paths), 'length': cfg.length}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
