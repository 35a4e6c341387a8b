# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""What synthetic scenes are made of: photographs, procedural textures, cut-outs, noise.

Photographs are scikit-image's bundled ones (by name) and, when a library is given
(``data/library.py``, built by ``make data``), the library's photos (``lib:<id>``) and
object cut-outs with alpha. Every split draws only from its own pictures.
"""

import functools
import math
import os
from typing import Dict, Tuple

import cv2
import numpy as np

from vil_tracker_ros.config import ConfigError, SyntheticConfig
from vil_tracker_ros.data.library import open_library
from vil_tracker_ros.data.synth_geometry import (rasterise_alpha, rot_scale, shape_polygon,
                                                 translate)

# Disjoint photo sets per split ('cat' is the same image as 'chelsea', so it is unused).
SPLIT_PHOTOS: Dict[str, Tuple[str, ...]] = {
    'train': ('astronaut', 'coffee', 'hubble_deep_field', 'immunohistochemistry', 'retina',
              'camera', 'moon', 'grass', 'coins'),
    'val': (),       # the validation split draws on the library only
    'heldout': ('rocket', 'chelsea', 'motorcycle', 'brick', 'gravel', 'clock'),
}
TEXTURE_KINDS = ('noise', 'stripes', 'checker', 'blobs')
LIBRARY_PREFIX = 'lib:'


# ----------------------------------------------------------------- photographs


def load_photo(name: str, library: str = '') -> np.ndarray:
    """Load a photograph as HxWx3 uint8 RGB (read-only, cached).

    ``name`` is a scikit-image photo, or ``lib:<id>`` for a photo of ``library``.
    """
    if name.startswith(LIBRARY_PREFIX):
        if not library:
            raise ConfigError(f'photo {name!r} needs a library (SyntheticConfig.library)')
        return open_library(library).load(name[len(LIBRARY_PREFIX):])
    return _skimage_photo(name)


@functools.lru_cache(maxsize=None)
def _skimage_photo(name: str) -> np.ndarray:
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


# Unbounded: scenes keep their world, so evicting would only duplicate the arrays.
@functools.lru_cache(maxsize=None)
def world_image(name: str, short_side: int, library: str = '') -> np.ndarray:
    photo = load_photo(name, library)
    k = short_side / min(photo.shape[:2])
    size = (max(1, round(photo.shape[1] * k)), max(1, round(photo.shape[0] * k)))
    world = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA)
    world.setflags(write=False)
    return world


def split_photos(cfg: SyntheticConfig) -> Tuple[str, ...]:
    """Return the photographs this config may use; one of the other split is an error.

    These are the split's scikit-image photos plus, with ``cfg.library``, its library
    photos (``lib:<id>``).
    """
    allowed = SPLIT_PHOTOS[cfg.split]
    if cfg.library:
        allowed = allowed + tuple(LIBRARY_PREFIX + i
                                  for i in open_library(cfg.library).ids('photo', cfg.split))
    if not allowed:
        raise ConfigError(f'split {cfg.split!r} has no photographs without a library; '
                          'build one with `make data` and set library')
    if not cfg.photos:
        return allowed
    bad = [p for p in cfg.photos if p not in allowed]
    if bad:
        raise ConfigError(f'photos: {", ".join(bad)} not in the {cfg.split!r} split '
                          f'(allowed: {", ".join(allowed)})')
    return tuple(cfg.photos)


def display_name(source: str, library: str = '') -> str:
    """Return a readable name for a photo, texture or ``lib:<id>`` (its file's stem)."""
    if source.startswith(LIBRARY_PREFIX) and library:
        entry = open_library(library).by_id.get(source[len(LIBRARY_PREFIX):])
        if entry is not None:
            return os.path.splitext(os.path.basename(entry.source_path))[0]
    return source.replace('_', '')


def split_cutouts(cfg: SyntheticConfig) -> Tuple[str, ...]:
    """Library cut-out ids of the config's split (empty without a library)."""
    return open_library(cfg.library).ids('cutout', cfg.split) if cfg.library else ()


def cutout_sprite(library: str, ident: str, target_px: float,
                  rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Scale a library cut-out to about ``target_px`` (sqrt of its area) -> (rgba, hull).

    The hull (K, 2, corner coordinates) is the convex hull of the opaque pixels: its
    mapped bounds are the ground-truth box, as for the polygonal targets.
    """
    src = open_library(library).load(ident)
    h, w = src.shape[:2]
    k = target_px / math.sqrt(w * h) * math.exp(rng.uniform(-0.1, 0.1))
    tw, th = max(6, int(round(w * k))), max(6, int(round(h * k)))
    interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    rgba = cv2.resize(np.ascontiguousarray(src), (tw, th), interpolation=interp)
    if rng.random() < 0.5:
        rgba = np.ascontiguousarray(rgba[:, ::-1])
    ys, xs = np.nonzero(rgba[..., 3] >= 128)
    if len(xs) < 3:
        rgba[..., 3] = 255
        ys, xs = np.mgrid[0:th, 0:tw].reshape(2, -1)
    corners = np.concatenate([np.stack([xs, ys], 1), np.stack([xs + 1, ys], 1),
                              np.stack([xs, ys + 1], 1), np.stack([xs + 1, ys + 1], 1)])
    hull = cv2.convexHull(corners.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    return rgba, hull


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


def photo_patch(photo: np.ndarray, width: int, height: int,
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


def colour_jitter(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    gain = np.exp(rng.normal(0, strength, size=3))
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def frame_noise(shape: Tuple[int, int], key: Tuple[int, int], std: float) -> np.ndarray:
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


def draw_target(cfg: SyntheticConfig, photos: Tuple[str, ...], target_px: float,
                aspect: float, rng: np.random.Generator
                ) -> Tuple[np.ndarray, np.ndarray, str, str]:
    """Draw a target -> (rgba, silhouette polygon, source name, shape).

    A library cut-out with probability ``cfg.cutouts`` (when the split has any), else a
    procedural texture (``cfg.texture``) or a photo patch with a rectangle, ellipse or
    convex silhouette (``cfg.shapes``), about ``target_px`` on a side at ``aspect``.
    """
    cutouts = split_cutouts(cfg)
    if cutouts and rng.random() < cfg.cutouts:
        ident = str(rng.choice(cutouts))
        rgba, poly = cutout_sprite(cfg.library, ident, target_px, rng)
        return rgba, poly, LIBRARY_PREFIX + ident, 'cutout'
    tw = max(6, int(round(target_px * math.sqrt(aspect))))
    th = max(6, int(round(target_px / math.sqrt(aspect))))
    if rng.random() < cfg.texture:
        source = str(rng.choice(TEXTURE_KINDS))
        rgb = procedural_texture(source, tw, th, rng)
    else:
        source = str(rng.choice(photos))
        rgb = photo_patch(load_photo(source, cfg.library), tw, th, rng)
    shape = 'rect' if rng.random() >= cfg.shapes else str(rng.choice(['ellipse', 'convex']))
    poly = shape_polygon(shape, tw, th, rng)
    return np.dstack([rgb, rasterise_alpha(poly, tw, th)]), poly, source, shape


def make_occluder(cfg: SyntheticConfig, photos: Tuple[str, ...], target_px: float,
                  t: np.ndarray, target_centre, rng: np.random.Generator
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw a foreground patch that crosses the target's image path -> (rgba, poly, poses).

    ``target_centre(i)`` is the target's centre in frame ``i``; poses (L, 3, 3) map the
    patch into frame coordinates. It starts well clear of the target, which must be
    visible at frame 0.
    """
    length = len(t)
    size = rng.uniform(1.6, 2.6) * target_px
    ow = int(round(size * math.exp(rng.uniform(-0.3, 0.3))))
    oh = int(round(size * size / ow))
    if rng.random() < 0.5:
        rgb = procedural_texture(str(rng.choice(TEXTURE_KINDS)), ow, oh, rng)
    else:
        rgb = photo_patch(load_photo(str(rng.choice(photos)), cfg.library), ow, oh, rng)
    poly = shape_polygon(str(rng.choice(['rect', 'ellipse', 'convex'])), ow, oh, rng)
    rgba = np.dstack([rgb, rasterise_alpha(poly, ow, oh)])
    t_cross = rng.uniform(0.3, 0.8) * length
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    clear = math.hypot(ow, oh) + 2 * target_px + 8
    speed = max(rng.uniform(0.03, 0.08) * size, clear / t_cross)
    centre_at_cross = target_centre(min(int(round(t_cross)), length - 1))
    centres = centre_at_cross + speed * (t - t_cross)[:, None] * direction
    angle = rng.uniform(-0.4, 0.4)
    poses = np.stack([translate(*centres[i]) @ rot_scale(angle, 1, 1)
                      @ translate(-ow / 2, -oh / 2) for i in range(length)])
    return rgba, poly, poses
