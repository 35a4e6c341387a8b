# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The photo/cut-out library (``make data``) on a tiny .deb fixture built by the test."""

import json
import os
import shutil
import subprocess

import cv2
import numpy as np
import pytest
import skimage.data

from vil_tracker_ros.config import SyntheticConfig
from vil_tracker_ros.data import library as lib
from vil_tracker_ros.data import library_build, library_cli, library_sources
from vil_tracker_ros.data.synth_assets import split_cutouts, split_photos
from vil_tracker_ros.data.synthetic import make_scene

PACKAGE = 'vil-tracker-test-pictures'
COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2026 Test
License: CC0-1.0

Files: backgrounds/coffee.jpg
Copyright: 2026 Test
License: MIT
"""

pytestmark = pytest.mark.skipif(shutil.which('dpkg-deb') is None,
                                reason='dpkg-deb is not installed (the library reads .deb files)')


def _cutout(seed: int, opaque: bool = False) -> np.ndarray:
    """A distinct object: a patch of a photo under an elliptic alpha of its own size."""
    rng = np.random.default_rng(seed)
    photo = skimage.data.chelsea() if seed % 2 else skimage.data.coffee()
    h, w = int(rng.integers(50, 90)), int(rng.integers(50, 90))
    y, x = int(rng.integers(0, photo.shape[0] - h)), int(rng.integers(0, photo.shape[1] - w))
    rgba = np.zeros((h + 10, w + 10, 4), np.uint8)
    rgba[5:-5, 5:-5, :3] = photo[y:y + h, x:x + w]
    if opaque:
        rgba[..., 3] = 255
    else:
        axes = (w // 2 - int(rng.integers(0, 10)), h // 2 - int(rng.integers(0, 10)))
        alpha = np.zeros(rgba.shape[:2], np.uint8)
        cv2.ellipse(alpha, ((w + 10) // 2, (h + 10) // 2), axes, float(rng.uniform(0, 90)),
                    0, 360, 255, -1)
        rgba[..., 3] = alpha
    return rgba


def _build_deb(tmp_path) -> str:
    """A .deb with 3 usable photos (+ a resized copy and one too small) and cut-outs."""
    root = tmp_path / 'pkg'
    photos = root / 'usr/share/backgrounds'
    stamps = root / 'usr/share/stamps'
    doc = root / 'usr/share/doc' / PACKAGE
    for d in (photos, stamps, doc, root / 'DEBIAN'):
        d.mkdir(parents=True)
    (root / 'DEBIAN/control').write_text(
        f'Package: {PACKAGE}\nVersion: 1.2-3\nArchitecture: all\n'
        'Maintainer: Test <test@example.com>\nDescription: test pictures\n')
    (doc / 'copyright').write_text(COPYRIGHT)
    astronaut = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(photos / 'astronaut.jpg'), astronaut)
    cv2.imwrite(str(photos / 'astronaut_small.png'), cv2.resize(astronaut, (450, 450)))
    cv2.imwrite(str(photos / 'coffee.jpg'), cv2.cvtColor(skimage.data.coffee(),
                                                         cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(photos / 'rocket.jpg'), cv2.cvtColor(skimage.data.rocket(),
                                                         cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(photos / 'tiny.jpg'), astronaut[:100, :100])       # below MIN_PHOTO_SIDE
    (photos / 'broken.jpg').write_bytes(b'not a jpeg')
    for i in range(12):
        cv2.imwrite(str(stamps / f'thing{i}.png'), cv2.cvtColor(_cutout(i), cv2.COLOR_RGBA2BGRA))
    cv2.imwrite(str(stamps / 'square.png'), cv2.cvtColor(_cutout(99, opaque=True),
                                                         cv2.COLOR_RGBA2BGRA))
    debs = tmp_path / 'cache' / 'debs'
    debs.mkdir(parents=True)
    deb = debs / f'{PACKAGE}_1.2-3_all.deb'
    subprocess.run(['dpkg-deb', '--root-owner-group', '--build', str(root), str(deb)],
                   check=True, capture_output=True, timeout=60)
    return str(tmp_path / 'cache')


SOURCES = (library_sources.Source(PACKAGE, 'photo', ('usr/share/backgrounds/*',)),
           library_sources.Source(PACKAGE, 'cutout', ('usr/share/stamps/*.png',)))


def test_builds_a_split_deduplicated_library_with_licences(tmp_path):
    cache = _build_deb(tmp_path)
    out = str(tmp_path / 'library')
    report = library_build.build_library(out, SOURCES, cache=cache, download=False)
    photos = [e for e in report.entries if e.kind == 'photo']
    cutouts = [e for e in report.entries if e.kind == 'cutout']
    # astronaut_small is the same picture as astronaut (kept once, at the higher
    # resolution); tiny is too small, broken unreadable.
    assert sorted(os.path.basename(e.source_path) for e in photos) == [
        'astronaut.jpg', 'coffee.jpg', 'rocket.jpg']
    assert len(cutouts) == 12                            # the opaque square is no cut-out
    assert {e.version for e in report.entries} == {'1.2-3'}
    by_name = {os.path.basename(e.source_path): e for e in photos}
    assert by_name['coffee.jpg'].licence == 'MIT'
    assert by_name['astronaut.jpg'].licence == 'CC0-1.0'
    for e in report.entries:
        assert e.split == lib.split_of(e.package, e.source_path)
        image = cv2.imread(os.path.join(out, e.file), cv2.IMREAD_UNCHANGED)
        assert image is not None and (image.shape[1], image.shape[0]) == (e.width, e.height)
        if e.kind == 'cutout':
            assert image.shape[2] == 4 and max(image.shape[:2]) <= library_build.CUTOUT_LONG_SIDE
            assert 0 < (image[..., 3] > 127).mean() < 1
        else:
            assert min(image.shape[:2]) <= library_build.PHOTO_SHORT_SIDE
    manifest = json.loads((tmp_path / 'library' / lib.MANIFEST).read_text())
    assert manifest['sources'][0]['status'] == 'ok'

    library = lib.Library(out)
    for kind in lib.KINDS:
        ids = [i for split in lib.SPLITS for i in library.ids(kind, split)]
        assert sorted(ids) == sorted(e.ident for e in report.entries if e.kind == kind)
    rgba = library.load(cutouts[0].ident)
    assert rgba.shape[2] == 4 and not rgba.flags.writeable


def test_split_is_stable_and_by_source_file():
    assert lib.split_of('pkg', 'a/b.jpg') == lib.split_of('pkg', 'a/b.jpg')
    splits = [lib.split_of('pkg', f'f{i}.jpg') for i in range(2000)]
    share = {s: splits.count(s) / len(splits) for s in lib.SPLITS}
    assert 0.75 < share['train'] < 0.85 and 0.07 < share['val'] < 0.13
    assert 0.07 < share['heldout'] < 0.13


def test_missing_sources_are_reported_and_nothing_at_all_is_an_error(tmp_path):
    cache = _build_deb(tmp_path)
    absent = library_sources.Source('vil-tracker-no-such-package', 'photo', ('*',))
    report = library_build.build_library(str(tmp_path / 'lib'), SOURCES + (absent,),
                                         cache=cache, download=False)
    missing = [s for s in report.sources if s['status'] == 'missing']
    assert [s['package'] for s in missing] == ['vil-tracker-no-such-package']
    assert 'vil-tracker-no-such-package' in missing[0]['reason']
    with pytest.raises(lib.LibraryError, match='no picture could be read'):
        library_build.build_library(str(tmp_path / 'empty'), (absent,), cache=cache,
                                    download=False)


@pytest.mark.skipif(shutil.which('apt-get') is None, reason='apt-get is not installed')
def test_a_package_apt_cannot_find_gives_a_clear_message(tmp_path):
    with pytest.raises(lib.LibraryError) as err:
        library_sources.debian_package_root('vil-tracker-no-such-package', str(tmp_path),
                                            download=True)
    msg = str(err.value)
    assert 'apt-get download vil-tracker-no-such-package' in msg and '--skip' in msg


def test_reading_a_missing_or_corrupt_library_says_how_to_build_it(tmp_path):
    with pytest.raises(lib.LibraryError, match='make data'):
        lib.Library(str(tmp_path))
    (tmp_path / lib.MANIFEST).write_text('{"version": 1, "entries": [{"bogus": 1}]}')
    with pytest.raises(lib.LibraryError, match='corrupt manifest'):
        lib.Library(str(tmp_path))


def test_cli_rejects_unknown_skip_and_reports_counts(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit):
        library_cli.main(['--skip', 'not-a-source'])
    assert 'not-a-source' in capsys.readouterr().err
    cache = _build_deb(tmp_path)
    monkeypatch.setattr(library_cli, 'DEFAULT_SOURCES', SOURCES)
    rc = library_cli.main(['--out', str(tmp_path / 'lib'), '--cache', cache,
                           '--no-download'])
    assert rc == 0
    out = capsys.readouterr().out
    assert PACKAGE in out and 'cutouts train' in out


def test_synthetic_scenes_use_the_library_split_with_exact_cutout_boxes(tmp_path):
    cache = _build_deb(tmp_path)
    out = str(tmp_path / 'library')
    report = library_build.build_library(out, SOURCES, cache=cache, download=False)
    train_cutouts = {e.ident for e in report.entries
                     if e.kind == 'cutout' and e.split == 'train'}
    cfg = SyntheticConfig(split='train', library=out, cutouts=1.0, frame_width=160,
                          frame_height=120, length=6, distractors=0, occlusion=0.0,
                          out_of_view=0.0, motion_blur=0.0, noise=0.0, perspective=0.0)
    assert set(split_cutouts(cfg)) == train_cutouts
    assert {p for p in split_photos(cfg) if p.startswith('lib:')} == {
        'lib:' + e.ident for e in report.entries if e.kind == 'photo' and e.split == 'train'}
    for index in range(3):
        scene = make_scene(cfg, index)
        assert scene.target_shape == 'cutout'
        assert scene.target_source[len('lib:'):] in train_cutouts
        for i in range(scene.length):
            mask = scene.target_mask(i)
            ys, xs = np.nonzero(mask > 0.5)
            x, y, w, h = scene.gt[i]
            assert abs(xs.min() - x) <= 2 and abs(xs.max() + 1 - (x + w)) <= 2
            assert abs(ys.min() - y) <= 2 and abs(ys.max() + 1 - (y + h)) <= 2
    val = SyntheticConfig(split='val', library=out)
    assert not set(split_cutouts(val)) & train_cutouts
