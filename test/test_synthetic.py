# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Synthetic sequences: determinism, split disjointness, exact ground truth, writers, CLI."""

import json

import numpy as np
import pytest

from vil_tracker_ros.config import ConfigError, SyntheticConfig
from vil_tracker_ros.core.preprocess import crop_transform, warp_crop
from vil_tracker_ros.data import synth_assets, synthetic, synthetic_io
from vil_tracker_ros.data.datasets import load_dataset

SMALL = {'frame_width': 160, 'frame_height': 120, 'length': 40}


def _cfg(**kw):
    fields = dict(SMALL)
    fields.update(kw)
    return SyntheticConfig(**fields)


def _mask_box(mask):
    ys, xs = np.nonzero(mask > 0.5)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float)


def test_same_seed_same_sequence_other_seed_differs():
    a = synthetic.make_scene(_cfg(seed=3), 2)
    b = synthetic.make_scene(_cfg(seed=3), 2)
    np.testing.assert_array_equal(a.gt, b.gt)
    np.testing.assert_array_equal(a.frame(7), b.frame(7))
    c = synthetic.make_scene(_cfg(seed=4), 2)
    assert not np.allclose(a.gt[1:], c.gt[1:], equal_nan=True)
    frame = a.frame(0)
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8


def test_splits_use_disjoint_photos_and_seed_streams():
    assert not set(synth_assets.SPLIT_PHOTOS['train']) & set(synth_assets.SPLIT_PHOTOS['heldout'])
    for split in ('train', 'heldout'):
        allowed = set(synth_assets.SPLIT_PHOTOS[split]) | set(synth_assets.TEXTURE_KINDS)
        for scene in synthetic.generate(_cfg(split=split, length=5), 8):
            assert scene.background in synth_assets.SPLIT_PHOTOS[split]
            assert scene.target_source in allowed
    train = synthetic.make_scene(_cfg(split='train', seed=0), 0)
    held = synthetic.make_scene(_cfg(split='heldout', seed=0), 0)
    assert not np.allclose(train.gt, held.gt, equal_nan=True)
    with pytest.raises(ConfigError, match='photos'):
        synthetic.make_scene(_cfg(split='heldout', photos=('astronaut',)), 0)
    with pytest.raises(ConfigError, match='split'):
        _cfg(split='test').validate()
    for name in synth_assets.SPLIT_PHOTOS['train'] + synth_assets.SPLIT_PHOTOS['heldout']:
        photo = synth_assets.load_photo(name)       # all load offline
        assert photo.ndim == 3 and photo.shape[2] == 3


def test_ground_truth_is_the_rendered_target_extent():
    cfg = _cfg(length=30, camera_rotation=30.0, target_rotation=60.0, perspective=0.15,
               shapes=0.7, out_of_view=0.5, occlusion=0.5)
    errors = []
    for scene in synthetic.generate(cfg, 6):
        assert scene.visible[0] and scene.occlusion_ratio[0] == 0
        for i in range(scene.length):
            mask = scene.target_mask(i)
            if scene.out_of_view[i]:
                assert np.isnan(scene.gt[i]).all()
                assert mask.sum() < 2.0, 'out-of-view target still has pixels in the frame'
                continue
            x, y, w, h = scene.gt[i]
            assert 0 <= x and 0 <= y and x + w <= 160 + 1e-9 and y + h <= 120 + 1e-9
            box = _mask_box(mask)
            errors.append(np.abs(box - [x, y, x + w, y + h]))
    errors = np.concatenate(errors)
    # Edges agree to the anti-aliasing (a sharp polygon tip can lose ~1 px).
    assert errors.max() <= 2.0, errors.max()
    assert errors.mean() <= 0.5, errors.mean()


def test_full_occlusion_hides_the_target_and_out_of_view_happens():
    cfg = _cfg(length=80, occlusion=1.0, out_of_view=1.0)
    occluded = oov = 0
    for scene in synthetic.generate(cfg, 6):
        oov += int(scene.out_of_view.sum())
        for i in np.nonzero(scene.full_occlusion)[0]:
            occluded += 1
            seen = scene.target_mask(i) * (1.0 - scene.occluder_mask(i))
            assert seen.sum() < 3.0, (scene.name, i, seen.sum())
            assert not scene.visible[i]
        partial = np.nonzero((scene.occlusion_ratio > 0.05) & (scene.occlusion_ratio < 0.95))[0]
        for i in partial[:3]:
            mask = scene.target_mask(i)
            hidden = (mask * scene.occluder_mask(i)).sum() / mask.sum()
            assert hidden == pytest.approx(scene.occlusion_ratio[i], abs=0.08)
    assert occluded > 0 and oov > 0


