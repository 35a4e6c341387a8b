# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ROS parameters <-> the config dataclasses of :class:`vil_tracker_ros.config.NodeConfig`.

Every field of the ``model``, ``tracker``, ``kalman`` and ``io`` sections becomes a ROS
parameter ``<section>.<field>`` with a :class:`ParameterDescriptor` (description, range, and the
allowed values of string enums). Reading them back goes through the strict ``from_dict`` of
``vil_tracker_ros.config``, so a bad value fails with the field's name.

Two kinds of parameters:

* **runtime-tunable** (``tracker.*``, ``kalman.*``, ``io.class_id``, ``io.debug_image``): a set
  is validated against the whole section (cross-field rules included) and rejected with the
  validation message; accepted values reach the tracker at its next step;
* **configure-time** (everything else): read by the configure transition. While the node is
  configured (inactive or active) a set is rejected with a reason that says to clean up first,
  because a changed value would silently not apply.

A value in a parameters file that rclpy cannot declare (wrong type, out of range) does not
crash the node: the parameter keeps its default, and :func:`declare_node_parameters` returns the
problem so that configure can fail with it until the parameter is set to a good value.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from rcl_interfaces.msg import FloatingPointRange
from rcl_interfaces.msg import IntegerRange
from rcl_interfaces.msg import ParameterDescriptor
from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import InvalidParameterTypeException
from rclpy.exceptions import InvalidParameterValueException
from rclpy.parameter import Parameter
from vil_tracker_ros.config import ConfigError
from vil_tracker_ros.config import from_dict
from vil_tracker_ros.config import NodeConfig
from vil_tracker_ros.config import to_dict
from vil_tracker_ros.ros.param_docs import Doc, DOCS

SECTIONS: Tuple[str, ...] = tuple(f.name for f in dataclasses.fields(NodeConfig))
# Parameters rclpy itself may receive from a parameters file or the command line.
_ROS_BUILTIN_PREFIXES = ('use_sim_time', 'qos_overrides.', 'start_type_description_service')


_TUNABLE_SECTIONS = ('tracker', 'kalman')
_TUNABLE_NAMES = ('io.class_id', 'io.debug_image')

