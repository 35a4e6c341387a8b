# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Build the library: normalise each picture, merge near-duplicates, write the manifest."""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from vil_tracker_ros.data.library import (DEFAULT_CACHE, Entry, KINDS, LibraryError,
                                          MANIFEST, MANIFEST_VERSION, read_rgba, split_of,
                                          SPLITS)
from vil_tracker_ros.data.library_sources import (debian_package_root, DEFAULT_SOURCES,
                                                  license_for, package_license,
                                                  python_package_root, Source,
                                                  source_files)

PHOTO_SHORT_SIDE = 1152       # what synth_assets.world_image needs at 640x480 (1.8 x 640)
CUTOUT_LONG_SIDE = 320
MIN_PHOTO_SIDE = 400
MIN_CUTOUT_SIDE = 24


def average_hash(image: np.ndarray) -> np.ndarray:
    """256-bit average hash (bool array) of an RGB(A) image's content.

    Transparent pixels take the mean of the opaque ones, so the hash tells pictures
    apart by what they show, not by their (often similar) silhouettes. Resized copies
    of one picture differ in a few bits at most (see SAME_PICTURE_BITS).
    """
    grey = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if image.shape[2] == 4:
        opaque = image[..., 3] > 127
        if opaque.any():
            grey[~opaque] = grey[opaque].mean()
    small = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA)
    return (small > small.mean()).flatten()


SAME_PICTURE_BITS = 12   # hashes this close (Hamming) are one picture


def prepare_photo(rgba: np.ndarray) -> Optional[np.ndarray]:
    """Return a photo as RGB, short side at most PHOTO_SHORT_SIDE; None if too small."""
    h, w = rgba.shape[:2]
    if min(h, w) < MIN_PHOTO_SIDE:
        return None
    rgb = rgba[..., :3]
    k = PHOTO_SHORT_SIDE / min(h, w)
    if k < 1:
        rgb = cv2.resize(rgb, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def prepare_cutout(rgba: np.ndarray) -> Optional[np.ndarray]:
    """Crop a cut-out to its alpha, long side at most CUTOUT_LONG_SIDE; None if unfit.

    Unfit: no real transparency (a rectangle, not a cut-out), or almost nothing opaque.
    """
    alpha = rgba[..., 3]
    ys, xs = np.nonzero(alpha > 127)
    if len(xs) == 0:
        return None
    crop = rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape[:2]
    coverage = float((crop[..., 3] > 127).mean())
    if min(h, w) < MIN_CUTOUT_SIDE or not 0.2 <= coverage <= 0.97:
        return None
    k = CUTOUT_LONG_SIDE / max(h, w)
    if k < 1:
        crop = cv2.resize(crop, (max(1, round(w * k)), max(1, round(h * k))),
                          interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)


# ------------------------------------------------------------------ building


@dataclasses.dataclass
class BuildReport:
    entries: List[Entry]
    sources: List[dict]

    def counts(self) -> Dict[str, Dict[str, int]]:
        table = {k: dict.fromkeys(SPLITS, 0) for k in KINDS}
        for e in self.entries:
            table[e.kind][e.split] += 1
        return table


def build_library(out: str, sources: Sequence[Source] = DEFAULT_SOURCES,
                  cache: str = DEFAULT_CACHE, download: bool = True,
                  progress: bool = False) -> BuildReport:
    """Build (or rebuild) the library in ``out``; unavailable sources are reported, not fatal.

    Raises LibraryError when no source at all could be read.
    """
    os.makedirs(os.path.join(out, 'photos'), exist_ok=True)
    os.makedirs(os.path.join(out, 'cutouts'), exist_ok=True)
    kept: List[list] = []       # [kind, hash, pixels, entry, picture] per picture
    report_sources = []
    for source in sources:
        try:
            if source.origin == 'python':
                root, version = python_package_root(source.package)
            else:
                root, version = debian_package_root(source.package, cache, download)
        except LibraryError as exc:
            report_sources.append({'package': source.package, 'status': 'missing',
                                   'reason': str(exc)})
            continue
        stanzas, fallback = package_license(root, source)
        files = source_files(root, source)
        if progress:
            from tqdm import tqdm
            files_iter = tqdm(files, desc=source.package, leave=False)
        else:
            files_iter = files
        used = 0
        for rel in files_iter:
            rgba = read_rgba(os.path.join(root, rel))
            if rgba is None:
                continue
            picture = prepare_photo(rgba) if source.kind == 'photo' else prepare_cutout(rgba)
            if picture is None:
                continue
            digest = average_hash(picture)
            pixels = rgba.shape[0] * rgba.shape[1]
            same = next((k for k in kept if k[0] == source.kind
                         and np.count_nonzero(k[1] != digest) <= SAME_PICTURE_BITS), None)
            if same is not None and same[2] >= pixels:
                continue   # a copy of a picture we have at equal or higher resolution
            ident = hashlib.sha256(f'{source.package}:{rel}'.encode()).hexdigest()[:16]
            ext = '.jpg' if source.kind == 'photo' else '.png'
            entry = Entry(ident=ident, kind=source.kind,
                          file=os.path.join(source.kind + 's', ident + ext),
                          split=split_of(source.package, rel), package=source.package,
                          version=version, source_path=rel,
                          licence=license_for(stanzas, rel, fallback),
                          width=int(picture.shape[1]), height=int(picture.shape[0]))
            if same is not None:
                same[1:] = [digest, pixels, entry, picture]
            else:
                kept.append([source.kind, digest, pixels, entry, picture])
            used += 1
        report_sources.append({'package': source.package, 'version': version,
                               'status': 'ok', 'files': len(files), 'entries': used})
    entries = []
    for _, _, _, entry, picture in kept:
        path = os.path.join(out, entry.file)
        if entry.kind == 'photo':
            cv2.imwrite(path, cv2.cvtColor(picture, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
        else:
            cv2.imwrite(path, cv2.cvtColor(picture, cv2.COLOR_RGBA2BGRA))
        entries.append(entry)
    if not entries:
        reasons = '; '.join(s.get('reason', s['package'] + ': no usable file')
                            for s in report_sources)
        raise LibraryError(f'no picture could be read from any source ({reasons})')
    entries.sort(key=lambda e: (e.kind, e.package, e.source_path))
    keep = {e.file for e in entries}
    for kind in KINDS:
        for path in glob.glob(os.path.join(out, kind + 's', '*')):
            if os.path.relpath(path, out) not in keep:
                os.remove(path)   # left over from an earlier build
    manifest = {'version': MANIFEST_VERSION, 'sources': report_sources,
                'entries': [dataclasses.asdict(e) for e in entries]}
    tmp = os.path.join(out, MANIFEST + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(out, MANIFEST))
    return BuildReport(entries, report_sources)
