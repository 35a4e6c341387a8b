# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The node's inference executor: the worker thread that owns the tracker, and its stats.

ROS callbacks stay cheap: the image callback converts a frame and drops it into the
mailbox (:mod:`~vil_tracker_ros.ros.frames`; newest wins, the overwritten frame is counted as
dropped), and remembers it in the frame ring so that ``init_bbox`` can initialise on the exact
frame its stamp names. One :class:`InferenceWorker` thread owns the tracker and its backend
(built on that thread, so a CUDA context/stream belongs to it), runs one tracker step per frame
and hands the result to a :class:`ResultSink` (the node, which publishes). Init and reset
requests are commands to that thread, handled before the next frame, so the tracker is only
ever touched by its owner.

Nothing here imports rclpy, so the logic is unit-testable without DDS.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from typing import Any, Callable, Deque, Dict, Optional, Protocol, Tuple

import numpy as np
from vil_tracker_ros.ros.frames import Frame, FrameMailbox

STATUS_IDLE = 'idle'
STATUS_TRACKING = 'tracking'
STATUS_LOST = 'lost'


class ResultSink(Protocol):
    """What the worker reports to (the node implements it by publishing)."""

    def on_result(self, frame: Frame, result: Any, status: str) -> None: ...

    def on_no_target(self, frame: Frame) -> None: ...

    def on_status(self, status: str, track_id: str) -> None: ...


class WorkerStats:
    """Latency, rate and counters of the worker, read by the diagnostics timer."""

    def __init__(self, window: int = 200) -> None:
        self._lock = threading.Lock()
        self._latency: Deque[float] = collections.deque(maxlen=window)
        self._done: Deque[float] = collections.deque(maxlen=window)
        self._step: Deque[float] = collections.deque(maxlen=window)
        self.counters: Dict[str, int] = collections.Counter()

    def record(self, latency_s: float) -> None:
        with self._lock:
            self._latency.append(latency_s)
            self._done.append(time.monotonic())

    def record_step(self, step_s: float) -> None:
        """Record the duration of one tracker step (the model and its pre/post-processing)."""
        with self._lock:
            self._step.append(step_s)

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counters[key] += n

    def snapshot(self) -> Dict[str, float]:
        """Return the fps over the recent window, latency and step p50 in ms, the counters."""
        with self._lock:
            lat = np.asarray(self._latency, dtype=np.float64)
            step = np.asarray(self._step, dtype=np.float64)
            done = list(self._done)
            out: Dict[str, float] = dict(self.counters)
        now = time.monotonic()
        recent = [t for t in done if now - t <= 5.0]
        out['fps'] = (len(recent) - 1) / (recent[-1] - recent[0]) \
            if len(recent) >= 2 and recent[-1] > recent[0] else 0.0
        out['latency_p50_ms'] = float(np.percentile(lat, 50) * 1e3) if lat.size else 0.0
        out['latency_p95_ms'] = float(np.percentile(lat, 95) * 1e3) if lat.size else 0.0
        out['step_p50_ms'] = float(np.percentile(step, 50) * 1e3) if step.size else 0.0
        return out


@dataclasses.dataclass
class _Command:
    kind: str                                  # 'init' | 'reset' | 'config'
    frame: Optional[Frame] = None
    box_xywh: Optional[Tuple[float, float, float, float]] = None
    payload: Any = None
    reason: str = ''
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    ok: bool = False
    message: str = ''


