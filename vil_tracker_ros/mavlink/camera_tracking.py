# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""A MAVLink camera component with tracking, over pymavlink (no ROS in here).

:class:`CameraTrackingServer` owns one pymavlink connection (``udpin:``, ``udpout:``,
``tcp:``, a serial device...) and a thread that

* sends HEARTBEAT (MAV_TYPE_CAMERA) at 1 Hz and CAMERA_TRACKING_IMAGE_STATUS at
  ``status_rate_hz`` (changeable with MAV_CMD_SET_MESSAGE_INTERVAL);
* answers COMMAND_LONG / COMMAND_INT addressed to it (target component 0 or its own id) with
  COMMAND_ACK: MAV_CMD_CAMERA_TRACK_RECTANGLE, MAV_CMD_CAMERA_TRACK_POINT,
  MAV_CMD_CAMERA_STOP_TRACKING, MAV_CMD_REQUEST_MESSAGE (CAMERA_INFORMATION,
  CAMERA_TRACKING_IMAGE_STATUS), MAV_CMD_REQUEST_CAMERA_INFORMATION and
  MAV_CMD_SET_MESSAGE_INTERVAL; anything else is acknowledged MAV_RESULT_UNSUPPORTED.

What a track or stop command *does* is up to the :class:`Handler` (the ROS bridge turns it into
the tracker's ``init_bbox`` / ``~/reset``). The pure helpers :func:`rectangle_to_box`,
:func:`point_to_box` and :func:`status_fields` do the normalised <-> pixel conversions and
raise :class:`CommandRejected` with a MAV_RESULT and a reason for bad commands.
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

os.environ.setdefault('MAVLINK20', '1')     # CAMERA_TRACKING_IMAGE_STATUS needs MAVLink 2

from pymavlink import mavutil  # noqa: E402  (after MAVLINK20)
from pymavlink.dialects.v20 import common as mav  # noqa: E402

Box = Tuple[float, float, float, float]
MIN_BOX_PX = 4.0
TRACKING_FLAGS = mav.CAMERA_CAP_FLAGS_HAS_TRACKING_POINT | \
    mav.CAMERA_CAP_FLAGS_HAS_TRACKING_RECTANGLE
MODES = {'point': mav.CAMERA_TRACKING_MODE_POINT,
         'rectangle': mav.CAMERA_TRACKING_MODE_RECTANGLE}
STATUS = {'tracking': mav.CAMERA_TRACKING_STATUS_FLAGS_ACTIVE,
          'lost': mav.CAMERA_TRACKING_STATUS_FLAGS_COASTING}


class CommandRejected(Exception):
    """A command that cannot be carried out: ``result`` is the MAV_RESULT for the ACK."""

    def __init__(self, result: int, reason: str) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason


def _check_unit(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise CommandRejected(mav.MAV_RESULT_DENIED, f'{name} is {value} (not a number)')
    if not 0.0 <= value <= 1.0:
        raise CommandRejected(mav.MAV_RESULT_DENIED, f'{name} = {value:g} is outside 0..1')
    return value


def _check_image(width: Optional[int], height: Optional[int]) -> Tuple[int, int]:
    if not width or not height:
        raise CommandRejected(mav.MAV_RESULT_FAILED,
                              'no image or camera_info seen yet: the image size is unknown')
    return int(width), int(height)


def rectangle_to_box(params: Sequence[float], width: Optional[int],
                     height: Optional[int]) -> Box:
    """MAV_CMD_CAMERA_TRACK_RECTANGLE params 1..4 (normalised corners) -> pixel xywh."""
    x0, y0, x1, y1 = (_check_unit(name, v) for name, v in
                      zip(('top_left_x', 'top_left_y', 'bottom_right_x', 'bottom_right_y'),
                          params[:4]))
    if not (x0 < x1 and y0 < y1):
        raise CommandRejected(mav.MAV_RESULT_DENIED,
                              f'top-left ({x0:g}, {y0:g}) is not above-left of bottom-right '
                              f'({x1:g}, {y1:g})')
    w, h = _check_image(width, height)
    box = (x0 * w, y0 * h, (x1 - x0) * w, (y1 - y0) * h)
    if box[2] < MIN_BOX_PX or box[3] < MIN_BOX_PX:
        raise CommandRejected(mav.MAV_RESULT_DENIED,
                              f'rectangle is {box[2]:.1f}x{box[3]:.1f} px in the {w}x{h} image; '
                              f'at least {MIN_BOX_PX:g} px a side is needed')
    return box


def point_to_box(params: Sequence[float], width: Optional[int], height: Optional[int],
                 point_box_fraction: float) -> Box:
    """MAV_CMD_CAMERA_TRACK_POINT params 1..3 -> a square pixel box around the point.

    The side is ``2 * radius * image width`` when the radius (param 3, 0..1 of the image
    width) is > 0, else ``point_box_fraction * image height``; it is at least MIN_BOX_PX and at
    most the image's shorter side, and the square is shifted to lie inside the image.
    """
    x = _check_unit('x', params[0])
    y = _check_unit('y', params[1])
    radius = float(params[2]) if len(params) > 2 else 0.0
    if math.isfinite(radius) and not 0.0 <= radius <= 1.0:
        raise CommandRejected(mav.MAV_RESULT_DENIED, f'radius = {radius:g} is outside 0..1')
    w, h = _check_image(width, height)
    if math.isfinite(radius) and radius > 0:
        side = 2.0 * radius * w
    else:
        side = point_box_fraction * h
    side = min(max(side, MIN_BOX_PX), float(min(w, h)))
    left = min(max(x * w - side / 2.0, 0.0), w - side)
    top = min(max(y * h - side / 2.0, 0.0), h - side)
    return (left, top, side, side)


def status_fields(status: str, mode: str, box: Optional[Box], width: Optional[int],
                  height: Optional[int]) -> Dict[str, Any]:
    """CAMERA_TRACKING_IMAGE_STATUS fields; unknown values are NaN."""
    nan = math.nan
    fields: Dict[str, Any] = {
        'tracking_status': STATUS.get(status, mav.CAMERA_TRACKING_STATUS_FLAGS_IDLE),
        'tracking_mode': mav.CAMERA_TRACKING_MODE_NONE, 'target_data': 0}
    fields.update({key: nan for key in ('point_x', 'point_y', 'radius', 'rec_top_x',
                                        'rec_top_y', 'rec_bottom_x', 'rec_bottom_y')})
    if status not in STATUS:
        return fields
    fields['tracking_mode'] = MODES.get(mode, mav.CAMERA_TRACKING_MODE_NONE)
    if box is None or not width or not height:
        return fields
    x, y, bw, bh = box
    fields.update(target_data=mav.CAMERA_TRACKING_TARGET_DATA_IN_STATUS,
                  point_x=(x + bw / 2.0) / width, point_y=(y + bh / 2.0) / height,
                  rec_top_x=x / width, rec_top_y=y / height,
                  rec_bottom_x=(x + bw) / width, rec_bottom_y=(y + bh) / height)
    if mode == 'point':
        fields['radius'] = max(bw, bh) / 2.0 / width
    for key in ('point_x', 'point_y', 'rec_top_x', 'rec_top_y', 'rec_bottom_x', 'rec_bottom_y'):
        fields[key] = min(max(float(fields[key]), 0.0), 1.0)
    return fields


def _name_bytes(text: str) -> list:
    raw = text.encode('ascii', 'replace')[:32]
    return list(raw) + [0] * (32 - len(raw))


class Handler:
    """What the server asks of its owner; every method may raise CommandRejected."""

    def track(self, mode: str, params: Sequence[float]) -> str:
        """Start tracking (``mode`` 'point' or 'rectangle'); return a log line."""
        raise NotImplementedError

    def stop(self) -> str:
        """Stop tracking; return a log line."""
        raise NotImplementedError

    def status(self) -> Dict[str, Any]:
        """CAMERA_TRACKING_IMAGE_STATUS fields (see :func:`status_fields`)."""
        raise NotImplementedError

    def resolution(self) -> Tuple[int, int]:
        """(width, height) of the images, (0, 0) while unknown."""
        raise NotImplementedError


class CameraTrackingServer:
    """The MAVLink side; see the module docstring. ``log(level, text)`` receives every event."""

    def __init__(self, url: str, handler: Handler, system_id: int = 1,
                 component_id: int = mav.MAV_COMP_ID_CAMERA, status_rate_hz: float = 5.0,
                 baud: int = 57600, vendor: str = 'vil_tracker_ros', model: str = 'ViL tracker',
                 log: Optional[Callable[[str, str], None]] = None) -> None:
        self.handler = handler
        self.system_id = system_id
        self.component_id = component_id
        self.status_rate_hz = self.default_status_rate_hz = float(status_rate_hz)
        self.vendor, self.model = vendor, model
        self._log = log or (lambda level, text: None)
        self._conn = mavutil.mavlink_connection(url, baud=baud, source_system=system_id,
                                                source_component=component_id,
                                                dialect='common', autoreconnect=True)
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name='mavlink', daemon=True)
        self._boot = time.monotonic()
        self.commands_handled = 0

    def start(self) -> 'CameraTrackingServer':
        self._thread.start()
        return self

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._conn.close()

    # ------------------------------------------------------------------- sending

    def _send(self, msg: Any) -> None:
        with self._send_lock:
            try:
                self._conn.mav.send(msg)
            except OSError as err:        # no peer yet (udpin) or the link is down
                self._log('debug', f'send {msg.get_type()} failed: {err}')

    def _time_ms(self) -> int:
        return int((time.monotonic() - self._boot) * 1000) & 0xFFFFFFFF

    def send_heartbeat(self) -> None:
        self._send(self._conn.mav.heartbeat_encode(
            mav.MAV_TYPE_CAMERA, mav.MAV_AUTOPILOT_INVALID, 0, 0, mav.MAV_STATE_ACTIVE))

    def send_camera_information(self) -> None:
        width, height = self.handler.resolution()
        self._send(self._conn.mav.camera_information_encode(
            self._time_ms(), _name_bytes(self.vendor), _name_bytes(self.model), 0, math.nan,
            math.nan, math.nan, int(width), int(height), 0, TRACKING_FLAGS, 0, b''))

    def send_tracking_status(self) -> None:
        fields = self.handler.status()
        self._send(self._conn.mav.camera_tracking_image_status_encode(**fields))

    def _ack(self, msg: Any, result: int) -> None:
        self._send(self._conn.mav.command_ack_encode(
            msg.command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()))

    # ------------------------------------------------------------------- receiving

    def _loop(self) -> None:
        next_beat = next_status = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_beat:
                self.send_heartbeat()
                next_beat = now + 1.0
            if self.status_rate_hz > 0 and now >= next_status:
                try:
                    self.send_tracking_status()
                except Exception as err:  # noqa: B902  the stream must never stop the loop
                    self._log('error', f'status stream: {err}')
                next_status = now + 1.0 / self.status_rate_hz
            try:
                msg = self._conn.recv_match(type=['COMMAND_LONG', 'COMMAND_INT'],
                                            blocking=True, timeout=0.02)
            except (OSError, ValueError) as err:
                self._log('warn', f'MAVLink receive error: {err}')
                time.sleep(0.05)
                continue
            if msg is None or msg.get_type() == 'BAD_DATA':
                continue
            try:
                self._on_command(msg)
            except Exception as err:  # noqa: B902  a bad command must never kill the loop
                self._log('error', f'command {msg.command} failed: {err}')
                self._ack(msg, mav.MAV_RESULT_FAILED)

    def _for_us(self, msg: Any) -> bool:
        return msg.target_system in (0, self.system_id) and \
            msg.target_component in (0, self.component_id)

    @staticmethod
    def _params(msg: Any) -> Tuple[float, ...]:
        if msg.get_type() == 'COMMAND_INT':    # x, y are int32 there; tracking uses 1..4 only
            return (msg.param1, msg.param2, msg.param3, msg.param4, float(msg.x),
                    float(msg.y), msg.z)
        return (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6,
                msg.param7)

    def _camera_id_ok(self, value: float) -> bool:
        return not math.isfinite(value) or int(value) in (0, self.component_id)

    def _on_command(self, msg: Any) -> None:
        if not self._for_us(msg):
            return
        self.commands_handled += 1
        cmd = msg.command
        p = self._params(msg)
        name = mav.enums['MAV_CMD'][cmd].name if cmd in mav.enums['MAV_CMD'] else str(cmd)
        try:
            if cmd in (mav.MAV_CMD_CAMERA_TRACK_RECTANGLE, mav.MAV_CMD_CAMERA_TRACK_POINT):
                cam_id = p[4] if cmd == mav.MAV_CMD_CAMERA_TRACK_RECTANGLE else p[3]
                if not self._camera_id_ok(cam_id):
                    raise CommandRejected(mav.MAV_RESULT_DENIED,
                                          f'camera id {cam_id:g} is not this camera')
                mode = 'rectangle' if cmd == mav.MAV_CMD_CAMERA_TRACK_RECTANGLE else 'point'
                text = self.handler.track(mode, p)
                self._ack(msg, mav.MAV_RESULT_ACCEPTED)
                self._log('info', f'{name}: {text}')
            elif cmd == mav.MAV_CMD_CAMERA_STOP_TRACKING:
                if not self._camera_id_ok(p[0]):
                    raise CommandRejected(mav.MAV_RESULT_DENIED,
                                          f'camera id {p[0]:g} is not this camera')
                text = self.handler.stop()
                self._ack(msg, mav.MAV_RESULT_ACCEPTED)
                self._log('info', f'{name}: {text}')
            elif cmd == mav.MAV_CMD_REQUEST_MESSAGE:
                self._request_message(msg, p[0])
            elif cmd == mav.MAV_CMD_REQUEST_CAMERA_INFORMATION:
                self._ack(msg, mav.MAV_RESULT_ACCEPTED)
                self.send_camera_information()
            elif cmd == mav.MAV_CMD_SET_MESSAGE_INTERVAL:
                self._set_interval(msg, p[0], p[1])
            else:
                self._ack(msg, mav.MAV_RESULT_UNSUPPORTED)
                self._log('debug', f'{name}: unsupported')
        except CommandRejected as err:
            self._ack(msg, err.result)
            self._log('warn', f'{name} rejected: {err.reason}')

    def _request_message(self, msg: Any, message_id: float) -> None:
        mid = int(message_id) if math.isfinite(message_id) else -1
        if mid == mav.MAVLINK_MSG_ID_CAMERA_INFORMATION:
            self._ack(msg, mav.MAV_RESULT_ACCEPTED)
            self.send_camera_information()
        elif mid == mav.MAVLINK_MSG_ID_CAMERA_TRACKING_IMAGE_STATUS:
            self._ack(msg, mav.MAV_RESULT_ACCEPTED)
            self.send_tracking_status()
        elif mid == mav.MAVLINK_MSG_ID_HEARTBEAT:
            self._ack(msg, mav.MAV_RESULT_ACCEPTED)
            self.send_heartbeat()
        else:
            raise CommandRejected(mav.MAV_RESULT_DENIED,
                                  f'message id {message_id:g} is not provided by this camera')

    def _set_interval(self, msg: Any, message_id: float, interval_us: float) -> None:
        if not (math.isfinite(message_id) and int(message_id)
                == mav.MAVLINK_MSG_ID_CAMERA_TRACKING_IMAGE_STATUS):
            raise CommandRejected(mav.MAV_RESULT_DENIED,
                                  'only CAMERA_TRACKING_IMAGE_STATUS (275) has an interval here')
        if not math.isfinite(interval_us):
            raise CommandRejected(mav.MAV_RESULT_DENIED, f'interval {interval_us} is not a number')
        if interval_us < 0:
            self.status_rate_hz = 0.0
        elif interval_us == 0:
            self.status_rate_hz = self.default_status_rate_hz
        else:
            self.status_rate_hz = min(1e6 / interval_us, 50.0)
        self._ack(msg, mav.MAV_RESULT_ACCEPTED)
        self._log('info', f'CAMERA_TRACKING_IMAGE_STATUS rate: {self.status_rate_hz:g} Hz')
