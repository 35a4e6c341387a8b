# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Live bag replay: play a bag's images through a running ``tracker_node`` over DDS.

The recorded CDR bytes are republished unchanged (header stamps included, as ``ros2 bag play``
does) at the recorded timing or a fixed rate. The init box (a stamped Detection2D naming the
init frame) is sent after the init frame, and the rest of the bag is played once the node
reports that it is tracking. Every output of the node is recorded, then written to an output bag
with its receipt time as log time.
"""

import os
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from vil_tracker_ros.eval import bag_io
from vil_tracker_ros.eval.bag_common import BagEvalError, EvalRun, fps_of, GroundTruth, valid_box
from vil_tracker_ros.eval.video import draw_track_overlay, Mp4Writer

OUTPUT_BAG = 'output_bag'
NODE_LOG = 'node.log'
INIT_WAIT_S = 60.0      # the first answer can include lazy allocations in the node
DRAIN_IDLE_S = 3.0      # stop waiting for outputs after this long without a new one
INIT_DELAY_S = 0.2      # init box goes out this long after its frame, as a click would


def _msg_class(msgtype: str):
    import importlib
    package, _, name = msgtype.split('/')
    return getattr(importlib.import_module(f'{package}.msg'), name)


def _type_name(msg) -> str:
    cls = type(msg)
    return f'{cls.__module__.split(".")[0]}/msg/{cls.__name__}'


def _single_camera_info_topic(topics: Dict[str, str]) -> str:
    infos = [t for t, m in topics.items() if m == bag_io.CAMERA_INFO]
    return infos[0] if len(infos) == 1 else ''


def _plan_init(stamps: List[Tuple[int, int]], gt: GroundTruth,
               init_box: Optional[np.ndarray], max_frames: int):
    """Index of the init frame, its box, and the ground truth of every frame."""
    count = len(stamps) if not max_frames else min(max_frames, len(stamps))
    gts = [gt.box(i, stamps[i][0]) for i in range(count)]
    if not max_frames:
        gt.check_length(count)
    if init_box is not None:
        return 0, init_box, gts
    for i, box in enumerate(gts):
        if valid_box(box):
            return i, box, gts
    raise BagEvalError(f'none of the {count} frames has a ground-truth box to initialise on '
                       f'({gt.source}); pass --init-box x,y,w,h')


class _Player:
    """A plain rclpy node that publishes the bag's bytes and records the tracker's outputs."""

    def __init__(self, args, image_type: str, info_topic: str) -> None:
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from vision_msgs.msg import Detection2D
        import rclpy
        from vil_tracker_ros.tools.live import OutputRecorder
        self.rclpy = rclpy
        self.node = rclpy.create_node('vil_tracker_bag_player')
        # Reliable + depth 10 matches best-effort and reliable subscribers alike.
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.image_pub = self.node.create_publisher(_msg_class(image_type), args.image_topic, qos)
        self.info_pub = (self.node.create_publisher(_msg_class(bag_io.CAMERA_INFO), info_topic,
                                                    qos) if info_topic else None)
        self.init_pub = self.node.create_publisher(Detection2D, args.init_topic, qos)
        self.recorder = OutputRecorder(self.node, args.node)
        self.node_name = args.node
        self.init_msg = None
        self.init_sent_ns = 0

    def spin_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.rclpy.spin_once(self.node, timeout_sec=min(left, 0.01))

    def detections(self) -> Dict[int, object]:
        return {bag_io.stamp_to_ns(r.msg.header.stamp): r
                for r in self.recorder.of('/detection')}

    def publish_init(self, box, stamp: int) -> None:
        from vision_msgs.msg import Detection2D
        x, y, w, h = (float(v) for v in box)
        det = Detection2D()
        det.header.stamp.sec, det.header.stamp.nanosec = divmod(int(stamp), 1_000_000_000)
        det.bbox.center.position.x, det.bbox.center.position.y = x + w / 2, y + h / 2
        det.bbox.size_x, det.bbox.size_y = w, h
        self.init_pub.publish(det)
        self.init_msg = det
        self.init_sent_ns = time.time_ns()

    def tracking_since_init(self) -> bool:
        """Whether ~/status said 'tracking' (or a detection came) after the init box went out."""
        return any(r.receipt_ns >= self.init_sent_ns and r.msg.data == 'tracking'
                   for r in self.recorder.of('/status')) or any(
            r.receipt_ns >= self.init_sent_ns for r in self.recorder.of('/detection'))

    def close(self) -> None:
        self.node.destroy_node()


def _start_node(args, image_type: str, info_topic: str, out_dir: str):
    from vil_tracker_ros.tools.client import NodeProcess
    from vil_tracker_ros.shipped import default_precision, share_file
    # The node runs as deployed (config/tracker.yaml unless --params-file); only what was
    # asked for on the command line is overridden.
    precision = args.precision
    if precision is None and (args.backend is not None or args.device is not None):
        # the shipped int8 is for onnxruntime on the CPU: follow a backend or device override
        precision = default_precision(args.backend or 'onnxruntime', args.device or 'auto')
    overrides = {'model.device': args.device, 'model.backend': args.backend,
                 'model.threads': args.threads, 'model.checkpoint': args.checkpoint,
                 'model.precision': precision}
    params = {key: value for key, value in overrides.items() if value is not None}
    compressed = image_type == bag_io.COMPRESSED
    params['io.compressed'] = compressed
    for item in args.node_param:
        key, sep, value = item.partition('=')
        if not sep:
            raise BagEvalError(f'--node-param expects KEY=VALUE, got {item!r}')
        params[key] = value
    remaps = {('image/compressed' if compressed else 'image'): args.image_topic,
              'init_bbox': args.init_topic}
    if info_topic:
        remaps['camera_info'] = info_topic
    name = args.node.rsplit('/', 1)
    extra = ['-r', f'__node:={name[1]}']
    if name[0]:
        extra += ['-r', f'__ns:={name[0]}']
    params_file = args.params_file or share_file('config', 'tracker.yaml')
    return NodeProcess(params=params, params_file=params_file, remaps=remaps, extra_args=extra,
                       log_path=os.path.join(out_dir, NODE_LOG)).start()


def _check_alive(proc) -> None:
    if proc is not None and not proc.alive():
        tail = proc.log()[-2000:]
        raise BagEvalError(f'tracker_node exited with code {proc.proc.returncode}; log tail:\n'
                           f'{tail}')


def _activate(player: _Player, proc, timeout: float) -> None:
    from vil_tracker_ros.tools.client import LifecycleClient, NodeClientError
    client = LifecycleClient(player.node, player.node_name)
    try:
        client.wait_for_services(timeout)
        client.activate(timeout)
    except (TimeoutError, NodeClientError) as err:
        _check_alive(proc)
        log = f'; see {proc.log_path}' if proc is not None else ''
        raise BagEvalError(f'could not activate {player.node_name}: {err}{log}') from err


def _wait(player: _Player, proc, done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        _check_alive(proc)
        if time.monotonic() > deadline:
            raise BagEvalError(f'timed out after {timeout:.0f} s waiting for {what}')
        player.spin_for(0.02)


def _play(args, player: _Player, proc, stamps: List[Tuple[int, int]], init_index: int,
          init_box, info_topic: str, count: int) -> Dict[int, int]:
    """Publish frames ``init_index .. count-1``; return stamp -> wall send time (ns)."""
    topics = [args.image_topic] + ([info_topic] if info_topic else [])
    sent: Dict[int, int] = {}
    image_index = -1
    base_log = None
    start = None
    pending_info = []
    for topic, msgtype, log_ns, raw in bag_io.read_raw(args.bag, topics):
        if topic == info_topic:
            pending_info.append(raw)  # goes out with the next image
            continue
        image_index += 1
        if image_index >= count:
            break
        if image_index < init_index:
            pending_info.clear()
            continue
        stamp = stamps[image_index][0]
        if image_index > init_index:
            if base_log is None:
                base_log, start = log_ns, time.monotonic()
            offset = ((image_index - init_index - 1) / args.rate if args.rate > 0
                      else (log_ns - base_log) / 1e9)
            player.spin_for(start + offset - time.monotonic())
            _check_alive(proc)
        for info in pending_info:
            player.info_pub.publish(info)
        pending_info.clear()
        sent[stamp] = time.time_ns()
        player.image_pub.publish(raw)
        if image_index == init_index:
            player.spin_for(INIT_DELAY_S)
            player.publish_init(init_box, stamp)
            _wait(player, proc, player.tracking_since_init, INIT_WAIT_S,
                  'the node to start tracking (see its log)')
    return sent


def _drain(player: _Player, proc, last_stamp: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    seen = -1
    idle_since = time.monotonic()
    while time.monotonic() < deadline and last_stamp not in player.detections():
        total = sum(len(v) for v in player.recorder.messages.values())
        if total != seen:
            seen, idle_since = total, time.monotonic()
        elif time.monotonic() - idle_since > DRAIN_IDLE_S:
            return
        _check_alive(proc)
        player.spin_for(0.02)


def _write_output_bag(path: str, storage: str, player: _Player) -> int:
    from rclpy.serialization import serialize_message
    records = [(r.receipt_ns, r.topic, r.msg) for msgs in player.recorder.messages.values()
               for r in msgs]
    if player.init_msg is not None:
        records.append((player.init_sent_ns, player.init_pub.topic_name, player.init_msg))
    records.sort(key=lambda r: r[0])
    with bag_io.BagWriter(path, storage) as writer:
        added = set()
        for receipt, topic, msg in records:
            if topic not in added:
                writer.add_topic(topic, _type_name(msg))
                added.add(topic)
            writer.write_raw(topic, receipt, serialize_message(msg))
    return len(records)


def _status_at(statuses: List[Tuple[int, str]], receipt_ns: int) -> str:
    current = 'tracking'
    for when, status in statuses:
        if when > receipt_ns:
            break
        current = status
    return current


def _collect(player: _Player, sent: Dict[int, int], gts, init_index: int,
             init_box) -> EvalRun:
    dets = player.detections()
    statuses = sorted((r.receipt_ns, r.msg.data) for r in player.recorder.of('/status'))
    stamps = list(sent)
    boxes, scores, states, latencies = [], [], [], []
    dropped = 0
    last_box = np.asarray(init_box, dtype=np.float64)
    for k, stamp in enumerate(stamps):
        rec = dets.get(stamp)
        if rec is None:
            if k > 0:
                dropped += 1
            boxes.append(last_box)   # what a consumer still holds
            scores.append(np.nan)
            states.append('dropped' if k > 0 else 'init')
            continue
        det = rec.msg
        last_box = bag_io.detection_to_xywh(det)
        boxes.append(last_box)
        scores.append(float(det.results[0].hypothesis.score) if det.results else np.nan)
        states.append(_status_at(statuses, rec.receipt_ns))
        if k > 0:
            latencies.append((rec.receipt_ns - sent[stamp]) / 1e6)
    gt = np.array(gts[init_index:init_index + len(stamps)]).reshape(-1, 4)
    return EvalRun(stamps, gt, np.array(boxes).reshape(-1, 4), np.array(scores), states,
                   latencies, dropped, init_index)


def _write_video(args, run: EvalRun, init_index: int, video: str) -> None:
    fps = args.rate if args.rate > 0 else fps_of(run.stamps_ns)
    index = {stamp: k for k, stamp in enumerate(run.stamps_ns)}
    with Mp4Writer(video, fps) as writer:
        for frame in bag_io.read_frames(args.bag, args.image_topic):
            k = index.get(frame.stamp_ns)
            if frame.index < init_index or k is None:
                continue
            writer.write(draw_track_overlay(
                frame.rgb, run.boxes[k], run.statuses[k], float(run.scores[k]),
                gt_xywh=run.gt[k], extra=f'#{frame.index}'))
            if k == len(run.stamps_ns) - 1:
                break


def run_live(args, gt: GroundTruth, init_box: Optional[np.ndarray],
             video: Optional[str]) -> EvalRun:
    """Play the bag through the node (started here unless ``--attach``) and score it."""
    import rclpy
    from vil_tracker_ros.tools.live import use_large_frame_transport
    topics = bag_io.bag_topics(args.bag)
    image_type = topics[args.image_topic]
    info_topic = args.camera_info_topic or _single_camera_info_topic(topics)
    if info_topic and topics.get(info_topic) != bag_io.CAMERA_INFO:
        raise BagEvalError(f'camera info topic {info_topic!r} is not a CameraInfo topic here')
    stamps = bag_io.image_stamps(args.bag, args.image_topic)
    if not stamps:
        raise BagEvalError(f'no images on {args.image_topic!r} in {args.bag}')
    init_index, box, gts = _plan_init(stamps, gt, init_box, args.max_frames)
    count = len(gts)
    output_bag = os.path.join(args.out, OUTPUT_BAG)
    if os.path.exists(output_bag):
        raise BagEvalError(f'{output_bag} already exists; remove it or pick another --out')

    own_context = not rclpy.ok()
    if own_context:
        use_large_frame_transport()   # recorded frames may be large (see that function)
        rclpy.init()
    proc = None
    player = None
    try:
        player = _Player(args, image_type, info_topic)
        if not args.attach:
            proc = _start_node(args, image_type, info_topic, args.out)
        _activate(player, proc, args.timeout)
        from vil_tracker_ros.tools.client import wait_for_subscribers
        try:
            wait_for_subscribers(player.node, [player.image_pub, player.init_pub], args.timeout)
        except TimeoutError as err:
            raise BagEvalError(f'{err}: is the node remapped to the bag topic?') from err
        detection_topic = f'{args.node}/detection'
        _wait(player, proc, lambda: player.node.count_publishers(detection_topic) > 0,
              args.timeout, f'a publisher on {detection_topic}')
        started = time.monotonic()
        sent = _play(args, player, proc, stamps, init_index, box, info_topic, count)
        _drain(player, proc, list(sent)[-1])
        wall_s = time.monotonic() - started
        run = _collect(player, sent, gts, init_index, box)
        messages = _write_output_bag(output_bag, args.storage, player)
    finally:
        if proc is not None:
            code = proc.stop()
        if player is not None:
            player.close()
        if own_context:
            rclpy.shutdown()
    if proc is not None and code not in (0, None):
        raise BagEvalError(f'tracker_node exited with code {code}; see {proc.log_path}')
    times = sorted(sent.values())[1:]  # after the init frame (which waits for the node)
    span_s = (times[-1] - times[0]) / 1e9 if len(times) > 1 else 0.0
    run.extra.update({'output_bag': output_bag, 'output_messages': messages,
                      'played_fps': round((len(times) - 1) / span_s, 2) if span_s > 0 else None,
                      'rate_hz': args.rate or None, 'wall_s': round(wall_s, 2)})
    if video:
        _write_video(args, run, init_index, video)
    return run