def _set_os_thread_name(name: str) -> None:
    """Name the calling thread for top -H / /proc (Linux; Python < 3.14 does not)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)   # 15 = PR_SET_NAME
    except (OSError, AttributeError):
        pass


class InferenceWorker:
    """The thread that owns the tracker.

    Args:
        build: called on the worker thread; returns the ready (warmed-up) tracker. An exception
            here makes :meth:`start` raise it.
        sink: receives results and status changes.
        mailbox: where the image callback puts frames.
        stats: latency / counters shared with diagnostics.
        log: ``log(level, key, message)`` for throttled logging by the owner; level is one of
            'info', 'warn', 'error'.
        apply_config: ``apply_config(tracker, payload)`` applies runtime-tunable settings
            between steps (payload from :meth:`update_config`).

    The tracker must provide ``initialize(rgb, box_xywh, stamp)``, ``track(rgb, stamp)``
    returning a result with ``status`` (idle/tracking/lost) and ``track_id``, and ``reset()``.

    """

    def __init__(self, build: Callable[[], Any], sink: ResultSink, mailbox: FrameMailbox,
                 stats: WorkerStats, log: Callable[[str, str, str], None],
                 apply_config: Optional[Callable[[Any, Any], None]] = None,
                 name: str = 'vil_inference') -> None:
        self._build = build
        self._sink = sink
        self._mailbox = mailbox
        self._stats = stats
        self._log = log
        self._apply_config = apply_config
        self._commands: Deque[_Command] = collections.deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._build_error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._tracker: Any = None
        self._status = STATUS_IDLE
        self._track_id = ''
        self._last_stamp_ns: Optional[int] = None
        self.build_info: Any = None

    # ------------------------------------------------------------------ owner side

    @property
    def status(self) -> str:
        return self._status

    @property
    def track_id(self) -> str:
        return self._track_id

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def start(self, timeout: float) -> None:
        """Start the thread and wait until the tracker is built.

        Raises:
            TimeoutError: the build took longer than ``timeout``.
            Exception: whatever the build raised.

        """
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop(timeout=1.0)
            raise TimeoutError(f'building the tracker took longer than {timeout:.0f} s')
        if self._build_error is not None:
            self._thread.join(timeout=5.0)
            raise self._build_error

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the thread and drop the tracker; True when the thread has ended."""
        self._stop.set()
        self._mailbox.close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        with self._lock:
            for cmd in self._commands:
                cmd.message = 'worker stopped'
                cmd.done.set()
            self._commands.clear()
        return not self._thread.is_alive()

    def request_init(self, frame: Frame, box_xywh: Tuple[float, float, float, float]) -> None:
        """Initialise (or re-initialise) on ``frame`` before the next tracking step."""
        self._post(_Command('init', frame=frame, box_xywh=tuple(float(v) for v in box_xywh)))

    def request_reset(self, reason: str, timeout: float = 5.0) -> Tuple[bool, str]:
        """Stop tracking; waits for the worker. Returns (done, message)."""
        cmd = _Command('reset', reason=reason)
        self._post(cmd)
        if not cmd.done.wait(timeout):
            return False, f'the inference worker did not answer within {timeout:.1f} s'
        return cmd.ok, cmd.message

    def update_config(self, payload: Any) -> None:
        """Apply runtime-tunable settings before the next step."""
        self._post(_Command('config', payload=payload))

    def _post(self, cmd: _Command) -> None:
        with self._lock:
            if self._stop.is_set():
                cmd.message = 'worker stopped'
                cmd.done.set()
                return
            self._commands.append(cmd)
        self._mailbox.wake()

    # ----------------------------------------------------------------- worker side

    def _run(self) -> None:
        try:
            self._tracker = self._build()
        except BaseException as err:  # reported to start(), which re-raises it
            self._build_error = err
            self._ready.set()
            return
        # Named after the build: threads that libraries spawn from here inherit the name.
        _set_os_thread_name(self._thread.name)
        self._ready.set()
        try:
            while not self._stop.is_set():
                self._drain_commands()
                frame = self._mailbox.take(timeout=0.2)
                if self._stop.is_set():
                    break
                self._drain_commands()  # a command may have woken us: it goes first
                if frame is not None:
                    self._step(frame)
        finally:
            close = getattr(self._tracker, 'close', None)
            if close is not None:
                close()
            self._tracker = None  # the worker owned the model; release it on its own thread

    def _drain_commands(self) -> None:
        while True:
            with self._lock:
                if not self._commands:
                    return
                cmd = self._commands.popleft()
            try:
                self._handle(cmd)
            except Exception as err:  # a failed command must not end the worker
                cmd.ok, cmd.message = False, f'{type(err).__name__}: {err}'
                self._log('error', f'{cmd.kind}_failed', f'{cmd.kind} failed: {cmd.message}')
            finally:
                cmd.done.set()

    def _handle(self, cmd: _Command) -> None:
        if cmd.kind == 'reset':
            was = self._status
            self._tracker.reset()
            self._last_stamp_ns = None
            self._set_status(STATUS_IDLE)
            cmd.ok = True
            cmd.message = ('tracking stopped' if was != STATUS_IDLE else 'already idle') + (
                f' ({cmd.reason})' if cmd.reason else '')
            self._log('info', 'reset', f'reset: {cmd.message}')
        elif cmd.kind == 'init':
            frame = cmd.frame
            self._tracker.initialize(frame.rgb, cmd.box_xywh, frame.stamp_s)
            self._last_stamp_ns = frame.stamp_ns
            self._track_id = str(getattr(self._tracker, 'track_id', '') or '')
            self._set_status(STATUS_TRACKING, force=True)
            self._stats.count('inits')
            cmd.ok = True
            # Keyed by track id: every (rare, user-driven) init is logged.
            stamp = f'{frame.stamp_ns // 10**9}.{frame.stamp_ns % 10**9:09d}'
            box = [round(v, 1) for v in cmd.box_xywh]
            self._log('info', f'init{self._track_id}',
                      f'initialised track {self._track_id} on frame {stamp}, box {box}')
        elif cmd.kind == 'config':
            if self._apply_config is not None:
                self._apply_config(self._tracker, cmd.payload)
            cmd.ok = True
        else:
            raise ValueError(f'unknown worker command {cmd.kind!r}')

    def _step(self, frame: Frame) -> None:
        if self._status == STATUS_IDLE:
            self._stats.count('frames_without_target')
            self._report(self._sink.on_no_target, frame)
            self._stats.record(time.monotonic() - frame.received)
            return
        if self._last_stamp_ns is not None and frame.stamp_ns <= self._last_stamp_ns:
            # Already seen by the tracker (typically the frame an init used): nothing new.
            self._stats.count('frames_skipped_stale')
            return
        try:
            t_step = time.perf_counter()
            result = self._tracker.track(frame.rgb, frame.stamp_s)
            step_s = time.perf_counter() - t_step
        except Exception as err:  # a bad step must not end tracking for good
            self._stats.count('tracker_errors')
            self._log('error', 'track_failed',
                      f'tracker step failed on frame {frame.stamp_ns} ns: '
                      f'{type(err).__name__}: {err}')
            return
        self._last_stamp_ns = frame.stamp_ns
        status = str(getattr(result, 'status', STATUS_TRACKING))
        self._track_id = str(getattr(result, 'track_id', self._track_id))
        self._set_status(status)
        self._stats.count('frames_processed')
        if status == STATUS_IDLE:
            self._report(self._sink.on_no_target, frame)
        else:
            self._report(self._sink.on_result, frame, result, status)
        self._stats.record(time.monotonic() - frame.received)
        self._learn_pending(frame, step_s)

    def _learn_pending(self, frame: Frame, step_s: float) -> None:
        """Let the tracker learn from the frame for the next one, now that its result is out.

        The step statistics count the learning as part of the step.
        """
        t_learn = time.perf_counter()
        try:
            self._tracker.learn_pending()
        except Exception as err:  # as a failed step: counted and logged, tracking goes on
            self._stats.count('tracker_errors')
            self._log('error', 'learn_failed',
                      f'tracker update failed after frame {frame.stamp_ns} ns: '
                      f'{type(err).__name__}: {err}')
        self._stats.record_step(step_s + time.perf_counter() - t_learn)

    def _set_status(self, status: str, force: bool = False) -> None:
        if status != self._status or force:
            self._status = status
            self._report(self._sink.on_status, status, self._track_id)

    def _report(self, method: Callable[..., None], *args: Any) -> None:
        """Call the sink; a failure there is counted, never the end of the worker."""
        try:
            method(*args)
        except Exception as err:
            self._stats.count('publish_errors')
            self._log('error', 'publish_failed',
                      f'{getattr(method, "__name__", "sink")} failed: {type(err).__name__}: {err}')
