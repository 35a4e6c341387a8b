# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Checkpoints that rebuild their model from the file alone.

Layout (a dict saved with ``torch.save``)::

    format: 'vil_tracker_ros.model', format_version: 1,
    model_config: {...ModelConfig fields...}, state_dict: {...}, extra: {...}

Loading uses ``weights_only=True``; ``extra`` must hold plain Python/tensor values.
"""

import os
from pathlib import Path
import pickle
from typing import Any, Dict, Optional, Tuple, Union
import zipfile

import torch

from vil_tracker_ros.config import ConfigError, from_dict, ModelConfig, to_dict
from vil_tracker_ros.model.tracker_net import build_model, ViLTracker

FORMAT = 'vil_tracker_ros.model'
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt or does not match its model."""


def save_checkpoint(path: Union[str, os.PathLike], model: ViLTracker,
                    extra: Optional[Dict[str, Any]] = None) -> None:
    """Write ``model`` (config + weights) and ``extra`` to ``path`` atomically."""
    if not isinstance(model, ViLTracker):
        raise TypeError(f'save_checkpoint expects a ViLTracker, got {type(model).__name__}')
    payload = {
        'format': FORMAT,
        'format_version': FORMAT_VERSION,
        'model_config': to_dict(model.cfg),
        'state_dict': {k: v.detach().cpu() for k, v in model.state_dict().items()},
        'extra': dict(extra or {}),
    }
    path = Path(path)
    tmp = path.with_name(path.name + '.tmp')
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _read(path: Path, map_location: Any) -> Dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f'{path}: checkpoint file does not exist')
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile,
            ValueError, KeyError, AttributeError, TypeError) as exc:
        raise CheckpointError(f'{path}: not a readable checkpoint (corrupt or truncated '
                              f'file?): {type(exc).__name__}: {exc}') from exc
    if not isinstance(payload, dict) or payload.get('format') != FORMAT:
        raise CheckpointError(f'{path}: not a vil_tracker_ros model checkpoint '
                              f'(missing format tag {FORMAT!r})')
    version = payload.get('format_version')
    if version != FORMAT_VERSION:
        raise CheckpointError(f'{path}: checkpoint format version {version!r} is not '
                              f'supported (this code reads version {FORMAT_VERSION})')
    for key in ('model_config', 'state_dict'):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f'{path}: checkpoint has no {key!r} section')
    return payload


def _check_state(path: Path, model: ViLTracker, state: Dict[str, Any]) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [f'{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}'
             for k, v in expected.items()
             if k in state and (not isinstance(state[k], torch.Tensor)
                                or state[k].shape != v.shape)]
    problems = []
    if missing:
        problems.append(f'missing keys {missing[:5]}' + (' ...' if len(missing) > 5 else ''))
    if unexpected:
        problems.append(f'unexpected keys {unexpected[:5]}'
                        + (' ...' if len(unexpected) > 5 else ''))
    if wrong:
        problems.append(f'shape mismatches {wrong[:5]}' + (' ...' if len(wrong) > 5 else ''))
    if problems:
        raise CheckpointError(f'{path}: weights do not match the embedded ModelConfig '
                              f'(variant {model.cfg.variant!r}): ' + '; '.join(problems))


def load_checkpoint(path: Union[str, os.PathLike], map_location: Any = 'cpu'
                    ) -> Tuple[ViLTracker, Dict[str, Any]]:
    """Rebuild the model from ``path``; returns (model in eval mode, info).

    info = {'format_version', 'model_config' (ModelConfig), 'extra' (dict)}.
    """
    path = Path(path)
    payload = _read(path, map_location)
    try:
        cfg = from_dict(ModelConfig, payload['model_config'])
    except ConfigError as exc:
        raise CheckpointError(f'{path}: embedded ModelConfig is invalid: {exc}') from exc
    model = build_model(cfg)
    _check_state(path, model, payload['state_dict'])
    model.load_state_dict(payload['state_dict'])
    model.to(map_location if map_location is not None else 'cpu')
    model.eval()
    info = {'format_version': payload['format_version'], 'model_config': cfg,
            'extra': payload.get('extra') or {}}
    return model, info


# Fields a model may change from a checkpoint's config and still start from its weights
# (film_start_epoch is a training schedule, not architecture).
GROWABLE_FIELDS = ('variant', 'head_correlation', 'film_start_epoch')


