# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Plot a run's ``metrics.csv`` (losses and IoU against steps) to a PNG.

``python -m vil_tracker_ros.train.plot_metrics runs/x/metrics.csv out.png``
"""

from __future__ import annotations

import csv
import sys
from typing import Dict, List, Optional

import numpy as np

LOSSES = ('loss', 'focal', 'giou', 'l1')


def read_metrics(path: str) -> Dict[str, np.ndarray]:
    """Columns of the CSV as float arrays (empty cells become NaN)."""
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f'{path}: no metric rows')
    return {k: np.array([float(r[k]) if r[k] not in ('', None) else np.nan for r in rows])
            for k in rows[0]}


def _smooth(y: np.ndarray, n: int) -> np.ndarray:
    if len(y) < n or n <= 1:
        return y
    kernel = np.ones(n) / n
    return np.convolve(np.pad(y, (n - 1, 0), mode='edge'), kernel, mode='valid')


def plot_metrics(csv_path: str, png_path: str, title: str = '', smooth: int = 5) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    m = read_metrics(csv_path)
    step = m['step']
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for k in LOSSES:
        if k in m and np.isfinite(m[k]).any():
            ax1.plot(step, _smooth(m[k], smooth), label=k if k != 'loss' else 'total')
    ax1.set_xlabel('optimiser step')
    ax1.set_ylabel(f'loss (moving mean of {smooth} log rows)')
    ax1.set_yscale('log')
    ax1.grid(True, alpha=0.3)
    ax1.legend()
    ax2.plot(step, _smooth(m['iou'], smooth), color='tab:green')
    ax2.set_xlabel('optimiser step')
    ax2.set_ylabel('train IoU of the predicted box')
    ax2.set_ylim(0, 1)
    ax2.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print('usage: python -m vil_tracker_ros.train.plot_metrics METRICS.csv OUT.png [TITLE]',
              file=sys.stderr)
        return 2
    plot_metrics(args[0], args[1], args[2] if len(args) == 3 else '')
    return 0


if __name__ == '__main__':
    sys.exit(main())
