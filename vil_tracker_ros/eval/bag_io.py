# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
rosbag2 reading and writing on the ``rosbags`` library (sqlite3 and mcap).

The typestore is ROS 2 Kilted plus our vision_msgs 4.x 2D subset, parsed from the package's own
``.msg`` files. Bags that embed their message definitions (every rosbag2 since Iron) are
decoded with those; older bags fall back to this typestore. Images may be sensor_msgs/Image or
CompressedImage under any topic name; ground truth is vision_msgs/Detection2D (or the first
detection of a Detection2DArray).
"""

import dataclasses
import functools
import math
import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from rosbags.typesys.store import Typestore

from vil_tracker_ros.ros.conversions import (
    decode_compressed, encode_compressed, image_fields, image_msg_to_rgb, rgb_to_native)

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
DETECTION = 'vision_msgs/msg/Detection2D'
DETECTION_ARRAY = 'vision_msgs/msg/Detection2DArray'
IMAGE_TYPES = (IMAGE, COMPRESSED)
STORAGES = {'sqlite3': StoragePlugin.SQLITE3, 'mcap': StoragePlugin.MCAP}
_VISION_MSGS = ('Point2D', 'Pose2D', 'BoundingBox2D', 'ObjectHypothesis',
                'ObjectHypothesisWithPose', 'Detection2D', 'Detection2DArray')


class BagError(ValueError):
    """A bag cannot be read or written as asked; the message says why."""


def vision_msgs_dir() -> Path:
    """
    Find the vision_msgs ``.msg`` files.

    Looked up in the source tree (``interfaces/vision_msgs/msg``), then in the ament share
    directory of an installed vision_msgs (a distro, or the venv build).
    """
    source = Path(__file__).resolve().parents[2] / 'interfaces' / 'vision_msgs' / 'msg'
    candidates = [source]
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(Path(get_package_share_directory('vision_msgs')) / 'msg')
    except (ImportError, LookupError, OSError, ValueError):
        pass  # no ament index (or no vision_msgs in it): only the source tree is searched
    for directory in candidates:
        if all((directory / f'{name}.msg').is_file() for name in _VISION_MSGS):
            return directory
    raise BagError('vision_msgs .msg files not found; looked in: '
                   + ', '.join(str(d) for d in candidates))


@functools.lru_cache(maxsize=1)
def make_typestore() -> Typestore:
    """Kilted typestore with our vision_msgs types registered from their .msg files."""
    store = get_typestore(Stores.ROS2_KILTED)
    directory = vision_msgs_dir()
    types = {}
    for name in _VISION_MSGS:
        text = (directory / f'{name}.msg').read_text()
        types.update(get_types_from_msg(text, f'vision_msgs/msg/{name}'))
    store.register(types)
    return store


# ---------------------------------------------------------------- reading

@dataclasses.dataclass
class BagFrame:
    """One image read from a bag, converted to HxWx3 uint8 RGB."""

    index: int
    stamp_ns: int       # header stamp: the time the image was taken
    log_time_ns: int    # bag receive time
    frame_id: str
    rgb: np.ndarray


@dataclasses.dataclass
class BagDetection:
    """One Detection2D read from a bag; ``box`` is xywh pixels, NaN when there is none."""

    stamp_ns: int
    log_time_ns: int
    box: np.ndarray
    score: float
    det_id: str


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time (rclpy or rosbags) to integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def _open_reader(path) -> AnyReader:
    path = Path(path)
    if not path.exists():
        raise BagError(f'bag not found: {path}')
    try:
        reader = AnyReader([path], default_typestore=make_typestore())
        reader.open()
    except AnyReaderError as err:
        raise BagError(f'cannot open bag {path}: {err}') from err
    return reader


def bag_topics(path) -> Dict[str, str]:
    """Map every topic in the bag to its message type."""
    reader = _open_reader(path)
    try:
        return {c.topic: c.msgtype for c in reader.connections}
    finally:
        reader.close()


def _connections(reader: AnyReader, path, topic: str, allowed: Optional[Sequence[str]]):
    conns = [c for c in reader.connections if c.topic == topic]
    if not conns:
        listing = ', '.join(f'{c.topic} [{c.msgtype}]' for c in reader.connections) or 'none'
        raise BagError(f'topic {topic!r} is not in bag {path}; topics: {listing}')
    bad = sorted({c.msgtype for c in conns if allowed and c.msgtype not in allowed})
    if bad:
        raise BagError(f'topic {topic!r} has type {", ".join(bad)}; expected one of '
                       f'{", ".join(allowed)}')
    return conns


def read_raw(path, topics: Sequence[str]) -> Iterator[Tuple[str, str, int, bytes]]:
    """Yield (topic, msgtype, log_time_ns, CDR bytes) in log-time order for ``topics``."""
    reader = _open_reader(path)
    try:
        conns = [c for t in topics for c in _connections(reader, path, t, None)]
        for conn, log_ns, raw in reader.messages(connections=conns):
            yield conn.topic, conn.msgtype, log_ns, bytes(raw)
    finally:
        reader.close()


def msg_to_rgb(msg, msgtype: str) -> np.ndarray:
    """Convert a deserialised Image or CompressedImage to HxWx3 uint8 RGB."""
    if msgtype == COMPRESSED:
        return decode_compressed(msg.data, msg.format)
    return image_msg_to_rgb(msg)


def read_frames(path, image_topic: str) -> Iterator[BagFrame]:
    """Yield the images on ``image_topic`` (Image or CompressedImage) in log-time order."""
    reader = _open_reader(path)
    try:
        conns = _connections(reader, path, image_topic, IMAGE_TYPES)
        for index, (conn, log_ns, raw) in enumerate(reader.messages(connections=conns)):
            msg = reader.deserialize(raw, conn.msgtype)
            yield BagFrame(index, stamp_to_ns(msg.header.stamp), log_ns, msg.header.frame_id,
                           msg_to_rgb(msg, conn.msgtype))
    finally:
        reader.close()


def image_stamps(path, image_topic: str) -> List[Tuple[int, int]]:
    """(header stamp, log time) in ns of every image on ``image_topic``, in log-time order."""
    reader = _open_reader(path)
    try:
        conns = _connections(reader, path, image_topic, IMAGE_TYPES)
        return [(stamp_to_ns(reader.deserialize(raw, conn.msgtype).header.stamp), log_ns)
                for conn, log_ns, raw in reader.messages(connections=conns)]
    finally:
        reader.close()


def detection_to_xywh(det) -> np.ndarray:
    """vision_msgs 4.x Detection2D (rclpy or rosbags) bbox to an xywh float array."""
    bbox = det.bbox
    w, h = float(bbox.size_x), float(bbox.size_y)
    cx, cy = float(bbox.center.position.x), float(bbox.center.position.y)
    return np.array([cx - w / 2.0, cy - h / 2.0, w, h], dtype=np.float64)


def _score(det) -> float:
    return float(det.results[0].hypothesis.score) if len(det.results) else math.nan


def read_detections(path, topic: str) -> List[BagDetection]:
    """Read Detection2D (or Detection2DArray: first detection, NaN box if empty) messages."""
    reader = _open_reader(path)
    out = []
    try:
        conns = _connections(reader, path, topic, (DETECTION, DETECTION_ARRAY))
        for conn, log_ns, raw in reader.messages(connections=conns):
            msg = reader.deserialize(raw, conn.msgtype)
            stamp = stamp_to_ns(msg.header.stamp)
            if conn.msgtype == DETECTION_ARRAY:
                if not len(msg.detections):
                    out.append(BagDetection(stamp, log_ns, np.full(4, np.nan), math.nan, ''))
                    continue
                msg = msg.detections[0]
            out.append(BagDetection(stamp, log_ns, detection_to_xywh(msg), _score(msg), msg.id))
    finally:
        reader.close()
    return out


# ---------------------------------------------------------------- building messages

def header(stamp_ns: int, frame_id: str, store: Optional[Typestore] = None):
    """Build a rosbags std_msgs/Header."""
    store = store or make_typestore()
    time_cls = store.types['builtin_interfaces/msg/Time']
    stamp = time_cls(sec=int(stamp_ns // 1_000_000_000), nanosec=int(stamp_ns % 1_000_000_000))
    return store.types['std_msgs/msg/Header'](stamp=stamp, frame_id=frame_id)


def image_message(rgb: np.ndarray, stamp_ns: int, frame_id: str, encoding: str = 'rgb8',
                  store: Optional[Typestore] = None):
    """Build a rosbags sensor_msgs/Image holding ``rgb`` converted to ``encoding``."""
    store = store or make_typestore()
    fields = image_fields(rgb_to_native(rgb, encoding), encoding)
    return store.types[IMAGE](
        header=header(stamp_ns, frame_id, store), height=fields.height, width=fields.width,
        encoding=fields.encoding, is_bigendian=fields.is_bigendian, step=fields.step,
        data=np.frombuffer(fields.data, np.uint8))


def compressed_message(rgb: np.ndarray, stamp_ns: int, frame_id: str, fmt: str = 'jpeg',
                       store: Optional[Typestore] = None):
    """Build a rosbags sensor_msgs/CompressedImage (JPEG or PNG) of ``rgb``."""
    store = store or make_typestore()
    format_str, data = encode_compressed(rgb, fmt)
    return store.types[COMPRESSED](header=header(stamp_ns, frame_id, store), format=format_str,
                                   data=np.frombuffer(data, np.uint8))


def camera_info_message(width: int, height: int, stamp_ns: int, frame_id: str,
                        focal_px: Optional[float] = None, store: Optional[Typestore] = None):
    """
    Build a pinhole CameraInfo without distortion.

    Dataset sequences carry no calibration, so the default focal length equals the image width
    (about 53 degrees horizontal field of view) with the principal point at the centre.
    """
    store = store or make_typestore()
    f = float(focal_px if focal_px is not None else width)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    roi = store.types['sensor_msgs/msg/RegionOfInterest'](
        x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return store.types[CAMERA_INFO](
        header=header(stamp_ns, frame_id, store), height=int(height), width=int(width),
        distortion_model='plumb_bob', d=np.zeros(5),
        k=np.array([f, 0, cx, 0, f, cy, 0, 0, 1], dtype=np.float64),
        r=np.eye(3).ravel(),
        p=np.array([f, 0, cx, 0, 0, f, cy, 0, 0, 0, 1, 0], dtype=np.float64),
        binning_x=0, binning_y=0, roi=roi)


def detection_message(box_xywh, stamp_ns: int, frame_id: str, class_id: str = 'target',
                      score: float = 1.0, det_id: str = '', store: Optional[Typestore] = None):
    """Build a rosbags vision_msgs/Detection2D (4.x layout) for an xywh pixel box."""
    store = store or make_typestore()
    t = store.types
    x, y, w, h = (float(v) for v in box_xywh)
    center = t['vision_msgs/msg/Pose2D'](
        position=t['vision_msgs/msg/Point2D'](x=x + w / 2.0, y=y + h / 2.0), theta=0.0)
    bbox = t['vision_msgs/msg/BoundingBox2D'](center=center, size_x=w, size_y=h)
    pose = t['geometry_msgs/msg/PoseWithCovariance'](
        pose=t['geometry_msgs/msg/Pose'](
            position=t['geometry_msgs/msg/Point'](x=x + w / 2.0, y=y + h / 2.0, z=0.0),
            orientation=t['geometry_msgs/msg/Quaternion'](x=0.0, y=0.0, z=0.0, w=1.0)),
        covariance=np.zeros(36))
    hypothesis = t['vision_msgs/msg/ObjectHypothesisWithPose'](
        hypothesis=t['vision_msgs/msg/ObjectHypothesis'](class_id=class_id, score=float(score)),
        pose=pose)
    return t[DETECTION](header=header(stamp_ns, frame_id, store), results=[hypothesis],
                        bbox=bbox, id=det_id)


# ---------------------------------------------------------------- writing

class BagWriter:
    """
    Write a rosbag2 (format version 9) in sqlite3 or mcap storage.

    Use as a context manager; on an exception the partial bag is closed so what was written
    so far stays readable.
    """

    def __init__(self, path, storage: str = 'sqlite3', store: Optional[Typestore] = None):
        if storage not in STORAGES:
            raise BagError(f'unknown storage {storage!r}; use one of {", ".join(STORAGES)}')
        self.path = Path(path)
        if self.path.exists():
            raise BagError(f'output bag {self.path} already exists; remove it or pick another')
        if not self.path.parent.is_dir():
            os.makedirs(self.path.parent, exist_ok=True)
        self.store = store or make_typestore()
        self._writer = Writer(self.path, version=9, storage_plugin=STORAGES[storage])
        self._connections = {}

    def __enter__(self) -> 'BagWriter':
        self._writer.open()
        return self

    def __exit__(self, *exc) -> None:
        self._writer.close()

    def add_topic(self, topic: str, msgtype: str):
        """Register ``topic`` with ``msgtype`` (a type name known to the typestore)."""
        if topic in self._connections:
            raise BagError(f'topic {topic!r} added twice')
        try:
            conn = self._writer.add_connection(topic, msgtype, typestore=self.store)
        except (WriterError, KeyError) as err:
            raise BagError(f'cannot add topic {topic!r} of type {msgtype!r}: {err}') from err
        self._connections[topic] = conn
        return conn

    def _conn(self, topic: str):
        try:
            return self._connections[topic]
        except KeyError:
            raise BagError(f'topic {topic!r} was not added to {self.path}') from None

    def write(self, topic: str, log_time_ns: int, msg) -> None:
        """Serialise a rosbags message and write it at ``log_time_ns``."""
        conn = self._conn(topic)
        self._writer.write(conn, int(log_time_ns), self.store.serialize_cdr(msg, conn.msgtype))

    def write_raw(self, topic: str, log_time_ns: int, data: bytes) -> None:
        """Write already serialised CDR bytes (e.g. from rclpy) at ``log_time_ns``."""
        self._writer.write(self._conn(topic), int(log_time_ns), data)
