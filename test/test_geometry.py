# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

import math

from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
import pytest
import torch

from vil_tracker_ros import geometry as g

coord = st.floats(-1000, 1000, allow_nan=False)
size = st.floats(0.1, 500, allow_nan=False)
boxes = st.tuples(coord, coord, size, size)


def test_known_conversions():
    b = np.array([10.0, 20.0, 30.0, 40.0])
    np.testing.assert_allclose(g.xywh_to_cxcywh(b), [25, 40, 30, 40])
    np.testing.assert_allclose(g.xywh_to_xyxy(b), [10, 20, 40, 60])
    np.testing.assert_allclose(g.cxcywh_to_xyxy([25, 40, 30, 40]), [10, 20, 40, 60])
    np.testing.assert_allclose(g.xyxy_to_cxcywh([10, 20, 40, 60]), [25, 40, 30, 40])


@settings(max_examples=60, deadline=None)
@given(boxes, st.sampled_from(g.BOX_FORMATS), st.sampled_from(g.BOX_FORMATS))
def test_round_trip_all_formats(box, src, dst):
    b = np.array(box)
    back = g.convert(g.convert(b, src, dst), dst, src)
    np.testing.assert_allclose(back, b, atol=1e-9)


def test_batched_and_torch_shapes():
    b = np.random.default_rng(0).uniform(1, 50, size=(3, 5, 4))
    assert g.xywh_to_xyxy(b).shape == (3, 5, 4)
    t = torch.tensor(b)
    np.testing.assert_allclose(g.xywh_to_cxcywh(t).numpy(), g.xywh_to_cxcywh(b))
    with pytest.raises(ValueError, match='4 values'):
        g.xywh_to_xyxy(np.zeros((3, 5)))
    with pytest.raises(ValueError, match='unknown box format'):
        g.convert(b, 'xywh', 'ltrb')


def test_iou_known_answers():
    a = [0, 0, 10, 10]
    assert g.iou(a, a) == pytest.approx(1.0)
    assert g.iou(a, [5, 0, 10, 10]) == pytest.approx(50 / 150)
    assert g.iou(a, [20, 20, 5, 5]) == 0.0
    # Touching boxes do not overlap.
    assert g.iou(a, [10, 0, 10, 10]) == 0.0
    # GIoU: identical 1; disjoint negative; enclosure penalty hand-computed.
    assert g.giou(a, a) == pytest.approx(1.0)
    # b = [20,0,10,10]: union 200, enclosure 30x10 = 300 -> 0 - 100/300.
    assert g.giou(a, [20, 0, 10, 10]) == pytest.approx(-1 / 3)
    np.testing.assert_allclose(g.pairwise_iou([a, [5, 0, 10, 10]], [a]), [[1.0], [1 / 3]])
    assert g.center_distance(a, [3, 4, 10, 10]) == pytest.approx(5.0)


@settings(max_examples=60, deadline=None)
@given(boxes, boxes)
def test_iou_giou_properties(a, b):
    i = g.iou(a, b)
    gi = g.giou(a, b)
    assert 0.0 <= i <= 1.0 + 1e-12
    assert -1.0 - 1e-12 <= gi <= i + 1e-12
    assert g.iou(b, a) == pytest.approx(i)


def test_torch_iou_giou_match_numpy_and_have_gradients():
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(0, 1, (16, 2)), rng.uniform(0.05, 0.5, (16, 2))], 1)
    b = np.concatenate([rng.uniform(0, 1, (16, 2)), rng.uniform(0.05, 0.5, (16, 2))], 1)
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b)
    gi = g.giou(ta, tb, fmt='cxcywh')
    np.testing.assert_allclose(gi.detach().numpy(), g.giou(a, b, fmt='cxcywh'), atol=1e-12)
    np.testing.assert_allclose(g.iou(ta, tb, fmt='cxcywh').detach().numpy(),
                               g.iou(a, b, fmt='cxcywh'), atol=1e-12)
    (1 - gi).mean().backward()
    assert ta.grad is not None and torch.isfinite(ta.grad).all()
    assert ta.grad.abs().sum() > 0


def test_clip_and_box_error():
    np.testing.assert_allclose(g.clip_box_xywh([-5, -5, 20, 20], 10, 10), [0, 0, 10, 10])
    clipped = g.clip_box_xywh([50, 50, 5, 5], 10, 10)
    assert clipped[0] + clipped[2] <= 10 and clipped[2] >= 1
    assert g.box_error([1, 2, 3, 4], 10, 10) is None
    assert 'NaN' in g.box_error([np.nan, 2, 3, 4])
    assert 'non-positive' in g.box_error([1, 2, 0, 4])
    assert 'non-positive' in g.box_error([1, 2, 3, -4])
    assert 'outside' in g.box_error([20, 2, 3, 4], 10, 10)
    assert 'outside' in g.box_error([-3, 2, 3, 4], 10, 10)
    assert 'shape' in g.box_error([1, 2, 3])
    # Partly inside is fine.
    assert g.box_error([-2, -2, 3, 3], 10, 10) is None


def test_blend_aspect_keeps_centre_and_area():
    box = np.array([10.0, 20.0, 30.0, 10.0])                  # aspect 3, centre (25, 25)
    np.testing.assert_array_equal(g.blend_aspect(box, 0.0, 0.0), box)
    for weight, aspect in ((1.0, 1.0), (0.5, math.sqrt(3.0))):
        x, y, w, h = g.blend_aspect(box, 0.0, weight)
        assert w / h == pytest.approx(aspect)
        assert w * h == pytest.approx(300.0)
        assert (x + w / 2, y + h / 2) == (pytest.approx(25.0), pytest.approx(25.0))