_PARAM_TYPES = {
    bool: Parameter.Type.BOOL, int: Parameter.Type.INTEGER, float: Parameter.Type.DOUBLE,
    str: Parameter.Type.STRING,
}
_ARRAY_TYPES = {
    bool: Parameter.Type.BOOL_ARRAY, int: Parameter.Type.INTEGER_ARRAY,
    float: Parameter.Type.DOUBLE_ARRAY, str: Parameter.Type.STRING_ARRAY,
}


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One ROS parameter derived from a dataclass field."""

    name: str                  # '<section>.<field>'
    section: str
    field: str
    default: Any
    type_: Parameter.Type
    tunable: bool
    descriptor: ParameterDescriptor


def is_tunable(name: str) -> bool:
    """Return True for parameters that may change while the node is configured."""
    return name.split('.', 1)[0] in _TUNABLE_SECTIONS or name in _TUNABLE_NAMES


def _param_type(tp: Any, name: str) -> Parameter.Type:
    origin = typing.get_origin(tp)
    if origin is typing.Union:  # Optional[X] is not representable as a ROS parameter
        raise TypeError(f'{name}: Optional fields cannot be ROS parameters')
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if args and args[0] in _ARRAY_TYPES:
            return _ARRAY_TYPES[args[0]]
        raise TypeError(f'{name}: unsupported list item type {tp!r}')
    if tp in _PARAM_TYPES:
        return _PARAM_TYPES[tp]
    raise TypeError(f'{name}: unsupported parameter type {tp!r}')


def _descriptor(name: str, section_cls: type, ptype: Parameter.Type,
                tunable: bool) -> ParameterDescriptor:
    doc = DOCS.get(name) or Doc(f'{section_cls.__name__}.{name.split(".", 1)[1]} '
                                '(see vil_tracker_ros/config/).')
    text = doc.text + (' Runtime-tunable.' if tunable else ' Read at configure.')
    desc = ParameterDescriptor(description=text, type=ptype.value)
    constraints = []
    if doc.choices:
        constraints.append(f'one of: {doc.choices}')
    if doc.lo is not None and doc.hi is not None:
        if ptype == Parameter.Type.INTEGER:
            desc.integer_range = [IntegerRange(from_value=int(doc.lo), to_value=int(doc.hi),
                                               step=1)]
        elif ptype == Parameter.Type.DOUBLE:
            desc.floating_point_range = [FloatingPointRange(
                from_value=float(doc.lo), to_value=float(doc.hi), step=0.0)]
        constraints.append(f'range [{doc.lo}, {doc.hi}]')
    desc.additional_constraints = '; '.join(constraints)
    return desc


def parameter_specs(defaults: Optional[NodeConfig] = None) -> List[ParamSpec]:
    """One :class:`ParamSpec` per field of every NodeConfig section, in declaration order."""
    defaults = defaults or NodeConfig()
    hints = typing.get_type_hints(NodeConfig)
    specs = []
    for section in SECTIONS:
        section_cls = hints[section]
        section_default = getattr(defaults, section)
        field_hints = typing.get_type_hints(section_cls)
        for f in dataclasses.fields(section_cls):
            name = f'{section}.{f.name}'
            ptype = _param_type(field_hints[f.name], name)
            value = getattr(section_default, f.name)
            if isinstance(value, tuple):
                value = list(value)
            tunable = is_tunable(name)
            specs.append(ParamSpec(name, section, f.name, value, ptype, tunable,
                                   _descriptor(name, section_cls, ptype, tunable)))
    return specs


def has_description(name: str) -> bool:
    """Return True when ``name`` has a hand-written description (checked by unit tests)."""
    return name in DOCS


def _one_line(text: str) -> str:
    return ' '.join(str(text).split())


def declare_node_parameters(node, defaults: Optional[NodeConfig] = None) -> Dict[str, str]:
    """Declare every config parameter on ``node``.

    Returns:
        ``{name: reason}`` for overrides (from a parameters file or ``-p``) that rclpy refused
        (wrong type or out of range). Such a parameter is declared with its default instead,
        and the caller should refuse to configure until it is fixed.

    """
    problems: Dict[str, str] = {}
    for spec in parameter_specs(defaults):
        try:
            node.declare_parameter(spec.name, spec.default, spec.descriptor)
        except InvalidParameterTypeException as err:
            problems[spec.name] = _one_line(f'{spec.name}: wrong type ({err})')
        except InvalidParameterValueException as err:
            problems[spec.name] = _one_line(f'{spec.name}: {err}')
        else:
            continue
        node.declare_parameter(spec.name, spec.default, spec.descriptor, ignore_override=True)
    return problems


def unknown_overrides(node, declared: Iterable[str]) -> List[str]:
    """Names given to the node (parameters file, ``-p``) that no parameter declares.

    rclpy ignores such overrides silently, so a typo in tracker.yaml would fall back to the
    default; the node reports them instead.
    """
    # rclpy keeps the overrides it was started with in this attribute (Humble .. Kilted).
    overrides = getattr(node, '_parameter_overrides', {}) or {}
    declared = set(declared)
    return sorted(n for n in overrides
                  if n not in declared and not n.startswith(_ROS_BUILTIN_PREFIXES))


def config_from_values(values: Mapping[str, Any]) -> NodeConfig:
    """Build a validated NodeConfig from ``{'<section>.<field>': value}``.

    Raises:
        ConfigError: unknown name, wrong type or invalid value; the message names the field.

    """
    nested: Dict[str, Dict[str, Any]] = {s: {} for s in SECTIONS}
    for name, value in values.items():
        section, _, key = name.partition('.')
        if section not in nested or not key:
            raise ConfigError(f'{name}: unknown parameter; sections are {", ".join(SECTIONS)}')
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f'{name}: must be finite, got {value!r}')
        nested[section][key] = value
    hints = typing.get_type_hints(NodeConfig)
    sections = {}
    for section in SECTIONS:
        try:
            sections[section] = from_dict(hints[section], nested[section], prefix=f'{section}.')
        except ConfigError as err:
            # validate() names the bare field; say which section it is in.
            field_names = {f.name for f in dataclasses.fields(hints[section])}
            msg = str(err)
            if msg.split(':', 1)[0] in field_names:
                raise ConfigError(f'{section}.{msg}') from None
            raise
    return NodeConfig(**sections)


def read_node_config(node, specs: Optional[List[ParamSpec]] = None) -> NodeConfig:
    """Read the declared parameters of ``node`` back into a validated NodeConfig."""
    specs = specs or parameter_specs()
    values = {s.name: node.get_parameter(s.name).value for s in specs}
    return config_from_values(values)


def config_to_values(cfg: NodeConfig) -> Dict[str, Any]:
    """Flatten a NodeConfig to ``{'<section>.<field>': value}`` (inverse of config_from_values)."""
    flat = {}
    for section, fields in to_dict(cfg).items():
        for key, value in fields.items():
            flat[f'{section}.{key}'] = value
    return flat


def check_parameter_update(current: Mapping[str, Any], updates: Mapping[str, Any],
                           configured: bool) -> Tuple[Optional[NodeConfig], str]:
    """Decide whether a parameter set may happen.

    Args:
        current: the node's current values, ``{name: value}`` for every config parameter.
        updates: the values being set.
        configured: whether the node is inactive or active (configure-time parameters are
            then frozen).

    Returns:
        ``(config, '')`` with the resulting NodeConfig when the set is valid, otherwise
        ``(None, reason)``.

    """
    frozen = sorted(n for n in updates
                    if n in current and configured and not is_tunable(n)
                    and updates[n] != current[n])
    if frozen:
        return None, (f'{", ".join(frozen)} can only be changed while the node is unconfigured '
                      '(they are read at configure): run cleanup, set, then configure')
    merged = dict(current)
    merged.update({n: v for n, v in updates.items() if n in current})
    try:
        return config_from_values(merged), ''
    except ConfigError as err:
        return None, _one_line(str(err))


class ParameterGuard:
    """on-set callback for a node: validates config parameters and reports accepted changes.

    Args:
        node: the rclpy node whose parameters are guarded.
        specs: the declared config parameters.
        is_configured: returns True while configure-time parameters must not change.
        on_change: called with the new NodeConfig and the names that were set, after a
            successful set of config parameters.

    """

    def __init__(self, node, specs: List[ParamSpec], is_configured: Callable[[], bool],
                 on_change: Callable[[NodeConfig, List[str]], None]) -> None:
        self._node = node
        self._names = [s.name for s in specs]
        self._is_configured = is_configured
        self._on_change = on_change
        self._pending: Optional[NodeConfig] = None

    def current_values(self) -> Dict[str, Any]:
        return {n: self._node.get_parameter(n).value for n in self._names}

    def on_set(self, params: List[Parameter]) -> SetParametersResult:
        updates = {p.name: p.value for p in params if p.name in self._names}
        if not updates:
            return SetParametersResult(successful=True)
        cfg, reason = check_parameter_update(self.current_values(), updates,
                                             self._is_configured())
        if cfg is None:
            self._node.get_logger().warning(f'rejected parameter change: {reason}')
            return SetParametersResult(successful=False, reason=reason)
        self._pending = cfg
        return SetParametersResult(successful=True)

    def after_set(self, params: List[Parameter]) -> None:
        cfg, self._pending = self._pending, None
        names = [p.name for p in params if p.name in self._names]
        if cfg is not None and names:
            self._on_change(cfg, names)
