# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The package's layout rules, read from the source with ``ast`` (nothing is imported).

* No import cycles among ``vil_tracker_ros`` modules. Imports inside functions count too: a
  lazy import still makes the two modules depend on each other.
* ``model/`` and ``core/`` never import rclpy, not even through another module of the package,
  and ``core/`` never imports ``train/`` (DESIGN.md section 3).
* No module is longer than MAX_LINES, so that each file can be read in one sitting.
"""

import ast
import os
from typing import Dict, List, Set

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = 'vil_tracker_ros'
MAX_LINES = 400

# Modules allowed over MAX_LINES. Empty since every split of issue 12 landed; an entry needs
# a comment saying who splits it and when.
LONG_FILES_ALLOWED: set = set()


def _modules() -> Dict[str, str]:
    """Map dotted module name -> file path for every .py file of the package."""
    mods = {}
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, PACKAGE)):
        dirnames[:] = [d for d in dirnames if d != '__pycache__']
        for name in filenames:
            if not name.endswith('.py'):
                continue
            path = os.path.join(dirpath, name)
            dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
            if dotted.endswith('.__init__'):
                dotted = dotted[:-len('.__init__')]
            mods[dotted] = path
    return mods


MODULES = _modules()


def _imported_names(module: str, path: str) -> Set[str]:
    """Every dotted name ``module`` imports, anywhere in the file (relative ones resolved)."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    is_package = path.endswith('__init__.py')
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split('.') if is_package else module.split('.')[:-1]
                parts = parts[:len(parts) - node.level + 1]
                base = '.'.join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ''
            names.add(base)
            # 'from pkg import sub' imports the submodule pkg.sub when there is one.
            names.update(f'{base}.{alias.name}' for alias in node.names)
    return names


def _own_module(name: str) -> str:
    """The package module that importing ``name`` loads ('' when it is not ours)."""
    while name and name not in MODULES:
        name = name.rpartition('.')[0]
    return name


IMPORTS = {m: _imported_names(m, p) for m, p in MODULES.items()}
EDGES = {m: {_own_module(n) for n in names if n.split('.')[0] == PACKAGE} - {'', m}
         for m, names in IMPORTS.items()}


def _cycles() -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(EDGES[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(EDGES):
        if v not in index:
            visit(v)
    return found


def _closure(module: str) -> Set[str]:
    """``module`` and every package module it imports, directly or not."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(EDGES[m])
    return seen


def test_the_reader_sees_the_whole_package():
    # Guards the checks below against silently reading nothing.
    assert {'vil_tracker_ros.ros.tracker_node', 'vil_tracker_ros.core.tracker',
            'vil_tracker_ros.model.tracker_net', 'vil_tracker_ros.config'} <= set(MODULES)
    assert 'vil_tracker_ros.core.tracker' in _closure('vil_tracker_ros.ros.tracker_node')
    assert any(n.split('.')[0] == 'rclpy' for n in IMPORTS['vil_tracker_ros.ros.tracker_node'])


def test_no_import_cycles():
    cycles = _cycles()
    assert not cycles, 'import cycles: ' + '; '.join(' <-> '.join(c) for c in cycles)


@pytest.mark.parametrize('layer', ['model', 'core'])
def test_model_and_core_never_import_rclpy(layer):
    prefix = f'{PACKAGE}.{layer}'
    offenders = {}
    for module in sorted(m for m in MODULES if m == prefix or m.startswith(prefix + '.')):
        for dep in sorted(_closure(module)):
            if any(n.split('.')[0] == 'rclpy' for n in IMPORTS[dep]):
                offenders[module] = dep
    assert not offenders, 'rclpy reached from ' + ', '.join(
        f'{m} (via {d})' for m, d in offenders.items())


def test_core_never_imports_train():
    bad = {m: sorted(d for d in _closure(m) if d.startswith(f'{PACKAGE}.train'))
           for m in MODULES if m.startswith(f'{PACKAGE}.core')}
    assert not any(bad.values()), bad


def test_no_module_is_too_long():
    too_long = {}
    for path in MODULES.values():
        rel = os.path.relpath(path, ROOT).replace(os.sep, '/')
        with open(path, encoding='utf-8') as f:
            lines = sum(1 for _ in f)
        if lines > MAX_LINES and rel not in LONG_FILES_ALLOWED:
            too_long[rel] = lines
    assert not too_long, f'modules over {MAX_LINES} lines (split them): {too_long}'
