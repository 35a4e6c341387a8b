# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""A discriminative correlation filter on the search crop: where is *this* target.

The network matches the search crop against its template, but it was trained offline and
cannot tell the target from a same-looking distractor it has not been taught to separate
(weights/README.md, session 8). A correlation filter learnt on the tracked target's own
crop when the track starts (MOSSE / DSST style: Bolme et al. 2010, Danelljan et al. 2014;
the tracker can also keep learning, see ``tracker.appearance_learning_rate``) learns that
difference. Its response on the search crop is pooled onto the network's score grid, and
the tracker blends the two before it picks the peak.

Features per 4x4-pixel cell of the crop: 9 unsigned gradient orientations (L2
normalised per cell) and the cell's mean colour, under a Hann window.

Stateless like the Kalman filter: ``AppearanceFilter`` holds configuration only, and the
learnt numerator / denominator travel in an ``AppearanceModel`` that callers replace.
"""

from __future__ import annotations

from typing import NamedTuple, Tuple

import cv2
import numpy as np

from vil_tracker_ros.core.orientation_cells import CELL, orientation_cells

_NORM_FLOOR = 0.1         # added to each cell's orientation norm (grey in [0, 1])
_REGULARISER = 1e-2       # lambda in the filter's denominator


class AppearanceModel(NamedTuple):
    """Learnt filter: numerator (C, H, F) and denominator (H, F) in the Fourier domain.

    F = W // 2 + 1: features and labels are real, so their spectra are kept as rfft2's
    half plane.
    """

    numerator: np.ndarray
    denominator: np.ndarray


def _hann(n: int) -> np.ndarray:
    return np.hanning(n + 2)[1:-1]


class AppearanceFilter:
    """Multi-channel linear correlation filter on square search crops of ``crop_size`` px."""

    def __init__(self, crop_size: int) -> None:
        if crop_size % CELL or crop_size < 4 * CELL:
            raise ValueError(f'crop_size must be a multiple of {CELL} and >= {4 * CELL}, '
                             f'got {crop_size}')
        self.crop_size = crop_size
        self.cells = crop_size // CELL
        self._window = np.outer(_hann(self.cells), _hann(self.cells))   # (H, W)

    def features(self, crop: np.ndarray) -> np.ndarray:
        """Describe an RGB uint8 crop of side S per cell: (C, H, W), C = 12, windowed."""
        if crop.shape != (self.crop_size, self.crop_size, 3):
            raise ValueError(f'crop must be ({self.crop_size}, {self.crop_size}, 3), '
                             f'got {crop.shape}')
        return cell_features(crop) * self._window                         # (C, H, W)

    def windowed_spectrum(self, cells: np.ndarray) -> np.ndarray:
        """Spectrum of ``cell_features`` (C, H, W) of a crop this filter's size, windowed."""
        if cells.shape[1:] != (self.cells, self.cells):
            raise ValueError(f'features must be (C, {self.cells}, {self.cells}), '
                             f'got {cells.shape}')
        return np.fft.rfft2(cells * self._window)

    def _label(self, centre: Tuple[float, float], size: Tuple[float, float],
               sigma_factor: float) -> np.ndarray:
        """Gaussian peaked on the target centre (crop px), in the Fourier domain (H, W)."""
        sigma = max(sigma_factor * float(np.sqrt(size[0] * size[1])) / CELL, 0.5)
        grid = (np.arange(self.cells) + 0.5) * CELL                       # cell centres, px
        dx = (grid - centre[0]) / CELL
        dy = (grid - centre[1]) / CELL
        label = np.exp(-0.5 * (dy[:, None] ** 2 + dx[None, :] ** 2) / sigma ** 2)
        return np.fft.rfft2(label)

    def spectrum(self, crop: np.ndarray) -> np.ndarray:
        """Fourier transform (C, H, F) of the crop's features; learn and respond take it."""
        return np.fft.rfft2(self.features(crop))

    def learn(self, spectrum: np.ndarray, centre: Tuple[float, float],
              size: Tuple[float, float], sigma_factor: float = 0.1) -> AppearanceModel:
        """Learn the filter of one crop (its ``spectrum``).

        The target is at ``centre`` with ``size`` (crop px); the desired response is a
        Gaussian ``sigma_factor`` target sizes wide.
        """
        numerator = np.conj(self._label(centre, size, sigma_factor))[None] * spectrum
        denominator = np.sum(np.real(np.conj(spectrum) * spectrum), axis=0)
        return AppearanceModel(numerator, denominator)

    @staticmethod
    def blend(model: AppearanceModel, new: AppearanceModel,
              learning_rate: float) -> AppearanceModel:
        """Blend ``new`` into ``model`` as a running average (MOSSE's update)."""
        keep = 1.0 - learning_rate
        return AppearanceModel(keep * model.numerator + learning_rate * new.numerator,
                               keep * model.denominator + learning_rate * new.denominator)

    def response(self, model: AppearanceModel, spectrum: np.ndarray) -> np.ndarray:
        """Correlate the filter with a crop (its ``spectrum``).

        Returns the response per feature cell (H, W), about 1 on the target of a one-frame
        filter.
        """
        return np.fft.irfft2(np.sum(np.conj(model.numerator) * spectrum, axis=0)
                             / (model.denominator + _REGULARISER), s=(self.cells, self.cells))

    @staticmethod
    def pool(response: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
        """Max of the response over each cell of a coarser ``shape`` grid, clipped to [0, 1]."""
        h, w = response.shape
        gh, gw = shape
        if h % gh or w % gw:
            raise ValueError(f'response {response.shape} does not tile into {shape}')
        blocks = response.reshape(gh, h // gh, gw, w // gw).max(axis=(1, 3))
        return np.clip(blocks, 0.0, 1.0)


def cell_features(crop: np.ndarray) -> np.ndarray:
    """Describe an RGB uint8 crop (H, W multiples of CELL) per cell: (C, H / CELL, W / CELL).

    C = 12: 9 gradient-orientation bins and the mean colour (R, G, B, minus 0.5). A cell's
    features depend on its own pixels and their direct neighbours only, so those of a
    smaller crop are a slice of a larger crop's on the same pixel grid.
    """
    h, w = crop.shape[:2]
    img = crop.astype(np.float32) * (1.0 / 255.0)                         # (S, S, 3)
    # the mean of R, G, B, summed as ndarray.mean(axis=2) sums (the same bits: the
    # orientation bins are sensitive to the last bit) in a tenth of its time
    grey = (img[..., 0] + img[..., 1] + img[..., 2]) / np.float32(3.0)    # (S, S)
    orient = orientation_cells(grey, _NORM_FLOOR)                          # (H, W, 9)
    colour = cv2.resize(img, (w // CELL, h // CELL), interpolation=cv2.INTER_AREA) - 0.5
    feats = np.concatenate([orient, colour], axis=2)                       # (H, W, C)
    return feats.transpose(2, 0, 1)                                        # (C, H, W)


def parabola_vertex(values: np.ndarray) -> float:
    """Offset in [-0.5, 0.5] of a parabola's vertex through three samples around a peak."""
    left, mid, right = (float(v) for v in values)
    curvature = left - 2.0 * mid + right
    if curvature >= 0.0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))
