# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""A photo and cut-out library for training, built from files that packages ship.

Sources are Debian packages (desktop wallpapers: real photographs; Tux Paint's stamps:
object cut-outs with alpha) and Python packages (matplotlib's sample photos). Each file
becomes one library entry with its package, path and licence. Entries are split by
source file (a stable hash of package and path) into ``train`` / ``val`` / ``heldout``,
after near-duplicates (the same wallpaper at several resolutions, or in two packages)
are merged, so no picture appears in two splits.

The library lives outside the repository (``~/.cache/vil_tracker_ros/library`` by
default): ``manifest.json`` plus ``photos/*.jpg`` and ``cutouts/*.png``. A Debian package
that is installed is read in place; otherwise its ``.deb`` is fetched with
``apt-get download`` into the cache and unpacked there (no root needed). Building is
``make data`` or ``vil-tracker-fetch-data``: ``library_sources`` says where pictures
come from, ``library_build`` how they are normalised and de-duplicated; this module
reads a built library.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from typing import Optional, Tuple

import cv2
import numpy as np

MANIFEST = 'manifest.json'
MANIFEST_VERSION = 1
SPLITS = ('train', 'val', 'heldout')
KINDS = ('photo', 'cutout')
DEFAULT_CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'vil_tracker_ros')


class LibraryError(RuntimeError):
    """The library cannot be built or read (the message says why and what to do)."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One library picture."""

    ident: str
    kind: str
    file: str            # relative to the library root
    split: str
    package: str
    version: str
    source_path: str     # path inside the package
    licence: str
    width: int
    height: int


# ------------------------------------------------------------------ splitting


def split_of(package: str, source_path: str, fractions: Tuple[float, float] = (0.8, 0.1)
             ) -> str:
    """Stable split of a source file: ``train`` / ``val`` / ``heldout`` by hash."""
    digest = hashlib.sha256(f'{package}:{source_path}'.encode()).digest()
    u = int.from_bytes(digest[:8], 'big') / 2.0 ** 64
    if u < fractions[0]:
        return 'train'
    return 'val' if u < fractions[0] + fractions[1] else 'heldout'


def read_rgba(path: str) -> Optional[np.ndarray]:
    """Read an image as HxWx4 uint8 RGBA (alpha 255 when it has none); None if unreadable."""
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim not in (2, 3):
        return None
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.dtype != np.uint8:
        return None
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGBA)
    if image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGBA)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return None


# ------------------------------------------------------------------ reading


class Library:
    """A built library: entries by kind and split, pictures loaded on demand (cached)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(os.path.expanduser(root))
        path = os.path.join(self.root, MANIFEST)
        if not os.path.isfile(path):
            raise LibraryError(f'no photo library at {self.root} (missing {MANIFEST}); '
                               'build it with `make data` or `vil-tracker-fetch-data`')
        try:
            with open(path, encoding='utf-8') as f:
                manifest = json.load(f)
            if manifest.get('version') != MANIFEST_VERSION:
                raise LibraryError(f'{path}: manifest version {manifest.get("version")}, '
                                   f'expected {MANIFEST_VERSION}; rebuild with `make data`')
            self.entries = [Entry(**e) for e in manifest['entries']]
        except (ValueError, KeyError, TypeError) as exc:
            raise LibraryError(f'{path}: corrupt manifest ({exc}); rebuild with '
                               '`make data`') from exc
        self.by_id = {e.ident: e for e in self.entries}

    def ids(self, kind: str, split: str) -> Tuple[str, ...]:
        return tuple(e.ident for e in self.entries if e.kind == kind and e.split == split)

    def load(self, ident: str) -> np.ndarray:
        """RGB (photo) or RGBA (cut-out) uint8 array, read-only."""
        return _load_cached(self.root, ident, self.by_id[ident].file,
                            self.by_id[ident].kind)


@functools.lru_cache(maxsize=None)
def open_library(root: str) -> Library:
    """Return the library at ``root`` (parsed once per process)."""
    return Library(root)


@functools.lru_cache(maxsize=256)
def _load_cached(root: str, ident: str, file: str, kind: str) -> np.ndarray:
    rgba = read_rgba(os.path.join(root, file))
    if rgba is None:
        raise LibraryError(f'library entry {ident}: cannot read {os.path.join(root, file)}; '
                           'rebuild with `make data`')
    image = np.ascontiguousarray(rgba[..., :3] if kind == 'photo' else rgba)
    image.setflags(write=False)
    return image
