# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Frames between the image callback and the inference worker: the mailbox and the ring.

* :class:`Frame`: a converted input frame and the header its outputs copy.
* :class:`FrameMailbox`: one slot, newest wins (an overwritten frame counts as dropped), so
  latency never queues up.
* :class:`FrameRing`: the last N frames by stamp, so ``init_bbox`` initialises on the exact
  frame it names.

Nothing here imports rclpy.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Any, Deque, Optional, Tuple

import numpy as np


@dataclasses.dataclass
class Frame:
    """A converted input frame and what the outputs need from its message."""

    rgb: np.ndarray            # HxWx3 uint8 RGB
    header: Any                # the input's std_msgs/Header, copied to every output
    stamp_ns: int
    received: float            # time.monotonic() when the callback got the message

    @property
    def stamp_s(self) -> float:
        return self.stamp_ns / 1e9

    @property
    def size(self) -> Tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


class FrameMailbox:
    """One-slot, thread-safe mailbox: ``put`` overwrites, ``take`` blocks until a frame."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._slot: Optional[Frame] = None
        self._woken = False
        self._closed = False
        self.put_count = 0
        self.dropped = 0

    def put(self, frame: Frame) -> bool:
        """Store ``frame``; return True when it replaced a frame nobody took (a drop)."""
        with self._cond:
            dropped = self._slot is not None
            self._slot = frame
            self.put_count += 1
            self.dropped += int(dropped)
            self._cond.notify_all()
            return dropped

    def take(self, timeout: Optional[float] = None) -> Optional[Frame]:
        """Return the newest frame, or None on timeout, ``wake()`` or ``close()``."""
        with self._cond:
            self._cond.wait_for(lambda: self._slot is not None or self._woken or self._closed,
                                timeout)
            self._woken = False
            frame, self._slot = self._slot, None
            return frame

    def wake(self) -> None:
        """Make a waiting ``take`` return (with the frame, if there is one)."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._slot = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class FrameRing:
    """The last ``size`` frames, looked up by stamp (thread-safe)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f'frame ring size must be >= 1, got {size}')
        self._frames: Deque[Frame] = collections.deque(maxlen=size)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def add(self, frame: Frame) -> None:
        with self._lock:
            self._frames.append(frame)

    def newest(self) -> Optional[Frame]:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def find(self, stamp_ns: int) -> Optional[Frame]:
        """Return the frame with exactly this stamp, or None."""
        with self._lock:
            for frame in reversed(self._frames):
                if frame.stamp_ns == stamp_ns:
                    return frame
        return None

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
