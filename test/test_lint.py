# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Linters: flake8 and pep257 with ament's settings (setup.cfg), and the copyright header.

ament_flake8 / ament_pep257 / ament_copyright are used where importable (a distro);
otherwise flake8 and pydocstyle run with the same configuration.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATHS = ['vil_tracker_ros', 'test', 'bench', 'launch', 'setup.py']
HEADER = ('# Copyright 2026 The vil_tracker_ros Authors\n'
          '# SPDX-License-Identifier: Apache-2.0\n')


def _python_files():
    for top in PATHS:
        path = os.path.join(ROOT, top)
        if os.path.isfile(path):
            yield path
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if d != '__pycache__']
            for name in filenames:
                if name.endswith('.py'):
                    yield os.path.join(dirpath, name)


def _run(module, *args):
    return subprocess.run([sys.executable, '-m', module, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_flake8():
    existing = [p for p in PATHS if os.path.exists(os.path.join(ROOT, p))]
    result = _run('flake8', *existing)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pep257():
    existing = [p for p in PATHS if os.path.exists(os.path.join(ROOT, p))]
    result = _run('pydocstyle', *existing)
    assert result.returncode == 0, result.stdout + result.stderr


def test_copyright_header():
    missing = [os.path.relpath(p, ROOT) for p in _python_files()
               if not open(p, encoding='utf-8').read().startswith(HEADER)]
    assert not missing, 'files without the copyright header: ' + ', '.join(missing)
