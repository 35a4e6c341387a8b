# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The centre filter finds a textured target's centre on a crop around a guess."""

import numpy as np
import pytest

from vil_tracker_ros.core import centre_filter
from vil_tracker_ros.core.centre_filter import CentreFilter

CENTRE = (160.0, 120.0)
SIZE = (48.0, 40.0)


def scene(shift=(0.0, 0.0)):
    """A grey background with a textured target whose centre is CENTRE + shift (px)."""
    rng = np.random.default_rng(3)
    img = np.full((240, 320, 3), 90, np.uint8)
    patch = rng.integers(0, 256, size=(10, 12, 3)).astype(np.uint8)
    patch = np.kron(patch, np.ones((4, 4, 1), np.uint8))              # (40, 48, 3) blocks
    x0 = int(round(CENTRE[0] + shift[0] - SIZE[0] / 2))
    y0 = int(round(CENTRE[1] + shift[1] - SIZE[1] / 2))
    img[y0:y0 + 40, x0:x0 + 48] = patch
    return img


def learnt(cf):
    return cf.learn(cf.view(scene(), CENTRE, SIZE), CENTRE, SIZE)


@pytest.mark.parametrize('shift', [(0, 0), (5, -3), (-8, 6)])
def test_locate_finds_the_moved_target_around_a_guess(shift):
    cf = CentreFilter()
    found = cf.locate(learnt(cf), cf.view(scene(shift), CENTRE, SIZE), CENTRE, SIZE)
    assert found is not None
    np.testing.assert_allclose(found, (CENTRE[0] + shift[0], CENTRE[1] + shift[1]), atol=1.5)


def test_a_peak_beyond_half_a_target_size_is_not_taken():
    cf = CentreFilter()
    # the target moved 30 px (0.68 target sizes): visible on the crop, but too far
    assert cf.locate(learnt(cf), cf.view(scene((30, 0)), CENTRE, SIZE), CENTRE, SIZE) is None


def test_a_view_off_the_target_learns_the_same_filter_as_one_centred_on_it():
    # the tracker learns on the crop it located on, around the measurement, not the
    # filtered centre: the filter found from that crop must still find the target
    cf = CentreFilter()
    off = (CENTRE[0] - 6.0, CENTRE[1] + 4.0)
    model = cf.learn(cf.view(scene(), off, SIZE), CENTRE, SIZE)
    found = cf.locate(model, cf.view(scene((5, -3)), CENTRE, SIZE), CENTRE, SIZE)
    np.testing.assert_allclose(found, (CENTRE[0] + 5, CENTRE[1] - 3), atol=1.5)


def test_fuse_takes_its_share_and_leaves_misses_alone():
    cf = CentreFilter()
    model = learnt(cf)
    measured = np.array([CENTRE[0] - 6.0, CENTRE[1] + 4.0, 48.0, 40.0])   # the network, off
    half = cf.fuse(model, cf.view(scene(), measured[:2], SIZE), measured, SIZE, 0.5)
    np.testing.assert_allclose(half[:2], (CENTRE[0] - 3.0, CENTRE[1] + 2.0), atol=1.0)
    np.testing.assert_array_equal(half[2:], measured[2:])
    assert measured[0] == CENTRE[0] - 6.0                   # the input is not changed
    far = np.array([CENTRE[0] - 40.0, CENTRE[1], 48.0, 40.0])  # the target is 40 px away
    np.testing.assert_array_equal(cf.fuse(model, cf.view(scene(), far[:2], SIZE), far, SIZE,
                                          1.0), far)


def test_only_targets_of_its_size_count():
    assert CentreFilter.counts((centre_filter.MIN_TARGET,) * 2)
    assert not CentreFilter.counts((centre_filter.MIN_TARGET - 1.0,) * 2)


def test_only_targets_near_the_size_it_counts_at_are_worth_learning():
    # learning starts below MIN_TARGET, so a growing target's filter is current when
    # fuse starts to use it; far below it, learning would only cost time
    assert CentreFilter.worth_learning((centre_filter.MIN_TARGET,) * 2)
    assert CentreFilter.worth_learning((centre_filter.MIN_LEARN_TARGET,) * 2)
    assert not CentreFilter.worth_learning((centre_filter.MIN_LEARN_TARGET - 1.0,) * 2)
    assert centre_filter.MIN_LEARN_TARGET < centre_filter.MIN_TARGET


def test_a_view_cut_from_a_field_is_the_view_cropped_there():
    # the field is worked out around the prediction before the measurement is known; the
    # view around the measurement is a slice of it, on the same pixel grid
    cf = CentreFilter()
    img = scene((5, -3))
    field = cf.field(img, CENTRE, SIZE)
    cut = cf.view_in(field, CENTRE)                  # on the field's grid: no rounding
    direct = cf.view(img, CENTRE, SIZE)
    for a in ('origin_x', 'origin_y', 'side', 'out_size'):
        assert getattr(cut.transform, a) == pytest.approx(getattr(direct.transform, a))
    model = learnt(cf)
    np.testing.assert_allclose(cf.locate(model, cut, CENTRE, SIZE),
                               cf.locate(model, direct, CENTRE, SIZE), atol=0.05)


@pytest.mark.parametrize('measured', [(166.3, 116.9), (151.0, 128.2), (171.5, 111.0)])
def test_a_view_cut_off_the_fields_grid_finds_the_target_as_a_cropped_one(measured):
    cf = CentreFilter()
    img = scene((5, -3))
    cut = cf.view_in(cf.field(img, CENTRE, SIZE), measured)
    assert cut is not None
    # the cut starts on the field's cell nearest to the cropped view's start
    cell = centre_filter.CELL / cut.transform.scale
    assert abs(cut.transform.origin_x - (measured[0] - cut.transform.side / 2)) <= cell / 2
    assert abs(cut.transform.origin_y - (measured[1] - cut.transform.side / 2)) <= cell / 2
    model = learnt(cf)
    found = cf.locate(model, cut, measured, SIZE)
    np.testing.assert_allclose(found, cf.locate(model, cf.view(img, measured, SIZE),
                                                measured, SIZE), atol=0.5)
    np.testing.assert_allclose(found, (CENTRE[0] + 5, CENTRE[1] - 3), atol=1.5)


def test_a_field_has_no_view_beyond_its_margin():
    cf = CentreFilter()
    field = cf.field(scene(), CENTRE, SIZE)
    reach = centre_filter.FIELD_MARGIN * centre_filter.CELL / field.transform.scale
    assert cf.view_in(field, (CENTRE[0] + reach - 1.0, CENTRE[1])) is not None
    assert cf.view_in(field, (CENTRE[0] + reach + 0.5 * reach, CENTRE[1])) is None
    assert cf.view_in(field, (CENTRE[0], CENTRE[1] - 1.6 * reach)) is None
