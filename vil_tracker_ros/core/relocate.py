# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""How the tracker searches for a lost target (the lost-frame policy of ``core/tracker.py``).

With ``confirm_redetection`` it first searches like a tracked frame around the last
position; if that is not confident enough, the widened (and global) search proposes a
candidate, and a search like a tracked frame around it decides.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

from vil_tracker_ros.config import TrackerConfig
from vil_tracker_ros.core.search_region import global_search_centres
from vil_tracker_ros.core.track_state import SearchOutcome, TrackState


def relocate(search: Callable[..., SearchOutcome], cfg: TrackerConfig, tr: TrackState,
             centre: tuple, size: tuple, image_size: Tuple[int, int],
             timings: Dict[str, float], appearance: Optional[tuple]
             ) -> Tuple[SearchOutcome, bool]:
    """Search for a lost target; returns (the chosen search, whether it tiled the image).

    ``search`` runs one crop (``Searcher.search`` bound to the frame, template and context);
    ``appearance`` is the prior the tracked-frame searches blend in (None: none).
    """
    width, height = image_size
    local = None
    if cfg.confirm_redetection:
        local = search(centre, size, cfg.search_factor, cfg.hann_weight, timings, appearance)
        if local.confidence >= cfg.reacquire_confidence:
            return local, False
    wide = None
    if local is None or tr.search_factor > cfg.search_factor:
        wide = search(centre, size, tr.search_factor, 0.0, timings)
    interval = cfg.global_search_interval
    global_search = interval > 0 and (tr.bad_frames - cfg.lost_frames) % interval == 0
    if global_search:
        for tile in global_search_centres(width, height, size, cfg.search_factor,
                                          cfg.global_search_max_tiles):
            found = search(tile, size, cfg.search_factor, 0.0, timings)
            if wide is None or found.confidence > wide.confidence:
                wide = found
    if local is None or wide is None or wide.confidence < cfg.lost_confidence:
        return (wide if local is None else local), global_search
    x, y, w, h = wide.raw_box
    again = search((x + w / 2.0, y + h / 2.0), size, cfg.search_factor, cfg.hann_weight,
                   timings, appearance)
    return (again if again.confidence > local.confidence else local), global_search
