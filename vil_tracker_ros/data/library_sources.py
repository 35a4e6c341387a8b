# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Where the library's pictures come from: packages, their files and licences.

A Debian package that is installed is read in place; otherwise its ``.deb`` is fetched
with ``apt-get download`` into the cache and unpacked there (no root needed).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
import os
from typing import Dict, List, Optional, Sequence, Tuple

from vil_tracker_ros.data.library import LibraryError

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp')


@dataclasses.dataclass(frozen=True)
class Source:
    """Files of one package: ``patterns`` are globs relative to the package's root."""

    package: str
    kind: str                          # photo | cutout
    patterns: Tuple[str, ...]
    exclude: Tuple[str, ...] = ()      # fnmatch patterns on the relative path
    origin: str = 'debian'             # debian | python
    one_per_dir: bool = False          # a directory holds one picture at several sizes


OPENCLIPART_OBJECTS = ('animals', 'food', 'transportation', 'people', 'tools', 'office',
                       'plants', 'buildings', 'electronics', 'containers', 'recreation')

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
    Source('lxqt-themes', 'photo', ('usr/share/lxqt/wallpapers/*',),
           exclude=('*logo*', '*origami*')),
    Source('tuxpaint-stamps-default', 'cutout', ('usr/share/tuxpaint/stamps/**/*.png',),
           exclude=('*/stamps/symbols/alphabets/*', '*/stamps/symbols/math/*')),
    # Openclipart's object categories (drawn objects with alpha); icons, symbols, shapes,
    # flags and road signs are left out: they are not things a camera follows.
    Source('openclipart-png', 'cutout',
           tuple(f'usr/share/openclipart/png/{c}/**/*.png' for c in OPENCLIPART_OBJECTS),
           exclude=('*/aiga-symbols/*', '*/roadsigns/*', '*/stickmen/*', '*/smilies/*',
                    '*/recreation/games/*')),
    Source('matplotlib', 'photo', ('mpl-data/sample_data/*.jpg',), origin='python'),
)


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


def package_license(root: str, source: Source) -> Tuple[list, str]:
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
    # No DEP-5 stanza for every file: point at the package's own statement.
    fallback = next((name for globs, name in stanzas if '*' in globs),
                    f'see /usr/share/doc/{source.package}/copyright')
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
