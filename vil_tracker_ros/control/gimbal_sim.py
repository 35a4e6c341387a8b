# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""A simulated pan/tilt camera filming a panorama with one target in it (no ROS).

* **World:** a panorama built from scikit-image sample photographs, muted (half grey, dimmed)
  so that the target stands out, mapped linearly to azimuth x elevation
  (``az_span`` x ``el_span`` radians, azimuth right positive, elevation up positive).
* **Target:** scikit-image's colourful logo (RGBA) of a fixed angular size, at a known
  direction that may move on a smooth Lissajous path (:class:`TargetPath`). It can be hidden.
* **Camera:** an ideal pinhole (no distortion) with focal length ``focal_px``, on a gimbal with
  yaw (right positive) and pitch (up positive). :meth:`GimbalCamera.render` ray-casts every pixel
  into the panorama (``cv2.remap``), composites the target at its exact projection and returns
  the frame and the target's true box. :meth:`GimbalCamera.integrate` applies rate commands
  within the gimbal's angle limits; :class:`RateCommands` turns it by timed setpoints, each
  from its arrival on, as a gimbal's rate loop does.

Frames: optical (x right, y down, z forward). World direction of azimuth ``a``, elevation
``e``: ``(cos e sin a, -sin e, cos e cos a)``. The camera-to-world rotation is
``R_yaw(yaw) @ R_pitch(pitch)``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

BACKGROUND_PHOTOS = ('rocket', 'coffee', 'chelsea', 'astronaut')


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def camera_to_world(yaw: float, pitch: float) -> np.ndarray:
    """Rotation of the camera (optical frame) into the world for gimbal ``yaw``, ``pitch``."""
    return _rot_y(yaw) @ _rot_x(pitch)


def direction(az: float, el: float) -> np.ndarray:
    return np.array([math.cos(el) * math.sin(az), -math.sin(el), math.cos(el) * math.cos(az)])


def build_panorama(width: int, height: int,
                   photos: Sequence[str] = BACKGROUND_PHOTOS) -> np.ndarray:
    """RGB panorama: the photos side by side (resized to ``height``), tiled to ``width``."""
    import skimage.data
    tiles = []
    for name in photos:
        img = getattr(skimage.data, name)()
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        img = img[..., :3]
        scale = height / img.shape[0]
        tiles.append(cv2.resize(img, (max(1, int(round(img.shape[1] * scale))), height),
                                interpolation=cv2.INTER_AREA))
    strip = np.concatenate(tiles, axis=1)
    reps = int(math.ceil(width / strip.shape[1]))
    pano = np.concatenate([strip] * reps, axis=1)[:, :width].astype(np.float32)
    grey = pano.mean(axis=-1, keepdims=True)
    muted = 0.55 * (0.5 * pano + 0.5 * grey) + 30.0
    return np.clip(muted, 0, 255).astype(np.uint8)


def target_sprite(size_px: int) -> np.ndarray:
    """Draw the target: scikit-image's logo as a ``size_px`` square RGBA image on a white disc."""
    import skimage.data
    logo = skimage.data.logo()
    rgba = cv2.resize(logo, (size_px, size_px), interpolation=cv2.INTER_AREA)
    yy, xx = np.mgrid[0:size_px, 0:size_px]
    r = (size_px - 1) / 2.0
    disc = ((xx - r) ** 2 + (yy - r) ** 2) <= r * r
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    out = np.zeros((size_px, size_px, 4), np.uint8)
    out[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    out[..., 3] = np.where(disc, 255, 0).astype(np.uint8)
    return out


@dataclasses.dataclass(frozen=True)
class TargetPath:
    """Target direction over time: ``az0 + amp_az sin(2 pi t / period_az)`` (same for el)."""

    az0: float = math.radians(8.0)
    el0: float = math.radians(-8.0)
    amp_az: float = math.radians(10.0)
    amp_el: float = math.radians(3.0)
    period_az: float = 16.0
    period_el: float = 11.0

    def at(self, t: float) -> Tuple[float, float]:
        az = self.az0 + self.amp_az * math.sin(2 * math.pi * t / self.period_az)
        el = self.el0 + self.amp_el * math.sin(2 * math.pi * t / self.period_el)
        return az, el


@dataclasses.dataclass(frozen=True)
class SimConfig:
    width: int = 320
    height: int = 240
    focal_px: float = 277.0            # 60 deg horizontal field of view at 320 px
    az_span: float = math.radians(180.0)
    el_span: float = math.radians(90.0)
    pano_px_per_rad: float = 400.0     # panorama resolution (camera: focal_px per rad)
    target_size: float = math.radians(9.0)   # angular diameter of the target
    max_pitch: float = math.radians(30.0)
    max_yaw: float = math.radians(60.0)
    path: TargetPath = TargetPath()

    def validate(self) -> 'SimConfig':
        if self.width < 32 or self.height < 32:
            raise ValueError(f'image size must be >= 32x32, got {self.width}x{self.height}')
        for name in ('focal_px', 'az_span', 'el_span', 'pano_px_per_rad', 'target_size',
                     'max_pitch', 'max_yaw'):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f'{name} must be > 0, got {value!r}')
        return self


