# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
sensor_msgs/Image and CompressedImage <-> numpy.

The real ``cv_bridge`` is used for the plain 8/16/32-bit encodings when it is importable (a ROS
distro install). Otherwise, and always for the YUV 4:2:2 encodings (whose cv_bridge support
differs between distros), padded rows and foreign byte order (see ``_use_cv_bridge``), this
module converts by itself; both paths validate the message the same way first. The PyPI
``cv-bridge`` package is a ROS1-era port that breaks with numpy 2, so it is never used.

Every function also accepts message objects deserialised by ``rosbags`` (same field names).
"""

import array
from typing import NamedTuple

import cv2
import numpy as np

from vil_tracker_ros.ros.image_encodings import (Encoding, ENCODINGS, FROM_RGB, HOST_BIG_ENDIAN,
                                                 TO_RGB, U8, YUV)

try:  # A distro install provides the real cv_bridge; the no-distro venv does not.
    from cv_bridge import CvBridge, CvBridgeError
except ImportError:
    CvBridge = None
    CvBridgeError = None


class ImageConversionError(ValueError):
    """An image message cannot be converted; the message says why."""


_COMPRESSED_EXT = {'jpeg': '.jpg', 'jpg': '.jpg', 'png': '.png'}
# Robust contrast stretch for 16-bit / float images: thermal (14-bit in 16) and depth images fill
# a small part of their range, so a fixed shift would leave them nearly black.
_STRETCH_PERCENTILES = (0.5, 99.5)
_STRETCH_SUBSAMPLE = 4


class ImageFields(NamedTuple):
    """The fields of a sensor_msgs/Image, independent of the message class."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes


def _lookup(encoding: str) -> Encoding:
    try:
        return ENCODINGS[encoding]
    except KeyError:
        raise ImageConversionError(
            f'unsupported image encoding {encoding!r}; supported: {", ".join(ENCODINGS)}'
        ) from None


