# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The DSST scale filter: it reads a zoom of the target from the learnt appearance."""

import cv2
import numpy as np
import pytest
from skimage import data

from vil_tracker_ros.core.scale_filter import ScaleFilter

CENTRE = (256.0, 200.0)
SIZE = (120.0, 150.0)


def zoomed(image, zoom):
    """The image scaled by ``zoom`` about CENTRE (the target grows by ``zoom``)."""
    cx, cy = CENTRE
    affine = np.array([[zoom, 0.0, cx - zoom * cx], [0.0, zoom, cy - zoom * cy]])
    return cv2.warpAffine(image, affine, image.shape[1::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize('zoom', [0.9, 1.0, 1.1])
def test_the_filter_measures_a_zoom(zoom):
    image = data.astronaut()
    flt = ScaleFilter(num_scales=33, step=1.02)
    model = flt.learn(image, CENTRE, SIZE)
    factor, peak = flt.estimate(model, zoomed(image, zoom), CENTRE, SIZE)
    assert factor == pytest.approx(zoom, abs=0.03)
    assert peak > 0.0


def test_the_sample_shape_is_fixed_per_track():
    image = data.astronaut()
    flt = ScaleFilter()
    model = flt.learn(image, CENTRE, SIZE)
    later = flt.learn(image, CENTRE, (150.0, 110.0), model.shape)   # the aspect changed
    assert later.shape == model.shape
    blended = ScaleFilter.blend(model, later, 0.025)
    assert blended.numerator.shape == model.numerator.shape
    with pytest.raises(ValueError, match='sample shapes'):
        ScaleFilter.blend(model, flt.learn(image, CENTRE, (150.0, 60.0)), 0.025)


def test_a_target_at_the_image_border_is_sampled_with_replicated_edges():
    image = data.astronaut()
    flt = ScaleFilter()
    model = flt.learn(image, (5.0, 5.0), (40.0, 40.0))
    factor, _ = flt.estimate(model, image, (5.0, 5.0), (40.0, 40.0))
    assert factor == pytest.approx(1.0, abs=0.03)


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match='odd'):
        ScaleFilter(num_scales=16)
    with pytest.raises(ValueError, match='step'):
        ScaleFilter(step=1.0)
