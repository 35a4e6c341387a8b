# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

import math

from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
import pytest
import torch

from vil_tracker_ros.core import preprocess as pp

coord = st.floats(-500, 1500, allow_nan=False)
size = st.floats(0.5, 400, allow_nan=False)
boxes = st.tuples(coord, coord, size, size)


def _image_with_square(h, w, box, bg=(40, 80, 120), fg=(250, 250, 250)):
    img = np.empty((h, w, 3), np.uint8)
    img[:] = bg
    x, y, bw, bh = box
    img[y:y + bh, x:x + bw] = fg
    return img


def _bright_box(crop, thresh=200):
    """Return the continuous xywh extent of the bright pixels, with partial-pixel coverage."""
    cov = crop.astype(np.float64).mean(axis=2)
    ys, xs = np.nonzero(cov > thresh)
    return np.array([xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()])


def test_crop_side_and_transform_known_answer():
    assert pp.crop_side(10, 40, 4.0) == 80
    assert pp.crop_side(10, 10, 2.05) == 21          # ceil(20.5)
    t = pp.crop_transform([100, 50, 10, 40], 4.0, 256)
    assert t.side == 80 and t.out_size == 256
    assert (t.origin_x, t.origin_y) == (65.0, 30.0)   # centre (105, 70) - 40
    np.testing.assert_allclose(t.image_to_crop([100, 50, 10, 40]),
                               [35 * 3.2, 20 * 3.2, 32, 128])


@settings(max_examples=100, deadline=None)
@given(boxes, boxes, st.floats(1.0, 8.0), st.sampled_from([64, 128, 256]))
def test_crop_and_inverse_map_are_exact_inverses(anchor, box, factor, out_size):
    t = pp.crop_transform(anchor, factor, out_size)
    b = np.array(box)
    np.testing.assert_allclose(t.crop_to_image(t.image_to_crop(b)), b, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(t.image_to_crop(t.crop_to_image(b)), b, rtol=1e-12, atol=1e-9)
    # The anchor box lands centred in the crop, 1/factor of its side (geometric mean).
    a = t.image_to_crop(anchor)
    assert a[0] + a[2] / 2 == pytest.approx(out_size / 2, abs=1e-6)
    assert a[1] + a[3] / 2 == pytest.approx(out_size / 2, abs=1e-6)
    assert math.sqrt(a[2] * a[3]) == pytest.approx(
        out_size * math.sqrt(anchor[2] * anchor[3]) / t.side, rel=1e-9)


@pytest.mark.parametrize('box,factor,out', [
    ((100, 80, 20, 30), 4.0, 256),     # upscaling crop
    ((60, 40, 200, 150), 4.0, 128),    # strong downscaling, partly outside the image
    ((10, 10, 16, 16), 2.0, 128),      # near the border: padding on two sides
])
def test_crop_pixels_agree_with_transform(box, factor, out):
    img = _image_with_square(300, 400, box)
    crop, t = pp.crop_region(img, box, factor, out)
    assert crop.shape == (out, out, 3) and crop.dtype == np.uint8
    expected = t.image_to_crop(box)
    found = _bright_box(crop, thresh=145)   # about half coverage at the edges
    np.testing.assert_allclose(found, expected, atol=1.5)


def test_padding_uses_mean_colour():
    img = np.zeros((50, 60, 3), np.uint8)
    img[..., 0] = 90
    img[..., 1] = 30
    img[:25, :, 2] = 200      # mean of channel 2 is 100
    crop, _ = pp.crop_region(img, (0, 0, 4, 4), 8.0, 32)
    np.testing.assert_array_equal(crop[0, 0], [90, 30, 100])
    # A crop entirely outside the image (possible while coasting) is all padding.
    crop2, _ = pp.crop_region(img, (-500, -500, 20, 20), 2.0, 16)
    assert np.all(crop2 == crop2[0, 0]) and tuple(crop2[0, 0]) == (90, 30, 100)


def test_crop_rejects_bad_input():
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match='NaN'):
        pp.crop_region(img, (np.nan, 0, 3, 3), 2.0, 16)
    with pytest.raises(ValueError, match='non-positive'):
        pp.crop_region(img, (0, 0, 0, 3), 2.0, 16)
    with pytest.raises(ValueError, match='factor'):
        pp.crop_region(img, (0, 0, 3, 3), 0.0, 16)
    with pytest.raises(ValueError, match='uint8'):
        pp.crop_region(img.astype(np.float32), (0, 0, 3, 3), 2.0, 16)
    with pytest.raises(ValueError, match='HxWx3'):
        pp.crop_region(img[..., 0], (0, 0, 3, 3), 2.0, 16)


