# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The online correlation filter: it finds its target again and prefers it to a look-alike."""

import numpy as np
import pytest
from skimage import data

from vil_tracker_ros.core.appearance_filter import AppearanceFilter, CELL

SIZE = 128


def scene(target_xy, distractor_xy=None, distractor_colour=(40, 200, 60)):
    """A grass-like texture with a 28 px coffee-cup patch (the target) and a look-alike.

    The look-alike has the target's shape and brightness pattern, in another colour.
    """
    rng = np.random.default_rng(0)
    background = np.clip(90 + 25 * rng.standard_normal((SIZE, SIZE, 1)), 0, 255)
    img = np.repeat(background, 3, axis=2).astype(np.uint8)
    patch = data.coffee()[150:290:5, 220:360:5]                 # (28, 28, 3) real photo
    for xy, colour in ((target_xy, None), (distractor_xy, distractor_colour)):
        if xy is None:
            continue
        x, y = xy
        piece = patch
        if colour is not None:
            grey = patch.mean(axis=2, keepdims=True) / 255.0
            piece = (grey * np.array(colour)).astype(np.uint8)
        img[y - 14:y + 14, x - 14:x + 14] = piece
    return img


def peak_px(response):
    iy, ix = np.unravel_index(np.argmax(response), response.shape)
    return (ix + 0.5) * CELL, (iy + 0.5) * CELL


def test_the_filter_finds_its_target_after_a_move():
    flt = AppearanceFilter(SIZE)
    model = flt.learn(flt.spectrum(scene((64, 64))), (64, 64), (28, 28))
    response = flt.response(model, flt.spectrum(scene((76, 56))))
    x, y = peak_px(response)
    assert abs(x - 76) <= CELL and abs(y - 56) <= CELL
    assert 0.3 < response.max() <= 1.1     # about one on a one-frame filter's own target


def test_the_filter_prefers_its_target_to_a_differently_coloured_look_alike():
    flt = AppearanceFilter(SIZE)
    model = flt.learn(flt.spectrum(scene((64, 64), (100, 100))), (64, 64), (28, 28))
    # both as far from the crop centre (the feature window treats them alike)
    response = flt.response(model, flt.spectrum(scene((40, 64), (88, 64))))
    x, y = peak_px(response)
    assert abs(x - 40) <= CELL and abs(y - 64) <= CELL
    at_distractor = response[64 // CELL, 88 // CELL]
    assert at_distractor < 0.7 * response.max()


def test_blend_is_a_running_average():
    flt = AppearanceFilter(SIZE)
    a = flt.learn(flt.spectrum(scene((64, 64))), (64, 64), (28, 28))
    b = flt.learn(flt.spectrum(scene((50, 70))), (50, 70), (28, 28))
    np.testing.assert_allclose(AppearanceFilter.blend(a, b, 0.0).numerator, a.numerator)
    np.testing.assert_allclose(AppearanceFilter.blend(a, b, 1.0).denominator, b.denominator)
    half = AppearanceFilter.blend(a, b, 0.5)
    np.testing.assert_allclose(half.numerator, 0.5 * (a.numerator + b.numerator))


def test_pool_takes_the_block_maximum_clipped_to_unit_range():
    response = np.zeros((8, 8))
    response[1, 2] = 0.7
    response[5, 6] = 1.8
    response[6, 1] = -0.4
    pooled = AppearanceFilter.pool(response, (4, 4))
    expected = np.zeros((4, 4))
    expected[0, 1] = 0.7
    expected[2, 3] = 1.0
    np.testing.assert_allclose(pooled, expected)
    with pytest.raises(ValueError, match='tile'):
        AppearanceFilter.pool(response, (3, 3))


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match='multiple'):
        AppearanceFilter(130)
    flt = AppearanceFilter(SIZE)
    with pytest.raises(ValueError, match='crop must be'):
        flt.features(np.zeros((64, 64, 3), np.uint8))
    assert flt.features(scene((64, 64))).shape == (12, SIZE // CELL, SIZE // CELL)
