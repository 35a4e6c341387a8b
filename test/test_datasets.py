# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Benchmark readers, each on a tiny fixture written in the benchmark's real layout."""

import os

import cv2
import numpy as np
import pytest

from vil_tracker_ros.data.datasets import DatasetError, load_dataset, read_boxes
from vil_tracker_ros.data.sequence import Sequence

RED_RGB = (255, 0, 0)


def _images(folder, names, colour=RED_RGB):
    os.makedirs(folder, exist_ok=True)
    img = np.zeros((6, 8, 3), np.uint8)
    img[:] = colour[::-1]                       # files hold BGR
    for name in names:
        assert cv2.imwrite(os.path.join(folder, name), img)


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def _boxes(n, sep=','):
    return ''.join(sep.join(str(v) for v in (i, 2 * i, 3, 4)) + '\n' for i in range(1, n + 1))


def test_lasot_flags_and_split(tmp_path):
    seq = tmp_path / 'cat' / 'cat-1'
    _images(str(seq / 'img'), [f'{i:08d}.jpg' for i in range(1, 6)])
    _write(str(seq / 'groundtruth.txt'), '1,2,3,4\n1,2,3,4\n1,2,3,4\n0,0,0,0\n1,2,3,4\n')
    _write(str(seq / 'full_occlusion.txt'), '0,0,1,0,0\n')
    _write(str(seq / 'out_of_view.txt'), '0,0,0,1,0\n')
    _write(str(seq / 'nlp.txt'), 'a cat\n')
    other = tmp_path / 'dog' / 'dog-3'
    _images(str(other / 'img'), ['00000001.jpg', '00000002.jpg'])
    _write(str(other / 'groundtruth.txt'), '1,1,2,2\n1,1,2,2\n')
    seqs = load_dataset('lasot', str(tmp_path))
    assert [s.name for s in seqs] == ['cat-1', 'dog-3']
    s = seqs[0]
    assert len(s) == 5 and s.dataset == 'lasot'
    assert s.visible.tolist() == [True, True, False, False, True]
    assert np.isnan(s.gt[3]).all()              # 0,0,0,0 for out-of-view
    assert s.gt[2].tolist() == [1, 2, 3, 4]     # occluded frames keep their box
    assert s.attributes['category'] == 'cat' and s.attributes['nlp'] == 'a cat'
    frame = s.frame(0)
    assert frame.shape == (6, 8, 3) and frame.dtype == np.uint8
    assert frame[0, 0, 0] > 200 and frame[0, 0, 2] < 50      # RGB order
    _write(str(tmp_path / 'testing_set.txt'), 'dog-3\nbird-1\n')
    assert [s.name for s in load_dataset('lasot', str(tmp_path), 'test')] == ['dog-3']
    with pytest.raises(DatasetError, match='split'):
        load_dataset('lasot', str(tmp_path), 'val')


def test_lasot_flag_length_mismatch_is_an_error(tmp_path):
    seq = tmp_path / 'cat' / 'cat-1'
    _images(str(seq / 'img'), ['00000001.jpg', '00000002.jpg'])
    _write(str(seq / 'groundtruth.txt'), '1,2,3,4\n1,2,3,4\n')
    _write(str(seq / 'full_occlusion.txt'), '0,0,0\n')
    with pytest.raises(DatasetError, match='full_occlusion'):
        load_dataset('lasot', str(tmp_path))


def test_uav123_nan_rows_and_split_parts(tmp_path):
    data = tmp_path / 'data_seq' / 'UAV123'
    anno = tmp_path / 'anno' / 'UAV123'
    _images(str(data / 'car1'), [f'{i:06d}.jpg' for i in range(1, 5)])
    _write(str(anno / 'car1.txt'), '1,2,3,4\nNaN,NaN,NaN,NaN\n1,2,3,4\n2,2,3,4\n')
    _images(str(data / 'bird1'), [f'{i:06d}.jpg' for i in range(1, 11)])
    _write(str(anno / 'bird1_1.txt'), _boxes(3))
    _write(str(anno / 'bird1_2.txt'), _boxes(4))
    _write(str(tmp_path / 'configSeqs.m'),
           "seqs={struct('name','bird1_1','path','D:\\data_seq\\UAV123\\bird1\\',"
           "'startFrame',1,'endFrame',3,'nz',6,'ext','jpg','init_rect',[0,0,0,0]),...\n"
           "struct('name','bird1_2','path','D:\\data_seq\\UAV123\\bird1\\',"
           "'startFrame',6,'endFrame',9,'nz',6,'ext','jpg','init_rect',[0,0,0,0])};\n")
    seqs = {s.name: s for s in load_dataset('uav123', str(tmp_path))}
    assert sorted(seqs) == ['bird1_1', 'bird1_2', 'car1']
    car = seqs['car1']
    assert car.visible.tolist() == [True, False, True, True]
    assert np.isnan(car.gt[1]).all()
    part = seqs['bird1_2']
    assert [os.path.basename(f) for f in part.frames] == [f'{i:06d}.jpg' for i in range(6, 10)]
    assert part.attributes['start_frame'] == 6
    _write(str(anno / 'bird1_2.txt'), _boxes(5))      # now disagrees with 6..9
    with pytest.raises(DatasetError, match='bird1_2'):
        load_dataset('uav123', str(tmp_path))