def _bytes_of(data) -> np.ndarray:
    """View a message's data field (bytes, array.array, numpy, list) as flat uint8."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1).view(np.uint8)
    if isinstance(data, (bytes, bytearray, memoryview, array.array)):
        return np.frombuffer(data, dtype=np.uint8)
    return np.asarray(data, dtype=np.uint8)


def _validate_image_msg(msg) -> Encoding:
    enc = _lookup(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageConversionError(f'zero-size {msg.encoding} image ({width}x{height})')
    if msg.encoding in YUV and width % 2:
        raise ImageConversionError(f'{msg.encoding} image width {width} is odd; 4:2:2 needs even')
    row_bytes = width * enc.channels * enc.dtype.itemsize
    if step < row_bytes:
        raise ImageConversionError(
            f'{msg.encoding} image step {step} is shorter than a row '
            f'({width} px x {enc.channels} ch x {enc.dtype.itemsize} B = {row_bytes} B)'
        )
    size = len(_bytes_of(msg.data))
    if size < step * height:
        raise ImageConversionError(
            f'{msg.encoding} image data has {size} B, expected step*height = '
            f'{step}*{height} = {step * height} B'
        )
    return enc


def _builtin_to_numpy(msg, enc: Encoding) -> np.ndarray:
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = width * enc.channels * enc.dtype.itemsize
    raw = _bytes_of(msg.data)[:step * height].reshape(height, step)[:, :row_bytes]
    raw = np.ascontiguousarray(raw)  # drops the step padding and owns its memory
    dtype = enc.dtype
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder('>' if msg.is_bigendian else '<')
    arr = raw.view(dtype).astype(enc.dtype, copy=False)  # to host byte order
    if enc.channels == 1:
        return arr.reshape(height, width)
    return arr.reshape(height, width, enc.channels)


def _pixels_in_place(msg, enc: Encoding) -> np.ndarray:
    """View an 8-bit image's pixels inside ``msg.data`` without copying (validated message).

    Shape (H, W) or (H, W, C); the row stride is ``step``, so padded rows need no copy either
    (OpenCV reads such strided rows directly). The view keeps ``msg.data`` alive.
    """
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = width * enc.channels
    rows = _bytes_of(msg.data)[:step * height].reshape(height, step)[:, :row_bytes]
    if enc.channels == 1:
        return rows
    return rows.reshape(height, width, enc.channels)   # splits the contiguous row: a view


def image_msg_to_numpy(msg) -> np.ndarray:
    """
    Return the image in the message's native layout and dtype (host byte order).

    Shapes: (H, W) for single-channel encodings, (H, W, C) otherwise; YUV 4:2:2 gives (H, W, 2)
    bytes as stored. Row padding (``step``) is removed and the result owns its memory. Data
    beyond ``step * height`` is ignored. ImageConversionError is raised for an unknown
    encoding, zero size, a step shorter than a row, an odd width for YUV 4:2:2, or data
    shorter than ``step * height``.
    """
    enc = _validate_image_msg(msg)
    if _use_cv_bridge(msg, enc):
        try:
            return np.array(_bridge().imgmsg_to_cv2(msg, desired_encoding='passthrough'))
        except CvBridgeError as err:
            raise ImageConversionError(f'cv_bridge failed on {msg.encoding!r}: {err}') from err
    return _builtin_to_numpy(msg, enc)


def _use_cv_bridge(msg, enc: Encoding) -> bool:
    """
    Tell whether cv_bridge handles this message.

    Only unpadded rows in host byte order go to cv_bridge: its byte swap uses
    ``ndarray.newbyteorder`` (gone in numpy 2) and its padding handling assumes ``step`` is a
    multiple of the pixel size. Rosbags messages (numpy data) stay on the builtin path.
    """
    if CvBridge is None or msg.encoding in YUV or isinstance(msg.data, np.ndarray):
        return False
    row_bytes = int(msg.width) * enc.channels * enc.dtype.itemsize
    host_order = enc.dtype.itemsize == 1 or bool(msg.is_bigendian) == HOST_BIG_ENDIAN
    return int(msg.step) == row_bytes and host_order


_BRIDGE = []


def _bridge():
    if not _BRIDGE:
        _BRIDGE.append(CvBridge())
    return _BRIDGE[0]


def _stretch_to_uint8(gray: np.ndarray, ignore_zero: bool) -> np.ndarray:
    """Map a 16-bit or float image to uint8 with a robust per-frame contrast stretch."""
    sample = gray[::_STRETCH_SUBSAMPLE, ::_STRETCH_SUBSAMPLE].astype(np.float64).ravel()
    valid = np.isfinite(sample)
    if ignore_zero:  # depth encodings use 0 for 'no return'
        valid &= sample != 0
    sample = sample[valid]
    if sample.size == 0:
        return np.zeros(gray.shape, np.uint8)
    lo, hi = np.percentile(sample, _STRETCH_PERCENTILES)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    values = np.nan_to_num(gray.astype(np.float32), nan=lo, posinf=hi, neginf=lo)
    return np.clip((values - lo) * scale, 0, 255).astype(np.uint8)


def _native_to_rgb(arr: np.ndarray, encoding: str) -> np.ndarray:
    if encoding in ('mono16', '16UC1', '32FC1'):
        gray = _stretch_to_uint8(arr, ignore_zero=encoding != 'mono16')
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    code = TO_RGB[encoding]
    if code is None:
        return arr
    return cv2.cvtColor(arr, code)


def image_msg_to_rgb(msg) -> np.ndarray:
    """
    Return an HxWx3 uint8 RGB image for the tracker.

    mono16, 16UC1 and 32FC1 are contrast-stretched per frame between the 0.5th and 99.5th
    percentile (zeros, NaN and inf are ignored for the depth encodings 16UC1 / 32FC1).
    Errors as in :func:`image_msg_to_numpy`.

    8-bit encodings are read in place: rgb8 comes back as a zero-copy view of ``msg.data``
    (rows ``step`` bytes apart, so it may not be C-contiguous), the other 8-bit encodings as
    one colour conversion straight from that view. Nothing writes into the view; treat the
    result as read-only.
    """
    enc = _validate_image_msg(msg)
    if enc.dtype == U8:   # no byte order to fix: the bytes are the pixels
        return _native_to_rgb(_pixels_in_place(msg, enc), msg.encoding)
    return _native_to_rgb(image_msg_to_numpy(msg), msg.encoding)


def image_fields(arr: np.ndarray, encoding: str) -> ImageFields:
    """
    Pack an array in ``encoding``'s native layout into Image fields (host byte order).

    ImageConversionError is raised for an unknown encoding, a wrong dtype or shape, zero size.
    """
    packed, step = _packed(arr, encoding)
    height, width = packed.shape[:2]
    return ImageFields(height, width, encoding, int(HOST_BIG_ENDIAN), step, packed.tobytes())


def _packed(arr: np.ndarray, encoding: str):
    """Validate ``arr`` for ``encoding``; return (C-contiguous array, step in bytes)."""
    enc = _lookup(encoding)
    arr = np.asarray(arr)
    if arr.dtype != enc.dtype:
        raise ImageConversionError(f'{encoding} needs dtype {enc.dtype}, got {arr.dtype}')
    if enc.channels == 1 and arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    expected_ndim = 2 if enc.channels == 1 else 3
    if arr.ndim != expected_ndim or (expected_ndim == 3 and arr.shape[2] != enc.channels):
        want = 'HxW' if enc.channels == 1 else f'HxWx{enc.channels}'
        raise ImageConversionError(f'{encoding} needs a {want} array, got shape {arr.shape}')
    height, width = arr.shape[:2]
    if height == 0 or width == 0:
        raise ImageConversionError(f'zero-size {encoding} image ({width}x{height})')
    if encoding in YUV and width % 2:
        raise ImageConversionError(f'{encoding} image width {width} is odd; 4:2:2 needs even')
    return np.ascontiguousarray(arr), width * enc.channels * enc.dtype.itemsize


def _byte_array(data) -> array.array:
    """Copy bytes or a C-contiguous array into the array.array rclpy takes without checks.

    rclpy checks every element of a non-array.array value in Python: ~25 ms for VGA.
    """
    out = array.array('B')
    out.frombytes(data)
    return out


def _header_or_default(header):
    if header is not None:
        return header
    from std_msgs.msg import Header
    return Header()


def numpy_to_image_msg(arr: np.ndarray, encoding: str, header=None):
    """Build a sensor_msgs/Image from an array in ``encoding``'s native layout."""
    from sensor_msgs.msg import Image
    if CvBridge is not None and encoding not in YUV:
        image_fields(arr, encoding)  # same validation and errors on both paths
        msg = _bridge().cv2_to_imgmsg(np.ascontiguousarray(arr), encoding=encoding)
    else:
        packed, step = _packed(arr, encoding)   # one copy of the pixels: into msg.data
        msg = Image(height=packed.shape[0], width=packed.shape[1], encoding=encoding,
                    is_bigendian=int(HOST_BIG_ENDIAN), step=step)
        msg.data = _byte_array(packed.reshape(-1).view(np.uint8))
    msg.header = _header_or_default(header)
    return msg


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageConversionError(
            f'expected an HxWx3 uint8 RGB image, got shape {rgb.shape} dtype {rgb.dtype}'
        )
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ImageConversionError(f'zero-size RGB image {rgb.shape}')
    return np.ascontiguousarray(rgb)


