# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""vil-tracker-eval end to end on a tiny synthetic LaSOT set, plus the OpenCV baselines."""

import csv
import json
import os

import numpy as np
import pytest

from vil_tracker_ros.config import SyntheticConfig
from vil_tracker_ros.data import synthetic, synthetic_io
from vil_tracker_ros.data.datasets import load_dataset, read_boxes
from vil_tracker_ros.eval import metrics, run
from vil_tracker_ros.eval.baselines import OpenCVTracker

KEYS = ('success_auc', 'precision_20', 'norm_precision', 'ao', 'sr50', 'sr75', 'fps',
        'sequences')


@pytest.fixture(scope='module')
def lasot_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic_lasot')
    cfg = SyntheticConfig(split='heldout', frame_width=128, frame_height=96, length=12,
                          seed=11, occlusion=0.5, out_of_view=0.0)
    synthetic_io.write_dataset(cfg, str(root), 'lasot', 2)
    return str(root)


def _json_line(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out                   # exactly one line on stdout
    return json.loads(out[0])


def test_eval_opencv_end_to_end_and_score_only(lasot_root, tmp_path, capsys):
    out = tmp_path / 'kcf'
    rc = run.main(['--dataset', 'lasot', '--root', lasot_root, '--tracker', 'opencv-kcf',
                   '--out', str(out), '--no-progress'])
    assert rc == 0
    line = _json_line(capsys)
    assert all(k in line for k in KEYS)
    assert line['sequences'] == 2 and line['fps'] > 0
    for k in KEYS[:6]:
        assert 0.0 <= line[k] <= 1.0
    seqs = load_dataset('lasot', lasot_root)
    for seq in seqs:
        boxes = read_boxes(run.result_path(str(out), seq.name))
        assert boxes.shape == (len(seq), 4)
        np.testing.assert_allclose(boxes[0], seq.gt[0], atol=0.01)   # frame 1 = init box
        times = np.loadtxt(run.times_path(str(out), seq.name))
        assert times.shape == (len(seq),) and (times > 0).all()
    for name in ('summary.json', 'per_sequence.csv', 'success_plot.png', 'precision_plot.png',
                 'norm_precision_plot.png'):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['success_auc'] == pytest.approx(line['success_auc'])
    assert len(summary['curves']['success']) == 21
    with open(out / 'per_sequence.csv') as f:
        rows = list(csv.DictReader(f))
    assert sorted(r['sequence'] for r in rows) == sorted(s.name for s in seqs)

    # Re-scoring after replacing the results with the ground truth gives a perfect score.
    for seq in seqs:
        perfect = np.where(seq.visible[:, None], seq.gt, seq.gt[0])
        np.savetxt(run.result_path(str(out), seq.name), perfect, fmt='%.3f', delimiter=',')
    rc = run.main(['--dataset', 'lasot', '--root', lasot_root, '--tracker', 'opencv-kcf',
                   '--out', str(out), '--score-only'])
    assert rc == 0
    rescored = _json_line(capsys)
    assert rescored['success_auc'] == pytest.approx(20 / 21, abs=1e-3)
    assert rescored['ao'] == pytest.approx(1.0, abs=1e-3)

    os.remove(run.result_path(str(out), seqs[0].name))
    rc = run.main(['--dataset', 'lasot', '--root', lasot_root, '--tracker', 'opencv-kcf',
                   '--out', str(out), '--score-only'])
    assert rc == 2
    assert 'no result file' in capsys.readouterr().err


def test_parallel_workers_give_the_same_results(lasot_root, tmp_path, capsys):
    outs = []
    for workers in (1, 2):
        out = tmp_path / f'w{workers}'
        # The second run also draws the first one's curves in its plots.
        compare = ['--compare', str(tmp_path / 'w1')] if workers == 2 else []
        assert run.main(['--dataset', 'lasot', '--root', lasot_root, '--tracker',
                         'opencv-csrt', '--out', str(out), '--workers', str(workers),
                         '--no-progress'] + compare) == 0
        outs.append(_json_line(capsys))
        for seq in load_dataset('lasot', lasot_root):
            assert os.path.isfile(run.result_path(str(out), seq.name))
    for k in KEYS[:6]:
        assert outs[0][k] == pytest.approx(outs[1][k])


def test_vil_with_a_missing_checkpoint_is_a_clear_error(lasot_root, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(['--dataset', 'lasot', '--root', lasot_root, '--tracker', 'vil',
                  '--checkpoint', str(tmp_path / 'missing.pt'), '--out', str(tmp_path)])
    assert exc.value.code == 2
    assert "no such file '" in capsys.readouterr().err


def test_vil_tracker_runs_with_a_tiny_random_model(tmp_path, capsys):
    model = pytest.importorskip('vil_tracker_ros.model', reason='model package unavailable')
    pytest.importorskip('vil_tracker_ros.core.tracker', reason='core tracker unavailable')
    ckpt = tmp_path / 'tiny.pt'
    model.save_checkpoint(str(ckpt), model.build_model(model.get_config('vil_tiny')))
    root = tmp_path / 'set'
    cfg = SyntheticConfig(split='heldout', frame_width=96, frame_height=72, length=6, seed=2)
    synthetic_io.write_dataset(cfg, str(root), 'lasot', 1)
    rc = run.main(['--dataset', 'lasot', '--root', str(root), '--tracker', 'vil',
                   '--checkpoint', str(ckpt), '--device', 'cpu', '--threads', '1',
                   '--out', str(tmp_path / 'out'), '--no-progress'])
    assert rc == 0
    line = _json_line(capsys)
    assert line['sequences'] == 1 and line['tracker'] == 'vil'
    assert 0.0 <= line['success_auc'] <= 1.0     # random weights: accuracy is not the point


def test_bad_arguments(lasot_root, tmp_path, capsys):
    with pytest.raises(SystemExit):
        run.main(['--dataset', 'lasot', '--root', lasot_root, '--tracker', 'opencv-kcf',
                  '--checkpoint', 'x.pt', '--out', str(tmp_path)])
    assert '--checkpoint only applies' in capsys.readouterr().err
    rc = run.main(['--dataset', 'otb', '--root', str(tmp_path / 'none'), '--tracker',
                   'opencv-kcf', '--out', str(tmp_path / 'o')])
    assert rc == 2
    assert 'not found' in capsys.readouterr().err


def test_opencv_baseline_interface():
    scene = synthetic.make_scene(SyntheticConfig(frame_width=128, frame_height=96, length=8,
                                                 occlusion=0.0, out_of_view=0.0,
                                                 distractors=0, noise=0.0), 0)
    tracker = OpenCVTracker('kcf')
    with pytest.raises(RuntimeError, match='before initialize'):
        tracker.track(scene.frame(0))
    first = tracker.initialize(scene.frame(0), scene.gt[0], 0.0)
    np.testing.assert_allclose(first.box, scene.gt[0])
    ious = []
    for i in range(1, 8):
        result = tracker.track(scene.frame(i), i / 30)
        assert result.box.shape == (4,) and result.status in ('tracking', 'lost')
        ious.append(metrics.overlap(result.box[None], scene.gt[i][None])[0])
    assert np.mean(ious) > 0.3                  # a smooth, unoccluded target is followed
    with pytest.raises(ValueError, match='outside'):
        tracker.initialize(scene.frame(0), [500, 500, 10, 10])
    with pytest.raises(ValueError, match='non-positive'):
        tracker.initialize(scene.frame(0), [5, 5, 0, 10])
    with pytest.raises(ValueError, match='unknown OpenCV tracker'):
        OpenCVTracker('boosting')


def test_online_settings_reach_the_tracker_and_the_summary(tmp_path, capsys):
    spec = run.TrackerSpec('vil', settings=('tracker.scale_filter_weight=0',
                                            'kalman.std_size=2e-1'))
    tracker, kalman = spec.online_configs()
    assert tracker.scale_filter_weight == 0.0 and kalman.std_size == pytest.approx(0.2)
    assert tracker.search_factor == run.TrackerConfig().search_factor   # the rest: defaults
    for bad, message in (('tracker.no_such_key=1', 'no_such_key'),
                         ('model.threads=2', 'tracker or kalman'),
                         ('tracker.hann_weight=3', 'hann_weight'),
                         ('tracker=3', 'expected a section')):
        with pytest.raises(run.ConfigError, match=message):
            run.TrackerSpec('vil', settings=(bad,)).online_configs()

    model = pytest.importorskip('vil_tracker_ros.model', reason='model package unavailable')
    ckpt = tmp_path / 'tiny.pt'
    model.save_checkpoint(str(ckpt), model.build_model(model.get_config('vil_tiny')))
    root = tmp_path / 'set'
    cfg = SyntheticConfig(split='heldout', frame_width=96, frame_height=72, length=6, seed=2)
    synthetic_io.write_dataset(cfg, str(root), 'lasot', 1)
    out = tmp_path / 'out'
    common = ['--dataset', 'lasot', '--root', str(root), '--tracker', 'vil', '--out', str(out)]
    assert run.main(common + ['--checkpoint', str(ckpt), '--device', 'cpu', '--threads', '1',
                              '--no-progress', '--set', 'tracker.scale_filter_weight=0']) == 0
    _json_line(capsys)
    with open(out / 'summary.json') as f:
        assert json.load(f)['settings'] == ['tracker.scale_filter_weight=0']
    assert run.main(common + ['--score-only']) == 0          # re-scoring keeps them
    _json_line(capsys)
    with open(out / 'summary.json') as f:
        assert json.load(f)['settings'] == ['tracker.scale_filter_weight=0']


def test_bad_online_settings_are_clear_errors(lasot_root, tmp_path, capsys):
    base = ['--dataset', 'lasot', '--root', lasot_root, '--out', str(tmp_path)]
    for extra, message in (
            (['--tracker', 'opencv-kcf', '--set', 'tracker.hann_weight=0.3'],
             '--set only applies to --tracker vil'),
            (['--tracker', 'vil', '--set', 'tracker.bogus=1'], 'bogus'),
            (['--tracker', 'vil', '--set', 'tracker.hann_weight'], 'expected section.key=value'),
            (['--tracker', 'vil', '--score-only', '--set', 'kalman.std_size=0.1'],
             '--score-only does not run it')):
        with pytest.raises(SystemExit) as exc:
            run.main(base + extra)
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
