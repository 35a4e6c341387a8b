# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Training pipeline: every dataset format trains, resume repeats a step, CLI config.

The fixtures are tiny datasets written in each benchmark's real on-disk layout
(GOT-10k, LaSOT, TrackingNet, COCO instances JSON) plus the synthetic
generator; the model is the registry's ``vil_tiny``.
"""

import json
import math
import os

import cv2
import numpy as np
import pytest
import torch

from vil_tracker_ros.config import ConfigError
from vil_tracker_ros.data.sampler import build_sources, epoch_batches
from vil_tracker_ros.train.cli import load_config, main as cli_main
from vil_tracker_ros.train.trainer import Trainer, TrainError

NUM_FRAMES = 6
W, H = 96, 72


def _frame(i: int, seed: int = 0) -> tuple:
    """A textured background with a bright square moving right; returns (image, box)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 120, size=(H, W, 3), dtype=np.uint8)
    x, y, s = 20 + 4 * i, 24, 18
    img[y:y + s, x:x + s] = (230, 40 + 20 * seed % 200, 30)
    return img, (x, y, s, s)


def _write_video(folder: str, names) -> list:
    os.makedirs(folder, exist_ok=True)
    boxes = []
    for i, name in enumerate(names):
        img, box = _frame(i)
        cv2.imwrite(os.path.join(folder, name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        boxes.append(box)
    return boxes


def _lines(boxes, sep=',') -> str:
    return ''.join(sep.join(str(v) for v in b) + '\n' for b in boxes)


def write_got10k(root: str) -> str:
    split = os.path.join(root, 'train')
    names = ['GOT-10k_Train_000001', 'GOT-10k_Train_000002']
    for name in names:
        seq = os.path.join(split, name)
        boxes = _write_video(seq, [f'{i + 1:08d}.jpg' for i in range(NUM_FRAMES)])
        with open(os.path.join(seq, 'groundtruth.txt'), 'w') as f:
            f.write(_lines(boxes))
        with open(os.path.join(seq, 'absence.label'), 'w') as f:
            f.write('0\n' * (NUM_FRAMES - 1) + '1\n')
        with open(os.path.join(seq, 'cover.label'), 'w') as f:
            f.write('8\n' * NUM_FRAMES)
    with open(os.path.join(split, 'list.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')
    return root


def write_lasot(root: str) -> str:
    for name in ('cat-1', 'cat-2'):
        seq = os.path.join(root, 'cat', name)
        boxes = _write_video(os.path.join(seq, 'img'),
                             [f'{i + 1:08d}.jpg' for i in range(NUM_FRAMES)])
        with open(os.path.join(seq, 'groundtruth.txt'), 'w') as f:
            f.write(_lines(boxes))
        with open(os.path.join(seq, 'full_occlusion.txt'), 'w') as f:
            f.write(','.join(['0'] * (NUM_FRAMES - 1) + ['1']) + '\n')
        with open(os.path.join(seq, 'out_of_view.txt'), 'w') as f:
            f.write(','.join(['0'] * NUM_FRAMES) + '\n')
    return root


def write_trackingnet(root: str) -> str:
    for video in ('vid_a', 'vid_b'):
        boxes = _write_video(os.path.join(root, 'TRAIN_0', 'frames', video),
                             [f'{i}.jpg' for i in range(NUM_FRAMES)])
        anno = os.path.join(root, 'TRAIN_0', 'anno')
        os.makedirs(anno, exist_ok=True)
        with open(os.path.join(anno, f'{video}.txt'), 'w') as f:
            f.write(_lines(boxes))
    return root


def write_coco(root: str) -> str:
    images, anns = [], []
    os.makedirs(os.path.join(root, 'train2017'), exist_ok=True)
    for i in range(3):
        img, (x, y, w, h) = _frame(i, seed=i)
        name = f'{i + 1:012d}.jpg'
        cv2.imwrite(os.path.join(root, 'train2017', name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        images.append({'id': i + 1, 'file_name': name, 'width': W, 'height': H})
        anns.append({'id': 10 + i, 'image_id': i + 1, 'bbox': [x, y, w, h], 'area': w * h,
                     'iscrowd': 0, 'category_id': 1})
    # A crowd region and a tiny box are skipped by the sampler.
    anns.append({'id': 98, 'image_id': 1, 'bbox': [0, 0, 40, 40], 'area': 1600, 'iscrowd': 1,
                 'category_id': 1})
    anns.append({'id': 99, 'image_id': 1, 'bbox': [1, 1, 3, 3], 'area': 9, 'iscrowd': 0,
                 'category_id': 1})
    os.makedirs(os.path.join(root, 'annotations'), exist_ok=True)
    with open(os.path.join(root, 'annotations', 'instances_train2017.json'), 'w') as f:
        json.dump({'images': images, 'annotations': anns,
                   'categories': [{'id': 1, 'name': 'thing'}]}, f)
    return root


WRITERS = {'got10k': write_got10k, 'lasot': write_lasot, 'trackingnet': write_trackingnet,
           'coco': write_coco}


def tiny_overrides(out_dir: str, datasets: str = '[{name: synthetic}]') -> list:
    return [
        'model.variant=vil_tiny', 'model.film_start_epoch=1', f'data.datasets={datasets}',
        'data.synthetic_sequences=3', 'data.synthetic.frame_width=96',
        'data.synthetic.frame_height=72', 'data.synthetic.length=8',
        'data.samples_per_epoch=16', 'optim.batch_size=4', 'optim.epochs=2',
        'optim.lr=2e-3', 'optim.backbone_lr_scale=1.0', 'optim.schedule=constant',
        'curriculum.ramp_epochs=2', 'curriculum.hard_weight_min=1.0',
        f'run.out_dir={out_dir}', 'run.device=cpu', 'run.threads=1', 'run.progress=false',
        'run.tensorboard=false', 'run.log_every=1', 'run.checkpoint_every_minutes=0',
    ]


@pytest.mark.parametrize('fmt', ['got10k', 'lasot', 'trackingnet', 'coco', 'synthetic'])
def test_one_training_step_per_dataset_format(tmp_path, fmt):
    if fmt == 'synthetic':
        datasets = '[{name: synthetic}]'
    else:
        root = WRITERS[fmt](str(tmp_path / fmt))
        datasets = f'[{{name: {fmt}, root: "{root}"}}]'
    cfg = load_config(None, tiny_overrides(str(tmp_path / 'run'), datasets))
    trainer = Trainer(cfg)
    assert [s.name for s in trainer.dataset.sources] == [fmt]
    batch = next(iter(trainer._loader(0, 0)))
    assert batch['template'].shape == (4, 32, 32, 3) and batch['search'].shape == (4, 64, 64, 3)
    box = batch['box'].numpy()
    assert np.all((box[:, :2] > 0) & (box[:, :2] < 1)), box     # target centre inside the crop
    cstate = trainer.curriculum.state(0)
    losses = [trainer.train_step(batch, cstate)['loss'] for _ in range(6)]
    assert all(math.isfinite(v) for v in losses), losses
    assert losses[-1] < losses[0], losses


def test_missing_roots_are_skipped_and_synthetic_is_the_fallback(tmp_path):
    cfg = load_config(None, tiny_overrides(
        str(tmp_path / 'run'), f'[{{name: lasot, root: "{tmp_path}/nope"}}]'))
    with pytest.warns(UserWarning) as caught:
        sources, weights = build_sources(cfg.data)
    messages = ' | '.join(str(w.message) for w in caught)
    assert 'does not exist' in messages and 'falling back' in messages
    assert [s.name for s in sources] == ['synthetic'] and weights == [1.0]
    strict = load_config(None, tiny_overrides(
        str(tmp_path / 'run'), f'[{{name: got10k, root: "{tmp_path}/nope"}}]')
        + ['data.fallback_to_synthetic=false'])
    with pytest.warns(UserWarning), pytest.raises(ValueError, match='no training source'):
        build_sources(strict.data)


def test_dataset_mixing_follows_weights(tmp_path):
    root = write_lasot(str(tmp_path / 'lasot'))
    cfg = load_config(None, tiny_overrides(
        str(tmp_path / 'run'), f'[{{name: lasot, root: "{root}", weight: 3}}, '
        '{name: synthetic, weight: 1}]') + ['data.samples_per_epoch=400'])
    trainer = Trainer(cfg)
    counts = np.bincount([int(np.random.default_rng([cfg.run.seed, 0, i]).choice(
        2, p=trainer.dataset.probs)) for i in range(400)], minlength=2)
    assert trainer.dataset.probs.tolist() == pytest.approx([0.75, 0.25])
    assert 0.65 < counts[0] / 400 < 0.85
    # The dataset draws its source exactly this way (first draw of the item's stream).
    assert int(trainer.dataset[5]['source']) == int(
        np.random.default_rng([cfg.run.seed, 0, 5]).choice(2, p=trainer.dataset.probs))


def test_epoch_batches_split_ranks_and_resume():
    full = epoch_batches(20, 4, epoch=3, seed=1)
    assert len(full) == 5 and sorted(sum(full, [])) == list(range(20))
    r0 = epoch_batches(20, 4, 3, 1, rank=0, world_size=2)
    r1 = epoch_batches(20, 4, 3, 1, rank=1, world_size=2)
    assert len(r0) == len(r1) == 2
    assert not set(sum(r0, [])) & set(sum(r1, []))
    assert epoch_batches(20, 4, 3, 1, start_batch=2) == full[2:]
    assert epoch_batches(20, 4, 4, 1) != full
    with pytest.raises(ValueError, match='no full batch'):
        epoch_batches(3, 4, 0, 1)


def _weights(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_resume_repeats_the_next_step_exactly(tmp_path):
    base = tiny_overrides(str(tmp_path / 'a'))
    # 3 steps, stop (checkpoint), then resume for the 4th step.
    Trainer(load_config(None, base + ['run.max_steps=3'])).run()
    resumed = Trainer(load_config(None, base + ['run.max_steps=4']))
    assert resumed.step == 3
    resumed.run()
    # The same 4 steps without interruption.
    straight = Trainer(load_config(None, tiny_overrides(str(tmp_path / 'b'))
                                   + ['run.max_steps=4']))
    straight.run()
    a, b = _weights(resumed.model), _weights(straight.model)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # Both runs changed the weights (the comparison is not vacuous).
    fresh = Trainer(load_config(None, tiny_overrides(str(tmp_path / 'c'))
                                + ['run.max_steps=0']))
    assert any(not torch.equal(a[k], v) for k, v in _weights(fresh.model).items())
    rows = (tmp_path / 'a' / 'metrics.csv').read_text().strip().splitlines()
    assert rows[0].startswith('step,') and [r.split(',')[0] for r in rows[1:]] == [
        '1', '2', '3', '4']


def test_resume_rejects_a_plain_model_checkpoint(tmp_path):
    from vil_tracker_ros.model.checkpoint import save_checkpoint
    cfg = load_config(None, tiny_overrides(str(tmp_path / 'run')))
    plain = str(tmp_path / 'plain.pt')
    save_checkpoint(plain, Trainer(cfg).model)
    with pytest.raises(TrainError, match='not a resumable'):
        Trainer(load_config(None, tiny_overrides(str(tmp_path / 'run'))
                            + [f'run.resume={plain}']))


def test_phase2_freezes_the_shared_expert_and_adds_contrastive(tmp_path):
    first = tiny_overrides(str(tmp_path / 'p1')) + ['run.max_steps=2']
    Trainer(load_config(None, first)).run()
    init = str(tmp_path / 'p1' / 'last.pt')
    cfg = load_config(None, tiny_overrides(str(tmp_path / 'p2'))
                      + ['phase=2', f'init_checkpoint={init}', 'loss.adw=true',
                         'loss.contrastive=0.5'])
    trainer = Trainer(cfg)
    shared = [p for n, p in trainer.model.named_parameters() if '.tmoe.shared.' in n]
    assert shared and not any(p.requires_grad for p in shared)
    before = [p.detach().clone() for p in shared]
    batch = next(iter(trainer._loader(0, 0)))
    scalars = trainer.train_step(batch, trainer.curriculum.state(0))
    assert trainer.curriculum.state(0).film
    assert math.isfinite(scalars['contrastive']) and scalars['contrastive'] > 0
    assert all(torch.equal(a, p) for a, p in zip(before, shared))


def test_afkd_teacher_from_our_checkpoint(tmp_path):
    Trainer(load_config(None, tiny_overrides(str(tmp_path / 't')) + ['run.max_steps=1'])).run()
    cfg = load_config(None, tiny_overrides(str(tmp_path / 's'))
                      + [f'loss.teacher_checkpoint={tmp_path / "t" / "last.pt"}'])
    trainer = Trainer(cfg)
    batch = next(iter(trainer._loader(0, 0)))
    scalars = trainer.train_step(batch, trainer.curriculum.state(0))
    assert math.isfinite(scalars['distill']) and scalars['distill'] >= 0


def test_a_student_starts_from_its_teachers_blocks_and_learns_from_it(tmp_path):
    film = ['model.film_start_epoch=0']     # both carry a temporal context
    Trainer(load_config(None, tiny_overrides(str(tmp_path / 't')) + film
                        + ['run.max_steps=1'])).run()
    teacher = str(tmp_path / 't' / 'last.pt')
    cfg = load_config(None, tiny_overrides(str(tmp_path / 's')) + film
                      + ['model.depth=2', f'init_checkpoint={teacher}', 'init_blocks=[2, 3]',
                         f'loss.teacher_checkpoint={teacher}'])
    trainer = Trainer(cfg)
    assert torch.equal(trainer.model.blocks[0].layer.proj_up.weight,
                       trainer.teacher.blocks[2].layer.proj_up.weight)
    assert trainer.teacher.film_enabled
    batch = next(iter(trainer._loader(0, 0)))
    scalars = trainer.train_step(batch, trainer.curriculum.state(0))
    assert math.isfinite(scalars['distill']) and scalars['distill'] >= 0
    with pytest.raises(TrainError, match='scans the other way'):
        Trainer(load_config(None, tiny_overrides(str(tmp_path / 'x'))
                            + ['model.depth=2', f'init_checkpoint={teacher}',
                               'init_blocks=[3, 2]']))
    for bad, reason in (('init_blocks=[2, 3]', 'needs init_checkpoint'),
                        (f'init_checkpoint={teacher}', 'must name model.depth=2')):
        overrides = ['model.depth=2', bad] + (['init_blocks=[0]'] if 'checkpoint' in bad
                                              else [])
        with pytest.raises(ConfigError, match=reason):
            load_config(None, tiny_overrides(str(tmp_path / 'y')) + overrides)


def test_cli_config_errors_and_overrides(tmp_path, capsys):
    cfg_file = tmp_path / 'train.yaml'
    cfg_file.write_text('model: {variant: vil_tiny}\noptim: {lr: 0.001}\n')
    cfg = load_config(str(cfg_file), ['optim.batch_size=3', 'run.seed=7'])
    assert (cfg.model.embed_dim, cfg.optim.lr, cfg.optim.batch_size, cfg.run.seed) == (
        32, 0.001, 3, 7)
    with pytest.raises(ConfigError, match='lrr'):
        load_config(str(cfg_file), ['optim.lrr=1'])
    with pytest.raises(ConfigError, match='unknown variant'):
        load_config(None, ['model.variant=nope'])
    with pytest.raises(ConfigError, match='section.key=value'):
        load_config(None, ['optim'])
    assert cli_main(['--config', str(tmp_path / 'missing.yaml')]) == 2
    assert 'does not exist' in capsys.readouterr().err
    assert cli_main(['--config', str(cfg_file), '--print-config']) == 0
    assert 'embed_dim: 32' in capsys.readouterr().out


def test_shipped_train_configs_parse():
    here = os.path.join(os.path.dirname(__file__), '..', 'config')
    names = sorted(f for f in os.listdir(here) if f.startswith('train_') and f.endswith('.yaml'))
    assert 'train_synthetic.yaml' in names and 'train_full.yaml' in names
    for name in names:
        cfg = load_config(os.path.join(here, name))
        assert cfg.optim.batch_size >= 1


def test_export_weights_and_plot(tmp_path):
    from vil_tracker_ros.model.checkpoint import load_checkpoint
    from vil_tracker_ros.train.export_weights import export_weights
    from vil_tracker_ros.train.plot_metrics import plot_metrics
    run = tmp_path / 'run'
    Trainer(load_config(None, tiny_overrides(str(run)) + ['run.max_steps=2'])).run()
    out = tmp_path / 'w' / 'tiny.pt'
    summary = export_weights(str(run / 'last.pt'), str(out), fp16=True)
    assert summary['step'] == 2 and summary['precision'] == 'fp16'
    assert summary['fp16_max_abs_diff_boxes'] < 1e-2
    assert out.stat().st_size < (run / 'last.pt').stat().st_size / 3   # no optimiser state
    model, info = load_checkpoint(out)
    assert info['extra']['training']['config']['model']['variant'] == 'vil_tiny'
    assert next(model.parameters()).dtype == torch.float32
    png = tmp_path / 'curve.png'
    plot_metrics(str(run / 'metrics.csv'), str(png), 'tiny')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_init_checkpoint_grows_into_the_correlation_prior(tmp_path):
    Trainer(load_config(None, tiny_overrides(str(tmp_path / 'p1'))
                        + ['run.max_steps=1'])).run()
    init = str(tmp_path / 'p1' / 'last.pt')
    trainer = Trainer(load_config(None, tiny_overrides(str(tmp_path / 'p2'))
                                  + [f'init_checkpoint={init}', 'model.head_correlation=true',
                                     'model.film_start_epoch=0']))
    assert trainer.model.cfg.head_correlation
    batch = next(iter(trainer._loader(0, 0)))
    assert math.isfinite(trainer.train_step(batch, trainer.curriculum.state(0))['loss'])
    with pytest.raises(TrainError, match='embed_dim'):
        Trainer(load_config(None, tiny_overrides(str(tmp_path / 'p3'))
                            + [f'init_checkpoint={init}', 'model.embed_dim=16']))


def test_sigterm_to_the_process_group_with_loader_workers_saves_and_exits_0(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / 'run'
    args = tiny_overrides(str(out)) + ['data.num_workers=1', 'optim.epochs=1000']
    cmd = [sys.executable, '-m', 'vil_tracker_ros.train.cli']
    for a in args:
        cmd += ['--set', a]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        metrics = out / 'metrics.csv'
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stdout.read()
        os.killpg(proc.pid, signal.SIGTERM)    # as `kill -- -PGID` or a service stop does
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 0, output
    state = torch.load(out / 'last.pt', map_location='cpu', weights_only=False)
    steps = [int(r.split(',')[0]) for r in metrics.read_text().splitlines()[1:]]
    assert state['extra']['train_state']['step'] >= steps[-1] >= 2
