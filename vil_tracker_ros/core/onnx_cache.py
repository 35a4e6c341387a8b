# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ONNX graphs for a torch checkpoint, exported once and kept in a cache directory.

The package ships the compact torch checkpoint; the onnxruntime backend needs the two
exported graphs (about 2.5x larger in fp32). Like a TensorRT engine built on first use, they
are exported from the checkpoint the first time it is used, checked for parity against torch,
and cached under a name that includes the checkpoint's SHA-256 and the export's revision, so a
changed checkpoint (or a package that exports differently) is never served a stale graph.

With ``model.precision`` int8, ``quantized_graph`` also writes the int8 twin of such a
graph (``model/quantize.py``), cached under the fp32 graph's SHA-256 and the scheme's name.

Cache directory: ``$VIL_TRACKER_CACHE``, else ``$XDG_CACHE_HOME/vil_tracker_ros``, else
``~/.cache/vil_tracker_ros``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
import tempfile
from typing import Callable, Dict

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    if os.environ.get('VIL_TRACKER_CACHE'):
        return Path(os.environ['VIL_TRACKER_CACHE'])
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(base) / 'vil_tracker_ros'


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _cached(track: Path) -> bool:
    from vil_tracker_ros.model.export import template_path_for
    return track.is_file() and template_path_for(track).is_file()


def _write_pair(track: Path, make: Callable[[Path], Dict[str, float]]) -> Dict[str, float]:
    """Write a track graph and its template graph as ``track`` through a private folder.

    ``make(path)`` writes the pair as ``path`` and returns its check's differences. The
    pair is renamed into place only after that, so a concurrent user never sees half a pair.
    """
    from vil_tracker_ros.model.export import template_path_for
    track.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=track.parent) as tmp:
        tmp_track = Path(tmp) / track.name
        diffs = make(tmp_track)
        os.replace(template_path_for(tmp_track), template_path_for(track))
        os.replace(tmp_track, track)
    return diffs


def exported_graph(checkpoint: str) -> str:
    """Path of the track graph exported from ``checkpoint`` (exporting it if not cached).

    Raises CheckpointError for a bad checkpoint and RuntimeError if the export fails its
    onnxruntime parity check.
    """
    from vil_tracker_ros.model import load_checkpoint
    from vil_tracker_ros.model.export import check_parity, EXPORT_REVISION, export_onnx

    stem = Path(checkpoint).stem
    name = f'{stem}-{_sha256(checkpoint)[:16]}-r{EXPORT_REVISION}.onnx'
    track = cache_dir() / 'onnx' / name
    if _cached(track):
        return str(track)
    model, _ = load_checkpoint(checkpoint, map_location='cpu')

    def export(path: Path) -> Dict[str, float]:
        export_onnx(model, path)
        return check_parity(model, path)
    diffs = _write_pair(track, export)
    log.info('exported %s to %s (onnxruntime parity: max abs diff %.2g)', checkpoint, track,
             max(diffs.values()))
    return str(track)


def quantized_graph(track_path: str) -> str:
    """Path of the int8 twin of the fp32 track graph ``track_path`` (quantising it if not cached).

    Raises FileNotFoundError for a missing graph and RuntimeError if the twin disagrees with
    its source (``model.quantize.check_agreement``).
    """
    from vil_tracker_ros.model.quantize import check_agreement, quantize_track_graph, SCHEME

    if not os.path.isfile(track_path):
        raise FileNotFoundError(f'{track_path}: ONNX file does not exist')
    stem = Path(track_path).stem
    target = cache_dir() / 'onnx' / f'{stem}-{_sha256(track_path)[:16]}.{SCHEME}.onnx'
    if _cached(target):
        return str(target)

    def quantize(path: Path) -> Dict[str, float]:
        quantize_track_graph(Path(track_path), path)
        return check_agreement(Path(track_path), path)
    diffs = _write_pair(target, quantize)
    log.info('quantised %s to %s (int8 against fp32: max abs diff %.2g)', track_path, target,
             max(diffs.values()))
    return str(target)
