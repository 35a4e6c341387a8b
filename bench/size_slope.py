# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

r"""Measure how well a checkpoint sees the target's size: the size slope alpha.

Search crops are built around the true box with the crop scaled by m (x0.6 .. x1.6), so
the target fills 1/m of its nominal share. With x = log(true size / nominal size) = -log m
and y = log(network size / nominal size), a least-squares fit ``y = alpha * x + log c``
gives the slope alpha (1: the network sees size perfectly; 0: it always answers the
nominal share) and the bias log c. A tracker fed by such a network settles about
``log c / alpha`` away from the true size in log (weights/README.md, session 6).

    python bench/size_slope.py --root runs/val30 --root runs/val_mix2 \
        [--checkpoint runs/library/last.pt --backend torch]

Only crops whose peak lands within half a box of the true centre count (a distractor's
size says nothing about the target's). Prints one JSON line.
"""

import argparse
import json
import math
import sys

import numpy as np

from vil_tracker_ros.config import BackendConfig
from vil_tracker_ros.core.backend import build_backend
from vil_tracker_ros.core.preprocess import crop_region
from vil_tracker_ros.core.search_region import decode_peak
from vil_tracker_ros.data.datasets import load_dataset
from vil_tracker_ros.geometry import cxcywh_to_xywh
from vil_tracker_ros.shipped import DEFAULT_CHECKPOINT, resolve_checkpoint

SCALES = (0.6, 0.75, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6)


def samples(backend, sequences, template_factor: float, search_factor: float,
            frame_step: int):
    """Yield (x, y) pairs: log true / nominal size, log network / nominal size."""
    for seq in sequences:
        init = np.asarray(seq.init_box(), np.float64)
        tcrop, _ = crop_region(seq.frame(0), init, template_factor, backend.template_size)
        template = backend.encode_template(tcrop)
        for i in range(frame_step, len(seq), frame_step):
            gt = np.asarray(seq.gt[i], np.float64)
            if not (seq.visible[i] and np.all(np.isfinite(gt)) and gt[2] > 1 and gt[3] > 1):
                continue
            image = seq.frame(i)
            true_size = math.sqrt(gt[2] * gt[3])
            cx, cy = gt[0] + gt[2] / 2, gt[1] + gt[3] / 2
            for m in SCALES:
                nominal = (gt[0] + gt[2] * (1 - m) / 2, gt[1] + gt[3] * (1 - m) / 2,
                           gt[2] * m, gt[3] * m)
                crop, transform = crop_region(image, nominal, search_factor,
                                              backend.search_size)
                box, _ = decode_peak(backend.track(template, crop, None))   # un-windowed
                px, py, pw, ph = transform.crop_to_image(
                    cxcywh_to_xywh(box * backend.search_size))
                if math.hypot(px + pw / 2 - cx, py + ph / 2 - cy) > 0.5 * true_size:
                    continue
                yield -math.log(m), math.log(math.sqrt(pw * ph) / (true_size * m))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--root', action='append', required=True, help='dataset root (repeatable)')
    p.add_argument('--dataset', default='lasot')
    p.add_argument('--checkpoint', default=DEFAULT_CHECKPOINT)
    p.add_argument('--backend', default='onnxruntime', choices=('torch', 'onnxruntime'))
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--frame-step', type=int, default=20, help='use every Nth frame')
    p.add_argument('--template-factor', type=float, default=2.0)
    p.add_argument('--search-factor', type=float, default=4.0)
    args = p.parse_args(argv)
    backend = build_backend(BackendConfig(checkpoint=resolve_checkpoint(args.checkpoint),
                                          device='cpu', backend=args.backend,
                                          threads=args.threads))
    pairs = []
    for root in args.root:
        pairs.extend(samples(backend, load_dataset(args.dataset, root), args.template_factor,
                             args.search_factor, args.frame_step))
    print(json.dumps({'checkpoint': args.checkpoint, **fit(pairs)}))
    return 0


def fit(pairs) -> dict:
    """Least-squares ``y = alpha * x + log_c`` over (x, y) pairs -> a summary dict."""
    if len(pairs) < 2:
        raise SystemExit(f'only {len(pairs)} usable crops: nothing to fit')
    x, y = np.asarray(pairs, dtype=np.float64).T
    alpha, log_c = np.polyfit(x, y, 1)
    return {'crops': len(pairs), 'alpha': round(float(alpha), 3),
            'log_c': round(float(log_c), 3),
            'fixed_point_log': round(float(log_c / alpha), 3) if alpha > 0 else None,
            'residual_std': round(float(np.std(y - (alpha * x + log_c))), 3)}


if __name__ == '__main__':
    sys.exit(main())
