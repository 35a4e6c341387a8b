# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Builders for the node's output messages (DESIGN.md section 4) and input checks.

Pure functions: every builder takes the input image's header and copies it, so that all
outputs of a frame carry that frame's stamp and frame_id.
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, Optional, Sequence, Tuple

import cv2
from diagnostic_msgs.msg import DiagnosticStatus
from diagnostic_msgs.msg import KeyValue
from geometry_msgs.msg import PoseWithCovariance
from geometry_msgs.msg import PoseWithCovarianceStamped
from geometry_msgs.msg import Vector3Stamped
import numpy as np
from vil_tracker_ros.geometry import box_error
from vision_msgs.msg import Detection2D
from vision_msgs.msg import Detection2DArray
from vision_msgs.msg import ObjectHypothesisWithPose

# Distortion models of sensor_msgs/CameraInfo and the coefficient counts OpenCV accepts.
_PINHOLE_MODELS = ('plumb_bob', 'rational_polynomial', '')
_FISHEYE_MODELS = ('equidistant', 'fisheye')
_OPENCV_D_LENGTHS = (0, 4, 5, 8, 12, 14)
_STATUS_COLOURS = {'tracking': (0, 255, 0), 'lost': (255, 160, 0)}


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time -> integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def format_stamp(stamp_ns: int) -> str:
    return f'{stamp_ns // 1_000_000_000}.{stamp_ns % 1_000_000_000:09d}'


def bbox_to_xywh(bbox) -> Tuple[float, float, float, float]:
    """vision_msgs/BoundingBox2D (centre + size) -> (x, y, w, h) top-left box."""
    cx, cy = float(bbox.center.position.x), float(bbox.center.position.y)
    w, h = float(bbox.size_x), float(bbox.size_y)
    return cx - w / 2.0, cy - h / 2.0, w, h


def init_box_problem(box_xywh: Sequence[float], width: Optional[int] = None,
                     height: Optional[int] = None) -> Optional[str]:
    """Why an init box cannot be used, or None.

    Rejected: non-finite numbers, zero or negative size, negative corner, or any part outside
    the ``width x height`` image (when the size is given).
    """
    problem = box_error(box_xywh)
    if problem is not None:
        return problem
    x, y, w, h = (float(v) for v in box_xywh)
    if x < 0 or y < 0:
        return f'box {[x, y, w, h]} has a negative corner (x={x:g}, y={y:g})'
    if width is not None and height is not None and (x + w > width or y + h > height):
        return (f'box {[x, y, w, h]} reaches outside the {width}x{height} image '
                f'(right={x + w:g}, bottom={y + h:g})')
    return None


def covariance_6x6(cov_xy: np.ndarray) -> list:
    """Row-major 6x6 pose covariance with the (cx, cy) block in x/y, zeros elsewhere."""
    cov = np.zeros((6, 6), dtype=np.float64)
    cov[:2, :2] = np.asarray(cov_xy, dtype=np.float64).reshape(2, 2)
    return cov.reshape(-1).tolist()


def _box_centre(box_xywh: Sequence[float]) -> Tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in box_xywh)
    return x + w / 2.0, y + h / 2.0, w, h


def make_detection(header, box_xywh: Sequence[float], confidence: float, cov_xy: np.ndarray,
                   track_id: str, class_id: str) -> Detection2D:
    """Build ~/detection: filtered box, score, centre and its covariance in px^2."""
    cx, cy, w, h = _box_centre(box_xywh)
    det = Detection2D(header=header, id=str(track_id))
    det.bbox.center.position.x = cx
    det.bbox.center.position.y = cy
    det.bbox.size_x = w
    det.bbox.size_y = h
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id = class_id
    score = float(confidence)
    hyp.hypothesis.score = min(max(score, 0.0), 1.0) if math.isfinite(score) else 0.0
    hyp.pose.pose.position.x = cx
    hyp.pose.pose.position.y = cy
    hyp.pose.pose.orientation.w = 1.0
    hyp.pose.covariance = covariance_6x6(cov_xy)
    det.results = [hyp]
    return det


def make_detections(header, detections: Iterable[Detection2D] = ()) -> Detection2DArray:
    return Detection2DArray(header=header, detections=list(detections))


def make_covariance(header, pose: PoseWithCovariance) -> PoseWithCovarianceStamped:
    return PoseWithCovarianceStamped(header=header, pose=pose)


def make_offset(header, box_xywh: Sequence[float], width: int,
                height: int) -> Vector3Stamped:
    """Box-centre offset from the image centre in [-1, 1] (right, down +); z = area ratio."""
    cx, cy, w, h = _box_centre(box_xywh)
    msg = Vector3Stamped(header=header)
    msg.vector.x = float(np.clip((cx - width / 2.0) / (width / 2.0), -1.0, 1.0))
    msg.vector.y = float(np.clip((cy - height / 2.0) / (height / 2.0), -1.0, 1.0))
    msg.vector.z = float(w * h / float(width * height))
    return msg


