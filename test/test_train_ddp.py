# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Two CPU processes under torchrun (gloo) end with identical weights."""

import os
import subprocess
import sys
import textwrap

from test_train_pipeline import tiny_overrides
import torch

SCRIPT = textwrap.dedent("""
    import sys
    import torch
    import torch.distributed as dist
    from vil_tracker_ros.train.cli import load_config
    from vil_tracker_ros.train.trainer import Trainer

    out = sys.argv[1]
    trainer = Trainer(load_config(None, sys.argv[2:]))
    model = trainer.run()
    rank = dist.get_rank()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()},
               f'{out}/rank{rank}.pt')
    print(f'rank {rank} world {dist.get_world_size()} steps {trainer.step}', flush=True)
    dist.destroy_process_group()
""")


def test_two_process_ddp_ranks_end_identical(tmp_path):
    script = tmp_path / 'ddp_train.py'
    script.write_text(SCRIPT)
    run_dir = tmp_path / 'run'
    overrides = tiny_overrides(str(run_dir)) + ['run.max_steps=3', 'data.samples_per_epoch=24']
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
        + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
           '--nproc_per_node', '2', str(script), str(tmp_path)] + overrides
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'rank 0 world 2 steps 3' in log and 'rank 1 world 2 steps 3' in log, log[-2000:]
    r0 = torch.load(tmp_path / 'rank0.pt', weights_only=True)
    r1 = torch.load(tmp_path / 'rank1.pt', weights_only=True)
    assert r0.keys() == r1.keys()
    for k in r0:
        assert torch.equal(r0[k], r1[k]), f'{k} differs between ranks'
    # Rank 0 wrote the run's checkpoint and log; training moved the weights.
    assert (run_dir / 'last.pt').is_file() and (run_dir / 'metrics.csv').is_file()
    from vil_tracker_ros.model.checkpoint import load_checkpoint
    saved, info = load_checkpoint(run_dir / 'last.pt')
    assert info['extra']['train_state']['world_size'] == 2
    assert info['extra']['train_state']['step'] == 3
    for k, v in saved.state_dict().items():
        assert torch.equal(v, r0[k]), k
