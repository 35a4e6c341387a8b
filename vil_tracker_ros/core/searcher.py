# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""One search crop: crop -> network -> (appearance prior) -> best cell -> box in the image.

The tracker calls it once per frame while tracking, and up to three times per frame while
lost (around the last position, wider, and around a wider crop's candidate).

The appearance filter's features and response depend on the crop alone, so they are worked
out on the side thread (``core/side_thread.py``) while the network runs: on two cores that
takes them off the step's critical path (about 1.1 ms a frame on the benchmark machine).
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

import numpy as np

from vil_tracker_ros.core.appearance_filter import AppearanceFilter
from vil_tracker_ros.core.backend import TrackingBackend
from vil_tracker_ros.core.preprocess import crop_region
from vil_tracker_ros.core.search_region import decode_cell, hann_window, peak_cell
from vil_tracker_ros.core.side_thread import SideThread
from vil_tracker_ros.core.track_state import SearchOutcome
from vil_tracker_ros.geometry import clip_box_xywh, cxcywh_to_xywh


class Searcher:
    """Runs search crops for one backend; the policy comes with each call.

    It keeps no configuration, so a tracker whose ``cfg`` is swapped between two steps (the
    node's runtime parameters) searches with the new one at once.
    """

    def __init__(self, backend: TrackingBackend, appearance: AppearanceFilter,
                 side: SideThread) -> None:
        """``side`` works out the appearance features while the network runs."""
        self.backend = backend
        self.appearance = appearance
        self.side = side
        self.search_size = int(backend.search_size)
        self._windows: Dict[tuple, np.ndarray] = {}

    def _appearance_response(self, crop: np.ndarray, model: Any
                             ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        spectrum = self.appearance.spectrum(crop)
        return spectrum, None if model is None else self.appearance.response(model, spectrum)

    def _window(self, height: int, width: int) -> np.ndarray:
        if (height, width) not in self._windows:
            self._windows[height, width] = hann_window(height, width)
        return self._windows[height, width]

    def search(self, image: np.ndarray, pad_colour: tuple, template: Any, ctx: Any,
               centre: tuple, box_size: tuple, factor: float, window_weight: float,
               timings: Dict[str, float],
               appearance: Optional[tuple] = None) -> SearchOutcome:
        """One search crop at ``centre`` for a box of ``box_size`` (w, h), ``factor`` wide.

        ``pad_colour`` fills what lies outside ``image`` (its ``mean_colour``, worked out
        once per frame).

        Stage times add up in ``timings`` (a frame may run several crops). With
        ``appearance`` = (model or None, typical peak, share) the crop's appearance features
        are kept for learning, and a model's pooled response, over its typical peak on good
        frames, takes that share in choosing the score map's cell.
        """
        height, width = image.shape[:2]
        bw, bh = box_size
        t = time.perf_counter()
        crop, transform = crop_region(image, (centre[0] - bw / 2, centre[1] - bh / 2, bw, bh),
                                      factor, self.search_size, pad_colour)
        t1 = time.perf_counter()
        side = None if appearance is None else self.side.submit(self._appearance_response,
                                                                crop, appearance[0])
        out = self.backend.track(template, crop, ctx)
        t2 = time.perf_counter()
        prior, spectrum, peak, weight = None, None, 0.0, 0.0
        if side is not None:
            model, typical, weight = appearance
            spectrum, response = side.result()
            if response is not None:
                pooled = AppearanceFilter.pool(response, np.shape(out.score_map))
                peak = float(pooled.max())
                prior = np.clip(pooled / max(typical if typical > 0.0 else peak, 1e-6),
                                0.0, 1.0)
        cell = peak_cell(out, window_weight, self._window, prior, weight)
        box_norm, confidence = decode_cell(out, cell, prior, weight)
        agrees = True
        if prior is not None:
            own = np.unravel_index(int(np.argmax(out.score_map)), np.shape(out.score_map))
            agrees = max(abs(cell[0] - int(own[0])), abs(cell[1] - int(own[1]))) <= 1
        box_crop = cxcywh_to_xywh(box_norm * self.search_size)
        raw_box = clip_box_xywh(transform.crop_to_image(box_crop), width, height)
        t3 = time.perf_counter()
        for stage, ms in (('crop', t1 - t), ('model', t2 - t1), ('decode', t3 - t2)):
            timings[stage] = timings.get(stage, 0.0) + ms * 1e3
        return SearchOutcome(out, transform, raw_box, confidence, spectrum, peak, agrees)
