# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The image encodings the node accepts: pixel layout of each and its conversions to/from RGB.

Used by :mod:`vil_tracker_ros.ros.conversions`, which re-exports ``ENCODINGS``.
"""

import sys
from typing import NamedTuple

import cv2
import numpy as np


class Encoding(NamedTuple):
    """Pixel dtype and channels of one encoding."""

    dtype: np.dtype
    channels: int


U8 = np.dtype(np.uint8)
U16 = np.dtype(np.uint16)
F32 = np.dtype(np.float32)

# In ROS, 'yuv422' is UYVY and 'yuv422_yuy2' is YUYV; 'uyvy'/'yuyv' are their newer names.
ENCODINGS = {
    'rgb8': Encoding(U8, 3),
    'bgr8': Encoding(U8, 3),
    'rgba8': Encoding(U8, 4),
    'bgra8': Encoding(U8, 4),
    'mono8': Encoding(U8, 1),
    'mono16': Encoding(U16, 1),
    '16UC1': Encoding(U16, 1),
    '32FC1': Encoding(F32, 1),
    'yuv422': Encoding(U8, 2),
    'uyvy': Encoding(U8, 2),
    'yuv422_yuy2': Encoding(U8, 2),
    'yuyv': Encoding(U8, 2),
}
UYVY = ('yuv422', 'uyvy')
YUYV = ('yuv422_yuy2', 'yuyv')
YUV = UYVY + YUYV
HOST_BIG_ENDIAN = sys.byteorder == 'big'

TO_RGB = {
    'rgb8': None,
    'bgr8': cv2.COLOR_BGR2RGB,
    'rgba8': cv2.COLOR_RGBA2RGB,
    'bgra8': cv2.COLOR_BGRA2RGB,
    'mono8': cv2.COLOR_GRAY2RGB,
    'yuv422': cv2.COLOR_YUV2RGB_UYVY,
    'uyvy': cv2.COLOR_YUV2RGB_UYVY,
    'yuv422_yuy2': cv2.COLOR_YUV2RGB_YUY2,
    'yuyv': cv2.COLOR_YUV2RGB_YUY2,
}
FROM_RGB = {
    'rgb8': None,
    'bgr8': cv2.COLOR_RGB2BGR,
    'rgba8': cv2.COLOR_RGB2RGBA,
    'bgra8': cv2.COLOR_RGB2BGRA,
    'mono8': cv2.COLOR_RGB2GRAY,
    'yuv422': cv2.COLOR_RGB2YUV_UYVY,
    'uyvy': cv2.COLOR_RGB2YUV_UYVY,
    'yuv422_yuy2': cv2.COLOR_RGB2YUV_YUY2,
    'yuyv': cv2.COLOR_RGB2YUV_YUY2,
}