def test_dtb70(tmp_path):
    _images(str(tmp_path / 'Animal1' / 'img'), [f'{i:05d}.jpg' for i in range(1, 4)])
    _write(str(tmp_path / 'Animal1' / 'groundtruth_rect.txt'), _boxes(3))
    (s,) = load_dataset('dtb70', str(tmp_path))
    assert s.name == 'Animal1' and s.gt[2].tolist() == [3, 6, 3, 4]
    assert s.visible.all()


def test_visdrone(tmp_path):
    _images(str(tmp_path / 'sequences' / 'uav0000001_00000_s'),
            [f'img{i:07d}.jpg' for i in range(1, 4)])
    _write(str(tmp_path / 'annotations' / 'uav0000001_00000_s.txt'),
           '1,2,3,4\n0,0,0,0\n5,6,7,8\n')
    (s,) = load_dataset('visdrone', str(tmp_path))
    assert s.name == 'uav0000001_00000_s'
    assert s.visible.tolist() == [True, False, True]
    assert s.gt[2].tolist() == [5, 6, 7, 8]


def _got_seq(split_dir, name, n, absence=None, cover=None, full=True):
    seq = os.path.join(split_dir, name)
    _images(seq, [f'{i:08d}.jpg' for i in range(1, n + 1)])
    _write(os.path.join(seq, 'groundtruth.txt'), _boxes(n if full else 1))
    if absence is not None:
        _write(os.path.join(seq, 'absence.label'), ''.join(f'{a}\n' for a in absence))
    if cover is not None:
        _write(os.path.join(seq, 'cover.label'), ''.join(f'{c}\n' for c in cover))
        _write(os.path.join(seq, 'cut_by_image.label'), '0\n' * n)
        _write(os.path.join(seq, 'meta_info.ini'),
               '[METAINFO]\nurl: http://x\nresolution: (8, 6)\nobject_class: cat\n')


def test_got10k_splits_labels_and_test_first_box(tmp_path):
    val = str(tmp_path / 'val')
    _got_seq(val, 'GOT-10k_Val_000002', 4, absence=[0, 0, 1, 0], cover=[8, 0, 0, 5])
    _got_seq(val, 'GOT-10k_Val_000001', 3, absence=[0, 0, 0], cover=[8, 8, 8])
    _write(os.path.join(val, 'list.txt'), 'GOT-10k_Val_000002\nGOT-10k_Val_000001\n')
    test = str(tmp_path / 'test')
    _got_seq(test, 'GOT-10k_Test_000001', 5, full=False)
    _write(os.path.join(test, 'list.txt'), 'GOT-10k_Test_000001\n')

    seqs = load_dataset('got10k', str(tmp_path), 'val')
    assert [s.name for s in seqs] == ['GOT-10k_Val_000002', 'GOT-10k_Val_000001']  # list order
    s = seqs[0]
    assert s.visible.tolist() == [True, False, False, True]    # cover 0 or absent
    assert s.attributes['cover'].tolist() == [8, 0, 0, 5]
    assert s.attributes['meta']['object_class'] == 'cat'
    # The split folder itself works as the root too.
    assert len(load_dataset('got-10k', val)) == 2
    (t,) = load_dataset('got10k', str(tmp_path), 'test')
    assert t.attributes['first_frame_only'] is True
    assert t.visible.tolist() == [True, False, False, False, False]
    assert np.isnan(t.gt[1:]).all()
    with pytest.raises(DatasetError, match='split'):
        load_dataset('got10k', str(tmp_path), 'bogus')


