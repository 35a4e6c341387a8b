# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Closed-loop follow demo: gimbal simulator -> tracker -> follow controller -> gimbal.

Three real processes talk over DDS: ``gimbal_sim`` (renders the camera view from its pan/tilt
and integrates rate setpoints), ``tracker_node`` (the shipped model, ``config/tracker.yaml``)
and ``follow_controller``. This process only records and steers the scenario:

1. **follow** (``follow_s``): init the tracker on the target's true box, let the loop centre
   it while it moves;
2. **hide** (``hide_s``): the target disappears; the tracker should report ``lost`` and the
   controller hold (zero rates) instead of running away;
3. **stop** (``stop_s``): the tracker's ``~/reset``; the controller holds on ``idle``.

``vil-tracker-demo-follow --out DIR`` (``make demo-follow``) writes ``follow.mp4`` (the camera
view with the tracker's box and the true centre), ``follow_error.png`` (error over time) and
``follow_metrics.json``. The closed-loop test runs :func:`run_scenario` without the video.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import math
import os
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from geometry_msgs.msg import Vector3Stamped
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from lifecycle_msgs.srv import GetState
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy
from rclpy.qos import QoSProfile
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import String
from std_srvs.srv import SetBool
from std_srvs.srv import Trigger
from vil_tracker_ros.ros.processes import ModuleProcess
from vil_tracker_ros.ros.processes import wait_for
from vision_msgs.msg import Detection2D

TRACKER = '/vil_tracker'
CONTROLLER = '/follow_controller'
SIM = '/gimbal_sim'


def _stamp_s(stamp: Any) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


@dataclasses.dataclass
class Scenario:
    follow_s: float = 20.0
    hide_s: float = 5.0
    stop_s: float = 2.0
    settle_px: float = 15.0           # settled: the error stays below this for good
    record_frames: bool = False
    tracker_params: Dict[str, Any] = dataclasses.field(default_factory=dict)
    controller_params: Dict[str, Any] = dataclasses.field(default_factory=dict)
    sim_params: Dict[str, Any] = dataclasses.field(default_factory=dict)


class Recorder:
    """An rclpy node in its own context and thread: records everything, calls services."""

    def __init__(self, record_frames: bool) -> None:
        self.context = rclpy.context.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('follow_demo_recorder', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.lock = threading.Lock()
        self.data: Dict[str, List[Any]] = collections.defaultdict(list)
        self.frames: Dict[float, np.ndarray] = {}
        self.record_frames = record_frames
        n = self.node
        reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        n.create_subscription(Vector3Stamped, f'{SIM}/true_error',
                              lambda m: self._add('error', m), reliable)
        n.create_subscription(Vector3Stamped, f'{SIM}/gimbal_state',
                              lambda m: self._add('gimbal', m), reliable)
        n.create_subscription(Detection2D, f'{SIM}/target_truth',
                              lambda m: self._add('truth', m), reliable)
        n.create_subscription(Detection2D, f'{TRACKER}/detection',
                              lambda m: self._add('detection', m), reliable)
        n.create_subscription(Vector3Stamped, f'{CONTROLLER}/gimbal_rate',
                              lambda m: self._add('rate', m), reliable)
        n.create_subscription(String, f'{TRACKER}/status', lambda m: self._add('status', m),
                              latched)
        n.create_subscription(String, f'{CONTROLLER}/state', lambda m: self._add('state', m),
                              latched)
        if record_frames:
            n.create_subscription(Image, 'image', self._on_image, reliable)
        self.init_pub = n.create_publisher(Detection2D, 'init_bbox',
                                           QoSProfile(depth=10,
                                                      reliability=ReliabilityPolicy.RELIABLE))
        self.get_state = n.create_client(GetState, f'{TRACKER}/get_state')
        self.change_state = n.create_client(ChangeState, f'{TRACKER}/change_state')
        self.reset = n.create_client(Trigger, f'{TRACKER}/reset')
        self.visible = n.create_client(SetBool, f'{SIM}/set_target_visible')
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # noqa: B902  the context was shut down under us
                return

    def _add(self, key: str, msg: Any) -> None:
        with self.lock:
            self.data[key].append((time.monotonic(), msg))

    def _on_image(self, msg: Image) -> None:
        if msg.encoding != 'rgb8':
            return
        rgb = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)
        rgb = rgb[:, :msg.width * 3].reshape(msg.height, msg.width, 3).copy()
        with self.lock:
            self.frames[_stamp_s(msg.header.stamp)] = rgb

    def get(self, key: str) -> List[Any]:
        with self.lock:
            return list(self.data[key])

    def last(self, key: str) -> Optional[Any]:
        with self.lock:
            return self.data[key][-1][1] if self.data[key] else None

    def call(self, client: Any, request: Any, timeout: float) -> Any:
        wait_for(client.service_is_ready, timeout, f'service {client.srv_name}')
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout):
            raise TimeoutError(f'{client.srv_name} did not answer within {timeout:.0f} s')
        return future.result()

    def transition(self, transition_id: int, timeout: float = 120.0) -> bool:
        request = ChangeState.Request()
        request.transition.id = transition_id
        return bool(self.call(self.change_state, request, timeout).success)

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=5.0)