def test_effects_can_be_switched_off():
    plain = _cfg(noise=0.0, motion_blur=0.0, illumination=0.0, distractors=0, occlusion=0.0,
                 out_of_view=0.0)
    scene = synthetic.make_scene(plain, 1)
    assert scene.visible.all()
    assert scene.attributes()['distractors'] == 0 and not scene.attributes()['occluder']
    noisy = synthetic.make_scene(_cfg(noise=0.05, motion_blur=0.0, illumination=0.0,
                                      distractors=0, occlusion=0.0, out_of_view=0.0), 1)
    diff = noisy.frame(3).astype(float) - scene.frame(3).astype(float)
    assert 8 < diff.std() < 18                   # 0.05 * 255 = 12.75


def test_render_crop_matches_cropping_the_frame():
    scene = synthetic.make_scene(_cfg(noise=0.0, motion_blur=0.0), 0)
    for i in (0, 10, 25):
        box = scene.gt[i] if scene.visible[i] else scene.gt[0]
        transform = crop_transform(box, 4.0, 64)
        direct = scene.render_crop(i, transform).astype(float)
        via_frame = warp_crop(scene.frame(i), transform).astype(float)
        assert np.abs(direct - via_frame).mean() < 4.0


def test_lasot_and_uav123_writers_round_trip(tmp_path):
    cfg = _cfg(length=20, occlusion=1.0, out_of_view=1.0)
    scenes = list(synthetic.generate(cfg, 2))
    lasot_root, uav_root = tmp_path / 'lasot', tmp_path / 'uav'
    for scene in scenes:
        synthetic_io.write_lasot(scene, str(lasot_root))
        synthetic_io.write_uav123(scene, str(uav_root))
    for name in ('lasot', 'uav123'):
        root = lasot_root if name == 'lasot' else uav_root
        seqs = {s.name: s for s in load_dataset(name, str(root))}
        assert sorted(seqs) == sorted(s.name for s in scenes)
        for scene in scenes:
            s = seqs[scene.name]
            np.testing.assert_array_equal(s.visible, scene.visible)
            vis = scene.visible
            np.testing.assert_allclose(s.gt[vis], scene.gt[vis], atol=1e-3)
            frame = s.frame(5)
            assert frame.shape == (120, 160, 3)
            assert np.abs(frame.astype(float) - scene.frame(5)).mean() < 6   # JPEG
    uav_anno = (uav_root / 'anno' / 'UAV123' / f'{scenes[0].name}.txt').read_text().splitlines()
    invisible = np.nonzero(~scenes[0].visible)[0]
    assert all(uav_anno[i] == 'NaN,NaN,NaN,NaN' for i in invisible)


def test_in_memory_sequences():
    seqs = synthetic.make_sequences(_cfg(length=12), 2, start=5)
    assert [s.attributes['index'] for s in seqs] == [5, 6]
    assert seqs[0].frame(3).shape == (120, 160, 3)
    assert seqs[0].attributes['full_occlusion'].shape == (12,)


def test_cli_writes_dataset_and_rejects_bad_options(tmp_path, capsys):
    out = tmp_path / 'set'
    rc = synthetic_io.main(['--out', str(out), '--format', 'uav123', '--split', 'train',
                            '--num', '2', '--length', '6', '--seed', '9', '--width', '96',
                            '--height', '64', '--set', 'distractors=0'])
    assert rc == 0
    line = json.loads(capsys.readouterr().out.strip())
    assert line['sequences'] == 2 and line['split'] == 'train'
    assert len(load_dataset('uav123', str(out))) == 2
    with pytest.raises(SystemExit):
        synthetic_io.main(['--out', str(out), '--set', 'bogus=1'])
    assert 'bogus' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        synthetic_io.main(['--out', str(out), '--split', 'heldout', '--set',
                           'photos=["coffee"]'])
    assert 'coffee' in capsys.readouterr().err


def test_target_aspect_sets_the_spread_of_photo_target_shapes():
    rigid = {'cutouts': 0.0, 'shapes': 0.0, 'target_deform': 0.0, 'target_rotation': 0.0,
             'camera_rotation': 0.0, 'perspective': 0.0, 'out_of_view': 0.0,
             'occlusion': 0.0, 'target_scale': (0.3, 0.3)}

    def log_aspects(spread):
        gt = [synthetic.make_scene(_cfg(**rigid, target_aspect=spread), i).gt[0]
              for i in range(12)]
        return np.array([np.log(w / h) for _, _, w, h in gt])

    assert np.abs(log_aspects(0.0)).max() < 0.15            # square up to pixel rounding
    wide = log_aspects(1.5)
    assert np.abs(wide).max() > 0.7 and np.abs(wide).max() < 1.5 + 0.15
    with pytest.raises(ConfigError, match='target_aspect'):
        _cfg(target_aspect=-0.1).validate()
