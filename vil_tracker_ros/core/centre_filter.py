# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""A correlation filter on a tight crop around the target: where exactly is its centre.

The network decodes the centre from an 8x8 score map of a crop 4 target sizes wide; when
its peak lands on a cell next to the true one, the box there is untrained and the centre
is off by a third of a cell (weights/README.md, session 10). This filter sees the target
at twice that resolution (a crop ``CROP_FACTOR`` = 2 target sizes wide), learns it on the
first frame and then on good frames (running average), and finds its centre around the
measured one, as the translation filter of KCF / DSST does.

It reuses ``AppearanceFilter``'s features and filter on that crop. A frame crops once: the
tracker locates on a ``CentreView`` of the crop around the measured centre, then learns on
that same view (the features of a second crop around the filtered centre cost 1.4 ms per
frame on the 2-core CPU and scored no better on validation, weights/README.md).
Stateless like the other filters: the learnt model travels in an ``AppearanceModel`` that
callers replace.

The measured centre is known only after the network, but the crop's scale (the predicted
size) is known before. So the tracker works out a ``CentreField``, the features of a crop
``FIELD_MARGIN`` cells wider on each side around the predicted centre, on its side thread
while the network runs; the view around the measured centre is then a slice of it
(``view_in``), placed on the field's cell grid: at most half a cell (1/32 of the target
size) off the measured centre, about 0.8 ms a frame off the step on the 2-core CPU.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple

import numpy as np

from vil_tracker_ros.core.appearance_filter import AppearanceFilter, AppearanceModel
from vil_tracker_ros.core.appearance_filter import cell_features, parabola_vertex
from vil_tracker_ros.core.orientation_cells import CELL
from vil_tracker_ros.core.preprocess import crop_region, crop_side, CropTransform, warp_crop

CROP_FACTOR = 2.0     # crop side / target size
CROP_SIZE = 128       # crop side, px
SIGMA = 0.1           # desired response width, target sizes
MAX_SHIFT = 0.5       # a peak further than this many target sizes away is not the target
MIN_TARGET = 32.0     # px (sqrt of the area): smaller targets keep the network's centre
# below this the filter is not updated either (it would not be used); a little under
# MIN_TARGET, so that a growing target's filter is current when it starts to count
MIN_LEARN_TARGET = 24.0
FIELD_MARGIN = 8      # cells a field reaches beyond a view on each side (half a target size)


class CentreView(NamedTuple):
    """A crop's features in the Fourier domain and where the crop lies in the image."""

    spectrum: np.ndarray
    transform: CropTransform


class CentreField(NamedTuple):
    """Unwindowed cell features (C, H, W) of a crop wider than a view, and where it lies."""

    cells: np.ndarray
    transform: CropTransform


