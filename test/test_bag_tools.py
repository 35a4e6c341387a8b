# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Bag tooling: vil-tracker-make-bag -> vil-tracker-bag-eval (offline and live) on rosbags."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from vil_tracker_ros.config import SyntheticConfig
from vil_tracker_ros.data.synthetic_io import write_dataset
from vil_tracker_ros.eval import bag_io, bag_replay, make_bag
from vil_tracker_ros.eval.metrics import success_curve
from vil_tracker_ros.eval.sequence_dir import load_sequence_dir
from vil_tracker_ros.ros.conversions import rgb_to_image_msg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY_KEYS = {'success_auc', 'precision_20', 'frames', 'latency_ms_p50', 'dropped'}
FRAMES = 8
HIDDEN = (3, 5)
UPSTREAM_DETECTION2D_HASH = \
    'RIHS01_0d12b69df5c593b3455b7346fac8205437a7d4bcb09b9e0e0b2dde787ded38ea'


@pytest.fixture(scope='module')
def datasets(tmp_path_factory):
    """One small synthetic sequence in the LaSOT layout and one in the UAV123 layout."""
    root = tmp_path_factory.mktemp('datasets')
    cfg = SyntheticConfig(split='heldout', length=12, frame_width=96, frame_height=72,
                          seed=1, occlusion=0.0, out_of_view=0.0)
    lasot = write_dataset(cfg, str(root / 'lasot'), 'lasot', 1)[0]
    uav = write_dataset(cfg, str(root / 'uav'), 'uav123', 1)[0]
    # Frames 3 and 5 lose their ground truth the way each benchmark marks it.
    flags = ['1' if i in HIDDEN else '0' for i in range(12)]
    with open(os.path.join(lasot, 'full_occlusion.txt'), 'w') as f:
        f.write(','.join(flags) + '\n')
    anno = os.path.join(root, 'uav', 'anno', 'UAV123', os.path.basename(uav) + '.txt')
    with open(anno) as f:
        rows = f.read().splitlines()
    with open(anno, 'w') as f:
        f.write(''.join(('NaN,NaN,NaN,NaN' if i in HIDDEN else row) + '\n'
                        for i, row in enumerate(rows)))
    return {'lasot': lasot, 'uav123': uav}


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A tiny random-weight model: the tests check plumbing, not accuracy."""
    import torch
    from vil_tracker_ros.model import build_model, get_config, save_checkpoint
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('weights') / 'tiny.pt'
    save_checkpoint(path, build_model(get_config('vil_tiny')))
    return str(path)


def run_cli(main, argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    return json.loads(lines[0])


def make(datasets, fmt, out, capsys, *extra):
    return run_cli(make_bag.main, ['--sequence', datasets[fmt], '--format', fmt,
                                   '--out', str(out), '--max-frames', str(FRAMES), *extra],
                   capsys)


def video_frames(path):
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


class OracleTracker:
    """Answers with the dataset's own box and checks every image it is given."""

    def __init__(self, sequence):
        self.sequence = sequence
        self.index = -1
        self.stamps = []

    def _result(self, rgb, stamp):
        self.index += 1
        expected = self.sequence.frame(self.index)
        assert np.abs(rgb.astype(int) - expected.astype(int)).max() <= self.tolerance
        self.stamps.append(stamp)
        box = self.sequence.gt[self.index]
        box = box if np.all(np.isfinite(box)) else np.array([0.0, 0.0, 1.0, 1.0])
        return bag_replay_result(box)

    def initialize(self, rgb, box, stamp):
        np.testing.assert_allclose(box, self.sequence.gt[self.index + 1], atol=1e-9)
        return self._result(rgb, stamp)

    def track(self, rgb, stamp):
        return self._result(rgb, stamp)


def bag_replay_result(box):
    from types import SimpleNamespace
    return SimpleNamespace(box=np.asarray(box, float), confidence=1.0, status='tracking',
                           track_id=1)


# ---------------------------------------------------------------- bag_io

