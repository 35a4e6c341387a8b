# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Named model variants, all plain ``ModelConfig`` values.

- ``vil_s``: the seed's ViL-S tracker (d=384, 24 blocks, 128/256 crops).
- ``vil_t``: ViL-T width (d=192, 24 blocks, 128/256 crops).
- ``vil_cpu``: the CPU default: small enough for a <= 25 ms track step on 2 cores.
- ``vil_cpu_lean``: ``vil_cpu`` without the TMoE (a quarter of its FLOPs), a student that
  starts from a ``vil_cpu`` checkpoint's blocks (``config/train_student.yaml``).
- ``vil_tiny``: a few-thousand-parameter network for tests.
"""

from typing import Any, Dict, List

from vil_tracker_ros.config import from_dict, ModelConfig, to_dict

CPU_DEFAULT_VARIANT = 'vil_cpu'

_VARIANTS: Dict[str, Dict[str, Any]] = {
    'vil_s': {},  # ModelConfig defaults are the seed's configuration
    'vil_t': {'embed_dim': 192, 'film_hidden': 112, 'head_channels': 96,
              'uncertainty_channels': 64},
    'vil_cpu': {'embed_dim': 192, 'depth': 8, 'template_size': 64, 'search_size': 128,
                'scan': 'template_first', 'film_every': 2, 'film_hidden': 96,
                'head_channels': 64, 'head_layers': 3, 'uncertainty_channels': 64,
                'tmoe_hidden_ratio': 2.0, 'tmoe_shared_hidden_ratio': 1.0},
    'vil_tiny': {'embed_dim': 32, 'depth': 4, 'template_size': 32, 'search_size': 64,
                 'tmoe_hidden_ratio': 2.0, 'tmoe_shared_hidden_ratio': 1.0, 'film_every': 2,
                 'film_hidden': 16, 'head_channels': 16, 'head_layers': 2,
                 'uncertainty_channels': 8},
}
# A student differs from its teacher only where it is leaner (model.checkpoint.shrink_from).
_VARIANTS['vil_cpu_lean'] = {**_VARIANTS['vil_cpu'], 'tmoe_blocks': 0}


def list_variants() -> List[str]:
    return sorted(_VARIANTS)


def get_config(name: str, **overrides: Any) -> ModelConfig:
    """Return the ModelConfig of variant ``name`` with optional field overrides (strict)."""
    if name not in _VARIANTS:
        raise ValueError(f'unknown model variant {name!r}; known: {", ".join(list_variants())}')
    fields = to_dict(ModelConfig())
    fields.update(_VARIANTS[name])
    fields['variant'] = name
    fields.update(overrides)
    return from_dict(ModelConfig, fields)
