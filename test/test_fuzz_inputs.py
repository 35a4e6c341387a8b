# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Property-based fuzzing of what the node reads from the outside, on the ROS-free code paths.

Image and CompressedImage messages with any encoding, size, step, byte order and data length;
init boxes with NaN, infinity, zero or negative sizes or outside the frame; frame stamps out of
order, repeated or not finite. The property everywhere: either the documented error
(ImageConversionError for messages, ValueError / StampOrderError for the tracker, a reason
string from ``init_box_problem``) or a correct result (right shape and dtype, equal to an
independent reference decode), never another exception and never a wrong-shaped array.

Bounded for CI: a fixed number of examples per property and no per-example deadline.
"""

import array
import math

import cv2
from hypothesis import given, HealthCheck, settings
from hypothesis import strategies as st
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from vil_tracker_ros.config import KalmanConfig, TrackerConfig
from vil_tracker_ros.core.tracker import SingleObjectTracker, StampOrderError, TrackStatus
from vil_tracker_ros.ros import messages
from vil_tracker_ros.ros.conversions import (compressed_msg_to_rgb, ENCODINGS, image_msg_to_numpy,
                                             image_msg_to_rgb, ImageConversionError)

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
YUV = ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv')
DEEP = ('mono16', '16UC1', '32FC1')


# ------------------------------------------------------------------ reference decodes


def reference_native(data: bytes, encoding: str, height: int, width: int, step: int,
                     big_endian: bool) -> np.ndarray:
    """Pixels of a valid raw Image in host order, computed independently of conversions.py."""
    dtype, channels = ENCODINGS[encoding]
    itemsize = np.dtype(dtype).itemsize
    rows = [data[r * step:r * step + width * channels * itemsize] for r in range(height)]
    wire = np.dtype(dtype).newbyteorder('>' if big_endian else '<')
    values = np.frombuffer(b''.join(rows), dtype=wire).astype(dtype)
    return values.reshape((height, width) if channels == 1 else (height, width, channels))


def reference_rgb(native: np.ndarray, encoding: str) -> np.ndarray:
    """RGB of an 8-bit native array by plain indexing (YUV by OpenCV on a fresh copy)."""
    if encoding == 'rgb8':
        return native
    if encoding == 'bgr8':
        return native[:, :, ::-1]
    if encoding == 'rgba8':
        return native[:, :, :3]
    if encoding == 'bgra8':
        return native[:, :, 2::-1]
    if encoding == 'mono8':
        return np.repeat(native[:, :, None], 3, axis=2)
    code = cv2.COLOR_YUV2RGB_UYVY if encoding in ('yuv422', 'uyvy') else cv2.COLOR_YUV2RGB_YUY2
    return cv2.cvtColor(np.ascontiguousarray(native), code)


def expected_problem(encoding: str, height: int, width: int, step: int, size: int) -> bool:
    """Whether the message is invalid, by the rules documented in conversions.py."""
    if encoding not in ENCODINGS:
        return True
    dtype, channels = ENCODINGS[encoding]
    if height <= 0 or width <= 0 or (encoding in YUV and width % 2):
        return True
    return step < width * channels * np.dtype(dtype).itemsize or size < step * height


# ------------------------------------------------------------------------ raw images


@st.composite
def raw_images(draw):
    """An Image with a plausible or broken layout: encoding, size, step, order, data length."""
    encoding = draw(st.one_of(st.sampled_from(sorted(ENCODINGS)),
                              st.sampled_from(['', 'RGB8', 'bayer_rggb8', '8UC3', 'nv12']),
                              st.text(max_size=12)))
    height = draw(st.integers(0, 12))
    width = draw(st.integers(0, 12))
    dtype, channels = ENCODINGS.get(encoding, (np.uint8, 3))
    row = width * channels * np.dtype(dtype).itemsize
    step = draw(st.one_of(st.just(row), st.integers(row, row + 9), st.integers(0, 3 * row + 9)))
    size = draw(st.one_of(st.just(step * height), st.integers(0, step * height + 16)))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    big_endian = draw(st.integers(0, 1))
    as_array = draw(st.booleans())   # rclpy delivers array.array; a hand-built msg has bytes
    msg = Image(height=height, width=width, encoding=encoding, is_bigendian=big_endian,
                step=step)
    msg.data = array.array('B', data) if as_array else data
    return msg, data


@FUZZ
@given(raw_images())
def test_image_message_gives_a_clear_error_or_the_right_frame(case):
    msg, data = case
    invalid = expected_problem(msg.encoding, msg.height, msg.width, msg.step, len(data))
    try:
        rgb = image_msg_to_rgb(msg)
    except ImageConversionError:
        assert invalid, 'a valid message was rejected'
        return
    assert not invalid, 'an invalid message was accepted'
    assert isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8
    assert rgb.shape == (msg.height, msg.width, 3)
    native = reference_native(data, msg.encoding, msg.height, msg.width, msg.step,
                              bool(msg.is_bigendian))
    np.testing.assert_array_equal(image_msg_to_numpy(msg), native)
    if msg.encoding in DEEP:
        return   # contrast-stretched per frame: shape and dtype are the property here
    np.testing.assert_array_equal(rgb, reference_rgb(native, msg.encoding))


def test_rgb8_is_read_in_place_even_with_padded_rows():
    # The node's hot path: no copy of the frame between the message and the crop.
    data = array.array('B', range(256)) * 3
    msg = Image(height=4, width=5, encoding='rgb8', is_bigendian=0, step=19)
    msg.data = data
    rgb = image_msg_to_rgb(msg)
    assert rgb.shape == (4, 5, 3) and np.shares_memory(rgb, np.frombuffer(msg.data, np.uint8))
    np.testing.assert_array_equal(rgb[1, 0], [19, 20, 21])


# ---------------------------------------------------------------- compressed images


def _encoded(seed: int, ext: str, height: int, width: int, grey: bool) -> bytes:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (height, width) if grey else (height, width, 3), np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


@st.composite
def compressed_images(draw):
    kind = draw(st.sampled_from(['png', 'jpeg', 'garbage', 'empty', 'truncated']))
    fmt = draw(st.one_of(st.sampled_from(['jpeg', 'png', 'rgb8; jpeg compressed bgr8',
                                          '16UC1; compressedDepth', '']),
                         st.text(max_size=20)))
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    grey = draw(st.booleans())
    if kind == 'garbage':
        data = np.random.default_rng(seed).integers(0, 256, draw(st.integers(1, 300)),
                                                    np.uint8).tobytes()
    elif kind == 'empty':
        data = b''
    else:
        data = _encoded(seed, '.png' if kind == 'png' else '.jpg', height, width, grey)
        if kind == 'truncated':
            data = data[:draw(st.integers(1, max(1, len(data) - 1)))]
    msg = CompressedImage(format=fmt)
    msg.data = data
    return msg, kind, (height, width), grey, seed


@FUZZ
@given(compressed_images())
def test_compressed_message_gives_a_clear_error_or_the_right_frame(case):
    msg, kind, (height, width), grey, seed = case
    try:
        rgb = compressed_msg_to_rgb(msg)
    except ImageConversionError:
        assert kind != 'png' or 'compresseddepth' in msg.format.lower(), \
            'a valid PNG was rejected'
        return
    assert kind != 'empty' and 'compresseddepth' not in msg.format.lower()
    assert isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8
    assert rgb.ndim == 3 and rgb.shape[2] == 3
    if kind in ('png', 'jpeg'):
        assert rgb.shape[:2] == (height, width)
    if kind == 'png':   # lossless: the exact source pixels
        src = np.random.default_rng(seed).integers(
            0, 256, (height, width) if grey else (height, width, 3), np.uint8)
        ref = np.repeat(src[:, :, None], 3, axis=2) if grey else src[:, :, ::-1]
        np.testing.assert_array_equal(rgb, ref)


# ---------------------------------------------------------------------- init boxes

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.floats(-50, 400), st.sampled_from([0.0, -0.0, 1e-300, 1e300]))
W, H = 96, 64


def _bbox(cx, cy, sx, sy):
    from vision_msgs.msg import BoundingBox2D
    b = BoundingBox2D()
    b.center.position.x, b.center.position.y, b.size_x, b.size_y = cx, cy, sx, sy
    return b


@FUZZ
@given(cx=NUMBERS, cy=NUMBERS, sx=NUMBERS, sy=NUMBERS)
def test_init_box_is_accepted_exactly_when_usable(cx, cy, sx, sy):
    box = messages.bbox_to_xywh(_bbox(cx, cy, sx, sy))
    problem = messages.init_box_problem(box, W, H)
    x, y, w, h = box
    usable = (all(math.isfinite(v) for v in box) and w > 0 and h > 0 and x >= 0 and y >= 0
              and x + w <= W and y + h <= H)
    assert (problem is None) == usable, (box, problem)
    assert problem is None or (isinstance(problem, str) and problem)


@pytest.fixture(scope='module')
def tiny_backend():
    import torch
    from vil_tracker_ros.core.backend import TorchBackend
    from vil_tracker_ros.model import build_model, get_config
    torch.manual_seed(0)
    return TorchBackend(build_model(get_config('vil_tiny')).eval(), device='cpu', threads=1)


def _frame(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), np.uint8)


def _check_result(res) -> None:
    assert res.status in (TrackStatus.TRACKING, TrackStatus.LOST)
    assert np.asarray(res.box).shape == (4,) and np.all(np.isfinite(res.box))
    assert res.box[2] > 0 and res.box[3] > 0
    assert 0.0 <= res.confidence <= 1.0
    assert np.all(np.isfinite(res.cov))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(box=st.tuples(NUMBERS, NUMBERS, NUMBERS, NUMBERS), seed=st.integers(0, 9))
def test_tracker_initialise_rejects_clearly_or_tracks(tiny_backend, box, seed):
    trk = SingleObjectTracker(tiny_backend, TrackerConfig(), KalmanConfig())
    img = _frame(seed)
    try:
        res = trk.initialize(img, box, 0.0)
    except ValueError:
        assert trk.status == TrackStatus.IDLE and trk.track_id == 0
        return
    x, y, w, h = box
    assert all(math.isfinite(v) for v in box) and w > 0 and h > 0
    assert x < W and y < H and x + w > 0 and y + h > 0 and max(w, h) <= 16 * W
    _check_result(res)
    _check_result(trk.track(img, 0.05))


@pytest.mark.parametrize('side', [1.35e154, 6.8e153, 4.8e153, 2e3])
def test_astronomically_large_init_box_is_a_clear_error(tiny_backend, side):
    # Found by the fuzzing above: such boxes (finite, positive, overlapping the frame) used to
    # escape as OverflowError from the crop or the Kalman filter, or to initialise with an
    # infinite covariance.
    trk = SingleObjectTracker(tiny_backend, TrackerConfig(), KalmanConfig())
    with pytest.raises(ValueError, match='times the size of the 96x64 image'):
        trk.initialize(_frame(0), (0.0, 0.0, side, side), 0.0)
    assert trk.status == TrackStatus.IDLE


# -------------------------------------------------------------------------- stamps

STAMPS = st.lists(st.one_of(st.floats(-1.0, 3.0), st.sampled_from([0.0, 0.5, 1.0]),
                            st.sampled_from([math.nan, math.inf, -math.inf])),
                  min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stamps=STAMPS)
def test_stamps_out_of_order_or_repeated_are_refused_and_change_nothing(tiny_backend, stamps):
    trk = SingleObjectTracker(tiny_backend, TrackerConfig(), KalmanConfig())
    img = _frame(0)
    trk.initialize(img, (30.0, 20.0, 20.0, 16.0), 0.0)
    last = 0.0
    for stamp in stamps:
        before = (trk.status, trk.track_id, trk.last_stamp)
        try:
            res = trk.track(img, stamp)
        except StampOrderError:
            assert math.isfinite(stamp) and stamp <= last
            assert (trk.status, trk.track_id, trk.last_stamp) == before
            continue
        except ValueError:
            assert not math.isfinite(stamp)
            assert (trk.status, trk.track_id, trk.last_stamp) == before
            continue
        assert math.isfinite(stamp) and stamp > last
        _check_result(res)
        assert trk.last_stamp == stamp
        last = stamp


@FUZZ
@given(sec=st.integers(-2 ** 31, 2 ** 31 - 1), nanosec=st.integers(0, 10 ** 9 - 1))
def test_stamp_round_trip_and_text(sec, nanosec):
    from builtin_interfaces.msg import Time
    ns = messages.stamp_to_ns(Time(sec=sec, nanosec=nanosec))
    assert ns == sec * 10 ** 9 + nanosec
    whole, frac = messages.format_stamp(ns).split('.')
    assert int(whole) == sec and frac == f'{nanosec:09d}'


def test_reference_decode_agrees_on_a_known_message():
    # Guards the references above: a hand-checked 2x2 bgr8 with one byte of row padding.
    data = bytes([1, 2, 3, 4, 5, 6, 99, 7, 8, 9, 10, 11, 12, 99])
    native = reference_native(data, 'bgr8', 2, 2, 7, False)
    np.testing.assert_array_equal(reference_rgb(native, 'bgr8')[1, 1], [12, 11, 10])
