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


def pad_outside_frame(image: np.ndarray, view: np.ndarray, colour: np.ndarray,
                      width: int, height: int) -> None:
    """Paint output pixels whose centre maps outside the width x height frame with ``colour``."""
    oh, ow = image.shape[:2]
    if view[0, 1] == 0 and view[1, 0] == 0 and not view[2, :2].any() and view[0, 0] > 0 \
            and view[1, 1] > 0:
        # Scale + translation (every crop): the frame is a rectangle in the output.
        x0 = view[0, 2] / view[2, 2]
        x1 = (view[0, 0] * width + view[0, 2]) / view[2, 2]
        y0 = view[1, 2] / view[2, 2]
        y1 = (view[1, 1] * height + view[1, 2]) / view[2, 2]
        c0 = int(np.clip(math.ceil(x0 - 0.5), 0, ow))
        c1 = int(np.clip(math.ceil(x1 - 0.5), 0, ow))
        r0 = int(np.clip(math.ceil(y0 - 0.5), 0, oh))
        r1 = int(np.clip(math.ceil(y1 - 0.5), 0, oh))
        image[:r0] = colour
        image[r1:] = colour
        image[:, :c0] = colour
        image[:, c1:] = colour
        return
    inside = cv2.warpPerspective(np.ones((height, width), np.uint8),
                                 to_opencv(view), (ow, oh), flags=cv2.INTER_NEAREST,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    image[inside == 0] = colour


def coverage(rgba: np.ndarray, h: np.ndarray, width: int, height: int) -> np.ndarray:
    """Coverage (height, width) float32 in [0, 1] of ``rgba``'s alpha mapped by ``h``."""
    white = np.dstack([np.full(rgba.shape[:2] + (3,), 255, np.uint8), rgba[..., 3]])
    canvas = np.zeros((height, width, 3), np.float32)
    composite(canvas, white, h)
    return canvas[..., 0] / 255.0
