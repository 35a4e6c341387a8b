# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""tracker_node lifecycle over DDS: the node runs as a separate process, driven through
/vil_tracker/change_state, get_state and set_parameters like any external client would.

Scenarios: configure failures (bad parameter, missing checkpoint, CUDA unavailable) with a
one-line reason and no half state; runtime parameter validation; repeated configure/cleanup
without leaks; the full lifecycle walk ending in a clean exit; SIGTERM and SIGINT exit with
code 0, also while tracking a flood of frames.
"""

import os
import re
import signal
import threading
import time

from helpers.node_harness import make_tiny_checkpoint, node_params, synthetic_frame
from helpers.node_harness import target_box, TrackerClient, TrackerProcess, wait_until
import pytest
import torch

DETECTION_TOPIC = '/vil_tracker/detection'
WORKER = 'vil_inference'   # OS name of the inference worker thread
PARAMS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           'config', 'tracker.yaml')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return make_tiny_checkpoint(str(tmp_path_factory.mktemp('ckpt') / 'vil_tiny.pt'))


@pytest.fixture(scope='module')
def client():
    c = TrackerClient('lifecycle_test_client')
    yield c
    c.close()


@pytest.fixture
def start_node():
    procs = []

    def start(params, params_file=None):
        proc = TrackerProcess(params, params_file=params_file).start()
        procs.append(proc)
        return proc

    yield start
    for proc in procs:  # always gone after the test, whatever happened
        proc.stop()
        print(f'--- node log tail (exit {proc.proc.returncode}) ---\n{proc.log()[-4000:]}')
        proc.remove_log()


def _wait_publishers(client, count, timeout=10.0):
    wait_until(lambda: client.node.count_publishers(DETECTION_TOPIC) == count, timeout,
               f'{count} publisher(s) on {DETECTION_TOPIC}')


def _lines(log, pattern):
    return [line for line in log.splitlines() if re.search(pattern, line)]


def test_configure_failures_give_a_reason_and_leave_no_half_state(client, checkpoint,
                                                                  start_node):
    proc = start_node(node_params('/nonexistent/vil.pt', **{'tracker.hann_weight': 5.0}))
    client.wait_for_node()
    assert client.get_state() == 'unconfigured'

    # 1. A parameter file value outside its range: configure refuses, naming it.
    assert not client.change_state('configure')
    assert client.get_state() == 'unconfigured'
    [line] = _lines(proc.log(), 'configure failed')
    assert 'tracker.hann_weight' in line

    # 2. Fix it; now the missing checkpoint is the reason.
    [res] = client.set_parameters({'tracker.hann_weight': 0.4})
    assert res.successful, res.reason
    assert not client.change_state('configure')
    line = _lines(proc.log(), 'configure failed')[-1]
    assert 'model.checkpoint' in line and '/nonexistent/vil.pt' in line
    assert client.get_state() == 'unconfigured'
    # No half state: no worker thread, no outputs, no reset service; diagnostics say why.
    assert proc.thread_count(WORKER) == 0
    assert client.node.count_publishers(DETECTION_TOPIC) == 0
    assert not client._reset.service_is_ready()
    diag = client.latest_diagnostics()
    assert diag['state'] == 'unconfigured' and 'device' not in diag

    # 3. A good checkpoint, but CUDA asked for on a machine without it.
    [res] = client.set_parameters({'model.checkpoint': checkpoint})
    assert res.successful, res.reason
    if not torch.cuda.is_available():
        [res] = client.set_parameters({'model.device': 'cuda'})
        assert res.successful, res.reason
        assert not client.change_state('configure')
        line = _lines(proc.log(), 'configure failed')[-1]
        assert 'CUDA is not available' in line
        assert proc.thread_count(WORKER) == 0
        [res] = client.set_parameters({'model.device': 'cpu'})
        assert res.successful, res.reason

    # 4. Now configure succeeds; outputs appear.
    assert client.change_state('configure')
    assert client.get_state() == 'inactive'
    _wait_publishers(client, 1)
    assert proc.thread_count(WORKER) == 1

    # 5. While configured, configure-time parameters are frozen and bad values rejected.
    [res] = client.set_parameters({'model.checkpoint': '/elsewhere.pt'})
    assert not res.successful and 'unconfigured' in res.reason
    [res] = client.set_parameters({'tracker.max_search_factor': 2.0})
    assert not res.successful and 'max_search_factor' in res.reason
    [res] = client.set_parameters({'kalman.gate_probability': 1.0})
    assert not res.successful and 'gate_probability' in res.reason
    [res] = client.set_parameters({'tracker.hann_weight': 0.3})
    assert res.successful

    assert client.change_state('cleanup')
    assert client.get_state() == 'unconfigured'
    _wait_publishers(client, 0)
    assert proc.thread_count(WORKER) == 0
    assert proc.alive()


def test_unknown_parameter_fails_configure(client, checkpoint, start_node):
    proc = start_node(node_params(checkpoint, **{'tracker.serch_factor': 3.0}))
    client.wait_for_node()
    assert not client.change_state('configure')
    [line] = _lines(proc.log(), 'configure failed')
    assert 'tracker.serch_factor' in line


def test_repeated_configure_cleanup_does_not_leak_then_full_walk_exits_0(client, checkpoint,
                                                                         start_node):
    proc = start_node(node_params(checkpoint))
    client.wait_for_node()

    samples = []
    for _ in range(5):
        assert client.change_state('configure')
        assert client.change_state('cleanup')
        samples.append((proc.rss_kib(), proc.thread_count(WORKER)))
    print('rss KiB / worker threads after each configure+cleanup:', samples)
    # The first cycle pays for imports and allocator pools; later cycles must not grow.
    rss_growth_mib = (samples[-1][0] - samples[1][0]) / 1024.0
    assert rss_growth_mib < 40.0, samples
    assert all(workers == 0 for _, workers in samples), samples

    # Full walk, including a refused transition from the wrong state.
    assert client.get_state() == 'unconfigured'
    assert not client.change_state('activate')
    for transition, state in (('configure', 'inactive'), ('activate', 'active'),
                              ('deactivate', 'inactive'), ('activate', 'active'),
                              ('deactivate', 'inactive'), ('cleanup', 'unconfigured'),
                              ('configure', 'inactive'), ('activate', 'active')):
        assert client.change_state(transition), transition
        assert client.get_state() == state, transition
    assert client.change_state('active_shutdown')
    assert proc.wait_exit(timeout=20.0) == 0, proc.log()[-2000:]
    assert 'shut down' in proc.log()


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_signals_stop_an_active_node_with_exit_code_0(client, checkpoint, start_node, sig):
    # Started like the launch file does: config/tracker.yaml plus an override.
    proc = start_node(node_params(checkpoint), params_file=PARAMS_FILE)
    client.wait_for_node()
    assert client.change_state('configure') and client.change_state('activate')
    proc.signal(sig)
    code = proc.wait_exit(timeout=20.0)
    assert code == 0, proc.log()[-2000:]
    assert 'Traceback' not in proc.log()


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_signals_while_tracking_a_frame_flood_exit_cleanly(client, checkpoint, start_node, sig):
    # The signal lands while the executor is busy with images and the worker with steps:
    # shutdown must not race the spinning executor (rclpy's default handlers do).
    proc = start_node(node_params(checkpoint, **{'tracker.lost_confidence': 0.0}))
    client.wait_for_node()
    assert client.change_state('configure') and client.change_state('activate')
    base = 1_700_000_000 * 10**9
    client.publish_image(synthetic_frame(0), base)
    client.publish_init(target_box(0), base)
    wait_until(lambda: 'initialised track' in proc.log(), 10, 'tracking')
    stop = threading.Event()

    def flood():
        i = 1
        while not stop.is_set():
            client.publish_image(synthetic_frame(i), base + i * 33_000_000)
            i += 1
            time.sleep(0.005)

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    try:
        time.sleep(1.0)
        proc.signal(sig)
        code = proc.wait_exit(timeout=20.0)
    finally:
        stop.set()
        flooder.join(timeout=5.0)
    assert code == 0, proc.log()[-2000:]
    assert 'Traceback' not in proc.log()