class CentreFilter:
    """Learn and locate the target on a ``CROP_FACTOR`` crop; see the module docstring."""

    def __init__(self) -> None:
        self.filter = AppearanceFilter(CROP_SIZE)

    def view(self, image: np.ndarray, centre: Tuple[float, float],
             size: Tuple[float, float]) -> CentreView:
        """Crop ``CROP_FACTOR`` x ``size`` (w, h; image px) around ``centre`` and describe it."""
        w, h = float(size[0]), float(size[1])
        crop, transform = crop_region(image, (centre[0] - w / 2, centre[1] - h / 2, w, h),
                                      CROP_FACTOR, CROP_SIZE)
        return CentreView(self.filter.spectrum(crop), transform)

    def field(self, image: np.ndarray, centre: Tuple[float, float],
              size: Tuple[float, float],
              pad_colour: Optional[Tuple[float, float, float]] = None) -> CentreField:
        """Features of a crop ``FIELD_MARGIN`` cells wider than ``view``'s on each side.

        Same scale as the views of a target of ``size`` (w, h): any view around a centre
        within ``FIELD_MARGIN`` cells of ``centre`` is a slice of it (``view_in``).
        ``pad_colour``: as ``crop_region``'s.
        """
        side = crop_side(float(size[0]), float(size[1]), CROP_FACTOR)   # a view's, px
        out = CROP_SIZE + 2 * FIELD_MARGIN * CELL
        wide = side * out / CROP_SIZE
        transform = CropTransform(centre[0] - wide / 2, centre[1] - wide / 2, wide, out)
        return CentreField(cell_features(warp_crop(image, transform, pad_colour)), transform)

    def view_in(self, field: CentreField, centre: Tuple[float, float]) -> Optional[CentreView]:
        """Cut the view around ``centre`` (image px) from ``field``; None where it leaves it.

        The view's crop starts on the field's cell nearest to where a crop centred on
        ``centre`` would: its ``transform`` says where it lies.
        """
        n = self.filter.cells
        t = field.transform
        k = t.scale
        x0 = int(round((centre[0] - t.origin_x) * k / CELL - n / 2))
        y0 = int(round((centre[1] - t.origin_y) * k / CELL - n / 2))
        rows, cols = field.cells.shape[1:]
        if not (0 <= x0 <= cols - n and 0 <= y0 <= rows - n):
            return None
        cells = field.cells[:, y0:y0 + n, x0:x0 + n]                       # (C, n, n)
        view = CropTransform(t.origin_x + x0 * CELL / k, t.origin_y + y0 * CELL / k,
                             CROP_SIZE / k, CROP_SIZE)
        return CentreView(self.filter.windowed_spectrum(cells), view)

    @staticmethod
    def counts(size: Tuple[float, float]) -> bool:
        """Tell whether a target of ``size`` (w, h) is large enough for its centre to count."""
        return math.sqrt(size[0] * size[1]) >= MIN_TARGET

    @staticmethod
    def worth_learning(size: Tuple[float, float]) -> bool:
        """Tell whether a target of ``size`` (w, h) is large enough to update the filter."""
        return math.sqrt(size[0] * size[1]) >= MIN_LEARN_TARGET

    def learn(self, view: CentreView, centre: Tuple[float, float],
              size: Tuple[float, float]) -> AppearanceModel:
        """Learn the filter of a target at ``centre`` with ``size`` (image px) on ``view``."""
        k = view.transform.scale
        at = ((centre[0] - view.transform.origin_x) * k, (centre[1] - view.transform.origin_y) * k)
        return self.filter.learn(view.spectrum, at, (size[0] * k, size[1] * k), SIGMA)

    def locate(self, model: AppearanceModel, view: CentreView, centre: Tuple[float, float],
               size: Tuple[float, float]) -> Optional[Tuple[float, float]]:
        """Target centre (image px) found on ``view``, a crop around ``centre``.

        The peak is refined between cells by a parabola per axis. None when it lies more
        than ``MAX_SHIFT`` target sizes (``size``: w, h) from ``centre``.
        """
        response = self.filter.response(model, view.spectrum)   # (n, n)
        n = response.shape[0]
        py, px = np.unravel_index(int(np.argmax(response)), response.shape)
        dx = parabola_vertex(response[py, px - 1:px + 2]) if 0 < px < n - 1 else 0.0
        dy = parabola_vertex(response[py - 1:py + 2, px]) if 0 < py < n - 1 else 0.0
        k = view.transform.scale
        x = view.transform.origin_x + (px + dx + 0.5) * CELL / k
        y = view.transform.origin_y + (py + dy + 0.5) * CELL / k
        if math.hypot(x - centre[0], y - centre[1]) > MAX_SHIFT * math.sqrt(size[0] * size[1]):
            return None
        return x, y

    def fuse(self, model: AppearanceModel, view: CentreView, measured: np.ndarray,
             size: Tuple[float, float], weight: float) -> np.ndarray:
        """Blend the centre of ``measured`` (cx, cy, w, h) with the one found near it.

        ``view`` is the crop around the measured centre, sized by ``size`` (w, h; the
        predicted box's); ``weight`` is the found centre's share. The measurement comes back
        unchanged when nothing is found. Callers fuse only targets that ``counts``.
        """
        found = self.locate(model, view, (float(measured[0]), float(measured[1])), size)
        if found is None:
            return measured
        out = np.array(measured, dtype=np.float64)
        out[:2] = (1.0 - weight) * out[:2] + weight * np.asarray(found)
        return out