def test_vision_msgs_types_are_wire_compatible_with_upstream():
    store = bag_io.make_typestore()
    assert store.hash_rihs01(bag_io.DETECTION) == UPSTREAM_DETECTION2D_HASH
    assert bag_io.vision_msgs_dir().is_dir()


@pytest.mark.parametrize('storage', ['sqlite3', 'mcap'])
def test_make_bag_writes_all_topics(datasets, tmp_path, capsys, storage):
    bag = tmp_path / 'bag'
    summary = make(datasets, 'lasot', bag, capsys, '--storage', storage, '--rate', '20')
    sequence = load_sequence_dir(datasets['lasot'], 'lasot')
    visible = int(sequence.visible[:FRAMES].sum())
    assert summary['frames'] == FRAMES and summary['gt_boxes'] == visible
    assert visible == FRAMES - len(HIDDEN)
    topics = bag_io.bag_topics(bag)
    assert topics == {'/camera/image_raw': bag_io.IMAGE,
                      '/camera/camera_info': bag_io.CAMERA_INFO,
                      '/ground_truth': bag_io.DETECTION}
    suffix = '.mcap' if storage == 'mcap' else '.db3'
    assert any(p.suffix == suffix for p in bag.iterdir())
    frames = list(bag_io.read_frames(bag, '/camera/image_raw'))
    assert len(frames) == FRAMES
    assert [f.stamp_ns - frames[0].stamp_ns for f in frames] == \
        [round(i * 1e9 / 20) for i in range(FRAMES)]
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(frame.rgb, sequence.frame(i))  # bgr8 on the wire
    dets = bag_io.read_detections(bag, '/ground_truth')
    by_stamp = {d.stamp_ns: d.box for d in dets}
    for i, frame in enumerate(frames):
        if sequence.visible[i]:
            np.testing.assert_allclose(by_stamp[frame.stamp_ns], sequence.gt[i], atol=1e-9)
        else:
            assert frame.stamp_ns not in by_stamp


def test_make_bag_errors(datasets, tmp_path, capsys):
    bag = tmp_path / 'bag'
    make(datasets, 'lasot', bag, capsys)
    assert make_bag.main(['--sequence', datasets['lasot'], '--format', 'lasot',
                          '--out', str(bag)]) == 2
    assert 'already exists' in capsys.readouterr().err
    assert make_bag.main(['--sequence', str(tmp_path), '--format', 'lasot',
                          '--out', str(tmp_path / 'other')]) == 2
    assert 'not a LaSOT sequence' in capsys.readouterr().err
    assert make_bag.main(['--sequence', datasets['uav123'], '--format', 'uav123',
                          '--out', str(tmp_path / 'bad'), '--rate', '0']) == 2
    assert 'rate' in capsys.readouterr().err


# ---------------------------------------------------------------- offline

@pytest.mark.parametrize('storage,fmt', [('sqlite3', 'lasot'), ('mcap', 'uav123')])
def test_offline_gt_alignment_with_an_oracle(datasets, tmp_path, capsys, storage, fmt):
    """A tracker that answers with the ground truth scores perfectly: gt matched by stamp."""
    bag = tmp_path / 'bag'
    make(datasets, fmt, bag, capsys, '--storage', storage)
    sequence = load_sequence_dir(datasets[fmt], fmt)
    oracle = OracleTracker(sequence)
    oracle.tolerance = 0
    gt = bag_replay.GroundTruth.from_topic(str(bag), '/ground_truth')
    run = bag_replay.run_offline(str(bag), '/camera/image_raw', gt, oracle)
    assert oracle.index == FRAMES - 1 and len(run.stamps_ns) == FRAMES
    assert oracle.stamps == pytest.approx([i / 30.0 for i in range(FRAMES)], abs=1e-9)
    summary = bag_replay.summarise(run, 'offline', str(bag), '/camera/image_raw', gt.source)
    assert summary['success_auc'] == pytest.approx(success_curve(np.ones(3)).mean())
    assert summary['precision_20'] == 1.0
    # Frames without ground truth and the init frame are not scored.
    assert summary['scored_frames'] == int(sequence.visible[1:FRAMES].sum())


