# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Write synthetic sequences to disk (LaSOT / UAV123 layouts) and the CLI.

``vil-tracker-make-synthetic`` (``python -m vil_tracker_ros.data.synthetic_io``).
"""

import argparse
import json
import math
import os
import sys
from typing import Callable, Dict, List, Optional, Sequence as SequenceT

import cv2
import numpy as np

from vil_tracker_ros.config import ConfigError, SyntheticConfig
from vil_tracker_ros.data.synth_assets import SPLIT_PHOTOS, split_photos
from vil_tracker_ros.data.synthetic import generate, SyntheticScene


def _write_jpeg(path: str, rgb: np.ndarray, quality: int) -> None:
    ok = cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                     [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise OSError(f'could not write {path}')


def _box_lines(boxes: np.ndarray) -> str:
    return ''.join(','.join(_fmt(v) for v in row) + '\n' for row in boxes)


def _fmt(v: float) -> str:
    return 'NaN' if not math.isfinite(v) else f'{v:.3f}'.rstrip('0').rstrip('.')


def write_lasot(scene: SyntheticScene, root: str) -> str:
    """Write ``root/<category>/<name>/img/00000001.jpg`` + LaSOT annotation files."""
    seq_dir = os.path.join(root, scene.category, scene.name)
    img_dir = os.path.join(seq_dir, 'img')
    os.makedirs(img_dir, exist_ok=True)
    for i in range(scene.length):
        _write_jpeg(os.path.join(img_dir, f'{i + 1:08d}.jpg'), scene.frame(i),
                    scene.cfg.jpeg_quality)
    # LaSOT keeps a box for fully occluded frames; out-of-view frames get zeros.
    boxes = np.where(scene.out_of_view[:, None], 0.0, scene.gt)
    with open(os.path.join(seq_dir, 'groundtruth.txt'), 'w') as f:
        f.write(_box_lines(boxes))
    for fname, flags in (('full_occlusion.txt', scene.full_occlusion),
                         ('out_of_view.txt', scene.out_of_view)):
        with open(os.path.join(seq_dir, fname), 'w') as f:
            f.write(','.join(str(int(v)) for v in flags) + '\n')
    with open(os.path.join(seq_dir, 'nlp.txt'), 'w') as f:
        f.write(scene.description() + '\n')
    with open(os.path.join(seq_dir, 'synthetic.json'), 'w') as f:
        json.dump(scene.attributes(), f, indent=1)
    return seq_dir


def write_uav123(scene: SyntheticScene, root: str) -> str:
    """Write ``root/data_seq/UAV123/<name>/000001.jpg`` + ``root/anno/UAV123/<name>.txt``."""
    img_dir = os.path.join(root, 'data_seq', 'UAV123', scene.name)
    anno_dir = os.path.join(root, 'anno', 'UAV123')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(anno_dir, exist_ok=True)
    for i in range(scene.length):
        _write_jpeg(os.path.join(img_dir, f'{i + 1:06d}.jpg'), scene.frame(i),
                    scene.cfg.jpeg_quality)
    boxes = np.where(scene.visible[:, None], scene.gt, np.nan)   # UAV123: NaN when invisible
    with open(os.path.join(anno_dir, f'{scene.name}.txt'), 'w') as f:
        f.write(_box_lines(boxes))
    return img_dir


WRITERS: Dict[str, Callable[[SyntheticScene, str], str]] = {
    'lasot': write_lasot, 'uav123': write_uav123}


def write_dataset(cfg: SyntheticConfig, out: str, fmt: str, num: int,
                  progress: bool = False) -> List[str]:
    """Render ``num`` sequences to ``out`` in ``fmt`` ('lasot' or 'uav123')."""
    if fmt not in WRITERS:
        raise ValueError(f'unknown format {fmt!r}; known: {", ".join(WRITERS)}')
    scenes = generate(cfg, num)
    if progress:
        from tqdm import tqdm
        scenes = tqdm(scenes, total=num, desc=f'synthetic {fmt}', file=sys.stderr)
    return [WRITERS[fmt](scene, out) for scene in scenes]


# ----------------------------------------------------------------------- CLI


def main(argv: Optional[SequenceT[str]] = None) -> int:
    """``vil-tracker-make-synthetic``: write a seeded synthetic benchmark to disk."""
    parser = argparse.ArgumentParser(
        prog='vil-tracker-make-synthetic',
        description='Write seeded synthetic tracking sequences in the LaSOT or UAV123 layout.')
    parser.add_argument('--out', required=True, help='output root directory')
    parser.add_argument('--format', choices=sorted(WRITERS), default='lasot')
    parser.add_argument('--split', choices=sorted(SPLIT_PHOTOS), default='heldout',
                        help='photo set and seed stream (train and heldout are disjoint)')
    parser.add_argument('--num', type=int, default=10, help='number of sequences')
    parser.add_argument('--length', type=int, default=100, help='frames per sequence')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                        help='any other SyntheticConfig field (JSON value), repeatable')
    args = parser.parse_args(argv)
    fields = {'split': args.split, 'length': args.length, 'seed': args.seed,
              'frame_width': args.width, 'frame_height': args.height}
    try:
        for item in args.set:
            key, sep, value = item.partition('=')
            if not sep:
                raise ConfigError(f'--set expects KEY=VALUE, got {item!r}')
            try:
                fields[key] = json.loads(value)
            except json.JSONDecodeError:
                fields[key] = value
        from vil_tracker_ros.config import from_dict
        cfg = from_dict(SyntheticConfig, fields)
        split_photos(cfg)
        if args.num < 1:
            raise ConfigError(f'--num must be >= 1, got {args.num}')
    except ConfigError as exc:
        parser.error(str(exc))
    paths = write_dataset(cfg, args.out, args.format, args.num, progress=True)
    print(json.dumps({'out': os.path.abspath(args.out), 'format': args.format,
                      'split': cfg.split, 'sequences': len(paths), 'length': cfg.length}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
