# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Where training runs: process group (torchrun / DDP), device, determinism, loader signals."""

from dataclasses import dataclass
import os
import signal
from typing import Iterable, Iterator

import numpy as np
import torch
import torch.distributed as dist

from vil_tracker_ros.config import TrainConfig


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def ignore_stop_signals(worker_id: int) -> None:
    """Leave SIGINT/SIGTERM to the main process (a DataLoader ``worker_init_fn``).

    Ctrl-C reaches the whole process group and ``pkill -f`` matches the workers' command
    line too; a worker dying of it would crash the loader before the main process could
    finish its step and write the checkpoint. The main process ends the workers itself.
    The worker was forked with these signals blocked (:func:`iter_with_shielded_workers`):
    ignoring them first discards one that arrived in between, then they are unblocked.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def iter_with_shielded_workers(loader: Iterable) -> Iterator:
    """``iter(loader)`` with SIGINT/SIGTERM blocked while its workers fork.

    A signal between a worker's fork and its ``worker_init_fn`` would otherwise kill it
    (the default action) and the loader would raise in the main process: seen when a
    process-group SIGTERM met a new epoch's workers starting. The main process gets a
    blocked signal as soon as the workers have started.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        return iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class TrainError(RuntimeError):
    """Training cannot start or continue (bad resume file, diverged loss, ...)."""


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device_kind: str) -> DistInfo:
    world = int(os.environ.get('WORLD_SIZE', '1'))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ['RANK']), world, int(os.environ.get('LOCAL_RANK', '0')))
    if not dist.is_initialized():
        dist.init_process_group(backend='nccl' if device_kind == 'cuda' else 'gloo')
    return info


def pick_device(cfg: TrainConfig) -> torch.device:
    want = cfg.run.device
    if want == 'cuda' and not torch.cuda.is_available():
        raise TrainError('run.device is cuda but no CUDA device is available')
    if want == 'cuda' or (want == 'auto' and torch.cuda.is_available()):
        return torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0')))
    return torch.device('cpu')


def set_determinism(cfg: TrainConfig, device: torch.device) -> None:
    if cfg.run.threads > 0:
        torch.set_num_threads(cfg.run.threads)
    torch.manual_seed(cfg.run.seed)
    np.random.seed(cfg.run.seed % (2 ** 32))
    if cfg.run.deterministic:
        if device.type == 'cuda':
            os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
            torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)