def test_jittered_crop_returns_true_box_in_crop():
    rng = np.random.default_rng(0)
    box = (150, 100, 40, 30)
    img = _image_with_square(300, 400, box)
    centres = []
    for _ in range(20):
        crop, t, in_crop = pp.jittered_crop(img, box, 4.0, 128, 3.0, 0.25, rng)
        np.testing.assert_allclose(in_crop, t.image_to_crop(box))
        np.testing.assert_allclose(_bright_box(crop, 145), in_crop, atol=1.5)
        centres.append(in_crop[:2] + in_crop[2:] / 2)
    # Jitter moves the target off the crop centre, within the OSTrack bound.
    spread = np.ptp(np.array(centres), axis=0)
    assert np.all(spread > 5)
    # No jitter: target centred.
    _, _, in_crop = pp.jittered_crop(img, box, 4.0, 128, 0.0, 0.0, rng)
    np.testing.assert_allclose(in_crop[:2] + in_crop[2:] / 2, [64, 64], atol=1e-9)
    with pytest.raises(ValueError, match='jitter'):
        pp.jitter_box(box, -1.0, 0.0, rng)


def test_normalize_shapes_values_and_numpy_twin():
    crops = np.random.default_rng(0).integers(0, 256, (2, 8, 6, 3), dtype=np.uint8)
    t = pp.normalize(crops)
    assert t.shape == (2, 3, 8, 6) and t.dtype == torch.float32
    mean = np.array(pp.IMAGENET_MEAN) * 255
    std = np.array(pp.IMAGENET_STD) * 255
    np.testing.assert_allclose(t[1, 2, 3, 4].item(), (crops[1, 3, 4, 2] - mean[2]) / std[2],
                               rtol=1e-5)
    assert pp.normalize(crops[0]).shape == (1, 3, 8, 6)
    np.testing.assert_allclose(pp.normalize(torch.from_numpy(crops)).numpy(), t.numpy())
    np.testing.assert_allclose(pp.normalize_numpy(crops), t.numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match='uint8'):
        pp.normalize(crops.astype(np.float32))
    with pytest.raises(ValueError, match='channels last'):
        pp.normalize(np.zeros((2, 3, 8, 8), np.uint8))


@pytest.mark.parametrize('box,factor,out', [
    ((101, 83, 37, 41), 3.3, 256),     # upscaling path (warpAffine only)
    ((61, 43, 201, 153), 2.9, 64),     # downscaling path (INTER_AREA pre-shrink)
])
def test_crop_content_is_sub_pixel_aligned_with_transform(box, factor, out):
    img = _image_with_square(300, 400, box, bg=(0, 0, 0), fg=(255, 255, 255))
    t = pp.crop_transform(box, factor, out)
    crop = pp.warp_crop(img, t, pad_colour=(0, 0, 0)).astype(np.float64)[..., 0] / 255
    ys, xs = np.mgrid[0:out, 0:out] + 0.5          # pixel centres, continuous coords
    mass = crop.sum()
    e = t.image_to_crop(box)
    assert mass == pytest.approx(e[2] * e[3], rel=0.01)
    assert (crop * xs).sum() / mass == pytest.approx(e[0] + e[2] / 2, abs=0.02)
    assert (crop * ys).sum() / mass == pytest.approx(e[1] + e[3] / 2, abs=0.02)