# OpenCV's default (5 iterations) leaves ~0.02 px near the corners of a wide lens.
_UNDISTORT_STOP = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)


def _undistort_pinhole(pts: np.ndarray, k: np.ndarray, d: np.ndarray) -> np.ndarray:
    if hasattr(cv2, 'undistortPointsIter'):  # OpenCV 4.x (distro python3-opencv)
        return cv2.undistortPointsIter(pts, k, d, None, None, _UNDISTORT_STOP)
    return cv2.undistortPoints(pts, k, d, criteria=_UNDISTORT_STOP)  # OpenCV 5


class CameraModel:
    """Intrinsics from sensor_msgs/CameraInfo, for undistorted bearing rays."""

    def __init__(self, k: np.ndarray, d: np.ndarray, model: str, width: int,
                 height: int) -> None:
        self.k = k
        self.d = d
        self.model = model
        self.width = width
        self.height = height

    @classmethod
    def from_msg(cls, msg) -> 'CameraModel':
        """Raise ValueError naming the problem when the CameraInfo cannot give rays."""
        k = np.asarray(msg.k, dtype=np.float64).reshape(3, 3)
        if not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0 or k[2, 2] == 0:
            raise ValueError(f'camera_info K {k.reshape(-1).tolist()} is not a calibrated '
                             'camera matrix (fx, fy must be > 0)')
        d = np.asarray(msg.d, dtype=np.float64).reshape(-1)
        model = str(msg.distortion_model)
        if not np.all(np.isfinite(d)):
            raise ValueError(f'camera_info D {d.tolist()} contains NaN or infinity')
        if model in _FISHEYE_MODELS:
            if d.size < 4:
                raise ValueError(f'camera_info model {model!r} needs 4 coefficients in D, '
                                 f'got {d.size}')
        elif model in _PINHOLE_MODELS:
            if d.size not in _OPENCV_D_LENGTHS:
                raise ValueError(f'camera_info D has {d.size} coefficients; OpenCV accepts '
                                 f'{", ".join(map(str, _OPENCV_D_LENGTHS))}')
        else:
            raise ValueError(f'unsupported camera_info distortion_model {model!r}; supported: '
                             f'{", ".join(m for m in _PINHOLE_MODELS + _FISHEYE_MODELS if m)}')
        return cls(k, d, model, int(msg.width), int(msg.height))

    def matches(self, width: int, height: int) -> bool:
        """Return True when the calibration fits this image size (0x0 means unknown)."""
        return (self.width, self.height) in ((0, 0), (width, height))

    def bearing(self, u: float, v: float) -> np.ndarray:
        """Return the unit ray (x right, y down, z forward) through pixel (u, v), undistorted."""
        pts = np.array([[[u, v]]], dtype=np.float64)
        if self.model in _FISHEYE_MODELS:
            norm = cv2.fisheye.undistortPoints(pts, self.k, self.d[:4], criteria=_UNDISTORT_STOP)
        elif self.d.size and np.any(self.d):
            norm = _undistort_pinhole(pts, self.k, self.d)
        else:
            norm = cv2.undistortPoints(pts, self.k, None)
        ray = np.array([norm[0, 0, 0], norm[0, 0, 1], 1.0], dtype=np.float64)
        return ray / np.linalg.norm(ray)


def make_bearing(header, camera: CameraModel, box_xywh: Sequence[float]) -> Vector3Stamped:
    cx, cy, _, _ = _box_centre(box_xywh)
    ray = camera.bearing(cx, cy)
    msg = Vector3Stamped(header=header)
    msg.vector.x, msg.vector.y, msg.vector.z = (float(v) for v in ray)
    return msg


def draw_overlay(rgb: np.ndarray, box_xywh: Optional[Sequence[float]], status: str,
                 confidence: float, track_id: str) -> np.ndarray:
    """Return a copy of the frame with the box and a status line drawn on it."""
    out = np.ascontiguousarray(rgb).copy()
    colour = _STATUS_COLOURS.get(status, (200, 200, 200))
    if box_xywh is not None and all(math.isfinite(float(v)) for v in box_xywh):
        x, y, w, h = (int(round(float(v))) for v in box_xywh)
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2)
    label = f'{status} id={track_id} conf={confidence:.2f}' if box_xywh is not None else status
    cv2.putText(out, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    return out


def diagnostic_status(name: str, hardware_id: str, level: int, message: str,
                      values: Dict[str, object]) -> DiagnosticStatus:
    """One DiagnosticStatus with the values as strings (floats with 2 decimals)."""
    def fmt(v: object) -> str:
        return f'{v:.2f}' if isinstance(v, float) else str(v)
    return DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=fmt(v)) for k, v in values.items()])
