# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""vil-tracker-model-report output shape."""

import json

from vil_tracker_ros.model import report

COMPONENTS = {'patch_embed', 'blocks', 'tmoe_blocks', 'film', 'center_head',
              'uncertainty_head'}


def test_json_shape(capsys):
    assert report.main(['--json', '--variants', 'vil_tiny']) == 0
    data = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert list(data) == ['vil_tiny']
    rep = data['vil_tiny']
    assert {'params_total', 'params', 'gflops', 'fp16_mb'} <= set(rep)
    assert set(rep['params']) == COMPONENTS
    assert rep['params_total'] == sum(rep['params'].values())
    assert rep['gflops'] > 0 and abs(rep['gmacs'] * 2 - rep['gflops']) < 1e-3
    assert abs(rep['fp16_mb'] - rep['params_total'] * 2 / 2 ** 20) < 0.01


def test_text_output(capsys):
    assert report.main(['--variants', 'vil_tiny']) == 0
    text = capsys.readouterr().out
    assert 'vil_tiny' in text and 'GMACs' in text and 'uncertainty_head' in text