def test_offline_gt_file_and_init_on_first_gt(datasets, tmp_path, capsys):
    bag = tmp_path / 'bag'
    make(datasets, 'lasot', bag, capsys)
    sequence = load_sequence_dir(datasets['lasot'], 'lasot')
    gt_rows = sequence.gt[:FRAMES].copy()
    gt_rows[:2] = np.nan  # start later: the tracker initialises on the first box
    gt_file = tmp_path / 'gt.txt'
    gt_file.write_text(''.join(','.join(str(v) for v in row) + '\n' for row in gt_rows))
    oracle = OracleTracker(sequence)
    oracle.tolerance = 0
    oracle.index = 1
    gt = bag_replay.GroundTruth.from_file(str(gt_file))
    run = bag_replay.run_offline(str(bag), '/camera/image_raw', gt, oracle)
    assert run.skipped_before_init == 2 and len(run.stamps_ns) == FRAMES - 2
    gt_file.write_text('NaN,NaN,NaN,NaN\n')
    with pytest.raises(bag_replay.BagEvalError, match='has 1 boxes but the bag has more'):
        bag_replay.run_offline(str(bag), '/camera/image_raw',
                               bag_replay.GroundTruth.from_file(str(gt_file)),
                               OracleTracker(sequence))


@pytest.mark.parametrize('storage', ['sqlite3', 'mcap'])
def test_make_bag_then_offline_bag_eval(datasets, checkpoint, tmp_path, capsys, storage):
    bag, out = tmp_path / 'bag', tmp_path / 'eval'
    make(datasets, 'lasot', bag, capsys, '--storage', storage)
    line = run_cli(bag_replay.main, [
        str(bag), '--image-topic', '/camera/image_raw', '--gt-topic', '/ground_truth',
        '--mode', 'offline', '--out', str(out), '--checkpoint', checkpoint,
        '--threads', '1'], capsys)
    assert set(line) == SUMMARY_KEYS
    assert line['frames'] == FRAMES and line['dropped'] == 0
    assert 0.0 <= line['success_auc'] <= 1.0 and 0.0 <= line['precision_20'] <= 1.0
    assert line['latency_ms_p50'] > 0
    summary = json.loads((out / 'summary.json').read_text())
    assert {k: summary[k] for k in SUMMARY_KEYS} == line
    assert summary['mode'] == 'offline' and summary['gt_source'] == 'topic:/ground_truth'
    boxes = np.loadtxt(out / 'boxes.txt', delimiter=',')
    assert boxes.shape == (FRAMES, 4)
    sequence = load_sequence_dir(datasets['lasot'], 'lasot')
    np.testing.assert_allclose(boxes[0], sequence.gt[0], atol=0.01)  # init frame
    assert video_frames(out / 'annotated.mp4') == FRAMES


def test_compressed_image_bag_eval(datasets, checkpoint, tmp_path, capsys):
    bag, out = tmp_path / 'bag', tmp_path / 'eval'
    made = make(datasets, 'uav123', bag, capsys, '--storage', 'mcap', '--compressed', 'jpeg')
    assert made['image_topic'] == '/camera/image_raw/compressed'
    assert bag_io.bag_topics(bag)[made['image_topic']] == bag_io.COMPRESSED
    sequence = load_sequence_dir(datasets['uav123'], 'uav123')
    oracle = OracleTracker(sequence)
    oracle.tolerance = 40  # JPEG
    bag_replay.run_offline(str(bag), made['image_topic'],
                           bag_replay.GroundTruth.from_topic(str(bag), '/ground_truth'), oracle)
    assert oracle.index == FRAMES - 1
    line = run_cli(bag_replay.main, [
        str(bag), '--image-topic', made['image_topic'], '--gt-topic', '/ground_truth',
        '--out', str(out), '--checkpoint', checkpoint, '--threads', '1', '--no-video'],
        capsys)
    assert line['frames'] == FRAMES and not (out / 'annotated.mp4').exists()


