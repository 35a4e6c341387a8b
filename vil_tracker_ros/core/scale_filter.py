# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""A 1-D correlation filter over scales: how much did the target grow since the last frame.

This is the scale estimator of DSST (Danelljan et al., "Accurate Scale Estimation for
Robust Visual Tracking", BMVC 2014), which CSRT also uses. Around a known centre it
samples the target at ``num_scales`` sizes ``step ** k`` times the current size, resizes
each sample to a small fixed patch and describes it with gradient-orientation cells
(``core/orientation_cells.py``) and mean grey per cell. A filter learnt on earlier frames
(a running average, see ``blend``) correlates with these samples along the scale axis;
the peak says which size matches the target best. The filter learns the target's own
appearance, so it complements the network's size regression, whose error follows the
target's appearance and persists (weights/README.md, sessions 7 and 9).

Stateless like the Kalman filter: ``ScaleFilter`` holds configuration only, and the
learnt numerator / denominator travel in a ``ScaleModel`` that callers replace.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np

from vil_tracker_ros.core.appearance_filter import parabola_vertex
from vil_tracker_ros.core.orientation_cells import CELL, orientation_cells

_NORM_FLOOR = 1e-3 * CELL * CELL * 255.0   # added to each cell's orientation norm (grey 0-255)
_REGULARISER = 1e-2        # lambda in the filter's denominator


class ScaleModel(NamedTuple):
    """Learnt filter: numerator (D, S) and denominator (S,), both in the Fourier domain.

    ``shape`` is the (width, height) every sample is resized to, fixed when a track starts.
    """

    numerator: np.ndarray
    denominator: np.ndarray
    shape: Tuple[int, int]


class ScaleFilter:
    """DSST scale search; see the module docstring.

    ``num_scales`` samples (odd) at ``step ** k`` of the size, ``k`` centred on 0;
    ``model_area`` is the pixel area each sample is resized to; the desired Gaussian
    response is ``sigma_factor * sqrt(num_scales)`` samples wide (DSST: 1.44 of 33).
    """

    def __init__(self, num_scales: int = 17, step: float = 1.03, model_area: int = 512,
                 sigma_factor: float = 0.25) -> None:
        if num_scales < 3 or num_scales % 2 == 0:
            raise ValueError(f'num_scales must be odd and >= 3, got {num_scales}')
        if not step > 1.0:
            raise ValueError(f'step must be > 1, got {step}')
        if model_area < 4 * CELL * CELL:
            raise ValueError(f'model_area must be >= {4 * CELL * CELL}, got {model_area}')
        self.num_scales = num_scales
        self.step = step
        self.model_area = model_area
        offsets = np.arange(num_scales) - (num_scales - 1) // 2      # (S,) -k .. k
        self.factors = step ** offsets.astype(np.float64)            # (S,)
        sigma = sigma_factor * math.sqrt(num_scales)
        # Desired response peaks at the centre sample (index (S-1)/2): no size change.
        self._target = np.fft.fft(np.exp(-0.5 * (offsets / sigma) ** 2))   # (S,)
        self._window = np.hanning(num_scales + 2)[1:-1]                     # (S,) no zeros

    # --------------------------------------------------------------- samples

    def model_shape(self, size: Tuple[float, float]) -> Tuple[int, int]:
        """Sample (width, height) in px: area ~ model_area, target aspect, whole cells."""
        aspect = max(min(size[0] / size[1], 4.0), 0.25)
        width = math.sqrt(self.model_area * aspect)
        height = self.model_area / width
        cells = (max(2, int(round(width / CELL))), max(2, int(round(height / CELL))))
        return cells[0] * CELL, cells[1] * CELL

    def samples(self, image: np.ndarray, centre: Tuple[float, float],
                size: Tuple[float, float], shape: Tuple[int, int]) -> np.ndarray:
        """Cut the grey samples of ``size * factor`` around ``centre`` from an RGB image.

        Returns (S, h, w) float32: each sample resized to ``shape`` (width, height) px.
        """
        mw, mh = shape
        # Cut the largest sample's region once and resample it so that the largest
        # sample is (mw, mh) * its factor; INTER_AREA when shrinking, so no aliasing.
        big = float(self.factors[-1])
        half_w, half_h = size[0] * big / 2.0, size[1] * big / 2.0
        x0 = int(math.floor(centre[0] - half_w)) - 1
        y0 = int(math.floor(centre[1] - half_h)) - 1
        x1 = int(math.ceil(centre[0] + half_w)) + 1
        y1 = int(math.ceil(centre[1] + half_h)) + 1
        grey = cv2.cvtColor(_cut_replicate(image, x0, y0, x1, y1), cv2.COLOR_RGB2GRAY)
        fx = min(1.0, mw / size[0])             # resampled px per image px
        fy = min(1.0, mh / size[1])
        new_w = max(2, int(round((x1 - x0) * fx)))
        new_h = max(2, int(round((y1 - y0) * fy)))
        if (new_w, new_h) != (x1 - x0, y1 - y0):
            grey = cv2.resize(grey, (new_w, new_h), interpolation=cv2.INTER_AREA)
        fx, fy = new_w / (x1 - x0), new_h / (y1 - y0)
        base = grey.astype(np.float32)
        ccx, ccy = (centre[0] - x0) * fx, (centre[1] - y0) * fy    # centre in base px
        out = np.empty((self.num_scales, mh, mw), dtype=np.float32)
        for i, factor in enumerate(self.factors):
            a = size[0] * factor * fx / mw        # base px per sample px
            b = size[1] * factor * fy / mh
            inverse = np.array([[a, 0.0, a * (0.5 - mw / 2.0) + ccx - 0.5],
                                [0.0, b, b * (0.5 - mh / 2.0) + ccy - 0.5]])
            out[i] = cv2.warpAffine(base, inverse, (mw, mh),
                                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_REPLICATE)
        return out

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Describe samples (S, h, w) as windowed (D, S): orientation cells + grey cells."""
        s, h, w = samples.shape
        cells = orientation_cells(samples, _NORM_FLOOR)                     # (S, ch, cw, B)
        ch, cw = h // CELL, w // CELL
        grey = samples.reshape(s, ch, CELL, cw, CELL).mean(axis=(2, 4)) / 255.0 - 0.5
        desc = np.concatenate([cells.reshape(s, -1), grey.reshape(s, -1)], axis=1)  # (S, D)
        return (desc * self._window[:, None]).T.astype(np.float64)          # (D, S)

    # ---------------------------------------------------------------- filter

    def learn(self, image: np.ndarray, centre: Tuple[float, float],
              size: Tuple[float, float], shape: Optional[Tuple[int, int]] = None
              ) -> ScaleModel:
        """Learn the filter of one frame whose target is at ``centre`` with ``size`` (px).

        ``shape``: the sample shape of the track's filter; None picks it from ``size``.
        """
        shape = self.model_shape(size) if shape is None else shape
        spec = np.fft.fft(self.features(self.samples(image, centre, size, shape)),
                          axis=1)  # (D, S)
        numerator = np.conj(self._target)[None, :] * spec
        denominator = np.sum(np.real(np.conj(spec) * spec), axis=0)
        return ScaleModel(numerator, denominator, shape)

    @staticmethod
    def blend(model: ScaleModel, new: ScaleModel, learning_rate: float) -> ScaleModel:
        """Blend ``new`` into ``model`` as a running average (DSST's update)."""
        keep = 1.0 - learning_rate
        if new.shape != model.shape:
            raise ValueError(f'scale filters of different sample shapes: {model.shape} '
                             f'and {new.shape}')
        return ScaleModel(keep * model.numerator + learning_rate * new.numerator,
                          keep * model.denominator + learning_rate * new.denominator,
                          model.shape)

    def estimate(self, model: ScaleModel, image: np.ndarray, centre: Tuple[float, float],
                 size: Tuple[float, float]) -> Tuple[float, float]:
        """Best scale factor relative to ``size`` and the peak's share of the response.

        The factor is refined between samples by a parabola through the peak and its
        neighbours, and limited to the sampled range.
        """
        spec = np.fft.fft(self.features(self.samples(image, centre, size, model.shape)),
                          axis=1)  # (D, S)
        response = np.real(np.fft.ifft(np.sum(np.conj(model.numerator) * spec, axis=0)
                                       / (model.denominator + _REGULARISER)))  # (S,)
        peak = int(np.argmax(response))
        shift = 0.0
        if 0 < peak < self.num_scales - 1:
            shift = parabola_vertex(response[peak - 1:peak + 2])
        log_factor = (peak + shift - (self.num_scales - 1) / 2.0) * math.log(self.step)
        return math.exp(log_factor), float(response[peak])

    def fuse(self, model: ScaleModel, image: np.ndarray, measured: np.ndarray,
             size: Tuple[float, float], weight: float) -> np.ndarray:
        """Blend the size of ``measured`` (cx, cy, w, h) with this filter's, in log.

        The filter searches around the measured centre, relative to ``size`` (w, h; the
        predicted box's), whose aspect ratio it keeps; ``weight`` is its share.
        """
        factor, _ = self.estimate(model, image, (float(measured[0]), float(measured[1])), size)
        fused = np.exp((1.0 - weight) * np.log(np.maximum(measured[2:4], 1e-6))
                       + weight * np.log(np.asarray(size, dtype=np.float64) * factor))
        return np.concatenate([measured[:2], fused])


def _cut_replicate(image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """``image[y0:y1, x0:x1]`` with the border replicated where the box leaves the image."""
    height, width = image.shape[:2]
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x1, width), min(y1, height)
    if cx1 <= cx0 or cy1 <= cy0:
        cx0, cy0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
        cx1, cy1 = cx0 + 1, cy0 + 1
    inner = image[cy0:cy1, cx0:cx1]
    return cv2.copyMakeBorder(inner, cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1,
                              cv2.BORDER_REPLICATE)
