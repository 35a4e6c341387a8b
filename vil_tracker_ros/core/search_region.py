# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Where the tracker looks: the score-map window and the tiles of a whole-image search."""

from __future__ import annotations

import math

import numpy as np


def hann_window(height: int, width: int) -> np.ndarray:
    """2-D Hann window without zero edges (peak 1 at the centre)."""
    def hann1d(n: int) -> np.ndarray:
        k = np.arange(1, n + 1)
        return 0.5 * (1.0 - np.cos(2.0 * np.pi * k / (n + 1)))
    return np.outer(hann1d(height), hann1d(width))


def global_search_centres(width: int, height: int, box_size: tuple, factor: float,
                          max_tiles: int) -> list:
    """Centres of search crops (side ``factor * sqrt(w * h)``) tiling the whole image.

    Tiles overlap by a quarter of their side so a target on a seam is seen whole; when
    more than ``max_tiles`` would be needed, the stride grows to fit (coarser cover).
    """
    side = factor * math.sqrt(box_size[0] * box_size[1])

    def axis(length: float, n: int) -> np.ndarray:
        if n <= 1 or length <= side:
            return np.array([length / 2.0])
        return np.linspace(side / 2.0, length - side / 2.0, n)
    nx = max(1, math.ceil((width - side) / (0.75 * side)) + 1)
    ny = max(1, math.ceil((height - side) / (0.75 * side)) + 1)
    while nx * ny > max_tiles and (nx > 1 or ny > 1):
        if nx >= ny:
            nx -= 1
        else:
            ny -= 1
    return [(float(x), float(y)) for y in axis(height, ny) for x in axis(width, nx)]
