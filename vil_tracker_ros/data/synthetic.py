# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Seeded synthetic tracking sequences with exact ground truth.

A scene is a target (an object cut-out with alpha from the photo library, a patch cut
from a photograph, or a procedural texture with a polygonal silhouette) moving over a
photograph (the "world") that a camera films while it pans, zooms, rolls and tilts (a
homography per frame). Optional effects: similar-looking distractors, an occluder
passing in front, the camera looking away (out of view), motion blur, illumination
changes and noise. Pictures come from scikit-image's bundled photographs and, when
``library`` is set, the library that ``make data`` builds (``data/library.py``).

Ground truth is analytic: the target's polygon (a cut-out's convex hull) is mapped by
the same homography that warps its texture, clipped to the frame, and its axis-aligned
bounds are the box (pixel ``i`` covers ``[i, i + 1)``). Occluders do not shrink the
box (the box is the target's extent in the frame, as LaSOT and GOT-10k annotate); a
target entirely behind the occluder is flagged ``full_occlusion``, one that is not in
the frame ``out_of_view``. Both make the frame invisible.

``split`` (train / val / heldout) selects disjoint picture sets and disjoint random
streams, so a held-out set never shares a picture or a seed with training data.
Writers and the CLI are in ``synthetic_io``; the pieces in ``synth_assets``,
``synth_geometry`` and ``synth_render``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Iterator, List, Optional, Sequence as SequenceT, Tuple

import cv2
import numpy as np

from vil_tracker_ros.config import SyntheticConfig
from vil_tracker_ros.data.sequence import Sequence
from vil_tracker_ros.data.synth_assets import (colour_jitter, display_name, draw_target,
                                               frame_noise, make_occluder, split_photos,
                                               world_image)
from vil_tracker_ros.data.synth_geometry import (apply_homography, bounds_overlap,
                                                 clip_polygon, inside_convex, polygon_area,
                                                 rot_scale, smooth_signal, to_opencv,
                                                 translate, trapezoid)
from vil_tracker_ros.data.synth_render import (composite, coverage, motion_blur,
                                               pad_outside_frame)

# Seed-stream tags: the same user seed gives unrelated streams in each split.
_SPLIT_TAG = {'train': 0x7A11, 'val': 0x5A1D, 'heldout': 0x4E1D}


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
        world = world_image(self.background, int(1.8 * max(W, H)), cfg.library)
        self._world = world
        wh, ww = world.shape[:2]
        # Mirroring the photo (background only) doubles the variety of views.
        self._flip = (translate(ww, 0) @ np.diag([-1.0, 1.0, 1.0]) if rng.random() < 0.5
                      else np.eye(3))

        # Camera: zoom, roll and keystone; it follows the target with a wandering offset.
        s0 = rng.uniform(0.8, 1.25)
        zoom = s0 * np.exp(cfg.camera_zoom * smooth_signal(rng, t)[:, 0])
        # Random initial roll/spin/offset so first frames are not all alike.
        roll = math.radians(cfg.camera_rotation) * (smooth_signal(rng, t)[:, 0]
                                                    + rng.uniform(-.5, .5))
        half_diag = 0.5 * math.hypot(W, H)
        tilt = cfg.perspective / half_diag * smooth_signal(rng, t, dims=2)

        # Target: texture, silhouette and world trajectory.
        target_px = rng.uniform(*cfg.target_scale) * short
        aspect = math.exp(rng.uniform(-cfg.target_aspect, cfg.target_aspect))
        rgba, poly, self.target_source, self.target_shape = draw_target(
            cfg, photos, target_px, aspect, rng)
        th, tw = rgba.shape[:2]
        rgb = rgba[..., :3]

        speed_world = cfg.target_speed * short / s0
        fmean = 0.012
        amp = min(0.3 * min(ww, wh), speed_world / (2 * math.pi * fmean) + 1e-9)
        path = np.array([ww / 2, wh / 2]) + amp * smooth_signal(rng, t, dims=2)
        size = np.exp(cfg.target_deform * smooth_signal(rng, t, dims=2))        # (L, 2) sx, sy
        spin = math.radians(cfg.target_rotation) * (smooth_signal(rng, t)[:, 0]
                                                    + rng.uniform(-.5, .5))
        base = 1.0 / s0
        tgt_poses = np.stack([
            translate(*path[i]) @ rot_scale(spin[i], base * size[i, 0], base * size[i, 1])
            @ translate(-tw / 2, -th / 2) for i in range(L)])
        self._target = _Sprite(rgba, poly, tgt_poses)

        # Camera centre: follow the target, wander, and maybe look away (out of view).
        wander = smooth_signal(rng, t, dims=2, fmin=0.005, fmax=0.04)
        offset_px = cfg.camera_offset * short * (wander + rng.uniform(-0.5, 0.5, size=2))
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
            offset_px = offset_px + reach * trapezoid(t, start, ramp, hold)[:, None] * direction
            self.out_of_view_event = (float(start), float(start + 2 * ramp + hold))
        cams = []
        for i in range(L):
            centre = path[i] + offset_px[i] / zoom[i]
            persp = np.eye(3)
            persp[2, :2] = tilt[i]
            cams.append(translate(W / 2, H / 2) @ persp @ rot_scale(roll[i], zoom[i], zoom[i])
                        @ translate(-centre[0], -centre[1]))
        self._camera = np.stack(cams)

        # Distractors: colour-jittered copies wandering around the target, drawn beneath it.
        self._distractors: List[_Sprite] = []
        for _ in range(cfg.distractors):
            d_rgb = colour_jitter(rgb, rng, 0.12)
            if rng.random() < 0.3:
                d_rgb = np.ascontiguousarray(d_rgb[:, ::-1])
            around = 2.5 * target_px / s0 * smooth_signal(rng, t, dims=2, fmin=0.01, fmax=0.05)
            start = rng.normal(size=2)
            start = 2.0 * target_px / s0 * start / np.linalg.norm(start)
            d_scale = rng.uniform(0.75, 1.25)
            d_spin = spin + rng.uniform(-0.5, 0.5)
            d_poses = np.stack([
                translate(*(path[i] + start + around[i]))
                @ rot_scale(d_spin[i], base * d_scale * size[i, 0], base * d_scale * size[i, 1])
                @ translate(-tw / 2, -th / 2) for i in range(L)])
            self._distractors.append(_Sprite(np.dstack([d_rgb, rgba[..., 3]]), poly, d_poses))

        # Occluder: a foreground patch crossing the target's image path (frame coordinates).
        self._occluder: Optional[_Sprite] = None
        if L >= 8 and rng.random() < cfg.occlusion:
            self._occluder = _Sprite(*make_occluder(cfg, photos, target_px, t,
                                                    self._target_centre, rng))

        # Photometric effects.
        self._gain = np.exp(cfg.illumination * (smooth_signal(rng, t, dims=1)
                                                + 0.3 * smooth_signal(rng, t, dims=3)))  # (L, 3)
        if cfg.illumination > 0 and L >= 4 and rng.random() < 0.5:
            step_at = int(rng.integers(L // 4, L))
            self._gain[step_at:] *= math.exp(rng.choice([-1, 1]) * cfg.illumination)
        self._blur = np.zeros((L, 2))
        if cfg.motion_blur > 0:
            centre = np.array([[W / 2, H / 2]])
            for i in range(1, L):
                prev = apply_homography(np.linalg.inv(self._camera[i - 1]), centre)
                moved = apply_homography(self._camera[i], prev) - centre
                self._blur[i] = cfg.motion_blur * moved[0]
            shaky = rng.random(L) < 0.08
            self._blur[shaky] += cfg.motion_blur * rng.normal(0, 6, size=(int(shaky.sum()), 2))

    def _target_centre(self, i: int) -> np.ndarray:
        h = self._camera[i] @ self._target.poses[i]
        th, tw = self._target.rgba.shape[:2]
        return apply_homography(h, np.array([[tw / 2, th / 2]]))[0]

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
            if self._occluder is not None and bounds_overlap(inside, self.occluder_polygon(i)):
                occ = self.occluder_polygon(i)
                area = abs(polygon_area(inside))
                covered = abs(polygon_area(clip_polygon(inside, occ)))
                self.occlusion_ratio[i] = min(1.0, covered / max(area, 1e-9))
                self.full_occlusion[i] = inside_convex(inside, occ)
        self.visible = ~(self.out_of_view | self.full_occlusion)
        if not self.visible[0] or self.occlusion_ratio[0] > 0:
            raise RuntimeError(f'synthetic sequence {self.index}: target not clear at frame 0')

    # ---------------------------------------------------------------- geometry

    def target_polygon(self, i: int) -> np.ndarray:
        """Return the target silhouette in frame ``i`` (frame pixel corner coordinates)."""
        return apply_homography(self._camera[i] @ self._target.poses[i], self._target.poly)

    def occluder_polygon(self, i: int) -> np.ndarray:
        if self._occluder is None:
            raise ValueError('this scene has no occluder')
        return apply_homography(self._occluder.poses[i], self._occluder.poly)

    def distractor_boxes(self, i: int) -> np.ndarray:
        """Unclipped xywh boxes of the distractors in frame ``i`` (D, 4)."""
        boxes = []
        for d in self._distractors:
            p = apply_homography(self._camera[i] @ d.poses[i], d.poly)
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
        image = cv2.warpPerspective(self._world, to_opencv(cam @ self._flip), (ow, oh),
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        image = image.astype(np.float32)
        for d in self._distractors:
            composite(image, d.rgba, cam @ d.poses[i])
        composite(image, self._target.rgba, cam @ self._target.poses[i])
        if self._occluder is not None:
            composite(image, self._occluder.rgba, view @ self._occluder.poses[i])
        image *= self._gain[i].astype(np.float32)
        scale = math.sqrt(abs(np.linalg.det(view[:2, :2])))
        image = motion_blur(image, self._blur[i] * scale)
        if self.cfg.noise > 0:
            image += frame_noise(image.shape[:2], (self._noise_key, i), self.cfg.noise * 255)
        if pad_colour is not None:
            pad_outside_frame(image, view, np.asarray(pad_colour, np.float32)[:3],
                              self.width, self.height)
        return np.clip(image, 0, 255).astype(np.uint8)

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
        return coverage(sprite.rgba, h, self.width, self.height)

    def frame_mean(self, i: int) -> Tuple[float, float, float]:
        """Approximate per-channel mean of frame ``i``: its background at 32 px, lit.

        Used as the padding colour of crops (``core.preprocess`` pads with the
        frame mean); the sprites are small, so they are left out for speed.
        """
        k = 32.0 / self.width
        size = (32, max(1, int(round(self.height * k))))
        cam = np.diag([k, k, 1.0]) @ self._camera[i] @ self._flip
        thumb = cv2.warpPerspective(self._world, to_opencv(cam), size, flags=cv2.INTER_AREA,
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
        name = display_name(self.target_source, self.cfg.library)
        return re.sub(r'[^a-z0-9]', '', name.lower()) or 'object'

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
        lib = self.cfg.library
        return (f'a {self.target_shape} {display_name(self.target_source, lib)} patch moving '
                f'over {display_name(self.background, lib)}')

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
