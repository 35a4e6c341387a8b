# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``vil-tracker-make-bag``: write a dataset sequence as a rosbag2 recording.

The bag holds what a camera driver plus an annotator would publish: an image per frame
(sensor_msgs/Image, or CompressedImage on ``<image-topic>/compressed``), a CameraInfo with the
same header, and a vision_msgs/Detection2D ground-truth box for every frame whose target is
visible (no message when it is occluded or out of view). Stamps start at ``--start-time`` and
advance by ``1 / --rate``; the bag's log time equals the stamp.
"""

import argparse
import json
import os
import sys
from typing import List, Optional, Sequence as SequenceT

from vil_tracker_ros.eval import bag_io
from vil_tracker_ros.eval.sequence_dir import load_sequence_dir, SEQUENCE_FORMATS
from vil_tracker_ros.ros.conversions import ENCODINGS, ImageConversionError

COMPRESSED_FORMATS = ('jpeg', 'png')


def write_sequence_bag(sequence, out: str, storage: str = 'sqlite3', rate: float = 30.0,
                       image_topic: str = '/camera/image_raw',
                       camera_info_topic: str = '/camera/camera_info',
                       gt_topic: str = '/ground_truth', frame_id: str = 'camera',
                       encoding: str = 'bgr8', compressed: Optional[str] = None,
                       start_time: float = 1.7e9, max_frames: int = 0,
                       class_id: str = 'target') -> dict:
    """
    Write ``sequence`` (a data.sequence.Sequence) to the bag ``out``; return a summary dict.

    ``compressed`` ('jpeg' or 'png') writes CompressedImage on ``<image_topic>/compressed``
    instead of Image in ``encoding``.
    """
    if rate <= 0:
        raise ValueError(f'rate must be > 0 Hz, got {rate}')
    if compressed is not None and compressed not in COMPRESSED_FORMATS:
        raise ValueError(f'compressed must be one of {COMPRESSED_FORMATS}, got {compressed!r}')
    if encoding not in ENCODINGS:
        raise ImageConversionError(f'unsupported image encoding {encoding!r}')
    num = len(sequence) if max_frames <= 0 else min(max_frames, len(sequence))
    if num == 0:
        raise ValueError(f'sequence {sequence.name} has no frames')
    store = bag_io.make_typestore()
    topic = f'{image_topic}/compressed' if compressed else image_topic
    start_ns = int(round(start_time * 1e9))
    period_ns = 1e9 / rate
    gt_written = 0
    with bag_io.BagWriter(out, storage, store) as writer:
        writer.add_topic(topic, bag_io.COMPRESSED if compressed else bag_io.IMAGE)
        writer.add_topic(camera_info_topic, bag_io.CAMERA_INFO)
        writer.add_topic(gt_topic, bag_io.DETECTION)
        for i in range(num):
            rgb = sequence.frame(i)
            stamp = start_ns + int(round(i * period_ns))
            if compressed:
                msg = bag_io.compressed_message(rgb, stamp, frame_id, compressed, store)
            else:
                msg = bag_io.image_message(rgb, stamp, frame_id, encoding, store)
            writer.write(topic, stamp, msg)
            height, width = rgb.shape[:2]
            writer.write(camera_info_topic, stamp,
                         bag_io.camera_info_message(width, height, stamp, frame_id, store=store))
            if sequence.visible[i]:
                writer.write(gt_topic, stamp, bag_io.detection_message(
                    sequence.gt[i], stamp, frame_id, class_id=class_id, store=store))
                gt_written += 1
    return {'bag': os.path.abspath(out), 'storage': storage, 'sequence': sequence.name,
            'frames': num, 'gt_boxes': gt_written, 'rate_hz': rate, 'image_topic': topic,
            'image_type': bag_io.COMPRESSED if compressed else bag_io.IMAGE,
            'camera_info_topic': camera_info_topic, 'gt_topic': gt_topic}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='vil-tracker-make-bag',
        description='Write a LaSOT or UAV123 sequence as a rosbag2 (image, camera_info and '
                    'ground-truth Detection2D topics).')
    parser.add_argument('--sequence', required=True,
                        help='sequence directory: LaSOT <root>/<class>/<class>-N, or UAV123 '
                             '<root>/data_seq/UAV123/<name> (boxes from <root>/anno/UAV123)')
    parser.add_argument('--format', required=True, choices=SEQUENCE_FORMATS)
    parser.add_argument('--out', required=True, help='output bag directory (must not exist)')
    parser.add_argument('--storage', choices=sorted(bag_io.STORAGES), default='sqlite3')
    parser.add_argument('--rate', type=float, default=30.0, help='frame rate in Hz')
    parser.add_argument('--image-topic', default='/camera/image_raw')
    parser.add_argument('--camera-info-topic', default='/camera/camera_info')
    parser.add_argument('--gt-topic', default='/ground_truth')
    parser.add_argument('--frame-id', default='camera')
    parser.add_argument('--encoding', default='bgr8', choices=sorted(ENCODINGS),
                        help='sensor_msgs/Image encoding (ignored with --compressed)')
    parser.add_argument('--compressed', choices=COMPRESSED_FORMATS,
                        help='write CompressedImage on <image-topic>/compressed instead')
    parser.add_argument('--max-frames', type=int, default=0, help='0 = all frames')
    parser.add_argument('--start-time', type=float, default=1.7e9,
                        help='stamp of the first frame, seconds since the epoch')
    return parser


def main(argv: Optional[SequenceT[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        sequence = load_sequence_dir(args.sequence, args.format)
        summary = write_sequence_bag(
            sequence, args.out, storage=args.storage, rate=args.rate,
            image_topic=args.image_topic, camera_info_topic=args.camera_info_topic,
            gt_topic=args.gt_topic, frame_id=args.frame_id, encoding=args.encoding,
            compressed=args.compressed, start_time=args.start_time,
            max_frames=args.max_frames)
    except (ValueError, OSError) as err:
        print(f'vil-tracker-make-bag: error: {err}', file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


__all__: List[str] = ['build_parser', 'main', 'write_sequence_bag']

if __name__ == '__main__':
    sys.exit(main())
