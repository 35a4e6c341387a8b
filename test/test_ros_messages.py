# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ros/messages.py: output message builders, init box checks and camera bearings."""

import math

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from vil_tracker_ros.ros import messages

K = [200.0, 0.0, 160.0, 0.0, 210.0, 120.0, 0.0, 0.0, 1.0]


def _header():
    header = Header(frame_id='cam')
    header.stamp.sec, header.stamp.nanosec = 12, 345
    return header


def test_detection_fields_follow_the_interface():
    cov = np.array([[4.0, 0.5], [0.5, 9.0]])
    det = messages.make_detection(_header(), (10, 20, 30, 40), 1.7, cov, '3', 'drone')
    assert det.header.frame_id == 'cam' and det.header.stamp.nanosec == 345
    assert (det.bbox.center.position.x, det.bbox.center.position.y) == (25.0, 40.0)
    assert (det.bbox.size_x, det.bbox.size_y, det.id) == (30.0, 40.0, '3')
    hyp = det.results[0]
    assert hyp.hypothesis.class_id == 'drone' and hyp.hypothesis.score == 1.0   # clipped
    assert (hyp.pose.pose.position.x, hyp.pose.pose.position.y) == (25.0, 40.0)
    full = np.array(hyp.pose.covariance).reshape(6, 6)
    assert np.array_equal(full[:2, :2], cov) and np.count_nonzero(full) == 4
    nan_score = messages.make_detection(_header(), (1, 1, 2, 2), float('nan'), cov, '1', 'x')
    assert nan_score.results[0].hypothesis.score == 0.0


def test_offset_is_normalised_and_clipped():
    msg = messages.make_offset(_header(), (70, 45, 20, 10), 160, 100)
    assert (msg.vector.x, msg.vector.y) == (0.0, 0.0)
    assert msg.vector.z == pytest.approx(200 / 16000)
    far = messages.make_offset(_header(), (400, -300, 20, 10), 160, 100)
    assert (far.vector.x, far.vector.y) == (1.0, -1.0)


@pytest.mark.parametrize('box, size, fragment', [
    ((float('nan'), 1, 5, 5), None, 'NaN'),
    ((1, 1, 0, 5), None, 'non-positive'),
    ((-1, 1, 5, 5), None, 'negative corner'),
    ((100, 1, 30, 5), (120, 90), 'outside'),
    ((1, 80, 5, 20), (120, 90), 'outside'),
])
def test_init_box_problems_are_named(box, size, fragment):
    problem = messages.init_box_problem(box, *(size or (None, None)))
    assert problem is not None and fragment in problem


def test_valid_init_box_touching_the_border_is_accepted():
    assert messages.init_box_problem((0, 0, 120, 90), 120, 90) is None


def _info(d, model='plumb_bob', k=K):
    return CameraInfo(width=320, height=240, distortion_model=model, k=k, d=d)


def test_bearing_without_distortion_is_k_inverse():
    cam = messages.CameraModel.from_msg(_info([]))
    ray = cam.bearing(260.0, 15.0)
    expected = np.linalg.inv(np.array(K).reshape(3, 3)) @ [260.0, 15.0, 1.0]
    assert np.allclose(ray, expected / np.linalg.norm(expected))


@pytest.mark.parametrize('model, d', [
    ('plumb_bob', [-0.3, 0.1, 0.001, 0.002, 0.0]),
    ('rational_polynomial', [-0.3, 0.1, 0.001, 0.002, 0.01, 0.0, 0.0, 0.0]),
    ('equidistant', [0.05, -0.01, 0.002, 0.0]),
])
def test_bearing_reprojects_to_the_pixel_through_the_distortion_model(model, d):
    cam = messages.CameraModel.from_msg(_info(d, model))
    u, v = 290.0, 40.0
    ray = cam.bearing(u, v)
    assert math.isclose(np.linalg.norm(ray), 1.0) and ray[2] > 0
    point = (ray / ray[2]).reshape(1, 1, 3)
    kmat, dist = np.array(K).reshape(3, 3), np.array(d)
    if model == 'equidistant':
        pix = cv2.fisheye.projectPoints(point, np.zeros(3), np.zeros(3), kmat, dist)[0]
    else:
        pix = cv2.projectPoints(point, np.zeros(3), np.zeros(3), kmat, dist)[0]
    assert np.allclose(pix.reshape(2), (u, v), atol=1e-3)


@pytest.mark.parametrize('info, fragment', [
    (_info([], k=[0.0] * 9), 'not a calibrated'),
    (_info([0.1, 0.2, 0.3]), 'coefficients'),
    (_info([0.1], model='equidistant'), 'needs 4'),
    (_info([], model='weird'), 'unsupported'),
])
def test_unusable_camera_info_is_rejected_with_a_reason(info, fragment):
    with pytest.raises(ValueError, match=fragment):
        messages.CameraModel.from_msg(info)


def test_overlay_draws_without_touching_the_input():
    rgb = np.zeros((60, 80, 3), np.uint8)
    out = messages.draw_overlay(rgb, (10, 10, 20, 20), 'tracking', 0.5, '1')
    assert out.shape == rgb.shape and out.any() and not rgb.any()
