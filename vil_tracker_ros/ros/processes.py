# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Nodes of this package as child processes, and a bounded wait; no rclpy needed.

Used by the follow demo and its tests (``follow_demo``), the MAVLink loopback test and the
follow controller's node test, so that all of them start nodes exactly as ``ros2 run`` would:
a separate process with ``--ros-args``, stopped with SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, Optional


class ModuleProcess:
    """A node of this package run as ``python -m <module> --ros-args ...``.

    Output goes to ``log_path`` (or a temporary file), so a chatty node never blocks on a pipe;
    :meth:`stop` sends SIGINT (as ``ros2 launch`` does), then SIGKILL after ``timeout``.
    """

    def __init__(self, module: str, params: Optional[Dict[str, Any]] = None,
                 params_file: Optional[str] = None, remaps: Optional[Dict[str, str]] = None,
                 log_path: Optional[str] = None) -> None:
        self.cmd = [sys.executable, '-m', module, '--ros-args']
        if params_file:
            self.cmd += ['--params-file', params_file]
        for key, value in (params or {}).items():
            text = ('true' if value else 'false') if isinstance(value, bool) else str(value)
            self.cmd += ['-p', f'{key}:={text}']
        for src, dst in (remaps or {}).items():
            self.cmd += ['-r', f'{src}:={dst}']
        self.env = dict(os.environ, RCUTILS_COLORIZED_OUTPUT='0', PYTHONUNBUFFERED='1')
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix=module.rsplit('.', 1)[-1] + '_',
                                            suffix='.log')
            os.close(fd)
        self.log_path = log_path
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> 'ModuleProcess':
        with open(self.log_path, 'w') as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        """Stop with SIGINT (SIGKILL after ``timeout``); return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        return self.proc.returncode


def wait_for(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f'timed out after {timeout:.1f} s waiting for {what}')
        time.sleep(0.02)
