# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The shipped default model, precision and threads, and how checkpoint names are resolved.

One place for all of them, so the node (``config/tracker.yaml``), ``vil-tracker-eval``,
``vil-tracker-bag-eval``, the demo and the benchmark always agree on what "the default
model" is. A checkpoint may be given as an absolute path, a path relative to the working
directory, or the name of a file in the package's ``weights/`` directory.
"""

from __future__ import annotations

import os
from typing import List

from vil_tracker_ros.config import ConfigError

PACKAGE = 'vil_tracker_ros'
# Trained by config/train_synthetic.yaml; see vil_tracker_ros/weights/README.md.
DEFAULT_CHECKPOINT = 'vil_cpu_synthetic.pt'
# The node's model.threads (config/tracker.yaml): the network on one CPU thread, the
# tracker's side thread (core/side_thread.py) on another core.
DEFAULT_THREADS = 1
SOURCE_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights')
# A source checkout holds config/ and launch/ one level above the Python package.
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_precision(backend: str, device: str = 'cpu') -> str:
    """Return the precision the shipped configuration runs ``backend`` at on ``device``.

    onnxruntime on the CPU runs the int8 twin of the exported graph (``model/quantize.py``;
    config/tracker.yaml); everything else runs fp32. ``auto`` counts as the CPU unless
    onnxruntime has a CUDA provider.
    """
    if backend != 'onnxruntime' or device.startswith('cuda'):
        return 'fp32'
    if device == 'auto':
        try:
            import onnxruntime
        except ImportError:
            return 'fp32'    # the backend will say that onnxruntime is missing
        if 'CUDAExecutionProvider' in onnxruntime.get_available_providers():
            return 'fp32'
    return 'int8'


def share_dir() -> str:
    """Return the installed share directory, or the source tree when not installed by ament."""
    try:
        from ament_index_python.packages import (get_package_share_directory,
                                                 PackageNotFoundError)
        try:
            return get_package_share_directory(PACKAGE)
        except (PackageNotFoundError, LookupError, OSError):
            pass
    except ImportError:
        pass
    return SOURCE_ROOT


def share_file(*parts: str) -> str:
    """Path of an installed data file (config/..., launch/..., weights/...)."""
    return os.path.join(share_dir(), *parts)


def weights_dirs() -> List[str]:
    """Where checkpoint names are looked up: the installed share, then the sources."""
    dirs = [os.path.join(share_dir(), 'weights')]
    if SOURCE_WEIGHTS_DIR not in dirs:
        dirs.append(SOURCE_WEIGHTS_DIR)
    return dirs


def resolve_checkpoint(name: str) -> str:
    """Absolute path of checkpoint ``name``.

    Raises:
        ConfigError: empty name or no such file; the message lists where it looked.

    """
    if not name:
        raise ConfigError('model.checkpoint: empty; set it to a checkpoint file (absolute, '
                          f'relative, or a name in {" or ".join(weights_dirs())})')
    path = os.path.expanduser(name)
    candidates = [path] if os.path.isabs(path) else [os.path.abspath(path)] + [
        os.path.join(d, path) for d in weights_dirs()]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    raise ConfigError(f'model.checkpoint: no such file {name!r} (looked at '
                      f'{", ".join(candidates)})')


def default_checkpoint() -> str:
    """Absolute path of the shipped default model; ConfigError if it is missing."""
    return resolve_checkpoint(DEFAULT_CHECKPOINT)
