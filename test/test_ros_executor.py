# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ros/frames.py and ros/executor.py without DDS: mailbox, frame ring and the inference worker."""

import threading
import time
import types

import numpy as np
import pytest
from vil_tracker_ros.ros.executor import InferenceWorker, WorkerStats
from vil_tracker_ros.ros.frames import Frame, FrameMailbox, FrameRing


def _frame(stamp_ns, value=0):
    return Frame(rgb=np.full((8, 10, 3), value, np.uint8), header=None, stamp_ns=stamp_ns,
                 received=time.monotonic())


def test_mailbox_keeps_the_newest_frame_and_counts_drops():
    box = FrameMailbox()
    assert box.take(timeout=0.01) is None
    assert box.put(_frame(1)) is False
    assert box.put(_frame(2)) is True
    assert box.put(_frame(3)) is True
    assert box.take(timeout=0.01).stamp_ns == 3
    assert box.take(timeout=0.01) is None
    assert (box.put_count, box.dropped) == (3, 2)


def test_mailbox_wake_and_close_release_a_waiting_taker():
    box = FrameMailbox()
    result = {}

    def taker():
        t0 = time.monotonic()
        result['frame'] = box.take(timeout=5.0)
        result['waited'] = time.monotonic() - t0

    thread = threading.Thread(target=taker)
    thread.start()
    time.sleep(0.05)
    box.wake()
    thread.join(2.0)
    assert result['frame'] is None and result['waited'] < 2.0


def test_ring_finds_exact_stamps_and_forgets_old_frames():
    ring = FrameRing(3)
    for stamp in (10, 20, 30, 40):
        ring.add(_frame(stamp))
    assert len(ring) == 3
    assert ring.find(20).stamp_ns == 20
    assert ring.find(10) is None      # pushed out
    assert ring.find(25) is None      # never existed
    assert ring.newest().stamp_ns == 40
    with pytest.raises(ValueError):
        FrameRing(0)


class FakeTracker:
    """Moves the box by one pixel per step; raises on a frame whose pixels are 99."""

    def __init__(self):
        self.box = None
        self.track_id = 0
        self.stamps = []
        self.configs = []
        self.closed_on = None       # the thread that closed it

    def initialize(self, rgb, box, stamp):
        self.box = np.asarray(box, float)
        self.track_id += 1
        self.stamps.append(('init', stamp))

    def track(self, rgb, stamp):
        if rgb[0, 0, 0] == 99:
            raise RuntimeError('bad frame')
        self.box = self.box + [1, 0, 0, 0]
        self.stamps.append(('track', stamp))
        return types.SimpleNamespace(box=self.box.copy(), confidence=0.9, status='tracking',
                                     track_id=self.track_id, cov=np.eye(2))

    def reset(self):
        self.box = None

    def close(self):
        self.closed_on = threading.current_thread().name

    def learn_pending(self):
        self.stamps.append(('learn', self.stamps[-1][1]))
        if self.box is not None and self.box[0] == 7:     # the second tracked frame
            raise RuntimeError('update failed')


class Sink:
    def __init__(self):
        self.results, self.empty, self.statuses = [], [], []
        self.event = threading.Event()

    def on_result(self, frame, result, status):
        self.results.append((frame.stamp_ns, result.box[0], status))
        self.event.set()

    def on_no_target(self, frame):
        self.empty.append(frame.stamp_ns)
        self.event.set()

    def on_status(self, status, track_id):
        self.statuses.append((status, track_id))


