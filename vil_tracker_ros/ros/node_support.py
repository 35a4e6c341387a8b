# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""What the node's configure builds, and the guard around its callbacks.

* :class:`Session`: everything configure creates, released as a unit (no half state).
* :func:`build_tracker`: load the checkpoint, build backend + tracker and warm them up (runs on
  the inference worker thread); :func:`apply_runtime_config` swaps runtime-tunable sections.
* :func:`guarded`: an exception escaping a ROS callback is logged and counted instead of ending
  the executor's spin.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
from vil_tracker_ros.config import NodeConfig
from vil_tracker_ros.ros.executor import InferenceWorker
from vil_tracker_ros.ros.frames import FrameMailbox
from vil_tracker_ros.ros.frames import FrameRing

WARMUP_SIZE = (96, 128)         # (h, w) of the synthetic warm-up frame


def one_line(text: Any) -> str:
    return ' '.join(str(text).split())


def apply_runtime_config(tracker: Any, cfg: NodeConfig) -> None:
    """Hand runtime-tunable sections to the tracker (on the worker thread, between steps).

    SingleObjectTracker reads its policy from ``.cfg`` on every step and its KalmanFilter
    (``.kf``) holds only configuration, so both can be swapped between two steps.
    """
    from vil_tracker_ros.core.kalman import KalmanFilter
    tracker.cfg = cfg.tracker
    tracker.kf = KalmanFilter(cfg.kalman)


def build_tracker(cfg: NodeConfig, checkpoint: str) -> Tuple[Any, str]:
    """Load the checkpoint, build backend + tracker and warm them up (worker thread)."""
    from vil_tracker_ros.config import replace
    from vil_tracker_ros.core.backend import build_backend
    from vil_tracker_ros.core.tracker import SingleObjectTracker

    backend = build_backend(replace(cfg.model, checkpoint=checkpoint))
    device = getattr(backend, 'torch_device', None)
    if device is not None and device.type == 'cuda':
        # This (worker) thread's own stream: inference never queues behind other CUDA work
        # in the process. PyTorch's current stream is per thread.
        import torch
        torch.cuda.set_stream(torch.cuda.Stream(device=device))
    # Warm-up: one init and two steps on a synthetic frame, so the first real frame does not
    # pay for lazy allocation / kernel selection. A fresh tracker follows, so that the first
    # real track gets id 1.
    warm = SingleObjectTracker(backend, cfg.tracker, cfg.kalman)
    h, w = WARMUP_SIZE
    frame = np.random.default_rng(0).integers(0, 255, size=(h, w, 3), dtype=np.uint8)
    warm.initialize(frame, (w / 4, h / 4, w / 4, h / 4), 0.0)
    warm.track(frame, 0.033)
    warm.track(frame, 0.066)
    warm.close()
    tracker = SingleObjectTracker(backend, cfg.tracker, cfg.kalman)
    return tracker, str(getattr(backend, 'device', cfg.model.device))


class Session:
    """Everything configure creates; released as a unit (no half state)."""

    def __init__(self, cfg: NodeConfig, checkpoint: str) -> None:
        self.cfg = cfg
        self.checkpoint = checkpoint
        self.mailbox = FrameMailbox()
        self.ring = FrameRing(cfg.io.frame_ring_size)
        self.worker: Optional[InferenceWorker] = None
        self.device = ''
        self.publishers: Dict[str, Any] = {}
        self.reset_service = None
        self.outputs: Any = None   # node_outputs.OutputThread, created with the worker


def free_device_memory() -> None:
    torch = sys.modules.get('torch')
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ROS callback so that an unexpected exception is logged and counted.

    An exception escaping a callback would end the executor's spin and with it the node;
    input-driven callbacks must never do that.
    """
    @functools.wraps(callback)
    def wrapper(self: Any, *args: Any) -> Any:
        try:
            return callback(self, *args)
        except Exception as err:
            self._problem('callback_errors', f'{callback.__name__} failed: '
                          f'{type(err).__name__}: {one_line(err)}', level='error')
            return None
    return wrapper
