# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Rendering primitives of the synthetic scenes: sprite compositing and motion blur."""

import math

import cv2
import numpy as np

from vil_tracker_ros.data.synth_geometry import apply_homography, to_opencv, translate


def composite(image: np.ndarray, rgba: np.ndarray, h: np.ndarray) -> None:
    """Alpha-blend the RGBA texture ``rgba``, mapped by ``h`` (local -> output), into ``image``."""
    oh, ow = image.shape[:2]
    corners = np.array([[0, 0], [rgba.shape[1], 0],
                        [rgba.shape[1], rgba.shape[0]],
                        [0, rgba.shape[0]]], np.float64)
    x0, y0, x1, y1 = 0, 0, ow, oh
    if np.all(corners @ h[2, :2] + h[2, 2] > 0):
        # Warp only the sprite's bounding rectangle: far cheaper than the whole output.
        p = apply_homography(h, corners)
        x0, y0 = max(0, int(math.floor(p[:, 0].min())) - 1), max(0, int(math.floor(
            p[:, 1].min())) - 1)
        x1, y1 = min(ow, int(math.ceil(p[:, 0].max())) + 1), min(oh, int(math.ceil(
            p[:, 1].max())) + 1)
        if x1 <= x0 or y1 <= y0:
            return
    roi_h = translate(-x0, -y0) @ h
    warped = cv2.warpPerspective(rgba, to_opencv(roi_h), (x1 - x0, y1 - y0),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=0)
    alpha = warped[..., 3:4].astype(np.float32) * (1.0 / 255.0)
    region = image[y0:y1, x0:x1]
    region += alpha * (warped[..., :3].astype(np.float32) - region)


def motion_blur(image: np.ndarray, vector: np.ndarray) -> np.ndarray:
    length = float(np.hypot(*vector))
    if length < 1.5:
        return image
    k = int(math.ceil(length)) | 1
    kernel = np.zeros((k, k), np.float32)
    c = k // 2
    d = vector / length * (length / 2)
    cv2.line(kernel, (int(round(c - d[0])), int(round(c - d[1]))),
             (int(round(c + d[0])), int(round(c + d[1]))), 1.0, 1, cv2.LINE_AA)
    kernel /= kernel.sum()
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
