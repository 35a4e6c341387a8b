# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""bench/tune_online.py: grid parsing and a tiny end-to-end grid with the tiny model."""

import json

from helpers.bench_tools import load_bench_tool
from helpers.node_harness import make_tiny_checkpoint
import numpy as np
import pytest

from vil_tracker_ros.config import SyntheticConfig, TrackerConfig
from vil_tracker_ros.data import synthetic, synthetic_io

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


def test_pooled_splits_and_jittered_repeats(tmp_path, capsys):
    roots = []
    for seed in (5, 6):
        root = tmp_path / f'val{seed}'
        synthetic_io.write_dataset(SyntheticConfig(split='train', frame_width=128,
                                                   frame_height=96, length=6, seed=seed),
                                   str(root), 'lasot', 1)
        roots += ['--root', str(root)]
    ckpt = make_tiny_checkpoint(str(tmp_path / 'vil_tiny.pt'))
    common = roots + ['--checkpoint', ckpt, '--backend', 'torch', '--threads', '1']
    assert tune_online.main(common + ['--repeats', '3', '--jitter', '2']) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert set(line['per_root']) == {roots[1], roots[3]}
    assert len(line['success_auc_per_run']) == 3
    assert line['success_auc'] == pytest.approx(np.mean(line['success_auc_per_run']), abs=1e-4)
    with pytest.raises(SystemExit):
        tune_online.main(common + ['--repeats', '2'])     # without jitter: identical runs
    assert 'only with a --jitter' in capsys.readouterr().err


def test_a_shifted_start_moves_only_the_first_box():
    cfg = SyntheticConfig(split='train', frame_width=64, frame_height=48, length=3, seed=1)
    seq = synthetic.make_sequences(cfg, 1)[0]
    shifted = tune_online._ShiftedStart(seq, np.array([1.5, -2.0]))
    assert np.allclose(shifted.init_box() - seq.init_box(), [1.5, -2.0, 0.0, 0.0])
    assert len(shifted) == len(seq) and np.array_equal(shifted.frame(1), seq.frame(1))
