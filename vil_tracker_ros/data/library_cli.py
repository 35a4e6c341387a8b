# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""``vil-tracker-fetch-data`` (``make data``): build the training photo/cut-out library.

    vil-tracker-fetch-data [--out DIR] [--cache DIR] [--skip PKG ...] [--no-download]

Prints what each source gave and the per-split counts; a source that cannot be had is
named with the reason, and the rest is still built.
"""

import argparse
import os
import sys
from typing import Optional, Sequence

from vil_tracker_ros.data.library import DEFAULT_CACHE, LibraryError, SPLITS
from vil_tracker_ros.data.library_build import build_library
from vil_tracker_ros.data.library_sources import DEFAULT_SOURCES


def default_library_dir() -> str:
    return os.path.join(DEFAULT_CACHE, 'library')


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='vil-tracker-fetch-data', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=default_library_dir(),
                        help='library directory (default: %(default)s)')
    parser.add_argument('--cache', default=DEFAULT_CACHE,
                        help='where .deb files are downloaded and unpacked')
    parser.add_argument('--skip', action='append', default=[], metavar='PKG',
                        help='leave a source package out (repeatable)')
    parser.add_argument('--no-download', action='store_true',
                        help='use only installed packages and .deb files already cached')
    args = parser.parse_args(argv)
    known = {s.package for s in DEFAULT_SOURCES}
    unknown = sorted(set(args.skip) - known)
    if unknown:
        parser.error(f'--skip: unknown source(s) {", ".join(unknown)}; '
                     f'known: {", ".join(sorted(known))}')
    sources = [s for s in DEFAULT_SOURCES if s.package not in args.skip]
    try:
        report = build_library(args.out, sources, cache=args.cache,
                               download=not args.no_download, progress=sys.stderr.isatty())
    except LibraryError as exc:
        print(f'vil-tracker-fetch-data: {exc}', file=sys.stderr)
        return 1
    for src in report.sources:
        if src['status'] == 'ok':
            print(f'  {src["package"]:<30} {src["version"]:<28} '
                  f'{src["entries"]:>5} of {src["files"]} files used')
        else:
            print(f'  {src["package"]:<30} MISSING: {src["reason"]}')
    counts = report.counts()
    print(f'library {args.out}: ' + '; '.join(
        f'{kind}s ' + ' / '.join(f'{split} {counts[kind][split]}' for split in SPLITS)
        for kind in counts))
    return 0


if __name__ == '__main__':
    sys.exit(main())
