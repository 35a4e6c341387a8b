# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""A stop signal that reaches a DataLoader worker while it starts must not kill it.

Between a worker's fork and its ``worker_init_fn`` the default SIGTERM action applies; a
process-group SIGTERM at a new epoch's start killed the worker and the loader raised in the
main process instead of the trainer saving and exiting 0. The worker below sleeps before
its init, and the test signals it in that window.
"""

import functools
import os
import signal
import time

import pytest
from torch.utils.data import DataLoader
from vil_tracker_ros.train.runtime import ignore_stop_signals, iter_with_shielded_workers


def _slow_worker_init(pid_path: str, worker_id: int) -> None:
    with open(pid_path + '.tmp', 'w') as f:
        f.write(str(os.getpid()))
    os.replace(pid_path + '.tmp', pid_path)
    time.sleep(1.0)                      # the window: forked, not yet ignoring signals
    ignore_stop_signals(worker_id)


def _loader(pid_path):
    return DataLoader(list(range(8)), batch_size=2, num_workers=1,
                      worker_init_fn=functools.partial(_slow_worker_init, pid_path))


def _signal_worker_in_its_window(pid_path):
    deadline = time.monotonic() + 30
    while not os.path.exists(pid_path):
        assert time.monotonic() < deadline, 'the worker did not start'
        time.sleep(0.02)
    with open(pid_path) as f:
        os.kill(int(f.read()), signal.SIGTERM)


def test_a_shielded_worker_survives_sigterm_while_it_starts(tmp_path):
    pid_path = str(tmp_path / 'worker.pid')
    batches = iter_with_shielded_workers(_loader(pid_path))
    _signal_worker_in_its_window(pid_path)
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_without_the_shield_the_same_signal_kills_the_worker(tmp_path):
    """The mechanism check: the window is real, so the test above tests something."""
    pid_path = str(tmp_path / 'worker.pid')
    batches = iter(_loader(pid_path))
    _signal_worker_in_its_window(pid_path)
    with pytest.raises(RuntimeError, match='DataLoader worker'):
        list(batches)
