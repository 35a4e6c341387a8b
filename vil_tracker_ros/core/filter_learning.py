# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""What a track's correlation filters learn from a good frame (the tracker's policy).

The filters themselves (``appearance_filter.py``, ``centre_filter.py``, ``scale_filter.py``)
are stateless; the learnt models live in ``TrackState``. These functions write the new
frame's models into ``new`` from ``old`` (the previous state) as running averages.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from vil_tracker_ros.config import TrackerConfig
from vil_tracker_ros.core.appearance_filter import AppearanceFilter
from vil_tracker_ros.core.centre_filter import CentreFilter, CentreView
from vil_tracker_ros.core.preprocess import MIN_CROP_BOX
from vil_tracker_ros.core.scale_filter import ScaleFilter
from vil_tracker_ros.core.track_state import SearchOutcome, TrackState
from vil_tracker_ros.geometry import cxcywh_to_xywh, xywh_to_cxcywh

PEAK_RATE = 0.1      # running-mean rate of the appearance filter's typical peak


def learn_appearance(appearance: AppearanceFilter, cfg: TrackerConfig, new: TrackState,
                     old: TrackState, found: SearchOutcome) -> None:
    """Update the track's appearance filter (running average) and its typical peak."""
    if old.appearance_model is not None:
        new.appearance_peak = found.peak if old.appearance_peak <= 0.0 else (
            (1.0 - PEAK_RATE) * old.appearance_peak + PEAK_RATE * found.peak)
    rate = cfg.appearance_learning_rate
    if old.appearance_model is not None and rate <= 0.0:
        return                          # the first frame's filter stays
    cbox = xywh_to_cxcywh(found.transform.image_to_crop(cxcywh_to_xywh(new.mean[:4])))
    learnt = appearance.learn(found.spectrum, cbox[:2], np.maximum(cbox[2:4], MIN_CROP_BOX),
                              cfg.appearance_sigma)
    if old.appearance_model is None:    # switched on during the track
        new.appearance_model, new.appearance_peak = learnt, 0.0
    else:
        new.appearance_model = AppearanceFilter.blend(old.appearance_model, learnt, rate)


def learn_target(centre_filter: CentreFilter, scale_filter: ScaleFilter, cfg: TrackerConfig,
                 new: TrackState, old: TrackState, image: np.ndarray,
                 centre_view: Optional[CentreView]) -> None:
    """Blend this frame's centre and scale filters (those on) into the track's.

    The centre filter learns on ``centre_view`` (this frame's crop around the measurement)
    when there is one, else on a crop around the filtered box.
    """
    size = np.maximum(new.mean[2:4], MIN_CROP_BOX)
    if cfg.centre_filter_weight > 0.0 and CentreFilter.worth_learning(size):
        if centre_view is None:
            centre_view = centre_filter.view(image, new.mean[:2], size)
        learnt = centre_filter.learn(centre_view, new.mean[:2], size)
        new.centre_model = learnt if old.centre_model is None else AppearanceFilter.blend(
            old.centre_model, learnt, cfg.centre_filter_learning_rate)
    if cfg.scale_filter_weight <= 0.0:
        return
    if old.scale_model is None:         # switched on during the track
        new.scale_model = scale_filter.learn(image, new.mean[:2], size)
        return
    rate = cfg.scale_filter_learning_rate
    if rate > 0.0:
        learnt = scale_filter.learn(image, new.mean[:2], size, old.scale_model.shape)
        new.scale_model = ScaleFilter.blend(old.scale_model, learnt, rate)
