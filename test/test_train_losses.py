# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Known-answer tests for the training losses."""

import dataclasses
import math

import pytest
import torch

from vil_tracker_ros.config import ConfigError, TrainConfig
from vil_tracker_ros.model.tracker_net import TrackerOutput
from vil_tracker_ros.train import losses as L
from vil_tracker_ros.train.objective import compute_losses


def _t(*rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_giou_identical_disjoint_and_overlapping():
    a = _t([0.5, 0.5, 1.0, 1.0])
    assert L.giou_loss(a, a).item() == pytest.approx(0.0, abs=1e-6)
    # [0,1]x[0,1] vs [2,3]x[0,1]: IoU 0, hull 3, union 2 -> GIoU = -1/3.
    b = _t([2.5, 0.5, 1.0, 1.0])
    giou, iou = L.box_giou(a, b)
    assert iou.item() == pytest.approx(0.0, abs=1e-9)
    assert giou.item() == pytest.approx(-1.0 / 3.0, abs=1e-6)
    assert L.giou_loss(a, b).item() == pytest.approx(4.0 / 3.0, abs=1e-6)
    # [0,2]^2 vs [1,3]^2: inter 1, union 7, hull 9.
    c, d = _t([1.0, 1.0, 2.0, 2.0]), _t([2.0, 2.0, 2.0, 2.0])
    giou, iou = L.box_giou(c, d)
    assert iou.item() == pytest.approx(1 / 7, abs=1e-6)
    assert giou.item() == pytest.approx(1 / 7 - 2 / 9, abs=1e-6)


def test_giou_reduction_none_and_bad_reduction():
    a = _t([0.5, 0.5, 1.0, 1.0], [0.5, 0.5, 1.0, 1.0])
    b = _t([0.5, 0.5, 1.0, 1.0], [2.5, 0.5, 1.0, 1.0])
    per = L.giou_loss(a, b, reduction='none')
    assert per.shape == (2,)
    assert per[0].item() == pytest.approx(0.0, abs=1e-6)
    assert per[1].item() == pytest.approx(4 / 3, abs=1e-6)
    with pytest.raises(ValueError, match='reduction'):
        L.giou_loss(a, b, reduction='sum')


def test_l1():
    p = _t([0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 0.0, 0.0])
    t = _t([0.2, 0.2, 0.1, 0.4], [1.0, 1.0, 1.0, 1.0])
    assert L.l1_loss(p, t, reduction='none').tolist() == pytest.approx([0.075, 1.0])
    assert L.l1_loss(p, t).item() == pytest.approx(0.5375)


def _focal_by_hand(pred, target, alpha=2.0, beta=4.0):
    total, npos = 0.0, 0
    for p, g in zip(pred, target):
        p = min(max(p, 1e-4), 1 - 1e-4)
        if g == 1.0:
            total += math.log(p) * (1 - p) ** alpha
            npos += 1
        else:
            total += math.log(1 - p) * p ** alpha * (1 - g) ** beta
    return -total / max(npos, 1)


def test_focal_matches_hand_computation():
    target = [1.0, 0.5, 0.0, 0.25]
    pred = [0.8, 0.3, 0.1, 0.6]
    tp = torch.tensor(pred, dtype=torch.float64).view(1, 1, 2, 2)
    tt = torch.tensor(target, dtype=torch.float64).view(1, 1, 2, 2)
    assert L.focal_loss(tp, tt).item() == pytest.approx(_focal_by_hand(pred, target), rel=1e-9)


def test_focal_perfect_prediction_is_near_zero_and_wrong_is_large():
    boxes = _t([0.5, 0.5, 0.3, 0.3])
    heat = L.gaussian_heatmap(boxes, 16)
    perfect = (heat == 1).to(heat.dtype)
    good = L.focal_loss(perfect, heat).item()
    wrong = L.focal_loss(torch.roll(perfect, shifts=(5, 5), dims=(2, 3)), heat).item()
    assert good < 1e-3
    assert wrong > 5.0


def test_gaussian_heatmap_peak_and_shape():
    boxes = _t([0.53, 0.22, 0.2, 0.4], [0.05, 0.95, 0.05, 0.05])
    heat = L.gaussian_heatmap(boxes, 16)
    assert heat.shape == (2, 1, 16, 16)
    idx = L.center_index(boxes, 16)
    assert idx.tolist() == [3 * 16 + 8, 15 * 16 + 0]
    flat = heat.flatten(1)
    assert flat.argmax(dim=1).tolist() == idx.tolist()
    assert (flat.max(dim=1).values == 1).all()
    assert int((flat == 1).sum()) == 2          # exactly one positive per sample
    # Larger boxes get wider Gaussians.
    r = L.gaussian_radius(torch.tensor([2.0, 8.0]), torch.tensor([2.0, 8.0]))
    assert 0 < r[0] < r[1]


def test_boxes_at_decodes_cell_plus_offset():
    size = torch.zeros(1, 2, 4, 4)
    offset = torch.zeros(1, 2, 4, 4)
    size[0, :, 2, 1] = torch.tensor([0.3, 0.4])
    offset[0, :, 2, 1] = torch.tensor([0.5, 0.25])
    box = L.boxes_at(size, offset, torch.tensor([2 * 4 + 1]))
    assert box[0].tolist() == pytest.approx([(1 + 0.5) / 4, (2 + 0.25) / 4, 0.3, 0.4])


def test_neighbour_indices_are_the_8_cells_around_and_mask_the_border():
    cells, valid = L.neighbour_indices(torch.tensor([5 * 8 + 2, 0]), 8)
    assert cells[0].tolist() == [33, 34, 35, 41, 43, 49, 50, 51]
    assert valid[0].all()
    # the corner cell (0, 0) has only 3 neighbours inside the map: right, below, diagonal
    assert valid[1].tolist() == [False, False, False, False, True, False, True, True]
    assert cells[1][valid[1]].tolist() == [1, 8, 9]


def _head_output(size_map, offset_map):
    score = torch.full((1, 1, 8, 8), 0.01)
    boxes = torch.zeros(1, 4)
    return TrackerOutput(boxes=boxes, scores=score.flatten(1).max(1).values,
                         score_map=score, size_map=size_map, offset_map=offset_map,
                         log_var=torch.zeros(1, 4), temporal_ctx=torch.zeros(1, 8))


def test_neighbour_weight_supervises_the_cells_around_the_true_one():
    target = torch.tensor([[2.3 / 8, 5.6 / 8, 0.25, 0.3]])
    size = torch.tensor([0.25, 0.3]).view(1, 2, 1, 1).expand(1, 2, 8, 8).clone()
    ys, xs = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing='ij')
    # every cell points at the true centre: no box loss anywhere
    everywhere = torch.stack([2.3 - xs, 5.6 - ys]).unsqueeze(0)
    # only the true cell (2, 5) is right; its neighbours keep a mid-cell offset
    centre_only = torch.full((1, 2, 8, 8), 0.5)
    centre_only[0, :, 5, 2] = torch.tensor([0.3, 0.6])
    cfg = TrainConfig()
    on = TrainConfig(loss=dataclasses.replace(cfg.loss, neighbour_weight=1.0))
    for out in (_head_output(size, everywhere), _head_output(size, centre_only)):
        plain = compute_losses(out, target, cfg, hard_weight=1.0)
        assert plain['giou'].item() == pytest.approx(0.0, abs=1e-5)
        assert plain['l1'].item() == pytest.approx(0.0, abs=1e-6)
    both = compute_losses(_head_output(size, everywhere), target, on, hard_weight=1.0)
    assert both['giou'].item() == pytest.approx(0.0, abs=1e-5)
    assert both['l1'].item() == pytest.approx(0.0, abs=1e-6)
    wrong = compute_losses(_head_output(size, centre_only), target, on, hard_weight=1.0)
    assert wrong['giou'].item() > 0.1 and wrong['l1'].item() > 0.01
    with pytest.raises(ConfigError, match='neighbour_weight'):
        dataclasses.replace(cfg.loss, neighbour_weight=-1.0).validate()


