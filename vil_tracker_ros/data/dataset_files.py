# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Shared helpers of the benchmark readers: annotation files, image lists, checks."""

from __future__ import annotations

import os
import re
from typing import List, Tuple

import numpy as np

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
_SPLIT_TOKENS = re.compile(r'[,\s;]+')


class DatasetError(ValueError):
    """A dataset folder or annotation file is missing or malformed; the message says which."""


# ------------------------------------------------------------------ file helpers


def read_boxes(path: str) -> np.ndarray:
    """Read an (N, 4) box file: one box per line, comma/tab/space separated, NaN allowed."""
    rows = []
    with open(path, 'r') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            tokens = [t for t in _SPLIT_TOKENS.split(line) if t]
            try:
                values = [float(t) for t in tokens]
            except ValueError as exc:
                raise DatasetError(f'{path}:{lineno}: not numbers: {line!r}') from exc
            if len(values) < 4:
                raise DatasetError(f'{path}:{lineno}: expected 4 numbers, got {len(values)}')
            rows.append(values[:4])
    if not rows:
        raise DatasetError(f'{path}: no boxes')
    return np.asarray(rows, np.float64)


def read_flags(path: str) -> np.ndarray:
    """Read integer flags written one per line or comma-separated on one line."""
    with open(path, 'r') as f:
        tokens = [t for t in _SPLIT_TOKENS.split(f.read().strip()) if t]
    try:
        return np.asarray([int(float(t)) for t in tokens], np.int64)
    except ValueError as exc:
        raise DatasetError(f'{path}: expected integer flags') from exc


def numeric_key(path: str) -> Tuple[int, object]:
    stem = os.path.splitext(os.path.basename(path))[0]
    digits = re.findall(r'\d+', stem)
    return (0, int(digits[-1])) if digits else (1, stem)


def list_images(folder: str) -> List[str]:
    """Image files in ``folder``, ordered by the frame number in their names."""
    if not os.path.isdir(folder):
        raise DatasetError(f'image folder not found: {folder}')
    files = [os.path.join(folder, f) for f in os.listdir(folder)
             if f.lower().endswith(IMAGE_EXTENSIONS)]
    if not files:
        raise DatasetError(f'no images in {folder}')
    return sorted(files, key=numeric_key)


def read_list(path: str) -> List[str]:
    with open(path, 'r') as f:
        return [line.strip() for line in f if line.strip()]


def require_dir(root: str) -> str:
    if not os.path.isdir(root):
        raise FileNotFoundError(f'dataset root not found: {root}')
    return root


def boxes_for_frames(name: str, boxes: np.ndarray, num_frames: int,
                     attributes: dict) -> np.ndarray:
    """Pad first-frame-only annotations with NaN; any other length mismatch is an error."""
    if len(boxes) == num_frames:
        return boxes
    if len(boxes) == 1 and num_frames > 1:
        attributes['first_frame_only'] = True
        padded = np.full((num_frames, 4), np.nan)
        padded[0] = boxes[0]
        return padded
    raise DatasetError(f'{name}: {len(boxes)} annotation rows for {num_frames} frames')


def flags_for_frames(name: str, flags: np.ndarray, num_frames: int, what: str) -> np.ndarray:
    if len(flags) != num_frames:
        raise DatasetError(f'{name}: {what} has {len(flags)} entries for {num_frames} frames')
    return flags
