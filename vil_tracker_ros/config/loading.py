# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Strict loading of the config dataclasses: ``from_dict``, ``to_dict``, ``replace``.

``apply_override`` applies one command-line ``--set section.key=value`` to a nested dict.

``from_dict`` rejects unknown keys (naming them) and coerces values to the annotated
types; ``validate`` methods use the ``_check`` helpers here and raise ``ConfigError``
naming the offending field.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from typing import Any, Dict, Mapping, Type, TypeVar

import yaml

T = TypeVar('T')


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names the field."""


def _check(cond: bool, name: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f'{name}: {msg}')


def _coerce(value: Any, tp: Any, name: str) -> Any:
    """Convert ``value`` to the annotated type ``tp`` or raise ConfigError."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f'{name}: expected a mapping, got {type(value).__name__}')
        return from_dict(tp, value, prefix=f'{name}.')
    if origin is typing.Union:  # Optional[X]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], name)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'{name}: expected a list, got {type(value).__name__}')
        args = typing.get_args(tp)
        item_tp = args[0] if args else Any
        items = [_coerce(v, item_tp, f'{name}[{i}]') for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f'{name}: expected a bool, got {value!r}')
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f'{name}: expected an int, got {value!r}')
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f'{name}: expected a number, got {value!r}')
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f'{name}: expected a string, got {value!r}')
        return value
    return value


def from_dict(cls: Type[T], data: Mapping[str, Any], prefix: str = '') -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys are errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f'{prefix or cls.__name__}: expected a mapping')
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f'{cls.__name__}: unknown key(s) {", ".join(prefix + k for k in unknown)}; '
            f'known keys are {", ".join(sorted(known))}')
    kwargs = {k: _coerce(v, hints[k], prefix + k) for k, v in data.items()}
    obj = cls(**kwargs)
    validate = getattr(obj, 'validate', None)
    if validate is not None:
        validate()
    return obj


def to_dict(obj: Any) -> dict:
    """Plain nested dict (tuples become lists) for YAML, JSON and checkpoints."""
    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v
    return conv(obj)


def replace(obj: T, **changes: Any) -> T:
    """``dataclasses.replace`` that re-runs validation."""
    new = dataclasses.replace(obj, **changes)
    validate = getattr(new, 'validate', None)
    if validate is not None:
        validate()
    return new


def _finite_positive(name: str, v: float) -> None:
    _check(math.isfinite(v) and v > 0, name, f'must be a finite number > 0, got {v!r}')


def _in_range(name: str, v: float, lo: float, hi: float) -> None:
    _check(math.isfinite(v) and lo <= v <= hi, name, f'must be in [{lo}, {hi}], got {v!r}')


_FLOAT = re.compile(r'[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+')


def apply_override(data: Dict[str, Any], assignment: str) -> None:
    """Apply one ``a.b.c=value`` assignment (value parsed as YAML) to nested ``data``."""
    if '=' not in assignment:
        raise ConfigError(f'--set {assignment!r}: expected section.key=value')
    key, raw = assignment.split('=', 1)
    parts = key.strip().split('.')
    if not all(parts):
        raise ConfigError(f'--set {assignment!r}: empty key component')
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f'--set {key}: value is not valid YAML: {exc}') from exc
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        value = float(value)   # YAML 1.1 reads '2e-3' (no dot) as a string
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f'--set {key}: {part!r} is not a section')
        node = child
    node[parts[-1]] = value