def test_opencv_baseline_on_the_same_bag(datasets, tmp_path, capsys):
    bag, out = tmp_path / 'bag', tmp_path / 'eval'
    make(datasets, 'lasot', bag, capsys)
    line = run_cli(bag_replay.main, [
        str(bag), '--image-topic', '/camera/image_raw', '--gt-topic', '/ground_truth',
        '--tracker', 'opencv-kcf', '--out', str(out), '--no-video'], capsys)
    assert line['frames'] == FRAMES and line['dropped'] == 0
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['tracker'] == 'opencv-kcf' and summary['checkpoint'] is None


def test_bag_from_another_recorder(datasets, checkpoint, tmp_path, capsys):
    """rclpy-serialised bgra8 images under an arbitrary topic, Detection2DArray ground truth."""
    from rclpy.serialization import serialize_message
    from vision_msgs.msg import Detection2D, Detection2DArray
    sequence = load_sequence_dir(datasets['lasot'], 'lasot')
    bag = tmp_path / 'other'
    with bag_io.BagWriter(bag, 'mcap') as writer:
        writer.add_topic('/drone/cam0/color', bag_io.IMAGE)
        writer.add_topic('/labels', bag_io.DETECTION_ARRAY)
        for i in range(5):
            stamp = 1_000_000_000 * (100 + i)
            msg = rgb_to_image_msg(sequence.frame(i), 'bgra8')
            msg.header.stamp.sec = 100 + i
            writer.write_raw('/drone/cam0/color', stamp, serialize_message(msg))
            labels = Detection2DArray(header=msg.header)
            if sequence.visible[i]:
                x, y, w, h = sequence.gt[i]
                det = Detection2D(header=msg.header)
                det.bbox.center.position.x, det.bbox.center.position.y = x + w / 2, y + h / 2
                det.bbox.size_x, det.bbox.size_y = w, h
                labels.detections.append(det)
            writer.write_raw('/labels', stamp, serialize_message(labels))
    oracle = OracleTracker(sequence)
    oracle.tolerance = 0
    run = bag_replay.run_offline(str(bag), '/drone/cam0/color',
                                 bag_replay.GroundTruth.from_topic(str(bag), '/labels'), oracle)
    assert len(run.stamps_ns) == 5
    np.testing.assert_allclose(run.gt[sequence.visible[:5]], sequence.gt[:5][sequence.visible[:5]])


def test_repeated_stamp_is_skipped_not_fatal(datasets, checkpoint, tmp_path):
    """A recorder that repeats a stamp: the core tracker refuses it, the eval goes on."""
    from types import SimpleNamespace
    sequence = load_sequence_dir(datasets['lasot'], 'lasot')
    bag = tmp_path / 'dup'
    stamps = [10, 20, 20, 30]
    with bag_io.BagWriter(bag, 'sqlite3') as writer:
        writer.add_topic('/cam', bag_io.IMAGE)
        for i, stamp in enumerate(stamps):
            writer.write('/cam', i, bag_io.image_message(sequence.frame(i), stamp, 'cam'))
    args = SimpleNamespace(tracker='vil', checkpoint=checkpoint, device='cpu',
                           backend='torch', precision=None, threads=1)
    run = bag_replay.run_offline(str(bag), '/cam', bag_replay.GroundTruth.none(),
                                 bag_replay.build_tracker(args), init_box=sequence.gt[0])
    assert run.extra['stamp_order_errors'] == 1
    assert run.statuses[2] == 'skipped' and len(run.stamps_ns) == 4
    np.testing.assert_array_equal(run.boxes[2], run.boxes[1])


def test_bag_without_embedded_definitions_uses_our_typestore(tmp_path):
    """Older (Humble-era) sqlite3 bags carry no message definitions, vision_msgs included."""
    import sqlite3
    bag = tmp_path / 'old'
    rgb = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    with bag_io.BagWriter(bag, 'sqlite3') as writer:
        writer.add_topic('/img', bag_io.IMAGE)
        writer.add_topic('/gt', bag_io.DETECTION)
        writer.write('/img', 5, bag_io.image_message(rgb, 5, 'cam', 'rgba8'))
        writer.write('/gt', 5, bag_io.detection_message([1.0, 1.5, 2.0, 2.5], 5, 'cam'))
    # Make it look like a schema-3 bag: no message_definitions table.
    db = sqlite3.connect(str(next(bag.glob('*.db3'))))
    db.execute('DROP TABLE message_definitions')
    db.execute('UPDATE schema SET schema_version = 3')
    db.commit()
    db.close()
    frames = list(bag_io.read_frames(bag, '/img'))
    np.testing.assert_array_equal(frames[0].rgb, rgb)
    np.testing.assert_allclose(bag_io.read_detections(bag, '/gt')[0].box, [1.0, 1.5, 2.0, 2.5])


