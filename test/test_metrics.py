# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""OPE metrics: hand-computed cases and a cross-check against the GOT-10k toolkit."""

import numpy as np
import pytest

from vil_tracker_ros.eval import metrics


def _gt(n, box=(10.0, 20.0, 40.0, 30.0)):
    return np.tile(np.asarray(box, np.float64), (n, 1))


def test_perfect_tracker_scores_like_the_toolkits():
    gt = _gt(11)
    s = metrics.score_sequence('perfect', gt.copy(), gt)
    assert s.scored == 10                     # frame 1 is excluded
    # IoU 1 passes every threshold but the last (IoU > 1 is impossible): 20/21.
    assert s.success_auc == pytest.approx(20 / 21)
    assert s.precision_20 == 1.0 and s.norm_precision_02 == 1.0
    assert s.ao == pytest.approx(1.0) and s.sr50 == 1.0 and s.sr75 == 1.0


def test_known_overlap_and_errors():
    gt = _gt(3, (0.0, 0.0, 30.0, 30.0))
    pred = gt.copy()
    pred[1:, 0] = 15.0                        # half overlap: IoU = 450 / 1350 = 1/3
    s = metrics.score_sequence('shift', pred, gt)
    assert s.ao == pytest.approx(1 / 3)
    # IoU 1/3 beats thresholds 0, .05, ..., .30 (7 of 21).
    assert s.success_auc == pytest.approx(7 / 21)
    assert s.precision[15] == 1.0 and s.precision[14] == 0.0    # centre error exactly 15 px
    assert s.norm_precision[50] == 1.0                           # 15 / 30 = 0.5
    assert s.norm_precision[49] == 0.0
    assert s.sr50 == 0.0


def test_first_frame_and_invisible_frames_are_not_scored():
    gt = _gt(6)
    pred = gt.copy()
    pred[0] = [500, 500, 5, 5]                 # frame 1: ignored
    pred[3] = [900, 900, 5, 5]                 # invisible: ignored
    visible = np.ones(6, bool)
    visible[3] = False
    s = metrics.score_sequence('vis', pred, gt, visible)
    assert s.scored == 4
    assert s.ao == pytest.approx(1.0)
    gt_nan = gt.copy()
    gt_nan[2] = np.nan                         # NaN ground truth row (UAV123): ignored
    s2 = metrics.score_sequence('nan', pred, gt_nan, visible)
    assert s2.scored == 3


def test_missing_predictions_score_zero():
    gt = _gt(4)
    pred = gt.copy()
    pred[1] = np.nan
    pred[2] = [10, 20, 0, 30]                  # zero width
    s = metrics.score_sequence('missing', pred, gt)
    assert s.ious.tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert s.precision[50] == pytest.approx(1 / 3)


def test_sequence_without_scored_frames_is_skipped():
    gt = np.full((5, 4), np.nan)
    gt[0] = [1, 1, 5, 5]                       # GOT-10k test: first box only
    assert metrics.score_sequence('test', _gt(5), gt) is None
    summary = metrics.summarize([None])
    assert summary.sequences == 0 and np.isnan(summary.success_auc)


def test_dataset_aggregation_curves_per_sequence_ao_per_frame():
    gt_a, gt_b = _gt(3), _gt(11)
    pred_a = gt_a.copy()
    pred_a[1:] = [300, 300, 10, 10]           # 2 failed frames
    a = metrics.score_sequence('a', pred_a, gt_a)
    b = metrics.score_sequence('b', gt_b.copy(), gt_b)  # 10 perfect frames
    summary = metrics.summarize([a, b])
    assert summary.sequences == 2
    assert summary.success_auc == pytest.approx((0 + 20 / 21) / 2)   # mean of sequences
    assert summary.ao == pytest.approx(10 / 12)                      # mean of frames


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match='predicted boxes'):
        metrics.score_sequence('x', _gt(3), _gt(4))
    with pytest.raises(ValueError, match='shape'):
        metrics.overlap(np.zeros((3, 3)), np.zeros((3, 3)))


