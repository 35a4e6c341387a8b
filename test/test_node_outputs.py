# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The node's output thread without DDS: order, failures, flush and stop."""

import threading

from vil_tracker_ros.ros.node_outputs import OutputThread


def test_jobs_run_in_order_and_a_failing_job_does_not_end_the_thread():
    done, errors = [], []
    out = OutputThread(errors.append)
    gate = threading.Event()
    out.put(lambda: gate.wait(5.0))
    for i in range(5):
        out.put(lambda i=i: done.append(i))
    out.put(lambda: 1 / 0)
    out.put(lambda: done.append('after'))
    assert not out.flush(timeout=0.05)          # the first job still waits on the gate
    gate.set()
    assert out.flush(timeout=5.0)
    assert done == [0, 1, 2, 3, 4, 'after']
    assert [type(e) for e in errors] == [ZeroDivisionError]
    assert out.stop(timeout=5.0)


def test_stop_runs_what_is_queued_then_refuses_new_jobs():
    done = []
    out = OutputThread(lambda err: None)
    gate = threading.Event()
    out.put(lambda: gate.wait(5.0))
    out.put(lambda: done.append('queued'))
    stopper = threading.Thread(target=lambda: done.append(out.stop(timeout=5.0)))
    stopper.start()
    gate.set()
    stopper.join(timeout=10.0)
    assert done == ['queued', True]
    out.put(lambda: done.append('late'))
    assert out.flush(timeout=1.0) and done == ['queued', True]
