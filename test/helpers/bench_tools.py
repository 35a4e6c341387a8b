# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Import a script from bench/ (not a package) as a module, for its tests."""

import importlib.util
import os

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'bench')


def load_bench_tool(name: str):
    """Load ``bench/<name>.py`` and return the module."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
