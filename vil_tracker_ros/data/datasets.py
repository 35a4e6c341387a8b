# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Readers for tracking benchmarks in their real on-disk layouts.

``load_dataset(name, root, split=None) -> list[Sequence]`` for

* ``lasot``: ``root/<category>/<category>-<n>/img/00000001.jpg``, ``groundtruth.txt``
  (x,y,w,h), ``full_occlusion.txt`` and ``out_of_view.txt`` (one line of 0/1);
  a frame flagged in either is invisible. ``split`` 'train'/'test' uses
  ``root/{training,testing}_set.txt`` or, failing that, the split list
  shipped in the ``got10k`` toolkit if it is installed.
* ``uav123``: ``root/data_seq/UAV123/<folder>/000001.jpg`` and
  ``root/anno/<split>/<seq>.txt`` (split 'UAV123' default, 'UAV20L',
  'UAV123_10fps'); NaN rows are invisible. Sequences split into parts
  (``bird1_1`` in folder ``bird1``) take their frame range from the
  benchmark's ``configSeqs.m`` if present under ``root``, else from the
  got10k toolkit's metadata, else from a folder named like the annotation.
* ``dtb70``: ``root/<seq>/img/*.jpg`` and ``root/<seq>/groundtruth_rect.txt``.
* ``visdrone``: ``root/sequences/<seq>/*.jpg`` and ``root/annotations/<seq>.txt``.
* ``got10k``: ``root/{train,val,test}/list.txt``, ``<seq>/00000001.jpg``,
  ``groundtruth.txt``, ``absence.label`` (1 = absent), ``cover.label`` (0-8,
  0 = fully occluded); the test split has only the first box. ``root`` may also
  be the split folder itself.
* ``otb``: ``root/<seq>/img/*.jpg`` with ``groundtruth_rect.txt`` (comma, tab or
  space separated); sequences with two targets (``groundtruth_rect.1.txt``,
  ``.2.txt``) become ``<seq>.1`` and ``<seq>.2``; the benchmark's documented
  partial frame ranges (David, Football1, ...) are applied.
* ``trackingnet``: ``root/TRAIN_<k>/frames/<video>/<n>.jpg`` and
  ``root/TRAIN_<k>/anno/<video>.txt``; split 'train' (all chunks), 'TRAIN_<k>'
  or 'test' (``TEST``, first box only).

Annotation files that give only the first frame's box (test splits) produce
NaN (invisible) rows for the rest, and ``attributes['first_frame_only']``.
"""

from __future__ import annotations

import configparser
import glob
import json
import os
import re
from typing import Callable, Dict, List, Optional

import numpy as np

from vil_tracker_ros.data.dataset_files import (boxes_for_frames, DatasetError,  # noqa: F401
                                                flags_for_frames, IMAGE_EXTENSIONS,
                                                list_images, numeric_key, read_boxes,
                                                read_flags, read_list, require_dir)
from vil_tracker_ros.data.readers_aerial import read_dtb70, read_uav123, read_visdrone
from vil_tracker_ros.data.sequence import Sequence


# ------------------------------------------------------------------------ LaSOT


def _lasot_split_names(root: str, split: str) -> List[str]:
    fname = {'train': 'training_set.txt', 'test': 'testing_set.txt'}[split]
    for candidate in (os.path.join(root, fname), os.path.join(os.path.dirname(root), fname)):
        if os.path.isfile(candidate):
            return read_list(candidate)
    try:
        import got10k.datasets as g
    except ImportError:
        g = None
    meta = os.path.join(os.path.dirname(g.__file__), 'lasot.json') if g else ''
    if os.path.isfile(meta):
        with open(meta) as f:
            return list(json.load(f)[split])
    raise DatasetError(f'LaSOT split {split!r}: neither {fname} in {root} nor the got10k '
                       'toolkit (pip install got10k) is available to list its sequences')


def read_lasot(root: str, split: Optional[str] = None) -> List[Sequence]:
    require_dir(root)
    gt_files = sorted(glob.glob(os.path.join(root, '*', '*', 'groundtruth.txt')))
    gt_files += sorted(glob.glob(os.path.join(root, '*', 'groundtruth.txt')))
    by_name = {os.path.basename(os.path.dirname(p)): os.path.dirname(p) for p in gt_files}
    if split in (None, '', 'all'):
        names = sorted(by_name)
    elif split in ('train', 'test'):
        wanted = _lasot_split_names(root, split)
        names = [n for n in wanted if n in by_name]
        if not names:
            raise DatasetError(f'LaSOT: none of the {len(wanted)} {split} sequences are in {root}')
    else:
        raise DatasetError(f"LaSOT split must be None, 'train' or 'test', got {split!r}")
    if not names:
        raise DatasetError(f'LaSOT: no <category>/<seq>/groundtruth.txt under {root}')
    return [_read_lasot_sequence(n, by_name[n]) for n in names]


def _read_lasot_sequence(name: str, seq_dir: str) -> Sequence:
    frames = list_images(os.path.join(seq_dir, 'img'))
    n = len(frames)
    gt = read_boxes(os.path.join(seq_dir, 'groundtruth.txt'))
    attrs: Dict[str, object] = {'category': name.rsplit('-', 1)[0]}
    gt = boxes_for_frames(name, gt, n, attrs)
    visible = np.ones(n, bool)
    for fname in ('full_occlusion.txt', 'out_of_view.txt'):
        path = os.path.join(seq_dir, fname)
        if os.path.isfile(path):
            flags = flags_for_frames(name, read_flags(path), n, fname).astype(bool)
            attrs[fname[:-4]] = flags
            visible &= ~flags
    nlp = os.path.join(seq_dir, 'nlp.txt')
    if os.path.isfile(nlp):
        with open(nlp) as f:
            attrs['nlp'] = f.read().strip()
    bad = (gt[:, 2] <= 0) | (gt[:, 3] <= 0)
    gt[bad] = np.nan
    return Sequence(name=name, gt=gt, visible=visible, frames=frames, dataset='lasot',
                    attributes=attrs)


# ----------------------------------------------------------------------- GOT-10k


def _read_meta_info(path: str) -> Dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    with open(path, 'r', errors='replace') as f:
        text = f.read()
    if not text.lstrip().startswith('['):
        text = '[METAINFO]\n' + text
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise DatasetError(f'{path}: unreadable meta info: {exc}') from exc
    return {k: v for section in parser.sections() for k, v in parser.items(section)}


def read_got10k(root: str, split: Optional[str] = None) -> List[Sequence]:
    require_dir(root)
    if split in (None, ''):
        if not os.path.isfile(os.path.join(root, 'list.txt')) and os.path.isdir(
                os.path.join(root, 'val')):
            split = 'val'
    elif split not in ('train', 'val', 'test'):
        raise DatasetError(f"GOT-10k split must be 'train', 'val' or 'test', got {split!r}")
    split_dir = root if split in (None, '') or not os.path.isdir(
        os.path.join(root, split)) else os.path.join(root, split)
    list_file = os.path.join(split_dir, 'list.txt')
    if os.path.isfile(list_file):
        names = read_list(list_file)
    else:
        names = sorted(os.path.basename(os.path.dirname(p)) for p in
                       glob.glob(os.path.join(split_dir, '*', 'groundtruth.txt')))
    if not names:
        raise DatasetError(f'GOT-10k: no list.txt or <seq>/groundtruth.txt in {split_dir}')
    return [_read_got10k_sequence(n, os.path.join(split_dir, n)) for n in names]


def _read_got10k_sequence(name: str, seq_dir: str) -> Sequence:
    frames = list_images(seq_dir)
    n = len(frames)
    attrs: Dict[str, object] = {}
    gt_path = os.path.join(seq_dir, 'groundtruth.txt')
    if not os.path.isfile(gt_path):
        raise DatasetError(f'GOT-10k: {name}: missing {gt_path}')
    gt = boxes_for_frames(name, read_boxes(gt_path), n, attrs)
    visible = np.ones(n, bool)
    absence_path = os.path.join(seq_dir, 'absence.label')
    if os.path.isfile(absence_path):
        absence = flags_for_frames(name, read_flags(absence_path), n, 'absence.label')
        attrs['absence'] = absence.astype(bool)
        visible &= absence == 0
    cover_path = os.path.join(seq_dir, 'cover.label')
    if os.path.isfile(cover_path):
        cover = flags_for_frames(name, read_flags(cover_path), n, 'cover.label')
        attrs['cover'] = cover
        visible &= cover > 0          # the GOT-10k toolkit scores only frames with cover > 0
    cut_path = os.path.join(seq_dir, 'cut_by_image.label')
    if os.path.isfile(cut_path):
        attrs['cut_by_image'] = flags_for_frames(name, read_flags(cut_path), n,
                                                 'cut_by_image.label').astype(bool)
    meta_path = os.path.join(seq_dir, 'meta_info.ini')
    if os.path.isfile(meta_path):
        attrs['meta'] = _read_meta_info(meta_path)
    return Sequence(name=name, gt=gt, visible=visible, frames=frames, dataset='got10k',
                    attributes=attrs)


# --------------------------------------------------------------------------- OTB

# Documented partial frame ranges of OTB-2015 sequences whose img/ folder holds
# more frames than are annotated (1-based, inclusive).
OTB_FRAME_RANGES = {'david': (300, 770), 'football1': (1, 74), 'freeman3': (1, 460),
                    'freeman4': (1, 283), 'diving': (1, 215), 'tiger1': (6, 354)}


def read_otb(root: str, split: Optional[str] = None) -> List[Sequence]:
    require_dir(root)
    if split not in (None, ''):
        raise DatasetError(f'OTB reader has no splits, got {split!r}')
    gt_files = sorted(glob.glob(os.path.join(root, '*', 'groundtruth_rect*.txt')))
    if not gt_files:
        raise DatasetError(f'OTB: no <seq>/groundtruth_rect.txt under {root}')
    per_dir: Dict[str, List[str]] = {}
    for path in gt_files:
        if _has_content(path):   # OTB ships some empty files (Human4's .1)
            per_dir.setdefault(os.path.dirname(path), []).append(path)
    sequences = []
    for seq_dir, files in sorted(per_dir.items()):
        base = os.path.basename(seq_dir)
        all_frames = list_images(os.path.join(seq_dir, 'img'))
        for path in files:
            m = re.match(r'groundtruth_rect\.(\d+)\.txt$', os.path.basename(path))
            name = f'{base}.{m.group(1)}' if m and len(files) > 1 else base
            gt = read_boxes(path)
            frames = all_frames
            if len(gt) != len(all_frames):
                frange = OTB_FRAME_RANGES.get(base.lower())
                if frange is None or frange[1] - frange[0] + 1 != len(gt):
                    raise DatasetError(f'OTB: {name}: {len(gt)} boxes for {len(all_frames)} '
                                       'images and no known frame range')
                frames = _frames_in_range(all_frames, *frange)
            sequences.append(Sequence(name=name, gt=gt, frames=frames, dataset='otb'))
    return sequences


def _has_content(path: str) -> bool:
    with open(path, 'r', errors='replace') as f:
        return bool(f.read().strip())


def _frames_in_range(frames: List[str], start: int, end: int) -> List[str]:
    numbered = {numeric_key(f)[1]: f for f in frames}
    if all(i in numbered for i in (start, end)):
        picked = [numbered.get(i) for i in range(start, end + 1)]
        if all(picked):
            return picked
    if end <= len(frames):
        return frames[start - 1:end]
    raise DatasetError(f'OTB: frames {start}..{end} not found among {len(frames)} images')


# ------------------------------------------------------------------- TrackingNet


def read_trackingnet(root: str, split: Optional[str] = None) -> List[Sequence]:
    require_dir(root)
    if split in (None, '', 'train'):
        chunks = sorted(d for d in os.listdir(root) if re.fullmatch(r'TRAIN_\d+', d))
    elif split == 'test':
        chunks = ['TEST']
    elif re.fullmatch(r'TRAIN_\d+|TEST', split):
        chunks = [split]
    else:
        raise DatasetError(f"TrackingNet split must be 'train', 'test' or 'TRAIN_<k>', "
                           f'got {split!r}')
    chunks = [c for c in chunks if os.path.isdir(os.path.join(root, c))]
    if not chunks:
        raise DatasetError(f'TrackingNet: no TRAIN_<k> or TEST folders under {root}')
    sequences = []
    for chunk in chunks:
        anno_dir = os.path.join(root, chunk, 'anno')
        for anno in sorted(glob.glob(os.path.join(anno_dir, '*.txt'))):
            video = os.path.splitext(os.path.basename(anno))[0]
            frames = list_images(os.path.join(root, chunk, 'frames', video))
            attrs: Dict[str, object] = {'chunk': chunk}
            gt = boxes_for_frames(video, read_boxes(anno), len(frames), attrs)
            sequences.append(Sequence(name=video, gt=gt, frames=frames, dataset='trackingnet',
                                      attributes=attrs))
    if not sequences:
        raise DatasetError(f'TrackingNet: no <chunk>/anno/*.txt under {root}')
    return sequences


# --------------------------------------------------------------------- dispatch

READERS: Dict[str, Callable[[str, Optional[str]], List[Sequence]]] = {
    'lasot': read_lasot,
    'uav123': read_uav123,
    'dtb70': read_dtb70,
    'visdrone': read_visdrone,
    'got10k': read_got10k,
    'otb': read_otb,
    'trackingnet': read_trackingnet,
}
_ALIASES = {'visdrone-sot': 'visdrone', 'got-10k': 'got10k', 'otb100': 'otb',
            'otb2015': 'otb', 'uav20l': 'uav123'}


def load_dataset(name: str, root: str, split: Optional[str] = None) -> List[Sequence]:
    """Read benchmark ``name`` from ``root``; see the module docstring for layouts."""
    key = name.lower()
    if key == 'uav20l' and split is None:
        split = 'UAV20L'
    key = _ALIASES.get(key, key)
    if key not in READERS:
        raise ValueError(f'unknown dataset {name!r}; known: {", ".join(sorted(READERS))}')
    return READERS[key](root, split)