def test_uncertainty_nll_known_value_minimum_and_detach():
    pred = torch.tensor([[0.5, 0.5, 0.2, 0.2]], requires_grad=True)
    target = torch.tensor([[0.6, 0.5, 0.2, 0.0]])
    zero = torch.zeros(1, 4)
    err2 = [0.01, 0.0, 0.0, 0.04]
    expect = sum(0.5 * (e + math.log(2 * math.pi)) for e in err2) / 4
    assert L.uncertainty_nll(pred, target, zero).item() == pytest.approx(expect, rel=1e-5)
    # The optimum log-variance for an error e is log(e^2): zero gradient there.
    s = torch.log(torch.tensor([[0.01, 0.04, 0.09, 0.16]])).requires_grad_(True)
    p = torch.zeros(1, 4)
    t = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    L.uncertainty_nll(p, t, s).backward()
    assert s.grad.abs().max().item() < 1e-5
    # Default: the box gets no gradient from the NLL.
    log_var = torch.zeros(1, 4, requires_grad=True)
    L.uncertainty_nll(pred, target, log_var).backward()
    assert pred.grad is None and log_var.grad is not None


def test_memory_contrastive():
    feats = torch.eye(4) * 5
    aligned = L.memory_contrastive_loss(feats, feats, temperature=0.05).item()
    shuffled = L.memory_contrastive_loss(feats, feats[[1, 2, 3, 0]], temperature=0.05).item()
    assert aligned < 1e-6
    assert shuffled > 10
    # Uniform similarity: loss is log(B).
    same = torch.ones(3, 8)
    assert L.memory_contrastive_loss(same, same).item() == pytest.approx(math.log(3), rel=1e-5)
    with pytest.raises(ValueError, match='at least 2'):
        L.memory_contrastive_loss(torch.ones(1, 8), torch.ones(1, 8))
    with pytest.raises(ValueError, match='must both be'):
        L.memory_contrastive_loss(torch.ones(2, 8), torch.ones(2, 4))


