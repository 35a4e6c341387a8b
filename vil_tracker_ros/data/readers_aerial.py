# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Readers for the aerial benchmarks: UAV123, DTB70 and VisDrone-SOT.

Their layouts are described in ``datasets``.
"""

from __future__ import annotations

import glob
import json
import os
import re
from typing import Dict, List, Optional, Tuple

import numpy as np

from vil_tracker_ros.data.dataset_files import (boxes_for_frames, DatasetError, list_images,
                                                read_boxes, read_flags, require_dir)
from vil_tracker_ros.data.sequence import Sequence


# ----------------------------------------------------------------------- UAV123

_UAV_STRUCT = re.compile(
    r"struct\(\s*'name'\s*,\s*'([^']+)'\s*,\s*'path'\s*,\s*'([^']*)'\s*,"
    r"\s*'startFrame'\s*,\s*(\d+)\s*,\s*'endFrame'\s*,\s*(\d+)", re.IGNORECASE)


def _uav_config_ranges(root: str) -> Dict[str, Tuple[str, int, int]]:
    """Frame ranges from the benchmark's configSeqs.m (name -> folder, start, end)."""
    ranges: Dict[str, Tuple[str, int, int]] = {}
    for path in sorted(glob.glob(os.path.join(root, '**', 'configSeqs*.m'), recursive=True)):
        with open(path, 'r', errors='replace') as f:
            for name, seq_path, start, end in _UAV_STRUCT.findall(f.read()):
                folder = [p for p in re.split(r'[\\/]', seq_path) if p][-1]
                ranges.setdefault(name, (folder, int(start), int(end)))
    return ranges


def _uav_toolkit_ranges(version: str) -> Dict[str, Tuple[str, int, int]]:
    try:
        import got10k.datasets as g
    except ImportError:
        return {}
    meta = os.path.join(os.path.dirname(g.__file__), 'uav123.json')
    if not os.path.isfile(meta):
        return {}
    with open(meta) as f:
        table = json.load(f).get(version, {})
    return {k: (v['folder_name'], int(v['start_frame']), int(v['end_frame']))
            for k, v in table.items()}


def read_uav123(root: str, split: Optional[str] = None) -> List[Sequence]:
    require_dir(root)
    version = split or 'UAV123'
    anno_dir = os.path.join(root, 'anno', version)
    if not os.path.isdir(anno_dir):
        raise DatasetError(f'UAV123: annotation folder not found: {anno_dir}')
    data_dir = os.path.join(root, 'data_seq', 'UAV123_10fps' if '10fps' in version else 'UAV123')
    anno_files = sorted(glob.glob(os.path.join(anno_dir, '*.txt')))
    if not anno_files:
        raise DatasetError(f'UAV123: no annotation files in {anno_dir}')
    config = _uav_config_ranges(root)
    toolkit: Optional[Dict[str, Tuple[str, int, int]]] = None
    sequences = []
    for anno in anno_files:
        name = os.path.splitext(os.path.basename(anno))[0]
        gt = read_boxes(anno)
        if name in config:
            folder, start, end = config[name]
        elif os.path.isdir(os.path.join(data_dir, name)):
            folder, start, end = name, 1, len(gt)
        else:
            if toolkit is None:
                toolkit = _uav_toolkit_ranges(version.replace('_10fps', ''))
            if name not in toolkit:
                raise DatasetError(
                    f'UAV123: {name}: no folder {os.path.join(data_dir, name)} and no frame '
                    'range for it (put the configSeqs.m of the UAV123 toolkit under the root)')
            folder, start, end = toolkit[name]
        if end - start + 1 != len(gt):
            raise DatasetError(f'UAV123: {name}: frames {start}..{end} but {len(gt)} boxes')
        seq_dir = os.path.join(data_dir, folder)
        frames = [os.path.join(seq_dir, f'{i:06d}.jpg') for i in range(start, end + 1)]
        for probe in (frames[0], frames[-1]):
            if not os.path.isfile(probe):
                raise DatasetError(f'UAV123: {name}: frame missing: {probe}')
        sequences.append(Sequence(name=name, gt=gt, frames=frames, dataset='uav123',
                                  attributes={'folder': folder, 'start_frame': start}))
    return sequences


# ------------------------------------------------------------------------ DTB70


def read_dtb70(root: str, split: Optional[str] = None) -> List[Sequence]:
    require_dir(root)
    if split not in (None, ''):
        raise DatasetError(f'DTB70 has no splits, got {split!r}')
    seq_dirs = sorted(os.path.dirname(p) for p in
                      glob.glob(os.path.join(root, '*', 'groundtruth_rect.txt')))
    if not seq_dirs:
        raise DatasetError(f'DTB70: no <seq>/groundtruth_rect.txt under {root}')
    sequences = []
    for seq_dir in seq_dirs:
        name = os.path.basename(seq_dir)
        frames = list_images(os.path.join(seq_dir, 'img'))
        attrs: Dict[str, object] = {}
        gt = boxes_for_frames(name, read_boxes(os.path.join(seq_dir, 'groundtruth_rect.txt')),
                              len(frames), attrs)
        sequences.append(Sequence(name=name, gt=gt, frames=frames, dataset='dtb70',
                                  attributes=attrs))
    return sequences


# --------------------------------------------------------------------- VisDrone


def read_visdrone(root: str, split: Optional[str] = None) -> List[Sequence]:
    """VisDrone-SOT; ``root`` is one release folder (e.g. VisDrone2019-SOT-val)."""
    require_dir(root)
    if split not in (None, ''):
        root = os.path.join(root, split)
    seq_root, anno_root = os.path.join(root, 'sequences'), os.path.join(root, 'annotations')
    if not os.path.isdir(seq_root) or not os.path.isdir(anno_root):
        raise DatasetError(f'VisDrone-SOT: expected {seq_root} and {anno_root}')
    anno_files = sorted(glob.glob(os.path.join(anno_root, '*.txt')))
    if not anno_files:
        raise DatasetError(f'VisDrone-SOT: no annotation files in {anno_root}')
    sequences = []
    for anno in anno_files:
        name = os.path.splitext(os.path.basename(anno))[0]
        frames = list_images(os.path.join(seq_root, name))
        attrs: Dict[str, object] = {}
        gt = boxes_for_frames(name, read_boxes(anno), len(frames), attrs)
        attr_file = os.path.join(root, 'attributes', f'{name}_attr.txt')
        if os.path.isfile(attr_file):
            attrs['attributes'] = read_flags(attr_file)
        gt[(gt[:, 2] <= 0) | (gt[:, 3] <= 0)] = np.nan
        sequences.append(Sequence(name=name, gt=gt, frames=frames, dataset='visdrone',
                                  attributes=attrs))
    return sequences
