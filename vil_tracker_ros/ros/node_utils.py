# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Small helpers shared by the follow controller, the MAVLink bridge and the gimbal simulator.

* :func:`declare` declares one parameter with a :class:`ParameterDescriptor` (description,
  range, read-only flag); an override that rclpy refuses (wrong type, out of range) raises
  :class:`ParameterProblem` with the parameter's name and the reason.
* :func:`run` spins a node until SIGINT/SIGTERM, calls its ``on_exit()`` (a last message such
  as a zero-rate command) while the context is still valid, and shuts rclpy down; a node that
  cannot start (:class:`ParameterProblem`, ValueError) exits with code 2 and a one-line reason.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Callable, List, Optional

from rcl_interfaces.msg import FloatingPointRange
from rcl_interfaces.msg import IntegerRange
from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.exceptions import InvalidParameterTypeException
from rclpy.exceptions import InvalidParameterValueException
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions


class ParameterProblem(ValueError):
    """A parameter's start-up value is unusable."""


def declare(node: Node, name: str, default: Any, description: str,
            lo: Optional[float] = None, hi: Optional[float] = None,
            read_only: bool = False) -> Any:
    """Declare ``name`` with a descriptor and return its value."""
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if lo is not None and hi is not None:
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            raise TypeError(f'a range needs a numeric default for {name}')
        if isinstance(default, int):
            descriptor.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi),
                                                     step=1)]
        else:
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(lo), to_value=float(hi), step=0.0)]
    try:
        return node.declare_parameter(name, default, descriptor).value
    except (InvalidParameterTypeException, InvalidParameterValueException,
            ParameterException) as err:
        raise ParameterProblem(f'parameter {name}: {err}') from err


def run(factory: Callable[[], Node], args: Optional[List[str]] = None,
        poll_s: float = 0.1) -> int:
    """Create the node with ``factory`` and spin it; see the module docstring."""
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    node = None
    executor = SingleThreadedExecutor()
    code = 0
    try:
        node = factory()
        executor.add_node(node)
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=poll_s)
    except (ParameterProblem, ValueError) as err:
        print(f'error: {err}', file=sys.stderr, flush=True)
        code = 2
    except ExternalShutdownException:
        pass
    finally:
        if node is not None:
            on_exit = getattr(node, 'on_exit', None)
            if on_exit is not None:
                try:
                    on_exit()
                except Exception as err:  # noqa: B902  exit anyway, and say why
                    print(f'on exit: {err}', file=sys.stderr, flush=True)
        executor.shutdown(timeout_sec=2.0)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
