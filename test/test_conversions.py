# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image message <-> numpy conversion: round trips, padding, byte order and errors."""

import sys
import types

import cv2
from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from vil_tracker_ros.ros import conversions as conv
from vil_tracker_ros.ros.conversions import (
    compressed_msg_to_rgb, ENCODINGS, image_msg_to_numpy, image_msg_to_rgb, ImageConversionError,
    numpy_to_image_msg, rgb_to_compressed_msg, rgb_to_image_msg)

HOST_BIG = sys.byteorder == 'big'
RNG = np.random.default_rng(0)


def native_array(encoding, height=6, width=8, rng=RNG):
    dtype, channels = ENCODINGS[encoding]
    shape = (height, width) if channels == 1 else (height, width, channels)
    if dtype == np.float32:
        return rng.normal(0, 100, shape).astype(np.float32)
    return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


def smooth_rgb(height=32, width=48):
    """Smooth colour ramps: survives 4:2:2 chroma subsampling and JPEG nearly unchanged."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([40 + 150 * x / width, 60 + 120 * y / height, 200 - 100 * x / width], -1)
    return rgb.astype(np.uint8)


def raw_msg(arr, encoding, pad=0, big_endian=HOST_BIG):
    """Hand-build an Image the way another driver might: padded rows, chosen byte order."""
    arr = np.ascontiguousarray(arr)
    dtype = arr.dtype.newbyteorder('>' if big_endian else '<')
    rows = arr.astype(dtype).reshape(arr.shape[0], -1).view(np.uint8)
    padding = np.full((rows.shape[0], pad), 0xAB, np.uint8)  # garbage that must be ignored
    data = np.concatenate([rows, padding], axis=1)
    msg = Image(height=arr.shape[0], width=arr.shape[1], encoding=encoding,
                is_bigendian=int(big_endian), step=data.shape[1])
    msg.data = data.tobytes()
    return msg


@pytest.mark.parametrize('encoding', sorted(ENCODINGS))
def test_native_round_trip_every_encoding(encoding):
    arr = native_array(encoding)
    header = Header(frame_id='cam')
    header.stamp.sec = 12
    msg = numpy_to_image_msg(arr, encoding, header)
    dtype, channels = ENCODINGS[encoding]
    assert (msg.height, msg.width, msg.encoding) == (6, 8, encoding)
    assert msg.step == 8 * channels * dtype.itemsize
    assert len(msg.data) == msg.step * msg.height
    assert msg.is_bigendian == int(HOST_BIG)
    assert msg.header.frame_id == 'cam' and msg.header.stamp.sec == 12
    out = image_msg_to_numpy(msg)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize('encoding', sorted(ENCODINGS))
@pytest.mark.parametrize('pad', [1, 2, 7, 64])
def test_padded_step_every_encoding(encoding, pad):
    arr = native_array(encoding, height=5, width=6)
    msg = raw_msg(arr, encoding, pad=pad)
    assert msg.step > 6 * ENCODINGS[encoding].channels * ENCODINGS[encoding].dtype.itemsize
    out = image_msg_to_numpy(msg)
    np.testing.assert_array_equal(out, arr)
    assert out.flags.c_contiguous and out.flags.owndata or out.base is not None


@pytest.mark.parametrize('encoding', ['mono16', '16UC1', '32FC1'])
@pytest.mark.parametrize('big_endian', [True, False])
@pytest.mark.parametrize('pad', [0, 3])
def test_byte_order_is_honoured(encoding, big_endian, pad):
    arr = native_array(encoding)
    msg = raw_msg(arr, encoding, pad=pad, big_endian=big_endian)
    out = image_msg_to_numpy(msg)
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, arr)
    # The flag is what matters: flipping it must change the values.
    msg.is_bigendian = int(not big_endian)
    assert not np.array_equal(image_msg_to_numpy(msg), arr)


def test_known_big_endian_bytes():
    msg = Image(height=1, width=2, encoding='mono16', is_bigendian=1, step=4)
    msg.data = bytes([0x01, 0x02, 0xFF, 0x00])
    np.testing.assert_array_equal(image_msg_to_numpy(msg), [[0x0102, 0xFF00]])
    msg.is_bigendian = 0
    np.testing.assert_array_equal(image_msg_to_numpy(msg), [[0x0201, 0x00FF]])


def test_rosbags_style_message_with_numpy_data():
    arr = native_array('bgr8')
    fields = conv.image_fields(arr, 'bgr8')
    msg = types.SimpleNamespace(**fields._asdict())
    msg.data = np.frombuffer(fields.data, np.uint8).copy()
    np.testing.assert_array_equal(image_msg_to_numpy(msg), arr)
    np.testing.assert_array_equal(image_msg_to_rgb(msg), arr[:, :, ::-1])


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8'])
def test_rgb_round_trip_colour_is_exact(encoding):
    rgb = RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    out = image_msg_to_rgb(rgb_to_image_msg(rgb, encoding))
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    np.testing.assert_array_equal(out, rgb)


def test_channel_order_on_the_wire():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 255  # pure red
    assert bytes(rgb_to_image_msg(rgb, 'bgr8').data[:3]) == bytes([0, 0, 255])
    assert bytes(rgb_to_image_msg(rgb, 'rgb8').data[:3]) == bytes([255, 0, 0])
    assert bytes(rgb_to_image_msg(rgb, 'bgra8').data[:4]) == bytes([0, 0, 255, 255])
    assert bytes(rgb_to_image_msg(rgb, 'rgba8').data[:4]) == bytes([255, 0, 0, 255])


def test_mono8_to_rgb_is_grey():
    rgb = smooth_rgb()
    out = image_msg_to_rgb(rgb_to_image_msg(rgb, 'mono8'))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], grey)


@pytest.mark.parametrize('encoding', ['yuv422', 'yuv422_yuy2', 'uyvy', 'yuyv'])
def test_yuv422_rgb_round_trip_is_close(encoding):
    rgb = smooth_rgb()
    msg = rgb_to_image_msg(rgb, encoding)
    assert msg.step == rgb.shape[1] * 2
    out = image_msg_to_rgb(msg)
    assert out.shape == rgb.shape
    err = np.abs(out.astype(int) - rgb.astype(int))
    assert err.mean() < 3.0 and err.max() < 16


def test_uyvy_and_yuyv_byte_layouts_differ_as_ros_defines():
    rgb = smooth_rgb()
    uyvy = image_msg_to_numpy(rgb_to_image_msg(rgb, 'yuv422'))
    yuyv = image_msg_to_numpy(rgb_to_image_msg(rgb, 'yuv422_yuy2'))
    # yuv422 (UYVY): U Y0 V Y1; yuv422_yuy2 (YUYV): Y0 U Y1 V -> lumas sit at odd vs even bytes.
    np.testing.assert_array_equal(uyvy[..., 1], yuyv[..., 0])
    # Decoding UYVY bytes as YUYV must give a visibly wrong image.
    wrong = raw_msg(uyvy, 'yuv422_yuy2')
    assert np.abs(image_msg_to_rgb(wrong).astype(int) - rgb.astype(int)).mean() > 20


@pytest.mark.parametrize('encoding', ['mono16', '16UC1', '32FC1'])
def test_deep_encodings_are_stretched_to_8_bit(encoding):
    rgb = smooth_rgb()
    msg = rgb_to_image_msg(rgb, encoding)
    out = image_msg_to_rgb(msg)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(float)
    # Contrast is stretched, so the order of grey levels is kept and the full range is used.
    assert np.corrcoef(out[..., 0].ravel(), grey.ravel())[0, 1] > 0.99
    assert out.min() <= 2 and out.max() >= 253


def test_14_bit_thermal_is_not_left_dark():
    raw = (np.linspace(7000, 7400, 64 * 48).reshape(48, 64)).astype(np.uint16)
    out = image_msg_to_rgb(numpy_to_image_msg(raw, 'mono16'))
    assert out[..., 0].std() > 50


def test_float_depth_with_nan_and_zero():
    depth = np.linspace(0.5, 5.0, 40 * 30, dtype=np.float32).reshape(30, 40)
    depth[0, :5] = np.nan
    depth[1, :5] = 0.0
    depth[2, :5] = np.inf
    out = image_msg_to_rgb(numpy_to_image_msg(depth, '32FC1'))
    assert out.dtype == np.uint8
    assert out[-1, -1, 0] >= 250
    assert (out[0, :5] == 0).all() and (out[1, :5] == 0).all()  # NaN and 'no return'
    valid = out[3:, :, 0].ravel().astype(int)
    assert (np.diff(valid) >= 0).all() and out[0, 5, 0] <= 5
    empty = np.full((4, 4), np.nan, np.float32)
    assert image_msg_to_rgb(numpy_to_image_msg(empty, '32FC1')).max() == 0


@settings(max_examples=40, deadline=None)
@given(encoding=st.sampled_from(sorted(ENCODINGS)), height=st.integers(1, 9),
       half_width=st.integers(1, 9), pad=st.integers(0, 9), big=st.booleans(),
       seed=st.integers(0, 2**16))
def test_property_any_layout_round_trips(encoding, height, half_width, pad, big, seed):
    arr = native_array(encoding, height, 2 * half_width, np.random.default_rng(seed))
    np.testing.assert_array_equal(
        image_msg_to_numpy(raw_msg(arr, encoding, pad=pad, big_endian=big)), arr)


# ---------------------------------------------------------------- errors

def test_unknown_encoding_is_named():
    msg = raw_msg(np.zeros((2, 2), np.uint8), 'bayer_rggb8')
    with pytest.raises(ImageConversionError, match='bayer_rggb8'):
        image_msg_to_rgb(msg)
    with pytest.raises(ImageConversionError, match='8UC7'):
        numpy_to_image_msg(np.zeros((2, 2), np.uint8), '8UC7')
    assert issubclass(ImageConversionError, ValueError)


def test_short_data_is_reported():
    msg = raw_msg(np.zeros((4, 4, 3), np.uint8), 'rgb8')
    msg.data = bytes(47)
    with pytest.raises(ImageConversionError, match=r'47 B.*step\*height = 12\*4 = 48'):
        image_msg_to_numpy(msg)


def test_zero_size_is_reported():
    msg = Image(height=0, width=4, encoding='mono8', step=4)
    with pytest.raises(ImageConversionError, match='zero-size'):
        image_msg_to_rgb(msg)
    with pytest.raises(ImageConversionError, match='zero-size'):
        numpy_to_image_msg(np.zeros((0, 3), np.uint8), 'mono8')


def test_step_shorter_than_row_is_reported():
    msg = raw_msg(np.zeros((2, 4), np.uint16), 'mono16')
    msg.step = 7
    with pytest.raises(ImageConversionError, match='step 7 is shorter than a row.*8 B'):
        image_msg_to_numpy(msg)


def test_odd_width_yuv_is_reported():
    msg = Image(height=2, width=3, encoding='yuv422', step=6)
    msg.data = bytes(12)
    with pytest.raises(ImageConversionError, match='odd'):
        image_msg_to_numpy(msg)


def test_wrong_array_for_encoding_is_reported():
    with pytest.raises(ImageConversionError, match='dtype uint16'):
        numpy_to_image_msg(np.zeros((2, 2), np.uint8), 'mono16')
    with pytest.raises(ImageConversionError, match='HxWx3'):
        numpy_to_image_msg(np.zeros((2, 2, 4), np.uint8), 'rgb8')
    with pytest.raises(ImageConversionError, match='HxWx3 uint8'):
        rgb_to_image_msg(np.zeros((2, 2, 3), np.float32))


# ---------------------------------------------------------------- compressed

def test_jpeg_round_trip():
    rgb = smooth_rgb()
    header = Header(frame_id='cam')
    msg = rgb_to_compressed_msg(rgb, 'jpeg', header)
    assert isinstance(msg, CompressedImage)
    assert 'jpeg' in msg.format and msg.header.frame_id == 'cam'
    assert bytes(msg.data[:2]) == b'\xff\xd8'  # JPEG SOI marker
    out = compressed_msg_to_rgb(msg)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb.astype(int)).mean() < 3.0


def test_png_round_trip_is_exact():
    rgb = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    msg = rgb_to_compressed_msg(rgb, 'png')
    assert bytes(msg.data[1:4]) == b'PNG'
    np.testing.assert_array_equal(compressed_msg_to_rgb(msg), rgb)


def test_compressed_grey_and_16_bit_png():
    grey16 = np.linspace(1000, 4000, 30 * 20).reshape(20, 30).astype(np.uint16)
    ok, buf = cv2.imencode('.png', grey16)
    msg = CompressedImage(format='mono16; png compressed mono16')
    msg.data = buf.tobytes()
    out = compressed_msg_to_rgb(msg)
    assert out.shape == (20, 30, 3) and out.min() <= 2 and out.max() >= 253


def test_compressed_errors():
    msg = CompressedImage(format='jpeg')
    with pytest.raises(ImageConversionError, match='no data'):
        compressed_msg_to_rgb(msg)
    msg.data = b'definitely not a jpeg'
    with pytest.raises(ImageConversionError, match="could not decode.*'jpeg'"):
        compressed_msg_to_rgb(msg)
    msg.format = '16UC1; compressedDepth png'
    with pytest.raises(ImageConversionError, match='compressedDepth'):
        compressed_msg_to_rgb(msg)
    with pytest.raises(ImageConversionError, match="'bmp'"):
        rgb_to_compressed_msg(smooth_rgb(), 'bmp')


def test_builtin_path_matches_cv_bridge_when_present():
    if conv.CvBridge is None:
        pytest.skip('cv_bridge is not importable (no ROS distro); the builtin path is tested')
    for encoding in ('rgb8', 'bgr8', 'mono8', 'mono16', '32FC1'):
        arr = native_array(encoding)
        msg = raw_msg(arr, encoding, pad=4)
        np.testing.assert_array_equal(image_msg_to_numpy(msg), arr)
        enc = ENCODINGS[encoding]
        np.testing.assert_array_equal(conv._builtin_to_numpy(msg, enc), arr)


class _FakeBridgeError(Exception):
    pass


class _FakeBridge:
    """Stands in for a distro cv_bridge: records which messages reach it."""

    calls = []
    fail = False

    def imgmsg_to_cv2(self, msg, desired_encoding):
        assert desired_encoding == 'passthrough'
        self.calls.append(msg.encoding)
        if self.fail:
            raise _FakeBridgeError('boom')
        return conv._builtin_to_numpy(msg, ENCODINGS[msg.encoding])

    def cv2_to_imgmsg(self, arr, encoding):
        self.calls.append('to:' + encoding)
        fields = conv.image_fields(arr, encoding)
        msg = Image(height=fields.height, width=fields.width, encoding=encoding,
                    is_bigendian=fields.is_bigendian, step=fields.step)
        msg.data = fields.data
        return msg


def test_cv_bridge_dispatch(monkeypatch):
    monkeypatch.setattr(conv, 'CvBridge', _FakeBridge)
    monkeypatch.setattr(conv, 'CvBridgeError', _FakeBridgeError)
    monkeypatch.setattr(conv, '_BRIDGE', [])
    monkeypatch.setattr(_FakeBridge, 'calls', [])
    arr = native_array('mono16')
    np.testing.assert_array_equal(image_msg_to_numpy(raw_msg(arr, 'mono16')), arr)
    assert _FakeBridge.calls == ['mono16']
    # Padded rows, foreign byte order, YUV and rosbags-style data stay on the builtin path.
    np.testing.assert_array_equal(image_msg_to_numpy(raw_msg(arr, 'mono16', pad=3)), arr)
    np.testing.assert_array_equal(
        image_msg_to_numpy(raw_msg(arr, 'mono16', big_endian=not HOST_BIG)), arr)
    yuv = native_array('yuv422')
    np.testing.assert_array_equal(image_msg_to_numpy(raw_msg(yuv, 'yuv422')), yuv)
    fields = conv.image_fields(arr, 'mono16')
    bag_msg = types.SimpleNamespace(**fields._asdict())
    bag_msg.data = np.frombuffer(fields.data, np.uint8)
    np.testing.assert_array_equal(image_msg_to_numpy(bag_msg), arr)
    assert _FakeBridge.calls == ['mono16']
    # Validation happens before cv_bridge, and its errors become ImageConversionError.
    with pytest.raises(ImageConversionError, match='zero-size'):
        image_msg_to_numpy(Image(height=0, width=2, encoding='mono8', step=2))
    monkeypatch.setattr(_FakeBridge, 'fail', True)
    with pytest.raises(ImageConversionError, match="cv_bridge failed on 'mono16'"):
        image_msg_to_numpy(raw_msg(arr, 'mono16'))
    msg = numpy_to_image_msg(arr, 'mono16', Header(frame_id='f'))
    assert _FakeBridge.calls[-1] == 'to:mono16' and msg.header.frame_id == 'f'
    with pytest.raises(ImageConversionError, match='dtype uint16'):
        numpy_to_image_msg(arr.astype(np.uint8), 'mono16')