def _wait(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def worker_env():
    tracker, sink, box, stats, logs = FakeTracker(), Sink(), FrameMailbox(), WorkerStats(), []
    worker = InferenceWorker(lambda: tracker, sink, box, stats,
                             lambda level, key, msg: logs.append((level, key, msg)),
                             apply_config=lambda trk, cfg: trk.configs.append(cfg))
    worker.start(timeout=5.0)
    yield worker, tracker, sink, box, stats, logs
    assert worker.stop(timeout=5.0)


def test_worker_initialises_tracks_and_skips_frames_it_already_saw(worker_env):
    worker, tracker, sink, box, stats, logs = worker_env
    box.put(_frame(1_000))
    assert _wait(lambda: sink.empty == [1_000])       # before init: empty output
    worker.request_init(_frame(2_000), (5, 5, 4, 4))
    box.put(_frame(2_000))                             # the init frame itself: skipped
    assert _wait(lambda: stats.snapshot().get('frames_skipped_stale', 0) == 1)
    box.put(_frame(3_000))
    assert _wait(lambda: len(sink.results) == 1)
    assert sink.results[0] == (3_000, 6.0, 'tracking')
    assert _wait(lambda: len(tracker.stamps) == 3)
    assert tracker.stamps == [('init', 2e-6), ('track', 3e-6), ('learn', 3e-6)]
    assert sink.statuses == [('tracking', '1')]
    assert worker.status == 'tracking' and worker.track_id == '1'


def test_worker_survives_a_failing_step_and_reset_goes_idle(worker_env):
    worker, tracker, sink, box, stats, logs = worker_env
    worker.request_init(_frame(1), (5, 5, 4, 4))
    box.put(_frame(2, value=99))
    assert _wait(lambda: stats.snapshot().get('tracker_errors', 0) == 1)
    assert any(key == 'track_failed' for _, key, _ in logs)
    box.put(_frame(3))
    assert _wait(lambda: len(sink.results) == 1)
    ok, message = worker.request_reset('test')
    assert ok and 'tracking stopped' in message
    assert sink.statuses[-1][0] == 'idle' and worker.status == 'idle'
    ok, message = worker.request_reset('again')
    assert ok and 'already idle' in message
    worker.update_config('cfg-1')
    assert _wait(lambda: tracker.configs == ['cfg-1'])


def test_the_tracker_learns_after_the_result_is_out_and_a_failure_there_is_reported(
        worker_env):
    worker, tracker, sink, box, stats, logs = worker_env
    published = []
    on_result = sink.on_result
    sink.on_result = lambda *a: published.append(len(tracker.stamps)) or on_result(*a)
    worker.request_init(_frame(1), (5, 5, 4, 4))
    for stamp in (2, 3, 4):
        box.put(_frame(stamp))
        assert _wait(lambda: len(sink.results) == stamp - 1)
    assert _wait(lambda: tracker.stamps.count(('learn', 4e-9)) == 1)
    # each result went out before the learning of its frame (init, then track + learn)
    assert published == [2, 4, 6]
    assert stats.snapshot().get('tracker_errors', 0) == 1      # frame 3's update
    assert any(key == 'learn_failed' for _, key, _ in logs)
    assert [r[0] for r in sink.results] == [2, 3, 4]           # tracking went on


def test_stopping_the_worker_closes_its_tracker_on_the_worker_thread():
    tracker = FakeTracker()
    worker = InferenceWorker(lambda: tracker, Sink(), FrameMailbox(), WorkerStats(),
                             lambda *a: None)
    worker.start(timeout=5.0)
    assert tracker.closed_on is None
    assert worker.stop(timeout=5.0)
    assert tracker.closed_on not in (None, threading.current_thread().name)


def test_worker_start_reraises_a_build_failure():
    def build():
        raise FileNotFoundError('no checkpoint here')
    worker = InferenceWorker(build, Sink(), FrameMailbox(), WorkerStats(),
                             lambda *a: None)
    with pytest.raises(FileNotFoundError, match='no checkpoint here'):
        worker.start(timeout=5.0)
    assert not worker.is_alive()
    ok, message = worker.request_reset('after failure', timeout=0.5)
    assert not ok


def test_stats_report_percentiles_and_counters():
    stats = WorkerStats()
    for ms in range(1, 101):
        stats.record(ms / 1000.0)
    stats.count('dropped_frames', 3)
    snap = stats.snapshot()
    assert 49.0 <= snap['latency_p50_ms'] <= 52.0
    assert 94.0 <= snap['latency_p95_ms'] <= 96.5
    assert snap['dropped_frames'] == 3
