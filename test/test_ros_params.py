# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""ros/params.py: dataclasses <-> ROS parameters, descriptors and on-set validation."""

import dataclasses

import pytest
import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from vil_tracker_ros.config import ConfigError, NodeConfig
from vil_tracker_ros.ros import params
from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, default_precision, DEFAULT_THREADS


def test_every_field_is_a_described_parameter_with_a_range_where_numeric():
    specs = params.parameter_specs()
    names = [s.name for s in specs]
    expected = [f'{section}.{f.name}' for section in params.SECTIONS
                for f in dataclasses.fields(getattr(NodeConfig(), section))]
    assert names == expected
    for spec in specs:
        assert params.has_description(spec.name), \
            f'{spec.name} needs a description in ros/param_docs.py'
        assert spec.descriptor.description
        if spec.type_ == Parameter.Type.DOUBLE:
            assert len(spec.descriptor.floating_point_range) == 1, spec.name
        if spec.type_ == Parameter.Type.INTEGER:
            assert len(spec.descriptor.integer_range) == 1, spec.name


def test_default_values_round_trip_through_the_dataclasses():
    cfg = NodeConfig()
    assert params.config_from_values(params.config_to_values(cfg)) == cfg


def test_config_from_values_is_strict_and_names_the_field():
    values = params.config_to_values(NodeConfig())
    with pytest.raises(ConfigError, match='tracker.hann_weight'):
        params.config_from_values({**values, 'tracker.hann_weight': 3.0})
    with pytest.raises(ConfigError, match='serch_factor'):
        params.config_from_values({**values, 'tracker.serch_factor': 3.0})
    with pytest.raises(ConfigError, match='kalman.max_dt'):
        params.config_from_values({**values, 'kalman.max_dt': float('nan')})


def test_tunable_updates_are_validated_against_the_whole_section():
    current = params.config_to_values(NodeConfig())
    cfg, reason = params.check_parameter_update(current, {'tracker.hann_weight': 0.2}, True)
    assert reason == '' and cfg.tracker.hann_weight == 0.2
    cfg, reason = params.check_parameter_update(current, {'tracker.lost_confidence': 1.5}, True)
    assert cfg is None and 'lost_confidence' in reason
    # Cross-field rule: max_search_factor must stay >= search_factor.
    cfg, reason = params.check_parameter_update(current, {'tracker.max_search_factor': 2.0},
                                                True)
    assert cfg is None and 'max_search_factor' in reason


def test_configure_time_parameters_are_frozen_only_while_configured():
    current = params.config_to_values(NodeConfig())
    cfg, reason = params.check_parameter_update(current, {'model.checkpoint': '/x.pt'}, True)
    assert cfg is None and 'model.checkpoint' in reason and 'cleanup' in reason
    cfg, reason = params.check_parameter_update(current, {'model.checkpoint': '/x.pt'}, False)
    assert reason == '' and cfg.model.checkpoint == '/x.pt'
    assert params.is_tunable('io.class_id') and not params.is_tunable('io.frame_ring_size')


@pytest.fixture(scope='module')
def rclpy_context():
    context = rclpy.context.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


def _node(context, overrides=()):
    return Node('params_test', context=context, parameter_overrides=list(overrides))


def test_declared_node_reads_back_overrides_and_reports_bad_ones(rclpy_context):
    node = _node(rclpy_context, [
        Parameter('tracker.search_factor', value=5.0),
        Parameter('io.class_id', value='drone'),
        Parameter('tracker.hann_weight', value=7.5),       # out of the descriptor range
        Parameter('kalman.max_dt', value='soon'),           # wrong type
        Parameter('tracker.serch_factor', value=5.0),       # typo
    ])
    try:
        problems = params.declare_node_parameters(node)
        assert set(problems) == {'tracker.hann_weight', 'kalman.max_dt'}
        assert 'tracker.hann_weight' in problems['tracker.hann_weight']
        cfg = params.read_node_config(node)
        assert cfg.tracker.search_factor == 5.0 and cfg.io.class_id == 'drone'
        assert cfg.tracker.hann_weight == NodeConfig().tracker.hann_weight  # kept default
        declared = [s.name for s in params.parameter_specs()]
        assert params.unknown_overrides(node, declared) == ['tracker.serch_factor']
        desc = node.describe_parameter('tracker.search_factor')
        assert desc.floating_point_range[0].to_value == 16.0 and desc.description
    finally:
        node.destroy_node()


def test_guard_rejects_bad_sets_with_a_reason_and_reports_good_ones(rclpy_context):
    node = _node(rclpy_context)
    changes = []
    configured = {'value': True}
    try:
        params.declare_node_parameters(node)
        specs = params.parameter_specs()
        guard = params.ParameterGuard(node, specs, lambda: configured['value'],
                                      lambda cfg, names: changes.append((cfg, names)))
        node.add_on_set_parameters_callback(guard.on_set)
        node.add_post_set_parameters_callback(guard.after_set)

        [res] = node.set_parameters([Parameter('tracker.hann_weight', value=0.3)])
        assert res.successful
        assert changes[-1][0].tracker.hann_weight == 0.3
        assert changes[-1][1] == ['tracker.hann_weight']

        [res] = node.set_parameters([Parameter('tracker.max_search_factor', value=2.0)])
        assert not res.successful and 'max_search_factor' in res.reason
        [res] = node.set_parameters([Parameter('io.frame_ring_size', value=10)])
        assert not res.successful and 'unconfigured' in res.reason
        [res] = node.set_parameters([Parameter('io.frame_ring_size', value=5000)])
        assert not res.successful  # the descriptor range
        assert node.get_parameter('io.frame_ring_size').value == 30

        configured['value'] = False
        [res] = node.set_parameters([Parameter('io.frame_ring_size', value=10)])
        assert res.successful and changes[-1][0].io.frame_ring_size == 10
        [res] = node.set_parameters([Parameter('model.device', value='tpu')])
        assert not res.successful and 'device' in res.reason
    finally:
        node.destroy_node()


# Where the shipped config deliberately differs from the dataclass defaults: the shipped
# model, run on onnxruntime with one thread (shipped.DEFAULT_THREADS; weights/README.md, s. 14)
# and its int8 twin (shipped.default_precision).
DEPLOYMENT_CHOICES = {'model.checkpoint': DEFAULT_CHECKPOINT, 'model.backend': 'onnxruntime',
                      'model.threads': DEFAULT_THREADS,
                      'model.precision': default_precision('onnxruntime')}


def test_config_tracker_yaml_lists_every_parameter_with_its_default():
    import os
    import yaml
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        'config', 'tracker.yaml')
    with open(path) as f:
        doc = yaml.safe_load(f)
    [node_key] = doc
    nested = doc[node_key]['ros__parameters']
    values = {f'{section}.{key}': value for section, fields in nested.items()
              for key, value in fields.items()}
    specs = {s.name: s for s in params.parameter_specs()}
    assert set(values) == set(specs)
    for name, value in values.items():
        spec = specs[name]
        # The YAML type must match the declared ROS type (4 is not a double).
        assert Parameter.Type.from_parameter_value(value) == spec.type_, name
        if name in DEPLOYMENT_CHOICES:
            assert value == DEPLOYMENT_CHOICES[name], name
        else:
            assert value == pytest.approx(spec.default), name
    params.config_from_values(values)   # valid as a whole
