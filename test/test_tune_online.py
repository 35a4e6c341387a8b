# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""bench/tune_online.py: grid parsing and a tiny end-to-end grid with the tiny model."""

import json

from helpers.bench_tools import load_bench_tool
from helpers.node_harness import make_tiny_checkpoint
import pytest

from vil_tracker_ros.config import SyntheticConfig, TrackerConfig
from vil_tracker_ros.data import synthetic_io

tune_online = load_bench_tool('tune_online')


def test_grid_names_real_fields_and_json_values():
    grid = tune_online.parse_grid(['tracker.hann_weight=0.3,0.5', 'kalman.gate_probability=0.99'])
    assert grid == [('tracker.hann_weight', [0.3, 0.5]), ('kalman.gate_probability', [0.99])]
    combos = list(tune_online.configs(grid))
    assert [c[1].hann_weight for c in combos] == [0.3, 0.5]
    assert all(c[2].gate_probability == 0.99 for c in combos)
    assert combos[0][1].lost_frames == TrackerConfig().lost_frames     # the rest: defaults
    for bad in ('tracker.no_such_field=1', 'model.depth=2', 'hann_weight=0.3',
                'tracker.hann_weight=abc'):
        with pytest.raises(SystemExit):
            tune_online.parse_grid([bad])
    with pytest.raises(Exception, match='hann_weight'):                # validated like config
        list(tune_online.configs(tune_online.parse_grid(['tracker.hann_weight=5.0'])))


def test_tiny_grid_end_to_end(tmp_path, capsys):
    root = tmp_path / 'val'
    synthetic_io.write_dataset(SyntheticConfig(split='train', frame_width=128,
                                               frame_height=96, length=6, seed=5),
                               str(root), 'lasot', 2)
    ckpt = make_tiny_checkpoint(str(tmp_path / 'vil_tiny.pt'))
    assert tune_online.main(['--root', str(root), '--checkpoint', ckpt, '--backend', 'torch',
                             '--threads', '1', '--grid', 'tracker.lost_confidence=0.0,0.4']) == 0
    out = capsys.readouterr().out.strip().splitlines()
    lines = [json.loads(line) for line in out[:-1]]
    assert [line['tracker.lost_confidence'] for line in lines] == [0.0, 0.4]
    assert all(0.0 <= line['success_auc'] <= 1.0 for line in lines)
    best = json.loads(out[-1].split('best:', 1)[1])
    assert best['success_auc'] == max(line['success_auc'] for line in lines)
