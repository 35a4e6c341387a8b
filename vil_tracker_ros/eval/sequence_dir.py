# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Pick one LaSOT or UAV123 sequence by its path, through the data package's readers."""

import os

from vil_tracker_ros.data.datasets import load_dataset
from vil_tracker_ros.data.sequence import Sequence

SEQUENCE_FORMATS = ('lasot', 'uav123')


def _pick(sequences, name: str, where: str) -> Sequence:
    for sequence in sequences:
        if sequence.name == name:
            return sequence
    known = ', '.join(s.name for s in sequences[:20])
    raise ValueError(f'no sequence {name!r} in {where} (found: {known})')


def load_sequence_dir(path: str, fmt: str) -> Sequence:
    """
    Load the sequence that ``path`` names.

    * lasot: ``<root>/<category>/<category>-N`` (the folder holding ``img/`` and
      ``groundtruth.txt``);
    * uav123: ``<root>/data_seq/<version>/<name>``, boxes from ``<root>/anno/<version>/<name>.txt``
      (``<name>`` may be a part such as ``bird1_1``, whose frames live in ``bird1``).
    """
    path = os.path.normpath(os.path.abspath(path))
    name = os.path.basename(path)
    if fmt == 'lasot':
        if not os.path.isfile(os.path.join(path, 'groundtruth.txt')):
            raise ValueError(f'{path} is not a LaSOT sequence folder (no groundtruth.txt)')
        return _pick(load_dataset('lasot', os.path.dirname(path)), name, os.path.dirname(path))
    if fmt == 'uav123':
        version = os.path.basename(os.path.dirname(path))
        root = os.path.dirname(os.path.dirname(os.path.dirname(path)))
        anno = os.path.join(root, 'anno', version, f'{name}.txt')
        if not os.path.isfile(anno):
            raise ValueError(f'{path} is not a UAV123 sequence <root>/data_seq/<version>/<name>: '
                             f'no annotation {anno}')
        return _pick(load_dataset('uav123', root, split=version), name, root)
    raise ValueError(f'unknown sequence format {fmt!r}; use one of {", ".join(SEQUENCE_FORMATS)}')
