# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""MAVLink loopback: a pymavlink "GCS" on 127.0.0.1 UDP against the real bridge process and
the real tracker node (separate processes over DDS), plus the pure conversion helpers.

The GCS drives init -> tracking -> stop with MAV_CMD_CAMERA_TRACK_RECTANGLE / _POINT /
_STOP_TRACKING, checks every COMMAND_ACK, CAMERA_INFORMATION (MAV_CMD_REQUEST_MESSAGE),
HEARTBEAT and the CAMERA_TRACKING_IMAGE_STATUS stream fields against the tracker's own
detections, and sends invalid commands that must be refused without killing the bridge.
"""

import math
import os
import socket
import sys
import threading
import time

from helpers.node_harness import make_tiny_checkpoint, node_params, synthetic_frame
from helpers.node_harness import target_box, TrackerClient, TrackerProcess, wait_until
import pytest
from vil_tracker_ros.mavlink import camera_tracking as ct
from vil_tracker_ros.ros.processes import ModuleProcess

mav = ct.mav
mavutil = ct.mavutil
W, H = 160, 120
GCS_SYS, GCS_COMP = 255, 190
CAM_SYS, CAM_COMP = 1, 100
NAN_FIELDS = ('point_x', 'point_y', 'radius', 'rec_top_x', 'rec_top_y', 'rec_bottom_x',
              'rec_bottom_y')


# ------------------------------------------------------------------ pure helpers

def test_rectangle_to_box_and_its_refusals():
    assert ct.rectangle_to_box([0.25, 0.5, 0.75, 1.0], 160, 120) == (40.0, 60.0, 80.0, 60.0)
    cases = [([math.nan, 0.1, 0.5, 0.5], 'not a number'), ([0.1, 0.1, 1.2, 0.5], 'outside'),
             ([0.5, 0.1, 0.4, 0.5], 'above-left'), ([0.5, 0.5, 0.5, 0.6], 'above-left'),
             ([0.5, 0.5, 0.51, 0.6], 'at least')]
    for params, reason in cases:
        with pytest.raises(ct.CommandRejected, match=reason) as err:
            ct.rectangle_to_box(params, 160, 120)
        assert err.value.result == mav.MAV_RESULT_DENIED
    with pytest.raises(ct.CommandRejected, match='image size is unknown') as err:
        ct.rectangle_to_box([0.1, 0.1, 0.5, 0.5], 0, 0)
    assert err.value.result == mav.MAV_RESULT_FAILED


def test_point_to_box_uses_radius_or_the_fraction_and_stays_inside():
    assert ct.point_to_box([0.5, 0.5, 0.0], 160, 120, 0.2) == (68.0, 48.0, 24.0, 24.0)
    assert ct.point_to_box([0.5, 0.5, 0.1], 160, 120, 0.2) == (64.0, 44.0, 32.0, 32.0)
    assert ct.point_to_box([0.0, 1.0, math.nan], 160, 120, 0.2) == (0.0, 96.0, 24.0, 24.0)
    with pytest.raises(ct.CommandRejected, match='radius'):
        ct.point_to_box([0.5, 0.5, 2.0], 160, 120, 0.2)
    with pytest.raises(ct.CommandRejected, match='outside'):
        ct.point_to_box([-0.1, 0.5, 0.0], 160, 120, 0.2)


def test_status_fields_are_nan_when_unknown():
    idle = ct.status_fields('idle', 'rectangle', (10, 10, 20, 20), 160, 120)
    assert idle['tracking_status'] == mav.CAMERA_TRACKING_STATUS_FLAGS_IDLE
    assert idle['tracking_mode'] == mav.CAMERA_TRACKING_MODE_NONE
    assert all(math.isnan(idle[k]) for k in NAN_FIELDS)
    lost = ct.status_fields('lost', 'point', None, 160, 120)
    assert lost['tracking_status'] == mav.CAMERA_TRACKING_STATUS_FLAGS_COASTING
    assert lost['tracking_mode'] == mav.CAMERA_TRACKING_MODE_POINT
    assert all(math.isnan(lost[k]) for k in NAN_FIELDS)
    tr = ct.status_fields('tracking', 'point', (40, 30, 16, 24), 160, 120)
    assert tr['target_data'] == mav.CAMERA_TRACKING_TARGET_DATA_IN_STATUS
    assert (tr['point_x'], tr['point_y'], tr['radius']) == (0.3, 0.35, 12 / 160)
    assert (tr['rec_top_x'], tr['rec_top_y'], tr['rec_bottom_x'], tr['rec_bottom_y']) == \
        (0.25, 0.25, 0.35, 0.45)


# ------------------------------------------------------------------ loopback

def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class BridgeProcess(ModuleProcess):
    """``python -m vil_tracker_ros.ros.mavlink_bridge`` as a child process."""

    def __init__(self, params):
        super().__init__('vil_tracker_ros.ros.mavlink_bridge', params)

    def cleanup(self):
        os.unlink(self.log_path)


class Gcs:
    """A pymavlink ground station; every wait has a timeout."""

    def __init__(self, port):
        self.conn = mavutil.mavlink_connection(f'udpout:127.0.0.1:{port}', dialect='common',
                                               source_system=GCS_SYS,
                                               source_component=GCS_COMP)
        self.mav = self.conn.mav

    def recv(self, kind, timeout, cond=lambda m: True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.mav.heartbeat_send(mav.MAV_TYPE_GCS, mav.MAV_AUTOPILOT_INVALID, 0, 0, 0)
            msg = self.conn.recv_match(type=kind, blocking=True, timeout=0.2)
            if msg is not None and msg.get_srcComponent() == CAM_COMP and cond(msg):
                return msg
        raise AssertionError(f'no {kind} matching the condition within {timeout:.0f} s')

    def command(self, cmd, params, timeout=10.0, component=CAM_COMP):
        params = list(params) + [0.0] * (7 - len(params))
        self.mav.command_long_send(CAM_SYS, component, cmd, 0, *params)
        return self.recv('COMMAND_ACK', timeout, lambda m: m.command == cmd).result

    def status(self, timeout, cond=lambda m: True):
        return self.recv('CAMERA_TRACKING_IMAGE_STATUS', timeout, cond)

    def close(self):
        self.conn.close()


@pytest.fixture(scope='module')
def system(tmp_path_factory):
    ckpt = make_tiny_checkpoint(str(tmp_path_factory.mktemp('ckpt') / 'vil_tiny.pt'))
    port = _free_udp_port()
    tracker = TrackerProcess(node_params(ckpt, **{
        'tracker.lost_confidence': 0.0, 'tracker.reacquire_confidence': 0.0,
        'kalman.gate_probability': 0.999999})).start()
    bridge = BridgeProcess({'connection': f'udpin:127.0.0.1:{port}', 'status_rate_hz': 10.0,
                            'point_box_fraction': 0.2}).start()
    client = TrackerClient('mavlink_test_client')
    gcs = Gcs(port)
    try:
        client.wait_for_node()
        assert client.change_state('configure'), tracker.log()[-2000:]
        assert client.change_state('activate'), tracker.log()[-2000:]
        client.wait_for_subscribers()
        wait_until(lambda: client.last_status() == 'idle', 20, 'tracker idle')
        yield tracker, bridge, client, gcs
    finally:
        gcs.close()
        client.close()
        codes = bridge.stop(), tracker.stop()
        print(f'--- bridge log (exit {codes[0]}) ---\n{bridge.log()[-4000:]}')
        print(f'--- tracker log (exit {codes[1]}) ---\n{tracker.log()[-3000:]}')
        bridge.cleanup()
        tracker.remove_log()


class _Camera:
    """Publishes the harness's synthetic frames at 10 Hz from a thread."""

    def __init__(self, client):
        self.client = client
        self.i = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.client.publish_image(synthetic_frame(self.i), 1_700_000_000_000_000_000
                                      + self.i * 100_000_000)
            self.i += 1
            time.sleep(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def test_heartbeat_and_camera_information(system):
    _, bridge, _, gcs = system
    beat = gcs.recv('HEARTBEAT', 30)
    assert beat.type == mav.MAV_TYPE_CAMERA and beat.get_srcSystem() == CAM_SYS
    assert gcs.command(mav.MAV_CMD_REQUEST_MESSAGE,
                       [mav.MAVLINK_MSG_ID_CAMERA_INFORMATION]) == mav.MAV_RESULT_ACCEPTED
    info = gcs.recv('CAMERA_INFORMATION', 10)
    assert info.flags & mav.CAMERA_CAP_FLAGS_HAS_TRACKING_POINT
    assert info.flags & mav.CAMERA_CAP_FLAGS_HAS_TRACKING_RECTANGLE
    assert bytes(info.vendor_name).rstrip(b'\0') == b'vil_tracker_ros'
    assert gcs.command(mav.MAV_CMD_REQUEST_MESSAGE, [12345]) == mav.MAV_RESULT_DENIED
    assert bridge.alive()


def test_commands_before_any_image_fail_and_the_stream_says_idle(system):
    _, bridge, _, gcs = system
    assert gcs.command(mav.MAV_CMD_CAMERA_TRACK_POINT, [0.5, 0.5, 0.0]) == mav.MAV_RESULT_FAILED
    wait_until(lambda: 'image size is unknown' in bridge.log(), 10, 'the logged reason')
    status = gcs.status(10)
    assert status.tracking_status == mav.CAMERA_TRACKING_STATUS_FLAGS_IDLE
    assert status.tracking_mode == mav.CAMERA_TRACKING_MODE_NONE
    assert all(math.isnan(getattr(status, k)) for k in NAN_FIELDS)


def test_init_tracking_and_stop_through_mavlink(system):
    tracker, bridge, client, gcs = system
    with _Camera(client) as cam:
        wait_until(lambda: cam.i >= 5, 10, 'frames')
        time.sleep(0.5)                                  # the bridge has seen an image
        # Invalid rectangles are refused with DENIED, each with a logged reason.
        for params, reason in (([math.nan, 0.2, 0.5, 0.5], 'not a number'),
                               ([0.1, 0.2, 1.5, 0.5], 'outside 0..1'),
                               ([0.6, 0.2, 0.5, 0.5], 'above-left')):
            assert gcs.command(mav.MAV_CMD_CAMERA_TRACK_RECTANGLE, params) == \
                mav.MAV_RESULT_DENIED
            wait_until(lambda r=reason: r in bridge.log(), 10, f'reason {reason!r} logged')
        assert client.last_status() == 'idle'

        x, y, w, h = target_box(cam.i)
        rect = [x / W, y / H, (x + w) / W, (y + h) / H]
        assert gcs.command(mav.MAV_CMD_CAMERA_TRACK_RECTANGLE, rect) == mav.MAV_RESULT_ACCEPTED
        wait_until(lambda: client.last_status() == 'tracking', 20, 'tracker status tracking')
        status = gcs.status(10, lambda m: m.tracking_status
                            == mav.CAMERA_TRACKING_STATUS_FLAGS_ACTIVE
                            and not math.isnan(m.point_x))
        assert status.tracking_mode == mav.CAMERA_TRACKING_MODE_RECTANGLE
        assert status.target_data == mav.CAMERA_TRACKING_TARGET_DATA_IN_STATUS
        assert math.isnan(status.radius)
        assert 0 <= status.rec_top_x < status.point_x < status.rec_bottom_x <= 1
        assert 0 <= status.rec_top_y < status.point_y < status.rec_bottom_y <= 1
        # The stream reports the tracker's own detections (normalised).
        dets = client.messages('detection')
        assert dets
        centres = [(d.bbox.center.position.x / W, d.bbox.center.position.y / H) for d in dets]
        assert min(math.hypot(status.point_x - cx, status.point_y - cy)
                   for cx, cy in centres) < 1e-3
        sizes = [(d.bbox.size_x / W, d.bbox.size_y / H) for d in dets]
        assert min(abs(status.rec_bottom_x - status.rec_top_x - sw)
                   + abs(status.rec_bottom_y - status.rec_top_y - sh) for sw, sh in sizes) < 1e-3

        # A point re-initialises (new track id) in point mode with the default box size.
        n_before = len(client.messages('detection'))
        assert gcs.command(mav.MAV_CMD_CAMERA_TRACK_POINT, [0.5, 0.5, 0.0]) == \
            mav.MAV_RESULT_ACCEPTED
        wait_until(lambda: any(d.id == '2' for d in client.messages('detection')[n_before:]),
                   20, 'track 2 from the point command')
        wait_until(lambda: 'w=24.0 h=24.0' in bridge.log(), 10, 'a 24 px box (0.2 * 120)')
        status = gcs.status(10, lambda m: m.tracking_mode == mav.CAMERA_TRACKING_MODE_POINT
                            and not math.isnan(m.point_x))
        assert status.tracking_status == mav.CAMERA_TRACKING_STATUS_FLAGS_ACTIVE
        assert 0 < status.radius < 0.5

        # Other components' commands are ignored; unknown ones are UNSUPPORTED.
        with pytest.raises(AssertionError, match='no COMMAND_ACK'):
            gcs.command(mav.MAV_CMD_CAMERA_STOP_TRACKING, [], timeout=1.5, component=101)
        assert client.last_status() == 'tracking'
        assert gcs.command(mav.MAV_CMD_DO_DIGICAM_CONTROL, []) == mav.MAV_RESULT_UNSUPPORTED

        assert gcs.command(mav.MAV_CMD_CAMERA_STOP_TRACKING, []) == mav.MAV_RESULT_ACCEPTED
        wait_until(lambda: client.last_status() == 'idle', 20, 'tracker status idle')
        status = gcs.status(10, lambda m: m.tracking_status
                            == mav.CAMERA_TRACKING_STATUS_FLAGS_IDLE)
        assert status.tracking_mode == mav.CAMERA_TRACKING_MODE_NONE
        assert all(math.isnan(getattr(status, k)) for k in NAN_FIELDS)
    assert bridge.alive() and tracker.alive()


def test_stop_fails_cleanly_when_the_tracker_is_gone(system):
    tracker, bridge, _, gcs = system
    assert tracker.stop() == 0
    result = gcs.command(mav.MAV_CMD_CAMERA_STOP_TRACKING, [], timeout=15)
    assert result == mav.MAV_RESULT_FAILED
    assert bridge.alive()
    assert gcs.command(mav.MAV_CMD_SET_MESSAGE_INTERVAL,
                       [mav.MAVLINK_MSG_ID_CAMERA_TRACKING_IMAGE_STATUS, 500_000]) == \
        mav.MAV_RESULT_ACCEPTED
    assert bridge.stop() == 0


if __name__ == '__main__':
    sys.exit(pytest.main([os.path.abspath(__file__), '-q']))
