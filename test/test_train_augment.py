# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Crop augmentations keep image content and boxes consistent."""

import numpy as np
import pytest

from vil_tracker_ros.config import AugmentConfig
from vil_tracker_ros.data.augment import (augment_pair, colour_jitter, CropPair,
                                          gaussian_blur, hflip)


def _pair():
    search = np.zeros((40, 40, 3), np.uint8)
    search[8:16, 4:12] = 255                   # x 4..12, y 8..16 -> cx 8/40, cy 12/40
    box = np.array([8 / 40, 12 / 40, 8 / 40, 8 / 40])
    template = np.arange(20 * 20 * 3, dtype=np.uint8).reshape(20, 20, 3)
    return CropPair(template, search, box, search.copy(), box.copy())


def _bright_centre(img):
    ys, xs = np.nonzero(img[..., 0] > 128)
    return (xs.mean() + 0.5) / img.shape[1], (ys.mean() + 0.5) / img.shape[0]


def test_hflip_moves_box_with_content():
    flipped = hflip(_pair())
    cx, cy = _bright_centre(flipped.search)
    assert (cx, cy) == pytest.approx(tuple(flipped.box[:2]))
    assert flipped.box[0] == pytest.approx(1 - 8 / 40)
    assert np.array_equal(flipped.template, _pair().template[:, ::-1])
    assert flipped.prev_box[0] == pytest.approx(1 - 8 / 40)


def test_colour_identity_grey_and_blur():
    img = _pair().template
    same = colour_jitter([img], 1.0, 1.0, 1.0, grey=False)[0]
    assert np.abs(same.astype(int) - img).max() <= 1
    grey = colour_jitter([img], 1.0, 1.0, 1.0, grey=True)[0]
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1],
                                                                         grey[..., 2])
    assert gaussian_blur(img, 0.0) is img
    blurred = gaussian_blur(_pair().search, 1.5)
    assert blurred[..., 0].std() < _pair().search[..., 0].std()


def test_augment_pair_is_seeded_and_keeps_shapes():
    cfg = AugmentConfig(flip_prob=0.5, blur_prob=0.5)
    a = augment_pair(_pair(), cfg, np.random.default_rng(3))
    b = augment_pair(_pair(), cfg, np.random.default_rng(3))
    assert np.array_equal(a.search, b.search) and np.array_equal(a.box, b.box)
    assert a.search.shape == (40, 40, 3) and a.search.dtype == np.uint8
    assert a.prev_search.shape == (40, 40, 3)
    flips = [augment_pair(_pair(), cfg, np.random.default_rng(s)).box[0] for s in range(40)]
    assert 5 < sum(f > 0.5 for f in flips) < 35     # about half are mirrored