def start_system(scenario: Scenario, log_dir: str) -> Dict[str, ModuleProcess]:
    from vil_tracker_ros.shipped import share_file
    os.makedirs(log_dir, exist_ok=True)
    procs = {
        'sim': ModuleProcess('vil_tracker_ros.ros.gimbal_sim_node', scenario.sim_params,
                             remaps={'gimbal_rate': f'{CONTROLLER}/gimbal_rate'},
                             log_path=os.path.join(log_dir, 'gimbal_sim.log')),
        'tracker': ModuleProcess('vil_tracker_ros.ros.tracker_node', scenario.tracker_params,
                                 params_file=share_file('config', 'tracker.yaml'),
                                 log_path=os.path.join(log_dir, 'tracker.log')),
        'controller': ModuleProcess('vil_tracker_ros.ros.follow_controller',
                                    scenario.controller_params,
                                    remaps={'gimbal_attitude': f'{SIM}/gimbal_state'},
                                    log_path=os.path.join(log_dir, 'follow_controller.log')),
    }
    for proc in procs.values():
        proc.start()
    return procs


def stop_system(procs: Dict[str, ModuleProcess]) -> Dict[str, Optional[int]]:
    return {name: proc.stop() for name, proc in procs.items()}


def run_scenario(scenario: Scenario, rec: Recorder, procs: Dict[str, ModuleProcess]
                 ) -> Dict[str, Any]:
    """Activate the tracker, init on the truth, run the phases; return the raw timeline."""
    for name, proc in procs.items():
        if not proc.alive():
            raise RuntimeError(f'{name} exited early:\n{proc.log()[-2000:]}')
    if not rec.transition(Transition.TRANSITION_CONFIGURE):
        raise RuntimeError('tracker configure failed:\n' + procs['tracker'].log()[-2000:])
    if not rec.transition(Transition.TRANSITION_ACTIVATE):
        raise RuntimeError('tracker activate failed:\n' + procs['tracker'].log()[-2000:])
    wait_for(lambda: rec.init_pub.get_subscription_count() > 0, 30, 'tracker init_bbox')

    def controller_up() -> bool:
        if not procs['controller'].alive():
            raise RuntimeError('follow_controller exited:\n' + procs['controller'].log()[-2000:])
        return rec.last('state') is not None
    wait_for(controller_up, 30, 'the controller state')
    wait_for(lambda: len(rec.get('truth')) >= 3, 30, 'simulator frames')
    time.sleep(0.5)                      # the tracker's frame ring holds recent frames
    truth = rec.last('truth')
    init = Detection2D(header=truth.header, bbox=truth.bbox, id='init')
    rec.init_pub.publish(init)
    init_stamp = _stamp_s(truth.header.stamp)
    wait_for(lambda: rec.last('status') is not None and rec.last('status').data == 'tracking',
             30, 'tracker status tracking')
    marks = {'init': init_stamp}
    time.sleep(scenario.follow_s)
    marks['hide'] = time.time()
    rec.call(rec.visible, SetBool.Request(data=False), 10)
    time.sleep(scenario.hide_s)
    marks['stop'] = time.time()
    rec.call(rec.reset, Trigger.Request(), 10)
    time.sleep(scenario.stop_s)
    marks['end'] = time.time()
    return {'marks': marks}


