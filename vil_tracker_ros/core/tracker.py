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
   ``centre_filter_weight``; a crop at twice the network's resolution) and its log size
   with the scale filter's (``core/scale_filter.py``, share ``scale_filter_weight``; a
   DSST search). Both learn the target's own appearance, whereas the network's errors
   follow the target and persist. Gate that measurement (chi-square on the Kalman
   innovation) and update the filter, with R from the network's predicted log-variance.

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
  located on where there is one). That learning waits until after ``track`` returns: the
  next ``track`` or a ``learn_pending`` call (the node's, once it has published) does it;
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
from typing import Any, Callable, Dict, Optional

import numpy as np

from vil_tracker_ros.config import KalmanConfig, TrackerConfig
from vil_tracker_ros.core.appearance_filter import AppearanceFilter
from vil_tracker_ros.core.backend import TrackingBackend
from vil_tracker_ros.core.centre_filter import CentreFilter, CentreView
from vil_tracker_ros.core.kalman import KalmanFilter
from vil_tracker_ros.core.preprocess import crop_region
from vil_tracker_ros.core.relocate import relocate
from vil_tracker_ros.core.scale_filter import ScaleFilter
from vil_tracker_ros.core.searcher import Searcher
from vil_tracker_ros.core.track_state import check_image, check_stamp, SearchOutcome
from vil_tracker_ros.core.track_state import StampOrderError, TrackResult, TrackState, TrackStatus
from vil_tracker_ros.geometry import blend_aspect, box_error, clip_box_xywh, cxcywh_to_xywh
from vil_tracker_ros.geometry import xywh_to_cxcywh

_MIN_CROP_BOX = 2.0   # px; smallest box the crop is built around
_PEAK_RATE = 0.1      # running-mean rate of the appearance filter's typical peak


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
        self.searcher = Searcher(backend, self.appearance)
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

    def learn_pending(self) -> None:
        """Update the scale and centre filters with the last tracked frame, if not done yet.

        ``track`` returns its result before this learning, which only the next frame needs,
        and does it first thing on that frame. A caller that publishes the result first
        (the node) calls this right after, so that the learning stays off the latency.
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
        size = np.maximum(mean[2:4], _MIN_CROP_BOX)
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
        return self._result(self._track, image.shape, raw_box=box, confidence=1.0,
                            accepted=True, timings=timings)

    # ----------------------------------------------------------------- track

    def track(self, image: np.ndarray, stamp: float) -> TrackResult:
        """Process one frame; returns an ``idle`` result when no target is set."""
        t_start = time.perf_counter()
        self.learn_pending()
        check_image(image)
        stamp = check_stamp(stamp)
        tr = self._track
        if tr is None:
            return TrackResult(status=TrackStatus.IDLE, track_id=0, stamp=stamp)
        if stamp <= tr.stamp:
            kind = 'duplicate' if stamp == tr.stamp else 'out-of-order'
            raise StampOrderError(f'{kind} frame: stamp {stamp:.6f} s is not after the '
                                  f'previous frame {tr.stamp:.6f} s (track {tr.track_id})')
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
        bw = float(np.clip(mean[2], _MIN_CROP_BOX, limit))
        bh = float(np.clip(mean[3], _MIN_CROP_BOX, limit))
        template = tr.template_state
        if lost and self.cfg.relocate_with_initial_template:
            template = tr.initial_template_state
        search = functools.partial(self.searcher.search, image, template, tr.temporal_ctx)
        global_search = False
        if lost:
            # the filter's response counts only against its typical peak on good frames: a
            # crop's own maximum would make anything look like the target
            appearance = self._appearance(tr) if tr.appearance_peak > 0.0 else None
            best, global_search = relocate(search, self.cfg, tr, centre, (bw, bh),
                                           (width, height), timings, appearance)
        else:
            best = search(centre, (bw, bh), tr.search_factor, self.cfg.hann_weight, timings,
                          self._appearance(tr))
        out, transform, raw_box, confidence = best[:4]

        # 5. gate and update
        t = time.perf_counter()
        z = xywh_to_cxcywh(blend_aspect(raw_box, tr.initial_log_aspect, self.cfg.aspect_prior))
        centre_view = None      # the centre filter's crop around z, also learnt on below
        if (not lost and tr.centre_model is not None and self.cfg.centre_filter_weight > 0.0
                and CentreFilter.counts((bw, bh))):
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
            self._learn_appearance(new, tr, best)
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
        return self._result(new, image.shape, raw_box=raw_box, confidence=confidence,
                            accepted=accepted, gated=gated, gate_distance=distance,
                            search_factor=tr.search_factor, template_updated=template_updated,
                            global_search=global_search, timings=timings)

    def _learn_appearance(self, new: TrackState, old: TrackState, found: SearchOutcome) -> None:
        """Update the track's filter (running average) and its typical response peak."""
        if old.appearance_model is not None:
            new.appearance_peak = found.peak if old.appearance_peak <= 0.0 else (
                (1.0 - _PEAK_RATE) * old.appearance_peak + _PEAK_RATE * found.peak)
        rate = self.cfg.appearance_learning_rate
        if old.appearance_model is not None and rate <= 0.0:
            return                          # the first frame's filter stays
        cbox = xywh_to_cxcywh(found.transform.image_to_crop(cxcywh_to_xywh(new.mean[:4])))
        learnt = self.appearance.learn(found.spectrum, cbox[:2],
                                       np.maximum(cbox[2:4], _MIN_CROP_BOX),
                                       self.cfg.appearance_sigma)
        if old.appearance_model is None:    # switched on during the track
            new.appearance_model, new.appearance_peak = learnt, 0.0
        else:
            new.appearance_model = AppearanceFilter.blend(old.appearance_model, learnt, rate)

    def _learn_target(self, new: TrackState, old: TrackState, image: np.ndarray,
                      centre_view: Optional[CentreView]) -> None:
        """Blend this frame's centre and scale filters (those on) into the track's.

        The centre filter learns on ``centre_view`` (this frame's crop around the
        measurement) when there is one, else on a crop around the filtered box.
        """
        size = np.maximum(new.mean[2:4], _MIN_CROP_BOX)
        if self.cfg.centre_filter_weight > 0.0 and CentreFilter.worth_learning(size):
            if centre_view is None:
                centre_view = self.centre_filter.view(image, new.mean[:2], size)
            learnt = self.centre_filter.learn(centre_view, new.mean[:2], size)
            new.centre_model = learnt if old.centre_model is None else AppearanceFilter.blend(
                old.centre_model, learnt, self.cfg.centre_filter_learning_rate)
        if self.cfg.scale_filter_weight <= 0.0:
            return
        if old.scale_model is None:         # switched on during the track
            new.scale_model = self.scale_filter.learn(image, new.mean[:2], size)
            return
        rate = self.cfg.scale_filter_learning_rate
        if rate > 0.0:
            learnt = self.scale_filter.learn(image, new.mean[:2], size, old.scale_model.shape)
            new.scale_model = ScaleFilter.blend(old.scale_model, learnt, rate)

    def _appearance(self, tr: TrackState) -> Optional[tuple]:
        """Return the appearance filter a search blends in: (model, typical peak, share)."""
        if self.cfg.appearance_weight <= 0.0:
            return None
        return tr.appearance_model, tr.appearance_peak, self.cfg.appearance_weight

    @staticmethod
    def _result(tr: TrackState, shape: tuple, **kw: Any) -> TrackResult:
        height, width = shape[:2]
        box = clip_box_xywh(cxcywh_to_xywh(tr.mean[:4]), width, height)
        return TrackResult(status=tr.status, track_id=tr.track_id, stamp=tr.stamp,
                           frame_index=tr.frame_index, box=box,
                           cov_xy=tr.cov[:2, :2].copy(), cov=tr.cov.copy(), **kw)