# ------------------------------------------------------------- GOT-10k toolkit


def _random_run(rng, n):
    gt = np.column_stack([rng.uniform(0, 300, n), rng.uniform(0, 200, n),
                          rng.uniform(5, 80, n), rng.uniform(5, 80, n)])
    noise = rng.normal(0, 1, (n, 4)) * np.array([8, 8, 6, 6]) * rng.uniform(0.2, 3)
    pred = gt + noise
    pred[:, 2:] = np.abs(pred[:, 2:]) + 1
    lost = rng.random(n) < 0.15
    pred[lost, :2] += rng.uniform(50, 200, (int(lost.sum()), 2))
    return pred, gt


def test_matches_got10k_toolkit_on_random_results(tmp_path):
    toolkit_metrics = pytest.importorskip('got10k.utils.metrics',
                                          reason='GOT-10k toolkit (pip install got10k) absent')
    from got10k.experiments.got10k import ExperimentGOT10k
    from got10k.experiments.otb import ExperimentOTB
    otb = object.__new__(ExperimentOTB)          # only its curve maths is needed
    otb.nbins_iou, otb.nbins_ce = 21, 51

    rng = np.random.default_rng(7)
    ours, succ, prec, all_ious, covered = [], [], [], [], []
    for k in range(6):
        n = int(rng.integers(20, 120))
        pred, gt = _random_run(rng, n)
        cover = rng.integers(0, 9, n)
        cover[0] = 8
        # The toolkit reads result files: go through files as it would.
        path = tmp_path / f'seq{k}.txt'
        np.savetxt(path, pred, fmt='%.4f', delimiter=',')
        pred = np.loadtxt(path, delimiter=',')

        # OTB-style curves (toolkit scores frames 2..N; ours excludes frame 1 itself).
        ious_tk = toolkit_metrics.rect_iou(pred[1:].copy(), gt[1:].copy())
        ce_tk = toolkit_metrics.center_error(pred[1:], gt[1:])
        s_tk, p_tk = otb._calc_curves(ious_tk, ce_tk)
        s = metrics.score_sequence(f'seq{k}', pred, gt)
        np.testing.assert_allclose(s.ious, ious_tk, atol=1e-9)
        np.testing.assert_allclose(s.success, s_tk, atol=1e-12)
        np.testing.assert_allclose(s.precision, p_tk, atol=1e-12)
        ours.append(s)
        succ.append(s_tk)
        prec.append(p_tk)

        # GOT-10k AO / SR: frames with cover > 0, pooled over sequences.
        visible = cover > 0
        sg = metrics.score_sequence(f'seq{k}', pred, gt, visible)
        ious_cov = toolkit_metrics.rect_iou(pred[1:].copy(), gt[1:].copy())[cover[1:] > 0]
        ao_tk, sr_tk, _, _ = ExperimentGOT10k._evaluate(None, ious_cov, np.array([]))
        assert sg.ao == pytest.approx(ao_tk, abs=1e-12)
        assert sg.sr50 == pytest.approx(sr_tk, abs=1e-12)
        all_ious.append(ious_cov)
        covered.append(sg)

    summary = metrics.summarize(ours)
    np.testing.assert_allclose(summary.success, np.mean(succ, axis=0), atol=1e-12)
    assert summary.success_auc == pytest.approx(float(np.mean(np.mean(succ, axis=0))))
    assert summary.precision_20 == pytest.approx(float(np.mean(prec, axis=0)[20]))
    pooled_ious = np.concatenate(all_ious)
    ao_tk, sr_tk, _, _ = ExperimentGOT10k._evaluate(None, pooled_ious, np.array([]))
    pooled = metrics.summarize(covered)
    assert pooled.ao == pytest.approx(ao_tk, abs=1e-12)
    assert pooled.sr50 == pytest.approx(sr_tk, abs=1e-12)
