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
``make data`` or ``vil-tracker-fetch-data``; see :mod:`vil_tracker_ros.data.library_cli`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import glob
import hashlib
import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

MANIFEST = 'manifest.json'
MANIFEST_VERSION = 1
SPLITS = ('train', 'val', 'heldout')
KINDS = ('photo', 'cutout')
DEFAULT_CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'vil_tracker_ros')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp')
PHOTO_SHORT_SIDE = 1152       # what synth_assets.world_image needs at 640x480 (1.8 x 640)
CUTOUT_LONG_SIDE = 320
MIN_PHOTO_SIDE = 400
MIN_CUTOUT_SIDE = 24


class LibraryError(RuntimeError):
    """The library cannot be built or read (the message says why and what to do)."""


@dataclasses.dataclass(frozen=True)
class Source:
    """Files of one package: ``patterns`` are globs relative to the package's root."""

    package: str
    kind: str                          # photo | cutout
    patterns: Tuple[str, ...]
    exclude: Tuple[str, ...] = ()      # fnmatch patterns on the relative path
    origin: str = 'debian'             # debian | python
    one_per_dir: bool = False          # a directory holds one picture at several sizes


DEFAULT_SOURCES: Tuple[Source, ...] = (
    Source('gnome-backgrounds', 'photo', ('usr/share/backgrounds/gnome/*',)),
    Source('plasma-workspace-wallpapers', 'photo',
           ('usr/share/wallpapers/*/contents/images/*',), one_per_dir=True),
    Source('mate-backgrounds', 'photo', ('usr/share/backgrounds/mate/*/*',)),
    Source('lomiri-wallpapers', 'photo', ('usr/share/backgrounds/*',)),
    Source('lomiri-wallpapers-16.04', 'photo', ('usr/share/backgrounds/*',)),
    Source('lomiri-wallpapers-20.04', 'photo', ('usr/share/backgrounds/*',)),
    Source('ukui-wallpapers', 'photo', ('usr/share/backgrounds/*',)),
    Source('sway-backgrounds', 'photo', ('usr/share/backgrounds/sway/*',)),
    Source('tuxpaint-stamps-default', 'cutout', ('usr/share/tuxpaint/stamps/**/*.png',),
           exclude=('*/stamps/symbols/alphabets/*', '*/stamps/symbols/math/*')),
    Source('matplotlib', 'photo', ('mpl-data/sample_data/*.jpg',), origin='python'),
)


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


# ------------------------------------------------------------------ licences


def parse_copyright(text: str) -> List[Tuple[Tuple[str, ...], str]]:
    """(file globs, licence name) per stanza of a Debian copyright file (DEP-5 or not)."""
    stanzas: List[Tuple[Tuple[str, ...], str]] = []
    files: Tuple[str, ...] = ()
    for block in text.split('\n\n'):
        fields: Dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (' ', '\t') and key is not None:
                fields[key] += ' ' + line.strip()
            elif ':' in line:
                key, _, value = line.partition(':')
                key = key.strip().lower()
                fields[key] = value.strip()
        if 'files' in fields:
            files = tuple(fields['files'].split())
            if 'license' in fields:
                stanzas.append((files, fields['license'].split(' ')[0] or 'unknown'))
    return stanzas


def license_for(stanzas: Sequence[Tuple[Tuple[str, ...], str]], path: str,
                fallback: str) -> str:
    """Return the licence of ``path`` (an installed path).

    That is the last DEP-5 stanza whose glob matches a suffix of it, since source paths
    differ from installed ones.
    """
    parts = path.split('/')
    suffixes = ['/'.join(parts[i:]) for i in range(len(parts))]
    found = fallback
    for globs, name in stanzas:
        if any(fnmatch.fnmatchcase(s, g) for g in globs for s in suffixes if g != '*'):
            found = name
    return found


# ------------------------------------------------------------------ obtaining packages


def _run(cmd: Sequence[str], cwd: Optional[str] = None) -> Tuple[int, str]:
    import subprocess
    try:
        proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        return 127, f'{cmd[0]}: command not found'
    except subprocess.TimeoutExpired:
        return 124, f'{" ".join(cmd)}: timed out'
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _installed_version(package: str) -> Optional[str]:
    rc, out = _run(['dpkg-query', '-W', '-f=${Status}\t${Version}', package])
    if rc != 0 or not out.startswith('install ok installed'):
        return None
    return out.split('\t', 1)[1]


