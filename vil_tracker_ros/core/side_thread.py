# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""One helper thread for the work a tracker step can do while the network runs.

onnxruntime and torch release the GIL while they run the network (about 10 ms a frame on
the 2-core CPU), so NumPy / OpenCV work handed to a second thread then runs on the second
core. Work that holds the GIL (most of the filters' small array operations) gains nothing
from a second thread outside that window: measured, the centre and scale filters run side
by side took longer than one after the other (weights/README.md, session 14).

Tasks run one at a time, in the order they were submitted. Where the network's own
threads take every core (``spare_core``), a second thread would only compete with them
(onnxruntime's pool spins between its parallel sections), so the tracker runs the tasks
inline instead.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
import os
from typing import Any, Callable, Optional


class SideThread:
    """Run tasks on one helper thread, started on first use; or inline (``enabled`` False)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._pool: Optional[ThreadPoolExecutor] = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Start ``fn(*args)``; its ``Future`` gives the result or raises its error."""
        if not self.enabled:
            done: Future = Future()
            try:
                done.set_result(fn(*args))
            except Exception as err:   # raised by result(), as from the thread
                done.set_exception(err)
            return done
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix='vil-side')
        return self._pool.submit(fn, *args)

    @property
    def running(self) -> bool:
        """Tell whether the helper thread exists (until ``close``)."""
        return self._pool is not None

    def close(self) -> None:
        """Finish the queued tasks and stop the thread; a later ``submit`` starts a new one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. ``taskset``)."""
    return len(os.sched_getaffinity(0))


def spare_core(network_threads: int) -> bool:
    """Tell whether a core stays free while a network runs on ``network_threads`` of them."""
    return network_threads < usable_cores()
