# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Orientation histograms per cell, shared by the appearance and scale filters."""

import numpy as np
import pytest

from vil_tracker_ros.core.orientation_cells import BINS, CELL, orientation_cells


def edge(vertical: bool) -> np.ndarray:
    """16x16 grey image: dark left (or top) half, bright right (or bottom) half."""
    img = np.zeros((16, 16), np.float32)
    if vertical:
        img[:, 8:] = 1.0
    else:
        img[8:, :] = 1.0
    return img


def test_an_edge_votes_into_its_gradient_orientation_in_its_cells():
    hist = orientation_cells(edge(vertical=True), 1e-9)
    assert hist.shape == (16 // CELL, 16 // CELL, BINS)
    # the horizontal gradient (angle 0) lies in the cells next to column 8 only
    assert np.allclose(hist[:, 1:3, 0], 1.0) and np.allclose(hist[:, 1:3, 1:], 1e-9)
    assert np.allclose(hist[:, [0, 3]], 1e-9)
    across = orientation_cells(edge(vertical=False), 1e-9)
    assert np.allclose(across[1:3, :, BINS // 2], 1.0)      # angle pi / 2: the middle bin


def test_opposite_gradients_share_a_bin():
    # unsigned orientations: a bright-to-dark edge (angle exactly pi) folds into bin 0, as
    # the dark-to-bright one does, and not into the last bin
    rising = orientation_cells(edge(vertical=True), 1e-9)
    falling = orientation_cells(1.0 - edge(vertical=True), 1e-9)
    assert np.array_equal(falling, rising)


def test_stacked_images_do_not_see_each_other():
    # a bright image above a dark one: no vertical gradient at their shared border
    stack = np.stack([np.ones((8, 8), np.float32), np.zeros((8, 8), np.float32)])
    assert np.allclose(orientation_cells(stack, 0.1), 1e-9)
    single = orientation_cells(edge(vertical=True), 0.1)
    both = orientation_cells(np.stack([edge(vertical=True), edge(vertical=False)]), 0.1)
    assert np.allclose(both[0], single)


def test_the_norm_floor_keeps_faint_cells_faint():
    faint = edge(vertical=True) * 1e-3
    assert orientation_cells(faint, 0.1).max() < 0.05
    assert orientation_cells(faint, 1e-9).max() == pytest.approx(1.0)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match='multiple of'):
        orientation_cells(np.zeros((10, 16), np.float32), 0.1)
    with pytest.raises(ValueError, match='norm_floor'):
        orientation_cells(np.zeros((16, 16), np.float32), 0.0)
