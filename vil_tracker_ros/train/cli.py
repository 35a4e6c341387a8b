# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``vil-tracker-train --config config/train_<name>.yaml [--set section.key=value ...]``.

The YAML file mirrors ``TrainConfig`` (unknown keys are errors). Its ``model``
section may name a registry variant (``model: {variant: vil_cpu}``); the
variant's fields are the base and any other keys in the section override them.
``--set`` values are parsed as YAML (``--set optim.lr=1e-3``,
``--set data.datasets='[{name: synthetic}]'``). Under ``torchrun`` every
process runs this same command.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Sequence

from vil_tracker_ros.config import ConfigError, from_dict, to_dict, TrainConfig
from vil_tracker_ros.config.loading import apply_override
import yaml


def resolve_model_section(data: Dict[str, Any]) -> Dict[str, Any]:
    """Expand ``model: {variant: NAME, ...}`` into the variant's full field set."""
    out = copy.deepcopy(data)
    model = out.get('model')
    if model is None:
        return out
    if not isinstance(model, dict):
        raise ConfigError('model: expected a mapping')
    variant = model.get('variant')
    if variant is not None:
        from vil_tracker_ros.model.registry import get_config, list_variants
        if variant not in list_variants():
            raise ConfigError(f'model.variant: unknown variant {variant!r}; known: '
                              f'{", ".join(list_variants())}')
        base = to_dict(get_config(variant))
        base.update(model)
        out['model'] = base
    return out


def load_config(path: Optional[str], overrides: Sequence[str] = ()) -> TrainConfig:
    """Read the YAML file, apply ``--set`` overrides and build a validated TrainConfig."""
    data: Dict[str, Any] = {}
    if path:
        if not os.path.isfile(path):
            raise ConfigError(f'--config: {path} does not exist')
        with open(path, 'r', encoding='utf-8') as f:
            try:
                loaded = yaml.safe_load(f)
            except yaml.YAMLError as exc:
                raise ConfigError(f'{path}: not valid YAML: {exc}') from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f'{path}: the top level must be a mapping of sections')
        data = loaded or {}
    for assignment in overrides:
        apply_override(data, assignment)
    return from_dict(TrainConfig, resolve_model_section(data))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog='vil-tracker-train',
        description='Train the ViL tracker (one process, or one per device under torchrun).')
    p.add_argument('--config', help='YAML file with TrainConfig sections '
                   '(e.g. config/train_synthetic.yaml)')
    p.add_argument('--set', dest='overrides', action='append', default=[],
                   metavar='SECTION.KEY=VALUE', help='override one config value (repeatable)')
    p.add_argument('--print-config', action='store_true',
                   help='print the resolved configuration as YAML and exit')
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as exc:
        print(f'vil-tracker-train: config error: {exc}', file=sys.stderr)
        return 2
    if args.print_config:
        yaml.safe_dump(to_dict(cfg), sys.stdout, sort_keys=False)
        return 0
    rank = int(os.environ.get('RANK', '0'))
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    from vil_tracker_ros.train.trainer import Trainer, TrainError
    try:
        trainer = Trainer(cfg)
        trainer.run()
    except (TrainError, ConfigError) as exc:
        print(f'vil-tracker-train: {exc}', file=sys.stderr)
        return 1
    if rank == 0:
        print(f'vil-tracker-train: {trainer.step} steps, {trainer.elapsed:.0f} s of steps; '
              f'checkpoint {os.path.join(cfg.run.out_dir, "last.pt")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
