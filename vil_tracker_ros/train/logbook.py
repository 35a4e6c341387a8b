# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The run's metrics log.

``metrics.csv`` (appended across resumes), ``config.yaml`` and TensorBoard scalars;
only the main process writes.
"""

import csv
import os
from typing import Dict

from vil_tracker_ros.config import to_dict, TrainConfig

CSV_FIELDS = ('step', 'epoch', 'lr', 'loss', 'focal', 'giou', 'l1', 'nll', 'contrastive',
              'distill', 'iou', 'difficulty', 'film', 'samples_per_s', 'data_fraction',
              'elapsed_s')


class MetricsLog:
    """Start with ``start()``, write rows with ``log(row)``, ``close()`` at the end."""

    def __init__(self, cfg: TrainConfig, out_dir: str, enabled: bool) -> None:
        self.cfg = cfg
        self.out_dir = out_dir
        self.enabled = enabled
        self._csv = None
        self._csv_file = None
        self._tb = None

    def start(self) -> None:
        if not self.enabled:
            return
        path = os.path.join(self.out_dir, 'metrics.csv')
        new = not os.path.exists(path) or os.path.getsize(path) == 0
        self._csv_file = open(path, 'a', newline='', encoding='utf-8')
        self._csv = csv.DictWriter(self._csv_file, fieldnames=CSV_FIELDS,
                                   extrasaction='ignore')
        if new:
            self._csv.writeheader()
        import yaml
        with open(os.path.join(self.out_dir, 'config.yaml'), 'w', encoding='utf-8') as f:
            yaml.safe_dump(to_dict(self.cfg), f, sort_keys=False)
        if self.cfg.run.tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self._tb = SummaryWriter(os.path.join(self.out_dir, 'tb'))

    def log(self, row: Dict[str, float]) -> None:
        if self._csv is None:
            return
        self._csv.writerow({k: row.get(k, '') for k in CSV_FIELDS})
        self._csv_file.flush()
        if self._tb is not None:
            for k, v in row.items():
                if k not in ('step', 'epoch'):
                    self._tb.add_scalar(f'train/{k}', v, row['step'])
            self._tb.flush()

    def close(self) -> None:
        if self._csv is not None:
            self._csv_file.close()
            self._csv = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