def test_afkd_zero_for_identical_and_positive_otherwise():
    torch.manual_seed(0)
    score = torch.rand(2, 1, 8, 8)
    boxes = torch.rand(2, 4)
    assert L.afkd_loss(score, score, boxes, boxes).item() == pytest.approx(0.0, abs=1e-6)
    other = torch.rand(2, 1, 8, 8)
    assert L.afkd_loss(score, other, boxes, boxes).item() > 0
    assert L.afkd_loss(score, score, boxes, boxes + 0.1).item() == pytest.approx(0.1, rel=1e-4)
    # A teacher on a different grid is resized, not rejected.
    big = torch.nn.functional.interpolate(score, size=(16, 16), mode='bilinear',
                                          align_corners=False)
    assert math.isfinite(L.afkd_loss(score, big, boxes, boxes).item())


def test_adw_starts_at_fixed_weights_and_learns_log_loss():
    weights = {'focal': 1.0, 'giou': 2.0, 'l1': 5.0}
    adw = L.ADWWeighting(weights)
    losses = {'focal': torch.tensor(0.3), 'giou': torch.tensor(0.2), 'l1': torch.tensor(0.1)}
    const = sum(-math.log(w) for w in weights.values())
    fixed = L.weighted_sum(losses, weights).item()
    assert adw(losses).item() == pytest.approx(fixed + const, rel=1e-6)
    assert adw.weights() == pytest.approx(weights)
    # d/ds (exp(-s) L + s) = 0 at s = log L.
    with torch.no_grad():
        adw.log_vars.copy_(torch.log(torch.tensor([0.3, 0.2, 0.1])))
    adw(losses).backward()
    assert adw.log_vars.grad.abs().max().item() < 1e-6
    with pytest.raises(ValueError, match='missing'):
        adw({'focal': torch.tensor(1.0)})
    with pytest.raises(ValueError, match='> 0'):
        L.ADWWeighting({'focal': 0.0})
