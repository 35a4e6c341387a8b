# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ROS-free single-object tracker: crop -> network -> decode -> Kalman filter.

Per frame (``track``):

1. Kalman predict over ``dt`` = this stamp - the previous stamp.
2. Crop the search region around the predicted box (``search_factor``; see the policy for a
   lost target). ``core/searcher.py`` runs steps 2-4.
3. Run the backend. Penalise its score map with a Hann window (``score * ((1 - w) + w *
   hann)``, ``w = hann_weight``) and blend it with the appearance filter's response on the
   same crop (``core/appearance_filter.py``, share ``appearance_weight``; pooled onto the
   score grid, over its typical peak on good frames); a widened search while lost uses
   neither (the target may be anywhere in it). Decode the best cell (centre = (cell +
   offset) / grid, size from the size map); the confidence is the un-windowed blend there.
4. Map the box back to the image and clip it to it (the result's ``raw_box``).
5. Pull its aspect ratio towards the initial box's by ``aspect_prior``. While tracking,
   blend its centre with the centre filter's (``core/centre_filter.py``, share
   ``centre_filter_weight``; a crop at twice the network's resolution, cut from features
   worked out around the prediction on the side thread while the network ran) and its
   log size with the scale filter's (``core/scale_filter.py``, share
   ``scale_filter_weight``; a DSST search). Both learn the target's own appearance,
   whereas the network's errors follow the target and persist. Gate that measurement
   (chi-square on the Kalman innovation) and update the filter, with R from the network's
   predicted log-variance.

Policy:

* a frame is *good* when its confidence (the un-windowed peak score) is at least
  ``lost_confidence`` and it passes the gate; good frames update the filter and carry
  the network's temporal context (FiLM) to the next frame; bad frames coast on the
  prediction and keep the previous context;
* after ``lost_frames`` consecutive bad frames the status becomes ``lost``:
  the filter coasts (without its velocity unless ``extrapolate_while_lost``), and the
  search factor grows by ``lost_search_growth`` per frame up to ``max_search_factor``;
* while lost, a frame with confidence >= ``reacquire_confidence`` re-acquires the target:
  a normal update when it passes the gate, otherwise the filter restarts at the
  measurement (the target moved further than the coasting filter allows);
* with ``confirm_redetection`` (default), a lost frame first searches as a tracked frame
  does (``search_factor``, window, appearance filter) around the last position. Only if
  that is not confident enough does the widened search run, and its best candidate (at
  least ``lost_confidence``) is searched again as a tracked frame; the more confident of
  the two tracked-frame searches counts. A look-alike the network prefers in a wide crop
  then has to match the target's own appearance at the trained scale (up to 3 model steps
  per lost frame). Without it, the widened search alone decides;
* while lost, ``relocate_with_initial_template`` searches with the initial box's template
  (kept again once re-acquired), and ``global_search_interval`` > 0 also searches the
  whole image in overlapping tiles every N lost frames (at most
  ``global_search_max_tiles`` model steps), keeping the most confident crop;