def rgb_to_native(rgb: np.ndarray, encoding: str) -> np.ndarray:
    """
    Convert an HxWx3 uint8 RGB image into ``encoding``'s native layout.

    Grey values go to mono16/16UC1 as ``g * 257`` (full 16-bit range) and to 32FC1 as ``g / 255``.
    """
    _lookup(encoding)
    rgb = _check_rgb(rgb)
    if encoding in ('mono16', '16UC1'):
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.uint16) * np.uint16(257)
    if encoding == '32FC1':
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / np.float32(255.0)
    code = FROM_RGB[encoding]
    return rgb.copy() if code is None else cv2.cvtColor(rgb, code)


def rgb_to_image_msg(rgb: np.ndarray, encoding: str = 'rgb8', header=None):
    """Build a sensor_msgs/Image in ``encoding`` from an HxWx3 uint8 RGB image."""
    if encoding == 'rgb8':   # already the native layout: no intermediate copy
        return numpy_to_image_msg(_check_rgb(rgb), encoding, header)
    return numpy_to_image_msg(rgb_to_native(rgb, encoding), encoding, header)


def decode_compressed(data, fmt: str = '') -> np.ndarray:
    """Decode CompressedImage bytes (JPEG, PNG, ...) into an HxWx3 uint8 RGB image."""
    if 'compresseddepth' in fmt.lower():
        raise ImageConversionError(f'compressed image format {fmt!r} is not supported')
    buf = _bytes_of(data)
    if buf.size == 0:
        raise ImageConversionError(f'compressed image ({fmt!r}) has no data')
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ImageConversionError(
            f'could not decode compressed image with format {fmt!r} ({buf.size} B)'
        )
    if img.ndim == 2:
        if img.dtype != np.uint8:
            img = _stretch_to_uint8(img, ignore_zero=False)
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.dtype != np.uint8:  # 16-bit colour PNG: keep the top byte
        img = (img >> 8).astype(np.uint8)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def compressed_msg_to_rgb(msg) -> np.ndarray:
    """
    Decode a sensor_msgs/CompressedImage into an HxWx3 uint8 RGB image.

    ImageConversionError is raised for no data, undecodable data, or compressedDepth.
    """
    return decode_compressed(msg.data, msg.format)


def encode_compressed(rgb: np.ndarray, fmt: str = 'jpeg', quality: int = 90):
    """Encode an RGB image; return (format string, bytes) as image_transport writes them."""
    rgb = _check_rgb(rgb)
    fmt = fmt.lower()
    if fmt not in _COMPRESSED_EXT:
        raise ImageConversionError(
            f'unsupported compressed format {fmt!r}; use one of {", ".join(_COMPRESSED_EXT)}'
        )
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if _COMPRESSED_EXT[fmt] == '.jpg' else []
    ok, buf = cv2.imencode(_COMPRESSED_EXT[fmt], cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ImageConversionError(f'cv2.imencode failed for format {fmt!r}')
    name = 'jpeg' if fmt == 'jpg' else fmt
    return f'rgb8; {name} compressed bgr8', buf.tobytes()


def rgb_to_compressed_msg(rgb: np.ndarray, fmt: str = 'jpeg', header=None):
    """Build a sensor_msgs/CompressedImage (JPEG or PNG) from an HxWx3 uint8 RGB image."""
    from sensor_msgs.msg import CompressedImage
    format_str, data = encode_compressed(rgb, fmt)
    msg = CompressedImage(format=format_str)
    msg.data = _byte_array(data)
    msg.header = _header_or_default(header)
    return msg


__all__ = [
    'ENCODINGS', 'ImageConversionError', 'ImageFields', 'compressed_msg_to_rgb',
    'decode_compressed', 'encode_compressed', 'image_fields', 'image_msg_to_numpy',
    'image_msg_to_rgb', 'numpy_to_image_msg', 'rgb_to_compressed_msg', 'rgb_to_image_msg',
    'rgb_to_native',
]
