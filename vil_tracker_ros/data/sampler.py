# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Template/search pair sampling over the training sources.

Sources: videos from the dataset readers (GOT-10k, LaSOT, TrackingNet), COCO
static pairs (template and search from the same photo, made different by
jitter and augmentation), and the synthetic generator. Sources are mixed by
weight. A listed root that does not exist is skipped with a warning; when
nothing is left the synthetic generator takes over (if allowed).

Every sample is a pure function of ``(seed, epoch, index)``, so a run is
reproducible, resumes mid-epoch exactly, and DDP ranks draw disjoint samples.
Crops come from ``core/preprocess.py`` (the tracker's own crop code).
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import json
import logging
import os
from typing import Callable, Dict, List, Optional, Sequence as SequenceT, Tuple
import warnings

import numpy as np
from torch.utils.data import Dataset

from vil_tracker_ros.config import (AugmentConfig, DatasetSpec, SyntheticConfig,
                                    TrainDataConfig)
from vil_tracker_ros.core.preprocess import (crop_transform, CropTransform, jitter_box,
                                             warp_crop)
from vil_tracker_ros.data.augment import augment_pair, CropPair
from vil_tracker_ros.data.sequence import read_rgb, Sequence

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplingState:
    """The curriculum knobs the sampler needs for one epoch."""

    epoch: int = 0
    max_gap: int = 100
    center_jitter: float = 3.0
    scale_jitter: float = 0.25


class ImageFrame:
    """A frame that is a full image, loaded on first use and cropped with ``warp_crop``."""

    def __init__(self, load: Callable[[], np.ndarray]):
        self._load = load
        self._image: Optional[np.ndarray] = None

    def crop(self, transform: CropTransform) -> np.ndarray:
        if self._image is None:
            self._image = self._load()
        return warp_crop(self._image, transform)


class SceneFrame:
    """A synthetic frame: only the crop's pixels are rendered (same result as warp_crop)."""

    def __init__(self, scene, index: int):
        self.scene = scene
        self.index = index

    def crop(self, transform: CropTransform) -> np.ndarray:
        return self.scene.render_crop(self.index, transform)


@dataclass
class RawPair:
    """Frames and their xywh pixel boxes for one sample."""

    template: 'ImageFrame | SceneFrame'
    template_box: np.ndarray
    search: 'ImageFrame | SceneFrame'
    search_box: np.ndarray
    prev: 'ImageFrame | SceneFrame | None' = None
    prev_box: Optional[np.ndarray] = None


def pick_frames(visible: np.ndarray, rng: np.random.Generator, max_gap: int,
                with_prev: bool) -> Tuple[int, int, int]:
    """Template, search and previous-frame indices among the ``visible`` frame indices.

    The search frame is another visible frame at most ``max_gap`` away (the
    template frame itself when there is none); the previous frame is a visible
    frame 1-3 before the search frame (the search frame itself when none).
    """
    t = int(visible[rng.integers(len(visible))])
    near = visible[(np.abs(visible - t) <= max_gap) & (visible != t)]
    s = int(near[rng.integers(len(near))]) if len(near) else t
    p = s
    if with_prev:
        before = visible[(visible < s) & (visible >= s - 3)]
        p = int(before[rng.integers(len(before))]) if len(before) else s
    return t, s, p


# ---------------------------------------------------------------------- sources


class VideoSource:
    """Pairs from annotated sequences: template and search at most ``max_gap`` apart."""

    def __init__(self, name: str, sequences: SequenceT[Sequence]):
        self.name = name
        self.sequences: List[Sequence] = []
        self.visible: List[np.ndarray] = []
        for seq in sequences:
            vis = np.flatnonzero(seq.visible)
            if len(vis) >= 1:
                self.sequences.append(seq)
                self.visible.append(vis)
        if not self.sequences:
            raise ValueError(f'{name}: no sequence has a visible target frame')

    def __len__(self) -> int:
        return len(self.sequences)

    def sample(self, rng: np.random.Generator, state: SamplingState,
               with_prev: bool) -> RawPair:
        k = int(rng.integers(len(self.sequences)))
        seq = self.sequences[k]
        t, s, p = pick_frames(self.visible[k], rng, state.max_gap, with_prev)
        frames = {i: ImageFrame(functools.partial(seq.frame, i)) for i in {t, s, p}}
        pair = RawPair(frames[t], seq.gt[t].copy(), frames[s], seq.gt[s].copy())
        if with_prev:
            pair.prev, pair.prev_box = frames[p], seq.gt[p].copy()
        return pair


class SyntheticSource:
    """Pairs from the synthetic generator; scenes are built on first use and kept."""

    def __init__(self, cfg: SyntheticConfig, count: int):
        if count < 1:
            raise ValueError(f'synthetic pool needs at least 1 scene, got {count}')
        self.name = 'synthetic'
        self.cfg = cfg
        self.count = count
        self._scenes: Dict[int, object] = {}

    def __len__(self) -> int:
        return self.count

    def scene(self, k: int):
        if k not in self._scenes:
            from vil_tracker_ros.data import synthetic
            self._scenes[k] = synthetic.make_scene(self.cfg, k)
        return self._scenes[k]

    def sample(self, rng: np.random.Generator, state: SamplingState,
               with_prev: bool) -> RawPair:
        scene = self.scene(int(rng.integers(self.count)))
        visible = np.flatnonzero(scene.visible)
        if len(visible) == 0:
            raise ValueError(f'synthetic scene {scene.name} has no visible frame')
        t, s, p = pick_frames(visible, rng, state.max_gap, with_prev)
        pair = RawPair(SceneFrame(scene, t), scene.gt[t].copy(),
                       SceneFrame(scene, s), scene.gt[s].copy())
        if with_prev:
            pair.prev, pair.prev_box = SceneFrame(scene, p), scene.gt[p].copy()
        return pair


class CocoSource:
    """Static pairs from a COCO ``instances_*.json``: one object, one photo, twice."""

    def __init__(self, annotations: str, images: str, min_size: float = 8.0):
        self.name = 'coco'
        with open(annotations, 'r', encoding='utf-8') as f:
            data = json.load(f)
        for key in ('images', 'annotations'):
            if key not in data:
                raise ValueError(f'{annotations}: not a COCO instances file (no {key!r})')
        files = {img['id']: img['file_name'] for img in data['images']}
        self.items: List[Tuple[str, np.ndarray]] = []
        for ann in data['annotations']:
            x, y, w, h = (float(v) for v in ann['bbox'])
            if ann.get('iscrowd', 0) or w < min_size or h < min_size:
                continue
            if ann['image_id'] not in files:
                raise ValueError(f'{annotations}: annotation {ann.get("id")} names unknown '
                                 f'image {ann["image_id"]}')
            self.items.append((os.path.join(images, files[ann['image_id']]),
                               np.array([x, y, w, h], dtype=np.float64)))
        if not self.items:
            raise ValueError(f'{annotations}: no usable (non-crowd, >= {min_size:g} px) object')

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, rng: np.random.Generator, state: SamplingState,
               with_prev: bool) -> RawPair:
        path, box = self.items[int(rng.integers(len(self.items)))]
        frame = ImageFrame(functools.partial(read_rgb, path))
        pair = RawPair(frame, box.copy(), frame, box.copy())
        if with_prev:
            pair.prev, pair.prev_box = frame, box.copy()
        return pair


