# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Where the tracker looks: the windowed score-map peak and the tiles of a whole-image search."""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np


def hann_window(height: int, width: int) -> np.ndarray:
    """2-D Hann window without zero edges (peak 1 at the centre)."""
    def hann1d(n: int) -> np.ndarray:
        k = np.arange(1, n + 1)
        return 0.5 * (1.0 - np.cos(2.0 * np.pi * k / (n + 1)))
    return np.outer(hann1d(height), hann1d(width))


def peak_cell(out: Any, window_weight: float = 0.0,
              window: Callable[[int, int], np.ndarray] = hann_window,
              prior: Optional[np.ndarray] = None, prior_weight: float = 0.0) -> tuple:
    """(row, column) of the best cell of a backend output's score map.

    The cell maximises ``score * ((1 - w) + w * window(Hf, Wf))``, ``w = window_weight``,
    or, with a ``prior`` map (Hf, Wf) and ``p = prior_weight``, ``(1 - p)`` times that
    plus ``p * prior`` (the prior carries its own centre weighting, so the window applies
    to the score only). A bad map is a ``ValueError``.
    """
    score = np.asarray(out.score_map, dtype=np.float64)
    if score.ndim != 2 or not np.all(np.isfinite(score)):
        raise ValueError(f'backend returned a bad score map (shape {score.shape}, '
                         f'finite={bool(np.all(np.isfinite(score)))})')
    hf, wf = score.shape
    rank = score * ((1.0 - window_weight) + window_weight * window(hf, wf))
    if prior is not None and prior_weight > 0.0:
        if prior.shape != score.shape:
            raise ValueError(f'prior map {prior.shape} != score map {score.shape}')
        rank = (1.0 - prior_weight) * rank + prior_weight * prior
    iy, ix = np.unravel_index(int(np.argmax(rank)), score.shape)
    return int(iy), int(ix)


def decode_cell(out: Any, cell: tuple, prior: Optional[np.ndarray] = None,
                prior_weight: float = 0.0) -> tuple:
    """Box and confidence at ``cell`` (from ``peak_cell``, with the same prior).

    Returns (normalised cx, cy, w, h, confidence); the confidence is the un-windowed
    ``(1 - p) * score + p * prior`` there (the score alone without a prior). A non-finite
    box is a ``ValueError``.
    """
    iy, ix = cell
    hf, wf = np.shape(out.score_map)
    confidence = float(out.score_map[iy, ix])
    if prior is not None and prior_weight > 0.0:
        confidence = (1.0 - prior_weight) * confidence + prior_weight * float(prior[iy, ix])
    off = np.asarray(out.offset_map, dtype=np.float64)[:, iy, ix]
    size = np.asarray(out.size_map, dtype=np.float64)[:, iy, ix]
    box = np.array([(ix + off[0]) / wf, (iy + off[1]) / hf, size[0], size[1]])
    if not np.all(np.isfinite(box)):
        raise ValueError(f'backend returned a non-finite box {box.tolist()}')
    box[2:] = np.maximum(box[2:], 1e-6)
    return box, float(np.clip(confidence, 0.0, 1.0))


def decode_peak(out: Any, window_weight: float = 0.0,
                window: Callable[[int, int], np.ndarray] = hann_window,
                prior: Optional[np.ndarray] = None, prior_weight: float = 0.0) -> tuple:
    """Backend output -> (normalised cx, cy, w, h of the best cell, its confidence).

    ``peak_cell`` picks the cell, ``decode_cell`` reads it. A bad map or box is a
    ``ValueError``.
    """
    cell = peak_cell(out, window_weight, window, prior, prior_weight)
    return decode_cell(out, cell, prior, prior_weight)


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
