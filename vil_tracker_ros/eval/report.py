# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Evaluation outputs: per-sequence CSV, summary.json and success/precision plots."""

from __future__ import annotations

import csv
import json
import math
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence as SequenceT, Tuple

import numpy as np

from vil_tracker_ros.eval import metrics

PER_SEQUENCE_COLUMNS = ('sequence', 'frames', 'scored_frames', 'success_auc', 'precision_20',
                        'norm_precision', 'ao', 'sr50', 'sr75', 'fps')


def _clean(v: Any) -> Any:
    """JSON-safe value: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.ndarray):
        return [_clean(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    return v


def write_per_sequence_csv(path: str, rows: SequenceT[Mapping[str, Any]]) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=PER_SEQUENCE_COLUMNS, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ('' if _clean(row.get(k)) is None else _clean(row.get(k)))
                             for k in PER_SEQUENCE_COLUMNS})


def summary_dict(summary: metrics.Summary, fps: float, extra: Optional[Dict] = None) -> Dict:
    """Collect the headline numbers plus the curves, JSON-safe."""
    out: Dict[str, Any] = dict(summary.scalars())
    out.update(fps=fps, sequences=summary.sequences)
    out['curves'] = {
        'iou_thresholds': metrics.IOU_THRESHOLDS, 'success': summary.success,
        'precision_thresholds_px': metrics.PRECISION_THRESHOLDS,
        'precision': summary.precision,
        'norm_precision_thresholds': metrics.NORM_PRECISION_THRESHOLDS,
        'norm_precision': summary.norm_precision,
    }
    if extra:
        out.update(extra)
    return _clean(out)


def summary_from_json(path: str) -> Tuple[str, metrics.Summary]:
    """Read a ``summary.json`` back as (label, Summary) to plot runs side by side."""
    with open(path) as f:
        data = json.load(f)
    try:
        curves = data['curves']
        label = f"{data.get('tracker', '?')} ({os.path.basename(os.path.dirname(path))})"

        def arr(key: str) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in curves[key]], np.float64)

        summary = metrics.Summary(
            sequences=int(data['sequences']), success=arr('success'),
            precision=arr('precision'), norm_precision=arr('norm_precision'),
            ao=float(data['ao'] if data['ao'] is not None else np.nan),
            sr50=float(data['sr50'] if data['sr50'] is not None else np.nan),
            sr75=float(data['sr75'] if data['sr75'] is not None else np.nan))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f'{path}: not a vil-tracker-eval summary ({exc})') from exc
    return label, summary


def write_summary(path: str, data: Mapping[str, Any]) -> None:
    with open(path, 'w') as f:
        json.dump(_clean(dict(data)), f, indent=2)


def _plot(path: str, x: np.ndarray, curves: Mapping[str, np.ndarray], title: str,
          xlabel: str, ylabel: str, marker: Optional[float] = None) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    for label, y in curves.items():
        ax.plot(x, y, linewidth=2, label=label)
    if marker is not None:
        ax.axvline(marker, color='grey', linestyle=':', linewidth=1)
    ax.set_xlim(float(x[0]), float(x[-1]))
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc='lower left' if 'Success' in title else 'lower right')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_plots(out_dir: str, summaries: Mapping[str, metrics.Summary],
                title_suffix: str = '') -> List[str]:
    """Success, precision and normalised-precision plots (one curve per tracker)."""
    paths = []
    success = {f'{name} [{s.success_auc:.3f}]': s.success for name, s in summaries.items()}
    paths.append(os.path.join(out_dir, 'success_plot.png'))
    _plot(paths[-1], metrics.IOU_THRESHOLDS, success, f'Success plots of OPE{title_suffix}',
          'Overlap threshold', 'Success rate')
    precision = {f'{name} [{s.precision_20:.3f}]': s.precision for name, s in summaries.items()}
    paths.append(os.path.join(out_dir, 'precision_plot.png'))
    _plot(paths[-1], metrics.PRECISION_THRESHOLDS, precision,
          f'Precision plots of OPE{title_suffix}', 'Location error threshold (px)',
          'Precision', marker=metrics.PRECISION_AT)
    norm = {f'{name} [{s.norm_precision_02:.3f}]': s.norm_precision
            for name, s in summaries.items()}
    paths.append(os.path.join(out_dir, 'norm_precision_plot.png'))
    _plot(paths[-1], metrics.NORM_PRECISION_THRESHOLDS, norm,
          f'Normalized precision plots of OPE{title_suffix}', 'Normalized location error',
          'Normalized precision', marker=metrics.NORM_PRECISION_AT)
    return paths
