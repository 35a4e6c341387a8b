# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""tracker_node data path over DDS, one node process for the module (tests run in order).

Scenarios: silence while inactive; images before init; init on the stamped frame; every output
stamped with its input image's header; covariance and confidence; bearing from CameraInfo
(undistorted); bad inputs counted without killing the node; runtime parameters and the debug
image; reset; re-init; a stamp jump back; overload (bounded backlog, newest wins, counted drops);
compressed input.
"""

import math
import time

import cv2
from helpers.node_harness import make_tiny_checkpoint, node_params, stamp_ns
from helpers.node_harness import synthetic_frame, target_box, TrackerClient
from helpers.node_harness import TrackerProcess, wait_until
import numpy as np
import pytest
from sensor_msgs.msg import Image

BASE = 1_700_000_000_000_000_000      # ns; image stamps are BASE + i * PERIOD
PERIOD = 33_000_000
K = [120.0, 0.0, 80.0, 0.0, 118.0, 60.0, 0.0, 0.0, 1.0]
D = [-0.25, 0.08, 0.001, -0.002, 0.0]


def stamp(i):
    return BASE + i * PERIOD


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    ckpt = make_tiny_checkpoint(str(tmp_path_factory.mktemp('ckpt') / 'vil_tiny.pt'))
    # An untrained network is unsure of everything: accept every frame so status stays
    # 'tracking' and the test looks at the plumbing, not at the model.
    proc = TrackerProcess(node_params(ckpt, **{
        'tracker.lost_confidence': 0.0, 'tracker.reacquire_confidence': 0.0,
        'kalman.gate_probability': 0.999999, 'io.class_id': 'drone'})).start()
    client = TrackerClient('tracking_test_client')
    try:
        client.wait_for_node()
        assert client.change_state('configure'), proc.log()[-2000:]
        yield proc, client
    finally:
        client.close()
        code = proc.stop()
        print(f'--- node log tail (exit {code}) ---\n{proc.log()[-6000:]}')
        proc.remove_log()


@pytest.fixture
def active(env):
    """The shared node, activated if an earlier test (or none, under -k) left it inactive."""
    proc, client = env
    if client.get_state() == 'inactive':
        assert client.change_state('activate'), proc.log()[-2000:]
    assert client.get_state() == 'active'
    return env


def _send(client, indices, delay=0.06):
    for i in indices:
        client.publish_image(synthetic_frame(i), stamp(i))
        time.sleep(delay)


def _counter(diag, key):
    return int(diag[key])


def test_silent_while_inactive_then_idle_when_activated(env):
    proc, client = env
    assert client.get_state() == 'inactive'
    _send(client, range(0, 5), delay=0.05)
    client.publish_init(target_box(4), stamp(4))
    time.sleep(1.0)
    assert all(client.count(t) == 0 for t in ('detection', 'detections', 'confidence'))
    assert client.last_status() is None
    assert client.change_state('activate')
    client.wait_for_subscribers()
    wait_until(lambda: client.last_status() == 'idle', 10, 'status idle')


def test_images_before_init_give_empty_detections_only(active):
    proc, client = active
    client.clear()
    _send(client, range(10, 14))
    wait_until(lambda: client.count('detections') >= 3, 10, 'empty Detection2DArray')
    arrays = client.messages('detections')
    assert all(len(a.detections) == 0 for a in arrays)
    assert {stamp_ns(a.header.stamp) for a in arrays} <= {stamp(i) for i in range(10, 14)}
    assert client.count('detection') == 0
    assert _counter(client.latest_diagnostics(), 'frames_without_target') >= 3


def test_init_on_the_stamped_frame_and_outputs_carry_the_input_header(active):
    proc, client = active
    _send(client, range(20, 30), delay=0.03)
    client.clear()
    client.publish_init(target_box(24), stamp(24))       # a frame already in the ring
    wait_until(lambda: 'initialised track 1 on frame 1700000000.792000000' in proc.log(), 10,
               'init on frame 24')
    wait_until(lambda: client.last_status() == 'tracking', 10, 'status tracking')
    sent = {stamp(i) for i in range(30, 45)}
    _send(client, range(30, 45), delay=0.1)
    wait_until(lambda: client.count('detection') >= 5, 15, 'detections')
    time.sleep(0.5)

    dets = client.messages('detection')
    stamps = [stamp_ns(d.header.stamp) for d in dets]
    assert set(stamps) <= sent and stamps == sorted(stamps)
    for det in dets:
        assert det.header.frame_id == 'camera_optical' and det.id == '1'
        hyp = det.results[0]
        assert hyp.hypothesis.class_id == 'drone' and 0.0 <= hyp.hypothesis.score <= 1.0
        assert hyp.pose.pose.position.x == pytest.approx(det.bbox.center.position.x)
        cov = np.array(hyp.pose.covariance).reshape(6, 6)
        assert np.allclose(cov, cov.T) and cov[0, 0] > 0 and cov[1, 1] > 0
        assert np.linalg.det(cov[:2, :2]) > 0 and np.count_nonzero(cov[2:, :]) == 0
        assert det.bbox.size_x > 0 and det.bbox.size_y > 0
    by_stamp = {stamp_ns(d.header.stamp): d for d in dets}
    # Every other output of a processed frame carries that frame's header.
    for topic in ('detections', 'confidence', 'covariance', 'target_offset'):
        msgs = client.messages(topic)
        assert len(msgs) >= len(dets) - 1, topic
    for arr in client.messages('detections'):
        det = by_stamp.get(stamp_ns(arr.header.stamp))
        if det is not None:
            assert arr.detections[0].bbox.center.position.x == det.bbox.center.position.x
    for cov_msg in client.messages('covariance'):
        det = by_stamp[stamp_ns(cov_msg.header.stamp)]
        assert cov_msg.header.frame_id == 'camera_optical'
        assert list(cov_msg.pose.covariance) == list(det.results[0].pose.covariance)
    for conf, det in zip(client.messages('confidence'), dets):
        assert conf.data == pytest.approx(det.results[0].hypothesis.score, abs=1e-6)
    for off in client.messages('target_offset'):
        det = by_stamp[stamp_ns(off.header.stamp)]
        assert off.vector.x == pytest.approx(
            np.clip((det.bbox.center.position.x - 80) / 80, -1, 1), abs=1e-9)
        assert off.vector.z == pytest.approx(det.bbox.size_x * det.bbox.size_y / (160 * 120))
    assert client.count('target_bearing') == 0          # no camera_info yet
    assert client.count('debug_image') == 0             # io.debug_image is false


def test_bearing_is_the_undistorted_ray_once_camera_info_arrives(active):
    proc, client = active
    diag0 = client.latest_diagnostics()
    client.publish_camera_info(160, 120, [0.0] * 9, D)          # uncalibrated: rejected
    wait_until(lambda: 'camera_info ignored' in proc.log(), 10, 'bad camera_info rejected')
    client.publish_camera_info(160, 120, K, D)
    wait_until(lambda: 'bearing enabled' in proc.log(), 10, 'camera_info accepted')
    client.clear()
    _send(client, range(50, 58), delay=0.1)
    wait_until(lambda: client.count('target_bearing') >= 3, 15, 'bearings')
    dets = {stamp_ns(d.header.stamp): d for d in client.messages('detection')}
    kmat, dist = np.array(K).reshape(3, 3), np.array(D)
    for msg in client.messages('target_bearing'):
        det = dets[stamp_ns(msg.header.stamp)]
        ray = np.array([msg.vector.x, msg.vector.y, msg.vector.z])
        assert math.isclose(np.linalg.norm(ray), 1.0) and ray[2] > 0
        # Projecting the ray through the distorted camera gives back the box centre.
        pix = cv2.projectPoints((ray / ray[2]).reshape(1, 1, 3), np.zeros(3), np.zeros(3),
                                kmat, dist)[0].reshape(2)
        centre = (det.bbox.center.position.x, det.bbox.center.position.y)
        assert np.allclose(pix, centre, atol=1e-3), (pix, centre)
    assert _counter(client.latest_diagnostics(), 'bad_camera_info') >= \
        _counter(diag0, 'bad_camera_info') + 1


def _bad_image(kind, i):
    msg = Image()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp(i), 1_000_000_000)
    msg.header.frame_id = 'camera_optical'
    if kind == 'encoding':
        msg.height, msg.width, msg.encoding, msg.step = 4, 4, 'bayer_xyz8', 4
        msg.data = bytes(16)
    elif kind == 'short':
        msg.height, msg.width, msg.encoding, msg.step = 120, 160, 'rgb8', 480
        msg.data = bytes(480 * 60)
    else:
        msg.height, msg.width, msg.encoding, msg.step = 0, 0, 'rgb8', 0
    return msg


def test_bad_inputs_are_counted_and_tracking_continues(active):
    proc, client = active
    _send(client, [60])
    time.sleep(0.3)
    before = client.latest_diagnostics()
    for n, kind in enumerate(('encoding', 'short', 'zero')):
        client.image_pub.publish(_bad_image(kind, 61 + n))
        time.sleep(0.1)
    client.publish_image(synthetic_frame(64), stamp(64))
    time.sleep(0.1)
    client.publish_image(synthetic_frame(64), stamp(64))         # duplicate stamp
    time.sleep(0.1)
    client.publish_image(synthetic_frame(63), stamp(63))         # out of order
    time.sleep(0.1)
    for box in ((float('nan'), 10, 20, 20), (10, 10, -5, 20), (-4, 10, 20, 20),
                (150, 100, 30, 30), (10, 10, 0, 0)):
        client.publish_init(box, stamp(64))
        time.sleep(0.1)
    client.clear()
    _send(client, range(65, 72), delay=0.1)
    wait_until(lambda: client.count('detection') >= 3, 15, 'tracking to continue')
    assert {d.id for d in client.messages('detection')} == {'1'}   # no bad box re-initialised
    time.sleep(1.2)
    after = client.latest_diagnostics()
    assert after['state'] == 'active' and proc.alive()
    assert _counter(after, 'bad_images') - _counter(before, 'bad_images') == 3
    assert _counter(after, 'duplicate_stamps') - _counter(before, 'duplicate_stamps') == 1
    assert _counter(after, 'out_of_order_stamps') - _counter(before, 'out_of_order_stamps') == 1
    assert _counter(after, 'rejected_init_boxes') - \
        _counter(before, 'rejected_init_boxes') == 5
    log = proc.log()
    for reason in ('bayer_xyz8', 'expected step*height', 'zero-size', 'repeats the previous',
                   'is older than the previous', 'NaN', 'non-positive size'):
        assert reason in log, reason


def test_runtime_parameters_are_validated_and_debug_image_follows_the_header(active):
    proc, client = active
    [res] = client.set_parameters({'tracker.hann_weight': -1.0})
    assert not res.successful
    [res] = client.set_parameters({'tracker.search_factor': 12.0})   # > max_search_factor
    assert not res.successful and 'max_search_factor' in res.reason
    [res] = client.set_parameters({'io.debug_image': True})
    assert res.successful, res.reason
    [res] = client.set_parameters({'tracker.hann_weight': 0.3})
    assert res.successful, res.reason
    client.clear()
    _send(client, range(80, 86), delay=0.1)
    wait_until(lambda: client.count('debug_image') >= 2, 15, 'debug images')
    dets = {stamp_ns(d.header.stamp) for d in client.messages('detection')}
    for img in client.messages('debug_image'):
        assert (img.width, img.height, img.encoding) == (160, 120, 'rgb8')
        assert stamp_ns(img.header.stamp) in dets
    [res] = client.set_parameters({'io.debug_image': False})
    assert res.successful


def test_reset_goes_idle_and_stops_detections(active):
    proc, client = active
    response = client.reset()
    assert response.success and 'tracking stopped' in response.message
    wait_until(lambda: client.last_status() == 'idle', 5, 'status idle')
    client.clear()
    _send(client, range(90, 95))
    wait_until(lambda: client.count('detections') >= 3, 10, 'empty detections')
    assert client.count('detection') == 0
    assert all(len(a.detections) == 0 for a in client.messages('detections'))
    assert 'already idle' in client.reset().message


def test_reinit_starts_new_tracks(active):
    proc, client = active
    _send(client, [100])
    client.publish_init(target_box(100), stamp(100))
    wait_until(lambda: client.last_status() == 'tracking', 10, 'tracking again')
    client.clear()
    _send(client, range(101, 104), delay=0.1)
    wait_until(lambda: client.count('detection') >= 1, 10, 'detections of the first track')
    first = {d.id for d in client.messages('detection')}
    assert len(first) == 1
    client.publish_init(target_box(103), stamp(103))              # while tracking
    new_id = str(int(first.pop()) + 1)
    wait_until(lambda: f'initialised track {new_id}' in proc.log(), 10, 'the next track')
    client.clear()
    _send(client, range(104, 110), delay=0.1)
    wait_until(lambda: client.count('detection') >= 3, 10, 'detections of the new track')
    assert {d.id for d in client.messages('detection')} == {new_id}


def test_stamps_jumping_back_reset_tracking_without_wedging(active):
    proc, client = active
    _send(client, [120])                                            # a recent stamp first
    jumps = _counter(client.latest_diagnostics(), 'time_jumps')
    client.publish_image(synthetic_frame(0), stamp(0) - 10**10)     # 10 s back
    wait_until(lambda: client.last_status() == 'idle', 10, 'reset by the jump')
    assert _counter(client.latest_diagnostics(), 'time_jumps') == jumps + 1
    client.publish_init(target_box(0), stamp(0) - 10**10)
    wait_until(lambda: client.last_status() == 'tracking', 10, 'tracking after the jump')
    client.clear()
    for i in range(1, 6):
        client.publish_image(synthetic_frame(i), stamp(i) - 10**10)
        time.sleep(0.1)
    wait_until(lambda: client.count('detection') >= 2, 10, 'detections after the jump')


def _pending(diag, base):
    """Frames taken in since ``base`` but neither processed, dropped nor skipped yet."""
    def untouched(d):
        return (_counter(d, 'frames_received') - _counter(d, 'frames_processed')
                - _counter(d, 'dropped_frames') - _counter(d, 'frames_skipped_stale'))
    return untouched(diag) - untouched(base)


def test_overload_keeps_backlog_bounded_and_counts_drops(active):
    # Asserts structure, not wall-clock speed (timings belong in `make bench`): how many
    # frames wait inside the node, which frames win, and that every frame is accounted for.
    proc, client = active
    client.publish_image(synthetic_frame(200), stamp(200))
    client.publish_init(target_box(200), stamp(200))
    wait_until(lambda: client.last_status() == 'tracking', 10, 'tracking')
    time.sleep(0.5)
    before = client.latest_diagnostics()
    step_s = max(float(before['latency_p50_ms']), 5.0) / 1e3
    client.clear()
    # Publish several times faster than the node steps until the node has reported its
    # counters at least twice mid-flood (diagnostics come at 1 Hz), at most 20 s.
    period = min(max(step_s / 4, 0.001), 0.01)
    sent = {}
    i = 201
    t_start = time.monotonic()
    while len(client.all_diagnostics()) < 2 or time.monotonic() - t_start < 2.0:
        assert time.monotonic() - t_start < 20.0, 'the node published no diagnostics mid-flood'
        client.publish_image(synthetic_frame(i), stamp(i))
        sent[stamp(i)] = time.monotonic()
        i += 1
        time.sleep(period)
    last = stamp(i - 1)
    mid_flood = client.all_diagnostics()
    # Newest wins: the last frame is never lost, and it is the last one processed.
    wait_until(lambda: any(stamp_ns(d.header.stamp) == last
                           for d in client.messages('detection')), 20, 'the newest frame')
    time.sleep(0.5)
    dets = client.messages('detection')
    arrivals = client.arrival['detection']
    after = client.latest_diagnostics()
    stamps = [stamp_ns(d.header.stamp) for d in dets]
    latencies = [a - sent[s] for s, a in zip(stamps, arrivals)]
    published, processed = len(sent), len(dets)
    received = _counter(after, 'frames_received') - _counter(before, 'frames_received')
    done = _counter(after, 'frames_processed') - _counter(before, 'frames_processed')
    dropped = _counter(after, 'dropped_frames') - _counter(before, 'dropped_frames')
    print(f'published {published} at {1 / period:.0f} Hz, processed {processed}, '
          f'node received {received}, processed {done}, dropped in mailbox {dropped}; '
          f'pending mid-flood {[_pending(d, before) for d in mid_flood]}; latency median '
          f'{np.median(latencies) * 1e3:.0f} ms, max {max(latencies) * 1e3:.0f} ms (not asserted)')
    assert stamps == sorted(set(stamps)), 'detections out of order or repeated'
    assert stamps[-1] == last
    assert processed >= 2 and published >= 2 * processed      # really overloaded
    # Newest wins at two layers: the image reader's DDS history (depth 1) replaces frames the
    # callback never took, and the mailbox counts the ones it overwrote. Whether DDS replaces
    # any depends on scheduling (a callback that keeps up takes all of them; seen once in a
    # clean-clone CI run, 821 of 821), so only the mailbox's drops are required ...
    assert dropped > 0 and received <= published
    assert done == processed and _pending(after, before) == 0
    # ... and no queue builds up: at every report at most one frame is in the image callback,
    # one in the mailbox and one in the worker. A queue would hold hundreds by now.
    pending = [_pending(d, before) for d in mid_flood]
    assert all(0 <= n <= 3 for n in pending), pending


def test_compressed_input_after_reconfiguration(active):
    proc, client = active
    assert client.change_state('deactivate') and client.change_state('cleanup')
    [res] = client.set_parameters({'io.compressed': True})
    assert res.successful, res.reason
    assert client.change_state('configure') and client.change_state('activate')
    wait_until(lambda: client.compressed_pub.get_subscription_count() > 0, 10,
               'compressed subscription')
    for i in range(300, 303):
        client.publish_compressed(synthetic_frame(i), stamp(i))
        time.sleep(0.1)
    client.publish_init(target_box(302), stamp(302))
    wait_until(lambda: client.last_status() == 'tracking', 10, 'tracking on compressed input')
    client.clear()
    for i in range(303, 308):
        client.publish_compressed(synthetic_frame(i), stamp(i))
        time.sleep(0.1)
    wait_until(lambda: client.count('detection') >= 2, 10, 'detections from compressed input')
    assert {stamp_ns(d.header.stamp) for d in client.messages('detection')} <= \
        {stamp(i) for i in range(303, 308)}