def _check_differs_only_in(model: ViLTracker, source: ViLTracker, allowed: Tuple[str, ...],
                           action: str) -> None:
    """Raise ConfigError naming the config fields outside ``allowed`` that differ."""
    diff = [f for f in to_dict(model.cfg) if f not in allowed
            and getattr(model.cfg, f) != getattr(source.cfg, f)]
    if diff:
        raise ConfigError(f'cannot {action} a checkpoint that differs in {", ".join(diff)}')


def grow_from(model: ViLTracker, source: ViLTracker) -> None:
    """Start ``model`` from ``source``, whose config differs only in GROWABLE_FIELDS.

    Every tensor of the same shape is copied. A conv whose input channels grew (the heads
    when ``head_correlation`` adds the correlation channels) keeps the source's weights
    on the old channels and zero on the new ones, so the grown model computes exactly
    what the source did until training moves the new weights.
    """
    _check_differs_only_in(model, source, GROWABLE_FIELDS, 'grow from')
    target = model.state_dict()
    loaded = {}
    for key, value in source.state_dict().items():
        want = target[key]
        if want.shape == value.shape:
            loaded[key] = value
        elif (want.dim() == 4 and want.shape[0] == value.shape[0]
              and want.shape[2:] == value.shape[2:] and want.shape[1] > value.shape[1]):
            grown = torch.zeros_like(want)
            grown[:, :value.shape[1]] = value
            loaded[key] = grown
        else:
            raise ConfigError(f'cannot grow {key}: {tuple(value.shape)} -> '
                              f'{tuple(want.shape)}')
    missing = sorted(set(target) - set(loaded))
    if missing:
        raise ConfigError(f'cannot grow: no source for {", ".join(missing)}')
    model.load_state_dict(loaded)


# Fields a student may change from its teacher's config and still start from its blocks.
SHRINKABLE_FIELDS = GROWABLE_FIELDS + ('depth', 'tmoe_blocks', 'tmoe_experts')


def _block_key(key: str, keep: Tuple[int, ...], source: ViLTracker, model: ViLTracker
               ) -> Optional[str]:
    """Return the source key a student key starts from (None: no source tensor)."""
    parts = key.split('.')
    if parts[0] == 'blocks':
        return '.'.join(['blocks', str(keep[int(parts[1])])] + parts[2:])
    if parts[:2] == ['film', 'generators']:
        after = model.film.after_blocks[int(parts[2])]
        source_after = keep[after]
        if source.film is None or not source.film.applies_after(source_after):
            return None
        slot = source.film.after_blocks.index(source_after)
        return '.'.join(['film', 'generators', str(slot)] + parts[3:])
    return key


def shrink_from(model: ViLTracker, source: ViLTracker, keep: Tuple[int, ...]) -> None:
    """Start a smaller ``model`` (a student) from ``source``'s blocks ``keep``, in order.

    Student block ``i`` copies source block ``keep[i]``, which must scan in the same
    direction (same parity). A student block without a TMoE drops the source's; one with
    a TMoE needs it in the source, with as many experts. A FiLM generator after student
    block ``i`` copies the one after source block ``keep[i]``. Everything else (patch
    embedding, final norm, heads) is copied as is, so dropping blocks only removes their
    residual updates: the student starts close to the source (weights/README.md, s. 16).
    """
    _check_differs_only_in(model, source, SHRINKABLE_FIELDS, 'start a student from')
    keep = tuple(int(b) for b in keep)
    if len(keep) != model.cfg.depth:
        raise ConfigError(f'init_blocks names {len(keep)} source blocks for a model of '
                          f'depth {model.cfg.depth}')
    for i, b in enumerate(keep):
        if not 0 <= b < source.cfg.depth:
            raise ConfigError(f'init_blocks: block {b} is not in the source '
                              f'(depth {source.cfg.depth})')
        if b % 2 != i % 2:
            raise ConfigError(f'init_blocks: source block {b} scans the other way from '
                              f'student block {i} (keep even blocks at even places)')
    if len(set(keep)) != len(keep):
        raise ConfigError(f'init_blocks: {keep} names a source block twice')
    available = source.state_dict()
    loaded = {}
    for key, want in model.state_dict().items():
        src = _block_key(key, keep, source, model)
        value = available.get(src) if src is not None else None
        if value is None or value.shape != want.shape:
            found = 'nothing' if value is None else f'{src} {tuple(value.shape)}'
            raise ConfigError(f'cannot start {key} {tuple(want.shape)} from {found}')
        loaded[key] = value
    model.load_state_dict(loaded)