def debian_package_root(package: str, cache: str, download: bool = True
                        ) -> Tuple[str, str]:
    """Return (root directory holding the package's files, version).

    An installed package is read in place; otherwise ``cache/debs/<package>_*.deb`` is
    used, fetched with ``apt-get download`` if missing, and unpacked into
    ``cache/extract/<package>``.
    """
    version = _installed_version(package)
    if version is not None:
        return '/', version
    debs_dir = os.path.join(cache, 'debs')
    os.makedirs(debs_dir, exist_ok=True)
    debs = sorted(glob.glob(os.path.join(debs_dir, f'{package}_*.deb')))
    if not debs and download:
        rc, out = _run(['apt-get', 'download', package], cwd=debs_dir)
        if rc != 0:
            last = out.splitlines()[-1] if out else f'exit {rc}'
            raise LibraryError(f'{package}: not installed and `apt-get download {package}` '
                               f'failed ({last}); run `apt-get update` first, install it '
                               f'with `apt-get install {package}`, or leave it out '
                               f'with --skip {package}')
        debs = sorted(glob.glob(os.path.join(debs_dir, f'{package}_*.deb')))
    if not debs:
        raise LibraryError(f'{package}: not installed and no {package}_*.deb in {debs_dir}')
    deb = debs[-1]
    rc, version = _run(['dpkg-deb', '-f', deb, 'Version'])
    if rc != 0:
        raise LibraryError(f'{package}: {deb} is not a readable .deb ({version})')
    root = os.path.join(cache, 'extract', package)
    stamp = os.path.join(root, '.extracted-' + os.path.basename(deb))
    if not os.path.exists(stamp):
        os.makedirs(root, exist_ok=True)
        rc, out = _run(['dpkg-deb', '-x', deb, root])
        if rc != 0:
            raise LibraryError(f'{package}: dpkg-deb -x {deb} failed ({out})')
        open(stamp, 'w').close()
    return root, version


def python_package_root(package: str) -> Tuple[str, str]:
    """(directory of an importable Python package, its distribution version)."""
    import importlib
    import importlib.metadata
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise LibraryError(f'{package}: Python package not importable ({exc})') from exc
    try:
        version = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        version = 'unknown'
    return os.path.dirname(os.path.abspath(module.__file__)), version


def _package_license(root: str, source: Source) -> Tuple[list, str]:
    if source.origin == 'python':
        import importlib.metadata
        try:
            meta = importlib.metadata.metadata(source.package)
            name = meta.get('License-Expression') or meta.get('License') or 'unknown'
        except importlib.metadata.PackageNotFoundError:
            name = 'unknown'
        return [], name.splitlines()[0][:60]
    path = os.path.join(root, 'usr/share/doc', source.package, 'copyright')
    if not os.path.isfile(path):
        return [], 'unknown (no copyright file)'
    with open(path, encoding='utf-8', errors='replace') as f:
        stanzas = parse_copyright(f.read())
    fallback = next((name for globs, name in stanzas if '*' in globs), 'see copyright file')
    return stanzas, fallback


def source_files(root: str, source: Source) -> List[str]:
    """Image files of ``source`` under ``root``, relative to it, sorted.

    With ``one_per_dir`` only the largest file of each directory is kept (the others are
    the same picture cropped to other screen sizes, which must not land in two splits).
    """
    found = set()
    for pattern in source.patterns:
        for path in glob.glob(os.path.join(root, pattern), recursive=True):
            rel = os.path.relpath(path, root)
            if (os.path.isfile(path) and rel.lower().endswith(IMAGE_EXTENSIONS)
                    and not any(fnmatch.fnmatchcase(rel, x) for x in source.exclude)):
                found.add(rel)
    if source.one_per_dir:
        largest: Dict[str, str] = {}
        for rel in sorted(found):
            d = os.path.dirname(rel)
            if d not in largest or (os.path.getsize(os.path.join(root, rel))
                                    > os.path.getsize(os.path.join(root, largest[d]))):
                largest[d] = rel
        found = set(largest.values())
    return sorted(found)


# ------------------------------------------------------------------ normalising pictures


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
        stanzas, fallback = _package_license(root, source)
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