def test_bag_eval_errors_are_explained(datasets, tmp_path, capsys):
    bag = tmp_path / 'bag'
    make(datasets, 'lasot', bag, capsys)
    base = [str(bag), '--out', str(tmp_path / 'eval')]
    assert bag_replay.main(base + ['--image-topic', '/nope', '--gt-topic', '/ground_truth']) == 2
    err = capsys.readouterr().err
    assert "'/nope' is not in the bag" in err and '/camera/image_raw' in err
    assert bag_replay.main(base + ['--image-topic', '/ground_truth']) == 2
    assert 'not an Image' in capsys.readouterr().err
    assert bag_replay.main(base + ['--image-topic', '/camera/image_raw',
                                   '--gt-topic', '/camera/camera_info']) == 2
    assert 'expected one of vision_msgs/msg/Detection2D' in capsys.readouterr().err
    assert bag_replay.main([str(tmp_path / 'missing'), '--image-topic', 'x', '--out',
                            str(tmp_path / 'e'), '--init-box', '1,2,3,4']) == 2
    assert 'bag not found' in capsys.readouterr().err


# ---------------------------------------------------------------- live

@pytest.mark.parametrize('timing, backend', [
    ([], []),                                            # node as config/tracker.yaml runs it
    (['--rate', '5'], ['--backend', 'torch']),           # a command-line override
], ids=['recorded', 'rate'])
def test_live_bag_eval_through_the_node(datasets, checkpoint, tmp_path, capsys, timing, backend):
    """Play the bag through a real tracker_node process over DDS and record its outputs."""
    bag, out = tmp_path / 'bag', tmp_path / 'live'
    make(datasets, 'lasot', bag, capsys, '--storage', 'mcap')
    cmd = [sys.executable, '-m', 'vil_tracker_ros.eval.bag_replay', str(bag),
           '--image-topic', '/camera/image_raw', '--gt-topic', '/ground_truth',
           '--mode', 'live', '--out', str(out), '--checkpoint', checkpoint,
           '--threads', '1', '--timeout', '90', *timing, *backend]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    log = (out / 'node.log').read_text() if (out / 'node.log').exists() else ''
    assert proc.returncode == 0, proc.stderr + '\nnode log:\n' + log
    # The shipped params file asks for onnxruntime; --backend torch overrides it.
    provider = 'on cpu' if backend else 'on CPUExecutionProvider'
    assert f'configured: checkpoint {checkpoint} {provider}' in log, log
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
    assert len(lines) == 1, proc.stdout
    line = json.loads(lines[0])
    assert set(line) == SUMMARY_KEYS and line['frames'] == FRAMES
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['mode'] == 'live' and summary['rate_hz'] == (5.0 if timing else None)
    output_bag = out / 'output_bag'
    topics = bag_io.bag_topics(output_bag)
    assert topics['/vil_tracker/detection'] == bag_io.DETECTION
    assert topics['/vil_tracker/status'] == 'std_msgs/msg/String'
    assert topics['/init_bbox'] == bag_io.DETECTION
    dets = bag_io.read_detections(output_bag, '/vil_tracker/detection')
    stamps = [s for s, _ in bag_io.image_stamps(bag, '/camera/image_raw')]
    # Every output carries the stamp of the input frame it answers.
    assert dets and {d.stamp_ns for d in dets} <= set(stamps)
    answered = len({d.stamp_ns for d in dets} - {stamps[0]})  # frame 0 is the init frame
    assert line['dropped'] == FRAMES - 1 - answered
    assert answered >= 1 and line['latency_ms_p50'] > 0
    assert video_frames(out / 'annotated.mp4') == FRAMES