def test_otb_separators_multi_target_and_frame_ranges(tmp_path):
    _images(str(tmp_path / 'Basketball' / 'img'), [f'{i:04d}.jpg' for i in range(1, 4)])
    _write(str(tmp_path / 'Basketball' / 'groundtruth_rect.txt'), _boxes(3, sep='\t'))
    _images(str(tmp_path / 'Car4' / 'img'), [f'{i:04d}.jpg' for i in range(1, 4)])
    _write(str(tmp_path / 'Car4' / 'groundtruth_rect.txt'), _boxes(3, sep=' '))
    _images(str(tmp_path / 'Jogging' / 'img'), [f'{i:04d}.jpg' for i in range(1, 3)])
    _write(str(tmp_path / 'Jogging' / 'groundtruth_rect.1.txt'), _boxes(2))
    _write(str(tmp_path / 'Jogging' / 'groundtruth_rect.2.txt'), _boxes(2))
    _images(str(tmp_path / 'Human4' / 'img'), [f'{i:04d}.jpg' for i in range(1, 3)])
    _write(str(tmp_path / 'Human4' / 'groundtruth_rect.1.txt'), '')
    _write(str(tmp_path / 'Human4' / 'groundtruth_rect.2.txt'), _boxes(2))
    _images(str(tmp_path / 'Football1' / 'img'), [f'{i:04d}.jpg' for i in range(1, 81)])
    _write(str(tmp_path / 'Football1' / 'groundtruth_rect.txt'), _boxes(74, sep=','))
    seqs = {s.name: s for s in load_dataset('otb', str(tmp_path))}
    assert sorted(seqs) == ['Basketball', 'Car4', 'Football1', 'Human4', 'Jogging.1',
                            'Jogging.2']
    assert seqs['Basketball'].gt[1].tolist() == [2, 4, 3, 4]
    assert seqs['Car4'].gt[2].tolist() == [3, 6, 3, 4]
    assert len(seqs['Football1']) == 74
    assert os.path.basename(seqs['Football1'].frames[-1]) == '0074.jpg'
    _write(str(tmp_path / 'Car4' / 'groundtruth_rect.txt'), _boxes(2))
    with pytest.raises(DatasetError, match='Car4'):
        load_dataset('otb', str(tmp_path))


def test_trackingnet_numeric_frame_order_and_test_split(tmp_path):
    _images(str(tmp_path / 'TRAIN_0' / 'frames' / 'vidA'), [f'{i}.jpg' for i in range(12)])
    _write(str(tmp_path / 'TRAIN_0' / 'anno' / 'vidA.txt'), _boxes(12))
    _images(str(tmp_path / 'TRAIN_1' / 'frames' / 'vidB'), [f'{i}.jpg' for i in range(2)])
    _write(str(tmp_path / 'TRAIN_1' / 'anno' / 'vidB.txt'), _boxes(2))
    _images(str(tmp_path / 'TEST' / 'frames' / 'vidC'), [f'{i}.jpg' for i in range(3)])
    _write(str(tmp_path / 'TEST' / 'anno' / 'vidC.txt'), '1,2,3,4\n')
    train = load_dataset('trackingnet', str(tmp_path))
    assert [s.name for s in train] == ['vidA', 'vidB']
    names = [os.path.basename(f) for f in train[0].frames]
    assert names[:3] == ['0.jpg', '1.jpg', '2.jpg'] and names[-1] == '11.jpg'
    assert [s.name for s in load_dataset('trackingnet', str(tmp_path), 'TRAIN_1')] == ['vidB']
    (test,) = load_dataset('trackingnet', str(tmp_path), 'test')
    assert test.visible.tolist() == [True, False, False]


def test_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match='unknown dataset'):
        load_dataset('imagenet', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='not found'):
        load_dataset('otb', str(tmp_path / 'missing'))
    with pytest.raises(DatasetError, match='no <seq>/groundtruth_rect.txt'):
        load_dataset('dtb70', str(tmp_path))
    bad = tmp_path / 'bad.txt'
    bad.write_text('1,2,3,4\n1,2,x,4\n')
    with pytest.raises(DatasetError, match='bad.txt:2'):
        read_boxes(str(bad))


def test_sequence_validation():
    with pytest.raises(ValueError, match='shape'):
        Sequence(name='s', gt=np.zeros((3, 3)), loader=lambda i: None)
    with pytest.raises(ValueError, match='loader'):
        Sequence(name='s', gt=np.zeros((3, 4)))
    s = Sequence(name='s', gt=np.array([[np.nan] * 4, [1, 1, 2, 2]]),
                 loader=lambda i: np.zeros((4, 4, 3), np.uint8))
    assert s.visible.tolist() == [False, True]
    with pytest.raises(ValueError, match='first frame'):
        s.init_box()
    with pytest.raises(IndexError):
        s.frame(2)
