# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The ACL curriculum schedule and the self-paced sample weights."""

import pytest
import torch

from vil_tracker_ros.config import ConfigError, CurriculumConfig, from_dict
from vil_tracker_ros.train.curriculum import Curriculum, sample_weights


def _cfg(**kw):
    base = {'ramp_epochs': 10, 'min_gap': 2, 'max_gap': 22, 'min_center_jitter': 1.0,
            'max_center_jitter': 3.0, 'min_scale_jitter': 0.05, 'max_scale_jitter': 0.25,
            'hard_weight_min': 0.5}
    base.update(kw)
    return from_dict(CurriculumConfig, base)


def test_linear_ramp_endpoints_and_midpoint():
    cur = Curriculum(_cfg())
    s0, s5, s10, s50 = (cur.state(e) for e in (0, 5, 10, 50))
    assert (s0.difficulty, s5.difficulty, s10.difficulty, s50.difficulty) == (0, 0.5, 1, 1)
    assert (s0.max_gap, s5.max_gap, s10.max_gap) == (2, 12, 22)
    assert s0.center_jitter == pytest.approx(1.0) and s10.center_jitter == pytest.approx(3.0)
    assert s5.scale_jitter == pytest.approx(0.15)
    assert s0.hard_weight == pytest.approx(0.5) and s10.hard_weight == pytest.approx(1.0)


def test_difficulty_is_monotonic_for_both_schedules():
    for schedule in ('linear', 'cosine'):
        cur = Curriculum(_cfg(schedule=schedule))
        d = [cur.difficulty(e) for e in range(15)]
        assert all(b >= a for a, b in zip(d, d[1:]))
        assert d[0] == 0 and d[-1] == 1
    cos = Curriculum(_cfg(schedule='cosine'))
    assert cos.difficulty(2) < Curriculum(_cfg()).difficulty(2)   # slow start


def test_film_switch_and_phase2():
    cur = Curriculum(_cfg(), film_start_epoch=4)
    assert [cur.state(e).film for e in range(6)] == [False] * 4 + [True] * 2
    assert Curriculum(_cfg(), phase=2, film_start_epoch=4).state(0).film


def test_zero_ramp_is_full_difficulty_and_bad_values_are_rejected():
    assert Curriculum(_cfg(ramp_epochs=0)).state(0).difficulty == 1
    with pytest.raises(ValueError, match='epoch'):
        Curriculum(_cfg()).state(-1)
    with pytest.raises(ConfigError, match='min_gap'):
        _cfg(min_gap=30)
    with pytest.raises(ConfigError, match='schedule'):
        _cfg(schedule='exp')
    with pytest.raises(ValueError, match='phase'):
        Curriculum(_cfg(), phase=3)


def test_sample_weights_downweight_the_harder_half():
    loss = torch.tensor([0.1, 0.9, 0.2, 0.8])
    w = sample_weights(loss, 0.5)
    assert w.mean().item() == pytest.approx(1.0)
    assert w[1] == w[3] and w[0] == w[2]
    assert w[1].item() == pytest.approx(0.5 * w[0].item())
    assert torch.equal(sample_weights(loss, 1.0), torch.ones(4))