def analyse(rec: Recorder, marks: Dict[str, float], settle_px: float) -> Dict[str, Any]:
    """Settling time, steady-state error and the hold checks, from the recorded streams."""
    t0 = marks['init']
    errs = [(_stamp_s(m.header.stamp) - t0, m.vector.x, m.vector.y, m.vector.z)
            for _, m in rec.get('error')]
    errs = [e for e in errs if e[0] >= 0]
    hide, stop, end = marks['hide'] - t0, marks['stop'] - t0, marks['end'] - t0
    follow = [(t, math.hypot(x, y)) for t, x, y, v in errs if t < hide and v > 0]
    if not follow:
        raise RuntimeError('no error samples during the follow phase')
    settle = None
    for i, (t, e) in enumerate(follow):
        if all(ee < settle_px for _, ee in follow[i:]):
            settle = t
            break
    steady = [e for t, e in follow if t >= hide / 2]
    rates = [(_stamp_s(m.header.stamp) - t0, m.vector.z, m.vector.y) for _, m in rec.get('rate')]
    gimbal = [(_stamp_s(m.header.stamp) - t0, m.vector.z, m.vector.y)
              for _, m in rec.get('gimbal')]
    states = [(time.time() - (time.monotonic() - at) - t0, m.data) for at, m in rec.get('state')]
    statuses = [m.data for _, m in rec.get('status')]

    def window(series, lo, hi):
        return [s for s in series if lo <= s[0] < hi]

    # Hold checks: the last 2 s of the hide phase and the stop phase.
    hide_tail = window(rates, stop - 2.0, stop)
    stop_tail = window(rates, stop + 0.5, end)
    gim_tail = window(gimbal, stop - 2.0, stop)
    drift = (math.degrees(max(abs(gim_tail[-1][1] - gim_tail[0][1]),
                              abs(gim_tail[-1][2] - gim_tail[0][2]))) if len(gim_tail) > 1
             else math.nan)
    return {
        'initial_error_px': follow[0][1],
        'settle_px': settle_px,
        'settling_time_s': settle,
        'steady_error_median_px': float(np.median(steady)) if steady else math.nan,
        'steady_error_p95_px': float(np.percentile(steady, 95)) if steady else math.nan,
        'steady_error_max_px': float(max(steady)) if steady else math.nan,
        'follow_samples': len(follow),
        'hide_tail_max_rate': _max_rate(hide_tail),
        'stop_tail_max_rate': _max_rate(stop_tail),
        'hide_tail_gimbal_drift_deg': drift,
        'statuses': statuses,
        'controller_states': [s for _, s in states],
        'series': {'error': errs, 'rates': rates, 'states': states},
        'phases': {'hide': hide, 'stop': stop, 'end': end},
    }


def _max_rate(rates: List[Any]) -> float:
    return max((max(abs(a), abs(b)) for _, a, b in rates), default=math.nan)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='demo_out/follow', help='output directory')
    parser.add_argument('--follow-s', type=float, default=25.0)
    parser.add_argument('--hide-s', type=float, default=5.0)
    parser.add_argument('--stop-s', type=float, default=2.0)
    parser.add_argument('--plot-copy', default='', help='also write the PNG here (README)')
    parser.add_argument('--controller-param', action='append', default=[], metavar='NAME=VALUE',
                        help='a follow_controller parameter (repeatable), e.g. kp=2.5')
    args = parser.parse_args(argv)
    controller_params: Dict[str, Any] = {}
    for item in args.controller_param:
        name, sep, value = item.partition('=')
        if not sep:
            parser.error(f'--controller-param needs NAME=VALUE, got {item!r}')
        controller_params[name] = value
    os.makedirs(args.out, exist_ok=True)
    scenario = Scenario(follow_s=args.follow_s, hide_s=args.hide_s, stop_s=args.stop_s,
                        record_frames=True, controller_params=controller_params)
    procs = start_system(scenario, os.path.join(args.out, 'logs'))
    rec = Recorder(record_frames=True)
    try:
        marks = run_scenario(scenario, rec, procs)['marks']
        time.sleep(0.5)
        result = analyse(rec, marks, scenario.settle_px)
    except BaseException:
        stop_system(procs)
        rec.close()
        raise
    codes = stop_system(procs)
    rec_frames = rec
    from vil_tracker_ros.ros.follow_report import write_plot, write_video
    plot = os.path.join(args.out, 'follow_error.png')
    write_plot(result, plot)
    if args.plot_copy:
        write_plot(result, args.plot_copy)
    n = write_video(rec_frames, marks['init'], os.path.join(args.out, 'follow.mp4'), 15.0)
    rec.close()
    summary = {k: v for k, v in result.items() if k not in ('series',)}
    summary['exit_codes'] = codes
    summary['video_frames'] = n
    with open(os.path.join(args.out, 'follow_metrics.json'), 'w') as f:
        json.dump(summary, f, indent=2, default=str)
    print('vil_tracker_ros follow demo')
    print(f'  initial error   {result["initial_error_px"]:.1f} px')
    st = result['settling_time_s']
    print(f'  settling time   {st:.1f} s (error < {scenario.settle_px:g} px for good)'
          if st is not None else '  settling time   did not settle')
    print(f'  steady error    median {result["steady_error_median_px"]:.1f} px, p95 '
          f'{result["steady_error_p95_px"]:.1f} px, max {result["steady_error_max_px"]:.1f} px '
          '(second half of the follow phase)')
    print(f'  target hidden   statuses {" -> ".join(result["statuses"])}; controller '
          f'{" -> ".join(result["controller_states"])}')
    print(f'  hold            max |rate| {result["hide_tail_max_rate"]:.3f} rad/s (hidden), '
          f'{result["stop_tail_max_rate"]:.3f} rad/s (after reset)')
    print(f'  wrote           {args.out}/follow.mp4 ({n} frames), follow_error.png, '
          'follow_metrics.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