def _load_video_dataset(spec: DatasetSpec) -> List[Sequence]:
    from vil_tracker_ros.data.datasets import load_dataset
    split = spec.split or None
    if split is None and spec.name == 'got10k':
        split = 'train'
    return load_dataset(spec.name, spec.root, split=split)


def build_sources(cfg: TrainDataConfig) -> Tuple[list, List[float]]:
    """Build the configured sources and their weights; skip missing roots with a warning."""
    sources, weights = [], []
    for spec in cfg.datasets:
        if spec.weight == 0:
            continue
        if spec.name == 'synthetic':
            sources.append(SyntheticSource(cfg.synthetic, cfg.synthetic_sequences))
            weights.append(spec.weight)
            continue
        if not os.path.isdir(spec.root):
            msg = f'dataset {spec.name}: root {spec.root!r} does not exist; skipping it'
            warnings.warn(msg)
            LOG.warning(msg)
            continue
        if spec.name == 'coco':
            ann = spec.annotations or os.path.join(spec.root, 'annotations',
                                                   'instances_train2017.json')
            images = spec.images or os.path.join(spec.root, 'train2017')
            sources.append(CocoSource(ann, images))
        else:
            sources.append(VideoSource(spec.name, _load_video_dataset(spec)))
        weights.append(spec.weight)
    if not sources:
        if not cfg.fallback_to_synthetic:
            raise ValueError('no training source is available (all roots missing) and '
                             'data.fallback_to_synthetic is false')
        msg = 'no listed dataset is available; falling back to the synthetic generator'
        warnings.warn(msg)
        LOG.warning(msg)
        sources.append(SyntheticSource(cfg.synthetic, cfg.synthetic_sequences))
        weights.append(1.0)
    return sources, weights


