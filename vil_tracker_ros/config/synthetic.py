# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``SyntheticConfig``: the procedural sequences of ``data/synthetic.py``."""

from __future__ import annotations

from dataclasses import dataclass

from vil_tracker_ros.config.loading import _check, _in_range


@dataclass(frozen=True)
class SyntheticConfig:
    """Procedural sequences of ``data/synthetic.py`` (effects: 0 disables).

    ``split`` picks a disjoint set of source pictures and a disjoint seed stream:
    'train', 'val' and 'heldout' never share a picture or a random sequence.
    ``photos`` narrows the split's set (names must belong to that split).
    ``library`` is a picture library built by ``make data`` (``data/library.py``):
    its photos of the split join scikit-image's, and a target is one of its object
    cut-outs with probability ``cutouts``. Without it only scikit-image's photos are
    used (and 'val' has none).
    """

    split: str = 'train'                 # train | val | heldout
    photos: tuple[str, ...] = ()         # () = every photo of the split
    library: str = ''                    # picture library directory ('' = none)
    cutouts: float = 0.6                 # P(target is a library cut-out), with a library
    frame_width: int = 640
    frame_height: int = 480
    length: int = 100                    # frames per sequence
    seed: int = 0
    target_scale: tuple[float, float] = (0.08, 0.25)   # target side / frame short side
    target_aspect: float = 0.6           # photo/texture targets: log(w / h) drawn in +-this
    target_speed: float = 0.01           # world motion per frame / frame short side
    target_deform: float = 0.15          # log-amplitude of size and aspect changes
    target_rotation: float = 20.0        # degrees, in-plane rotation amplitude
    camera_offset: float = 0.3           # target wander from frame centre / short side
    camera_zoom: float = 0.3             # log-amplitude of zoom
    camera_rotation: float = 10.0        # degrees, roll amplitude
    perspective: float = 0.05            # keystone strength at the frame corners
    shapes: float = 0.5                  # P(non-rectangular target silhouette)
    texture: float = 0.3                 # P(procedural texture target instead of a photo patch)
    distractors: int = 1                 # similar-looking patches near the target
    occlusion: float = 0.3               # P(an occluder passes over the target)
    out_of_view: float = 0.2             # P(the camera looks away for a while)
    motion_blur: float = 0.5             # exposure fraction of the per-frame motion
    illumination: float = 0.2            # log-amplitude of brightness/colour changes
    noise: float = 0.01                  # Gaussian noise std / 255
    jpeg_quality: int = 95               # when written to disk

    def validate(self) -> None:
        _check(self.split in ('train', 'val', 'heldout'), 'split',
               f"must be 'train', 'val' or 'heldout', got {self.split!r}")
        _in_range('cutouts', self.cutouts, 0.0, 1.0)
        _check(32 <= self.frame_width <= 8192, 'frame_width', 'must be in [32, 8192]')
        _check(32 <= self.frame_height <= 8192, 'frame_height', 'must be in [32, 8192]')
        _check(self.length >= 1, 'length', 'must be >= 1')
        _check(self.seed >= 0, 'seed', 'must be >= 0')
        lo, hi = self.target_scale if len(self.target_scale) == 2 else (-1.0, -1.0)
        _check(0.01 <= lo <= hi <= 0.6, 'target_scale',
               f'must be (min, max) with 0.01 <= min <= max <= 0.6, got {self.target_scale}')
        _in_range('target_aspect', self.target_aspect, 0.0, 2.0)
        _in_range('target_speed', self.target_speed, 0.0, 0.2)
        _in_range('target_deform', self.target_deform, 0.0, 1.0)
        _in_range('target_rotation', self.target_rotation, 0.0, 180.0)
        _in_range('camera_offset', self.camera_offset, 0.0, 0.5)
        _in_range('camera_zoom', self.camera_zoom, 0.0, 1.0)
        _in_range('camera_rotation', self.camera_rotation, 0.0, 180.0)
        _in_range('perspective', self.perspective, 0.0, 0.2)
        for name in ('shapes', 'texture', 'occlusion', 'out_of_view', 'motion_blur'):
            _in_range(name, getattr(self, name), 0.0, 1.0)
        _check(0 <= self.distractors <= 8, 'distractors', 'must be in [0, 8]')
        _in_range('illumination', self.illumination, 0.0, 1.0)
        _in_range('noise', self.noise, 0.0, 0.5)
        _check(1 <= self.jpeg_quality <= 100, 'jpeg_quality', 'must be in [1, 100]')
