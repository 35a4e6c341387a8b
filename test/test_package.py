# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Package metadata: package.xml, setup.py data_files and console scripts."""

import importlib
import os
from unittest import mock

from catkin_pkg.package import parse_package
import pytest
import setuptools

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RUNTIME_DEPS = {'rclpy', 'sensor_msgs', 'std_msgs', 'geometry_msgs', 'vision_msgs',
                'lifecycle_msgs', 'std_srvs', 'diagnostic_msgs', 'cv_bridge',
                'python3-opencv', 'python3-numpy', 'python3-torch-pip'}
TEST_DEPS = {'launch', 'launch_ros', 'launch_testing', 'launch_testing_ros',
             'ament_copyright', 'ament_flake8', 'ament_pep257', 'ament_xmllint'}
CONSOLE_SCRIPTS = {'tracker_node', 'vil-tracker-train', 'vil-tracker-eval',
                   'vil-tracker-bag-eval', 'vil-tracker-export'}


@pytest.fixture(scope='module')
def setup_kwargs():
    """Run setup.py with setuptools.setup replaced, capturing its arguments."""
    captured = {}
    cwd = os.getcwd()
    os.chdir(ROOT)  # setup.py globs relative to the package root, as colcon runs it
    try:
        with mock.patch.object(setuptools, 'setup', lambda **kw: captured.update(kw)):
            with open(os.path.join(ROOT, 'setup.py')) as f:
                exec(compile(f.read(), 'setup.py', 'exec'), {'__name__': '__main__'})
    finally:
        os.chdir(cwd)
    return captured


def test_package_xml_is_valid_format3_with_dependencies():
    pkg = parse_package(os.path.join(ROOT, 'package.xml'))  # raises on invalid content
    pkg.validate()
    assert pkg.package_format == 3
    assert pkg.name == 'vil_tracker_ros'
    assert pkg.get_build_type() == 'ament_python'
    runtime = {d.name for d in pkg.exec_depends}
    assert RUNTIME_DEPS <= runtime, RUNTIME_DEPS - runtime
    tests = {d.name for d in pkg.test_depends}
    assert TEST_DEPS <= tests, TEST_DEPS - tests


def test_vision_msgs_interface_package_is_valid_and_colcon_ignored():
    here = os.path.join(ROOT, 'interfaces', 'vision_msgs')
    pkg = parse_package(os.path.join(here, 'package.xml'))
    pkg.validate()
    assert pkg.name == 'vision_msgs'
    assert os.path.exists(os.path.join(here, 'COLCON_IGNORE'))


def test_setup_data_files_exist(setup_kwargs):
    data_files = setup_kwargs['data_files']
    destinations = {dest for dest, _ in data_files}
    for needed in ('share/ament_index/resource_index/packages', 'share/vil_tracker_ros',
                   'share/vil_tracker_ros/launch', 'share/vil_tracker_ros/config',
                   'share/vil_tracker_ros/weights'):
        assert needed in destinations
    for dest, files in data_files:
        assert files, f'{dest}: no files matched'
        for path in files:
            assert os.path.isfile(os.path.join(ROOT, path)), f'{dest}: {path} is missing'


def test_setup_cfg_installs_scripts_where_ros2_launch_looks():
    with open(os.path.join(ROOT, 'setup.cfg')) as f:
        text = f.read()
    assert 'script_dir=$base/lib/vil_tracker_ros' in text
    assert 'install_scripts=$base/lib/vil_tracker_ros' in text


def test_console_scripts_resolve_to_callables(setup_kwargs):
    entries = setup_kwargs['entry_points']['console_scripts']
    names = {e.split('=')[0].strip() for e in entries}
    assert CONSOLE_SCRIPTS <= names, CONSOLE_SCRIPTS - names
    for entry in entries:
        name, target = (s.strip() for s in entry.split('='))
        module, func = target.split(':')
        assert callable(getattr(importlib.import_module(module), func)), name


def test_pytest_is_a_test_extra_for_colcon(setup_kwargs):
    assert 'pytest' in setup_kwargs['extras_require']['test']


def test_config_and_tools_use_the_shipped_default_model():
    """tracker.yaml and the tools resolve the same shipped file (see test_shipped_weights)."""
    import yaml
    from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, default_checkpoint
    path = default_checkpoint()
    assert os.path.samefile(path, os.path.join(ROOT, 'vil_tracker_ros', 'weights',
                                               DEFAULT_CHECKPOINT))
    with open(os.path.join(ROOT, 'config', 'tracker.yaml')) as f:
        params = yaml.safe_load(f)['/**']['ros__parameters']
    assert params['model']['checkpoint'] == DEFAULT_CHECKPOINT