# ---------------------------------------------------------------------- dataset


class PairDataset(Dataset):
    """Map-style dataset of ``samples_per_epoch`` crop pairs, redrawn every epoch.

    Items are dicts of numpy arrays: ``template`` (Ht, Wt, 3) and ``search``
    (Hs, Ws, 3) uint8 RGB, ``box`` (4,) float32 normalised cx, cy, w, h of the
    target in the search crop, ``source`` (the source index), and with
    ``with_prev`` also ``prev_search``/``prev_box`` (the previous frame's crop,
    which feeds the temporal context).
    """

    def __init__(self, sources: list, weights: SequenceT[float], template_size: int,
                 search_size: int, data_cfg: TrainDataConfig, augment_cfg: AugmentConfig,
                 seed: int, with_prev: bool = False):
        if len(sources) != len(weights) or not sources:
            raise ValueError('need one weight per source and at least one source')
        w = np.asarray(weights, dtype=np.float64)
        if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
            raise ValueError(f'source weights must be >= 0 and not all 0, got {list(weights)}')
        self.sources = list(sources)
        self.probs = w / w.sum()
        self.template_size = int(template_size)
        self.search_size = int(search_size)
        self.data_cfg = data_cfg
        self.augment_cfg = augment_cfg
        self.seed = int(seed)
        self.with_prev = with_prev
        self.state = SamplingState()

    def set_state(self, state: SamplingState) -> None:
        """Set the epoch and curriculum knobs (call before iterating an epoch)."""
        self.state = state

    def __len__(self) -> int:
        return self.data_cfg.samples_per_epoch

    def _crop(self, frame, box: np.ndarray, factor: float, size: int,
              center_jitter: float, scale_jitter: float, rng: np.random.Generator):
        """Crop around a jittered box; return the crop and the true box (normalised cxcywh)."""
        if center_jitter > 0 or scale_jitter > 0:
            around = jitter_box(box, center_jitter, scale_jitter, rng)
        else:
            around = box
        transform = crop_transform(around, factor, size)
        x, y, w, h = transform.image_to_crop(box) / size
        return frame.crop(transform), np.array([x + 0.5 * w, y + 0.5 * h, w, h])

    def __getitem__(self, index: int) -> Dict[str, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, self.state.epoch, int(index)])
        k = int(rng.choice(len(self.sources), p=self.probs))
        raw = self.sources[k].sample(rng, self.state, self.with_prev)
        a, st, d = self.augment_cfg, self.state, self.data_cfg
        template, _ = self._crop(raw.template, raw.template_box, d.template_factor,
                                 self.template_size, a.template_center_jitter,
                                 a.template_scale_jitter, rng)
        search, box = self._crop(raw.search, raw.search_box, d.search_factor, self.search_size,
                                 st.center_jitter, st.scale_jitter, rng)
        pair = CropPair(template, search, box)
        if self.with_prev:
            pair.prev_search, pair.prev_box = self._crop(
                raw.prev, raw.prev_box, d.search_factor, self.search_size, st.center_jitter,
                st.scale_jitter, rng)
        pair = augment_pair(pair, a, rng)
        item = {'template': pair.template, 'search': pair.search,
                'box': pair.box.astype(np.float32), 'source': np.int64(k)}
        if self.with_prev:
            item['prev_search'] = pair.prev_search
            item['prev_box'] = pair.prev_box.astype(np.float32)
        return item


def epoch_batches(num_samples: int, batch_size: int, epoch: int, seed: int, rank: int = 0,
                  world_size: int = 1, start_batch: int = 0) -> List[List[int]]:
    """Shuffled sample indices for one epoch, this rank's share, in batches.

    Every rank gets the same number of full batches (a ragged tail is dropped)
    so DDP ranks step in lockstep. ``start_batch`` skips batches already done
    before a resume.
    """
    if batch_size < 1 or world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f'bad batching: batch_size={batch_size}, rank={rank}, '
                         f'world_size={world_size}')
    order = np.random.default_rng([seed, epoch, 7919]).permutation(num_samples)
    per_rank = num_samples // world_size
    mine = order[rank * per_rank:(rank + 1) * per_rank]
    n_batches = len(mine) // batch_size
    if n_batches == 0:
        raise ValueError(f'{num_samples} samples per epoch give no full batch of '
                         f'{batch_size} on each of {world_size} process(es)')
    return [mine[i * batch_size:(i + 1) * batch_size].tolist()
            for i in range(start_batch, n_batches)]