* the appearance filter is learnt on the first frame; with ``appearance_learning_rate``
  > 0 (default 0) also on good frames (not while lost, nor where it overruled the
  network's own peak), as a running average;
* the scale and centre filters are learnt around the initial box, then on every good frame
  at the filtered box (running averages; not while lost; the centre filter not for
  targets too small for it to count, ``CentreFilter.worth_learning``, and on the crop it
  located on where there is one). That learning waits until after ``track`` returns: a
  ``learn_pending`` call (the node's, once it has published) does it, or else the next
  ``track`` on its side thread while its network runs (``core/side_thread.py``);
* the template is re-encoded around the filtered box once at least
  ``template_update_interval`` frames have passed since the last (re)encode, on the first
  good frame with confidence >= ``template_update_confidence`` (off by default, interval
  0: the shipped model tracks better on its first template);
* ``initialize`` (also while tracking) starts a new track with a new id.

Errors never change the tracker's state: a bad box or image raises ``ValueError``; a
stamp that is not after the previous one raises ``StampOrderError`` (a ``ValueError``),
so callers can count and skip it.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from vil_tracker_ros.config import KalmanConfig, TrackerConfig
from vil_tracker_ros.core.appearance_filter import AppearanceFilter
from vil_tracker_ros.core.backend import TrackingBackend
from vil_tracker_ros.core.centre_filter import CentreFilter, CentreView
from vil_tracker_ros.core.filter_learning import learn_appearance, learn_target
from vil_tracker_ros.core.kalman import KalmanFilter
from vil_tracker_ros.core.preprocess import crop_region, mean_colour, MIN_CROP_BOX
from vil_tracker_ros.core.relocate import relocate
from vil_tracker_ros.core.scale_filter import ScaleFilter
from vil_tracker_ros.core.searcher import Searcher
from vil_tracker_ros.core.side_thread import SideThread, spare_core
from vil_tracker_ros.core.track_state import check_image, check_stamp, SearchedFrame
from vil_tracker_ros.core.track_state import StampOrderError, TrackResult, TrackState, TrackStatus
from vil_tracker_ros.geometry import blend_aspect, box_error, clip_box_xywh, cxcywh_to_xywh
from vil_tracker_ros.geometry import xywh_to_cxcywh


class SingleObjectTracker:
    """Track one target through frames; see the module docstring for the policy."""

    def __init__(self, backend: TrackingBackend, tracker_cfg: Optional[TrackerConfig] = None,
                 kalman_cfg: Optional[KalmanConfig] = None) -> None:
        self.backend = backend
        self.cfg = tracker_cfg if tracker_cfg is not None else TrackerConfig()
        self.cfg.validate()
        self.kf = KalmanFilter(kalman_cfg)
        self.template_size = int(backend.template_size)
        self.search_size = int(backend.search_size)
        self._track: Optional[TrackState] = None
        self._pending: Optional[Callable[[], None]] = None    # see learn_pending
        self._last_id = 0
        self.appearance = AppearanceFilter(self.search_size)
        # work done while the network runs, where it leaves a core free; see close()
        self.side = SideThread(enabled=spare_core(getattr(backend, 'cpu_threads', 1)))
        self.searcher = Searcher(backend, self.appearance, self.side)
        self.scale_filter = ScaleFilter()
        self.centre_filter = CentreFilter()

    # ------------------------------------------------------------------ state

    @property
    def status(self) -> TrackStatus:
        return self._track.status if self._track is not None else TrackStatus.IDLE

    @property
    def track_id(self) -> int:
        return self._track.track_id if self._track is not None else 0

    @property
    def last_stamp(self) -> Optional[float]:
        return self._track.stamp if self._track is not None else None

    def reset(self) -> None:
        """Stop tracking and go idle (the next track id still increases)."""
        self._track = None
        self._pending = None

    def close(self) -> None:
        """Stop the side thread (``core/side_thread.py``); a later step starts it again."""
        self.side.close()

    def learn_pending(self) -> None:
        """Update the scale and centre filters with the last tracked frame, if not done yet.

        ``track`` returns its result before this learning, which only the next frame needs.
        The next ``track`` does it on the side thread while its network runs. A caller
        that publishes the result first (the node) calls this right after, so that the
        learning stays off the latency even on a busy second core.
        """
        learn, self._pending = self._pending, None
        if learn is not None:
            learn()

    # ------------------------------------------------------------ initialise

    def initialize(self, image: np.ndarray, box_xywh: Any, stamp: float) -> TrackResult:
        """Start a new track on ``box_xywh`` (pixels) in ``image`` taken at ``stamp`` (s).

        Raises ``ValueError`` for a bad image, stamp or box (NaN, size <= 0,
        entirely outside the image); the previous track is then untouched.
        """
        t0 = time.perf_counter()
        check_image(image)
        stamp = check_stamp(stamp)
        height, width = image.shape[:2]
        err = box_error(box_xywh, width, height)
        if err is not None:
            raise ValueError(f'initial box rejected: {err}')
        box = np.asarray(box_xywh, dtype=np.float64)
        crop, _ = crop_region(image, box, self.cfg.template_factor, self.template_size)
        t1 = time.perf_counter()
        template_state = self.backend.encode_template(crop)
        t2 = time.perf_counter()
        mean, cov = self.kf.initiate(xywh_to_cxcywh(box), self.kf.motion_floor(height, width))
        appearance_model = None
        if self.cfg.appearance_weight > 0.0:
            scrop, stf = crop_region(image, box, self.cfg.search_factor, self.search_size)
            cbox = xywh_to_cxcywh(stf.image_to_crop(box))
            appearance_model = self.appearance.learn(self.appearance.spectrum(scrop),
                                                     cbox[:2], cbox[2:4],
                                                     self.cfg.appearance_sigma)
        size = np.maximum(mean[2:4], MIN_CROP_BOX)
        scale_model = (self.scale_filter.learn(image, mean[:2], size)
                       if self.cfg.scale_filter_weight > 0.0 else None)
        centre_model = None
        if self.cfg.centre_filter_weight > 0.0:
            view = self.centre_filter.view(image, mean[:2], size)
            centre_model = self.centre_filter.learn(view, mean[:2], size)
        self._last_id += 1
        self._pending = None                 # the previous track's learning
        self._track = TrackState(track_id=self._last_id, stamp=stamp, mean=mean, cov=cov,
                                 template_state=template_state,
                                 initial_template_state=template_state,
                                 initial_log_aspect=math.log(box[2] / box[3]),
                                 search_factor=self.cfg.search_factor,
                                 appearance_model=appearance_model,
                                 scale_model=scale_model, centre_model=centre_model)
        t3 = time.perf_counter()
        timings = {'crop': (t1 - t0) * 1e3, 'template': (t2 - t1) * 1e3,
                   'update': (t3 - t2) * 1e3, 'total': (t3 - t0) * 1e3}
        return self._track.result(image.shape, raw_box=box, confidence=1.0, accepted=True,
                                  timings=timings)

    # ----------------------------------------------------------------- track

    def track(self, image: np.ndarray, stamp: float) -> TrackResult:
        """Process one frame; returns an ``idle`` result when no target is set."""
        t_start = time.perf_counter()
        learn, self._pending = self._pending, None
        # the last frame's learning, while this frame's crop and network run; it touches
        # only the filters that step 5 reads, so it must be done by then
        learning = None if learn is None else self.side.submit(learn)
        try:
            check_image(image)
            stamp = check_stamp(stamp)
            tr = self._track
            if tr is None:
                return TrackResult(status=TrackStatus.IDLE, track_id=0, stamp=stamp)
            if stamp <= tr.stamp:
                kind = 'duplicate' if stamp == tr.stamp else 'out-of-order'
                raise StampOrderError(f'{kind} frame: stamp {stamp:.6f} s is not after the '
                                      f'previous frame {tr.stamp:.6f} s (track {tr.track_id})')
            searched = self._search(tr, image, stamp)
        finally:
            if learning is not None:
                learning.result()    # a failed update fails this step, as if done first
        return self._update(tr, image, stamp, searched, t_start)

    def _search(self, tr: TrackState, image: np.ndarray, stamp: float) -> SearchedFrame:
        """Predict, then search around the prediction or relocate (steps 1-4)."""
        height, width = image.shape[:2]
        timings: Dict[str, float] = {}

        # 1. predict; a lost track's velocity is stale, so by default it stops extrapolating
        t = time.perf_counter()
        mean = tr.mean
        if tr.status == TrackStatus.LOST and not self.cfg.extrapolate_while_lost:
            mean = np.concatenate([mean[:4], np.zeros(4)])
        mean, cov = self.kf.predict(mean, tr.cov, stamp - tr.stamp,
                                    self.kf.motion_floor(height, width))
        timings['predict'] = (time.perf_counter() - t) * 1e3

        # 2-4. search around the prediction (kept on the image, with a sane size); a lost
        # target is searched for by ``core/relocate.py``
        lost = tr.status == TrackStatus.LOST
        limit = 2.0 * max(width, height)
        centre = (float(np.clip(mean[0], 0.0, width)), float(np.clip(mean[1], 0.0, height)))
        bw = float(np.clip(mean[2], MIN_CROP_BOX, limit))
        bh = float(np.clip(mean[3], MIN_CROP_BOX, limit))
        template = tr.template_state
        if lost and self.cfg.relocate_with_initial_template:
            template = tr.initial_template_state
        pad = mean_colour(image)       # once for every crop of this frame
        search = functools.partial(self.searcher.search, image, pad, template, tr.temporal_ctx)
        global_search, centre_field = False, None
        if lost:
            # the filter's response counts only against its typical peak on good frames: a
            # crop's own maximum would make anything look like the target
            appearance = self._appearance(tr) if tr.appearance_peak > 0.0 else None
            best, global_search = relocate(search, self.cfg, tr, centre, (bw, bh),
                                           (width, height), timings, appearance)
        else:
            if self._centre_filter_counts(tr, (bw, bh)):
                # the centre filter's features around the prediction, while the network runs
                centre_field = self.side.submit(self.centre_filter.field, image, centre,
                                                (bw, bh), pad)
            best = search(centre, (bw, bh), tr.search_factor, self.cfg.hann_weight, timings,
                          self._appearance(tr))
        return SearchedFrame(best, mean, cov, (bw, bh), template, global_search, timings,
                             centre_field)

    def _update(self, tr: TrackState, image: np.ndarray, stamp: float, searched: SearchedFrame,
                t_start: float) -> TrackResult:
        """Fuse the filters, gate, update and commit the new state (steps 5-6)."""
        height, width = image.shape[:2]
        lost = tr.status == TrackStatus.LOST
        best, mean, cov, (bw, bh), template, global_search, timings, centre_field = searched
        out, transform, raw_box, confidence = best[:4]

        # 5. gate and update
        t = time.perf_counter()
        z = xywh_to_cxcywh(blend_aspect(raw_box, tr.initial_log_aspect, self.cfg.aspect_prior))
        centre_view = None      # the centre filter's crop around z, also learnt on below
        if centre_field is not None:
            centre_view = self.centre_filter.view_in(centre_field.result(), z[:2])
            if centre_view is None:     # z is too far from the prediction: crop around it
                centre_view = self.centre_filter.view(image, z[:2], (bw, bh))
            z = self.centre_filter.fuse(tr.centre_model, centre_view, z, (bw, bh),
                                        self.cfg.centre_filter_weight)
        if not lost and tr.scale_model is not None and self.cfg.scale_filter_weight > 0.0:
            z = self.scale_filter.fuse(tr.scale_model, image, z, (bw, bh),
                                       self.cfg.scale_filter_weight)
        r_mat = self.kf.measurement_noise(mean, out.log_var, transform.side)
        distance = self.kf.gating_distance(mean, cov, z, r_mat)
        gated = not self.kf.gate(distance)
        new = TrackState(**{**tr.__dict__})
        new.stamp = stamp
        new.frame_index = tr.frame_index + 1
        new.frames_since_template = tr.frames_since_template + 1
        if lost:
            accepted = confidence >= self.cfg.reacquire_confidence
        else:
            accepted = confidence >= self.cfg.lost_confidence and not gated
        if accepted and gated:      # re-acquired far from the coasting prediction
            new.mean, new.cov = self.kf.initiate(z, self.kf.motion_floor(height, width))
        elif accepted:
            new.mean, new.cov = self.kf.update(mean, cov, z, r_mat)
        else:
            new.mean, new.cov = mean, cov
        if self.cfg.appearance_weight <= 0.0:
            new.appearance_model, new.appearance_peak = None, 0.0    # off: forget it
        elif accepted and best.spectrum is not None and best.agrees:
            # not from a frame where the filter overruled the network: it would learn
            # whatever it had pulled the track onto
            learn_appearance(self.appearance, self.cfg, new, tr, best)
        learn = None
        if accepted and not lost:      # for the next frame: see learn_pending
            learn = functools.partial(self._learn_target, new, tr, image, centre_view)
        if self.cfg.scale_filter_weight <= 0.0:
            new.scale_model = None                 # off: forget it
        if self.cfg.centre_filter_weight <= 0.0:
            new.centre_model = None
        if accepted and lost and template is tr.initial_template_state:
            new.template_state = template     # the updated one had drifted off the target
            new.frames_since_template = 0
        if accepted:
            new.status = TrackStatus.TRACKING
            new.bad_frames = 0
            new.search_factor = self.cfg.search_factor
            new.temporal_ctx = out.temporal_ctx
        else:
            new.bad_frames = tr.bad_frames + 1
            if new.bad_frames >= self.cfg.lost_frames:
                if lost:
                    new.search_factor = min(tr.search_factor * self.cfg.lost_search_growth,
                                            self.cfg.max_search_factor)
                new.status = TrackStatus.LOST
        timings['update'] = (time.perf_counter() - t) * 1e3

        # 6. template update on confident frames
        t = time.perf_counter()
        template_updated = False
        if (accepted and self.cfg.template_update_interval > 0
                and new.frames_since_template >= self.cfg.template_update_interval
                and confidence >= self.cfg.template_update_confidence):
            box = clip_box_xywh(cxcywh_to_xywh(new.mean[:4]), width, height)
            tcrop, _ = crop_region(image, box, self.cfg.template_factor, self.template_size)
            new.template_state = self.backend.encode_template(tcrop)
            new.frames_since_template = 0
            template_updated = True
        timings['template'] = (time.perf_counter() - t) * 1e3
        timings['total'] = (time.perf_counter() - t_start) * 1e3

        self._track = new   # commit only after every step succeeded
        self._pending = learn
        return new.result(image.shape, raw_box=raw_box, confidence=confidence,
                          accepted=accepted, gated=gated, gate_distance=distance,
                          search_factor=tr.search_factor, template_updated=template_updated,
                          global_search=global_search, timings=timings)

    def _learn_target(self, new: TrackState, old: TrackState, image: np.ndarray,
                      centre_view: Optional[CentreView]) -> None:
        # the config in force when the learning runs (the node may swap it in between)
        learn_target(self.centre_filter, self.scale_filter, self.cfg, new, old, image,
                     centre_view)

    def _centre_filter_counts(self, tr: TrackState, size: Tuple[float, float]) -> bool:
        """Tell whether the centre filter takes part in a tracked frame's measurement."""
        return (tr.centre_model is not None and self.cfg.centre_filter_weight > 0.0
                and CentreFilter.counts(size))

    def _appearance(self, tr: TrackState) -> Optional[tuple]:
        """Return the appearance filter a search blends in: (model, typical peak, share)."""
        if self.cfg.appearance_weight <= 0.0:
            return None
        return tr.appearance_model, tr.appearance_peak, self.cfg.appearance_weight
