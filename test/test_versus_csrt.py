# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""bench/versus_csrt.py: the trackers alternate per sequence; a tiny end-to-end table."""

from helpers.bench_tools import load_bench_tool
from helpers.node_harness import make_tiny_checkpoint
import numpy as np

from vil_tracker_ros.config import SyntheticConfig
from vil_tracker_ros.data import synthetic_io
from vil_tracker_ros.data.datasets import load_dataset

versus_csrt = load_bench_tool('versus_csrt')


class Recorder:
    """A tracker that holds the first box and logs which sequence it ran."""

    def __init__(self, name, log):
        self.name, self.log, self.box = name, log, None

    def initialize(self, image, box, stamp):
        self.log.append(self.name)
        self.box = np.asarray(box, np.float64)

    def track(self, image, stamp):
        class Result:
            box = self.box
        return Result()


def tiny_dataset(tmp_path, count):
    root = tmp_path / 'heldout'
    synthetic_io.write_dataset(SyntheticConfig(split='heldout', frame_width=128,
                                               frame_height=96, length=5, seed=3),
                               str(root), 'lasot', count)
    return root


def test_trackers_alternate_which_runs_first(tmp_path):
    sequences = list(load_dataset('lasot', str(tiny_dataset(tmp_path, 3))))
    log = []
    rows = versus_csrt.compare(sequences, {'a': Recorder('a', log), 'b': Recorder('b', log)},
                               30.0)
    assert log == ['a', 'b', 'b', 'a', 'a', 'b']
    assert [row.split('|')[1].strip() for row in rows] == ['a', 'b']


def test_tiny_end_to_end(tmp_path, capsys):
    root = tiny_dataset(tmp_path, 2)
    ckpt = make_tiny_checkpoint(str(tmp_path / 'vil_tiny.pt'))
    assert versus_csrt.main(['--root', str(root), '--checkpoint', ckpt, '--backend', 'torch',
                             '--threads', '1']) == 0
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith('| vil') or line.startswith('| opencv-csrt')]
    assert [row.split('|')[1].strip() for row in rows] == ['vil', 'opencv-csrt']
    for row in rows:
        auc, sr50, sr75 = (float(v) for v in row.split('|')[2:5])
        assert 0.0 <= sr75 <= sr50 <= 1.0 and 0.0 <= auc <= 1.0