class GimbalCamera:
    """Render frames of the panorama for the gimbal's current angles; integrate rates."""

    def __init__(self, cfg: SimConfig = SimConfig()) -> None:
        self.cfg = cfg.validate()
        pano_w = int(round(cfg.az_span * cfg.pano_px_per_rad))
        pano_h = int(round(cfg.el_span * cfg.pano_px_per_rad))
        self.panorama = build_panorama(pano_w, pano_h)
        size = max(8, int(round(cfg.focal_px * 2 * math.tan(cfg.target_size / 2))))
        self.sprite = target_sprite(size)
        self.cx, self.cy = cfg.width / 2.0, cfg.height / 2.0
        u, v = np.meshgrid(np.arange(cfg.width) + 0.5, np.arange(cfg.height) + 0.5)
        self._rays = np.stack([(u - self.cx) / cfg.focal_px, (v - self.cy) / cfg.focal_px,
                               np.ones_like(u)], axis=-1).reshape(-1, 3)
        self.yaw = 0.0
        self.pitch = 0.0
        self.visible = True

    def camera_info_k(self) -> list:
        f = self.cfg.focal_px
        return [f, 0.0, self.cx, 0.0, f, self.cy, 0.0, 0.0, 1.0]

    def integrate(self, yaw_rate: float, pitch_rate: float, dt: float) -> None:
        """Apply rates (rad/s; NaN counts as 0) for ``dt`` s, clamped to the angle limits."""
        if not dt > 0:
            return
        yaw_rate = yaw_rate if math.isfinite(yaw_rate) else 0.0
        pitch_rate = pitch_rate if math.isfinite(pitch_rate) else 0.0
        c = self.cfg
        self.yaw = min(max(self.yaw + yaw_rate * dt, -c.max_yaw), c.max_yaw)
        self.pitch = min(max(self.pitch + pitch_rate * dt, -c.max_pitch), c.max_pitch)

    def project(self, az: float, el: float) -> Optional[Tuple[float, float]]:
        """Pixel (u, v) of the world direction (az, el), or None behind the camera."""
        d = camera_to_world(self.yaw, self.pitch).T @ direction(az, el)
        if d[2] <= 1e-6:
            return None
        f = self.cfg.focal_px
        return self.cx + f * d[0] / d[2], self.cy + f * d[1] / d[2]

    def render(self, t: float) -> Tuple[np.ndarray, Optional[Tuple[float, float, float, float]]]:
        """Return (RGB frame, true xywh box of the target or None when hidden / out of view)."""
        c = self.cfg
        rays = self._rays @ camera_to_world(self.yaw, self.pitch).T
        az = np.arctan2(rays[:, 0], rays[:, 2])
        el = np.arctan2(-rays[:, 1], np.hypot(rays[:, 0], rays[:, 2]))
        ph, pw = self.panorama.shape[:2]
        map_x = ((az / c.az_span + 0.5) * pw - 0.5).astype(np.float32).reshape(c.height, c.width)
        map_y = ((0.5 - el / c.el_span) * ph - 0.5).astype(np.float32).reshape(c.height, c.width)
        frame = cv2.remap(self.panorama, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)
        if not self.visible:
            return frame, None
        centre = self.project(*c.path.at(t))
        if centre is None:
            return frame, None
        return frame, self._composite(frame, centre)

    def _composite(self, frame: np.ndarray, centre: Tuple[float, float]
                   ) -> Optional[Tuple[float, float, float, float]]:
        s = self.sprite.shape[0]
        x0 = int(round(centre[0] - s / 2.0))
        y0 = int(round(centre[1] - s / 2.0))
        h, w = frame.shape[:2]
        fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x0 + s), min(h, y0 + s)
        if fx1 <= fx0 or fy1 <= fy0:
            return None
        patch = self.sprite[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0].astype(np.float32)
        alpha = patch[..., 3:4] / 255.0
        region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
        frame[fy0:fy1, fx0:fx1] = (patch[..., :3] * alpha + region * (1 - alpha)).astype(np.uint8)
        return float(fx0), float(fy0), float(fx1 - fx0), float(fy1 - fy0)

    def true_error_px(self, t: float) -> Optional[Tuple[float, float]]:
        """Return the target centre's offset (px, right / down positive) from the image centre."""
        centre = self.project(*self.cfg.path.at(t))
        if centre is None:
            return None
        return centre[0] - self.cx, centre[1] - self.cy


class RateCommands:
    """Timed rate setpoints for a :class:`GimbalCamera`, with the gimbal's watchdog.

    Each setpoint turns the gimbal from the moment it arrives (not from the previous frame:
    that would hide a late command); one older than ``timeout`` s counts as zero.
    """

    def __init__(self, timeout: float, start: float) -> None:
        self.timeout = timeout
        self._pending: list = []                 # (arrival, yaw rate, pitch rate)
        self._rate = (0.0, 0.0)
        self._rate_at: Optional[float] = None
        self._last = start

    def command(self, at: float, yaw_rate: float, pitch_rate: float) -> None:
        self._pending.append((at, yaw_rate, pitch_rate))

    def advance(self, camera: GimbalCamera, now: float) -> None:
        """Turn ``camera`` from the last call to ``now`` by the setpoints in force."""
        t = self._last
        for at, yaw, pitch in sorted(self._pending):
            at = min(max(at, t), now)
            self._turn(camera, t, at)
            t, self._rate, self._rate_at = at, (yaw, pitch), at
        self._turn(camera, t, now)
        self._pending.clear()
        self._last = max(now, self._last)

    def _turn(self, camera: GimbalCamera, start: float, end: float) -> None:
        if self._rate_at is not None:
            end = min(end, self._rate_at + self.timeout)
            camera.integrate(self._rate[0], self._rate[1], end - start)
