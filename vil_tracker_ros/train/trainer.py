# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""The training loop: one process, or one per device under ``torchrun`` (DDP).

``train(cfg)`` builds the model, the pair sampler and the losses, then steps
through epochs. Under ``torchrun`` (WORLD_SIZE > 1) it joins a process group
(gloo on CPU, nccl on GPU) and wraps the model in DistributedDataParallel.
Rank 0 writes ``<out_dir>/last.pt`` (a model checkpoint whose ``extra`` holds
the optimiser, step and config), ``metrics.csv``, TensorBoard scalars under
``tb/`` and ``config.yaml``. A checkpoint holds everything the next step
depends on (weights, optimiser moments, step, RNG state; data and learning
rate are pure functions of the step), so a resumed run repeats the step the
interrupted run would have taken. SIGINT/SIGTERM end the run after the current
step with a checkpoint.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch
from torch import nn
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader

from vil_tracker_ros.config import ConfigError, from_dict, to_dict, TrainConfig
from vil_tracker_ros.core.preprocess import normalize
from vil_tracker_ros.data.sampler import (build_sources, epoch_batches, PairDataset,
                                          SamplingState)
from vil_tracker_ros.model.checkpoint import (grow_from, load_checkpoint, save_checkpoint,
                                              shrink_from)
from vil_tracker_ros.model.tracker_net import build_model
from vil_tracker_ros.train import losses as L
from vil_tracker_ros.train.curriculum import Curriculum, CurriculumState
from vil_tracker_ros.train.logbook import MetricsLog
from vil_tracker_ros.train.objective import compute_losses, lr_factor, param_groups
from vil_tracker_ros.train.runtime import ignore_stop_signals, iter_with_shielded_workers
from vil_tracker_ros.train.runtime import (init_distributed, pick_device, set_determinism,
                                           TrainError)
LOG = logging.getLogger(__name__)

TRAIN_STATE_VERSION = 1


# ---------------------------------------------------------------------- trainer


class Trainer:
    """Holds the run's state; ``run()`` trains until the configured end or a signal."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.device = pick_device(cfg)
        self.dist = init_distributed(self.device.type)
        set_determinism(cfg, self.device)
        self.out_dir = cfg.run.out_dir
        if self.dist.is_main:
            os.makedirs(self.out_dir, exist_ok=True)
        self.model = build_model(cfg.model)
        if cfg.init_checkpoint:
            self._load_init(cfg.init_checkpoint)
        if cfg.phase == 2:
            self.model.set_shared_experts_frozen(True)
        self.model.to(self.device)
        self.teacher = self._load_teacher()
        self.adw: Optional[L.ADWWeighting] = None
        if cfg.loss.adw:
            self.adw = L.ADWWeighting({'focal': cfg.loss.focal, 'giou': cfg.loss.giou,
                                       'l1': cfg.loss.l1}).to(self.device)
        groups = param_groups(self.model, cfg)
        if self.adw is not None:
            groups.append({'params': list(self.adw.parameters()), 'lr': cfg.optim.lr,
                           'base_lr': cfg.optim.lr, 'weight_decay': 0.0})
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.optim.lr)
        self.curriculum = Curriculum(cfg.curriculum, cfg.phase, cfg.model.film_start_epoch)
        self.with_prev = cfg.model.film and (
            cfg.phase == 2 or cfg.model.film_start_epoch < cfg.optim.epochs)
        sources, weights = build_sources(cfg.data)
        self.dataset = PairDataset(sources, weights, cfg.model.template_size,
                                   cfg.model.search_size, cfg.data, cfg.augment,
                                   seed=cfg.run.seed, with_prev=self.with_prev)
        per_rank = cfg.data.samples_per_epoch // self.dist.world_size
        self.steps_per_epoch = per_rank // cfg.optim.batch_size
        if self.steps_per_epoch < 1:
            raise TrainError(f'data.samples_per_epoch={cfg.data.samples_per_epoch} gives no '
                             f'full batch of {cfg.optim.batch_size} per process '
                             f'({self.dist.world_size} processes)')
        self.step = 0
        self.elapsed = 0.0
        self._maybe_resume()
        self.ddp = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == 'cuda' else None
            # FiLM is off for the first epochs and phase 2 freezes an expert, so
            # some parameters get no gradient on some steps.
            self.ddp = nn.parallel.DistributedDataParallel(
                self.model, device_ids=ids, find_unused_parameters=True)
        self._stop = False
        self.logbook = MetricsLog(cfg, self.out_dir, self.dist.is_main)

    # ---------------------------------------------------------------- loading
    def _load_init(self, path: str) -> None:
        """Start from ``path``'s weights.

        A model that only adds the correlation prior grows from them
        (``model.checkpoint.grow_from``); a student with fewer blocks starts from the blocks
        ``init_blocks`` names (``model.checkpoint.shrink_from``).
        """
        src, _ = load_checkpoint(path, map_location='cpu')
        if self.cfg.init_blocks:
            try:
                shrink_from(self.model, src, self.cfg.init_blocks)
            except ConfigError as exc:
                raise TrainError(f'init_checkpoint {path}: {exc}') from exc
            LOG.info('student started from blocks %s of %s', self.cfg.init_blocks, path)
            return
        if src.cfg == self.cfg.model:
            self.model.load_state_dict(src.state_dict())
            return
        try:
            grow_from(self.model, src)
        except ConfigError as exc:
            raise TrainError(f'init_checkpoint {path}: its ModelConfig differs from '
                             f'model.* in the training config ({exc})') from exc
        LOG.info('grew the model from %s', path)

    def _load_teacher(self):
        path = self.cfg.loss.teacher_checkpoint
        if not path:
            return None
        teacher, _ = load_checkpoint(path, map_location=self.device)
        for p in teacher.parameters():
            p.requires_grad_(False)
        return teacher.eval()

    def _resume_path(self) -> Optional[str]:
        r = self.cfg.run.resume
        if r == 'never':
            return None
        if r == 'auto':
            path = os.path.join(self.out_dir, 'last.pt')
            return path if os.path.isfile(path) else None
        if not os.path.isfile(r):
            raise TrainError(f'run.resume: {r} does not exist')
        return r

    def _maybe_resume(self) -> None:
        path = self._resume_path()
        if path is None:
            return
        src, info = load_checkpoint(path, map_location='cpu')
        extra = info['extra']
        state = extra.get('train_state')
        if not isinstance(state, dict) or state.get('version') != TRAIN_STATE_VERSION:
            raise TrainError(f'{path}: not a resumable training checkpoint (no train_state '
                             f'version {TRAIN_STATE_VERSION}); use it as init_checkpoint')
        if src.cfg != self.cfg.model:
            raise TrainError(f'{path}: its ModelConfig differs from the training config')
        old = from_dict(TrainConfig, state['config'])
        if (old.run.seed, old.optim.batch_size, old.data.samples_per_epoch) != (
                self.cfg.run.seed, self.cfg.optim.batch_size, self.cfg.data.samples_per_epoch):
            LOG.warning('resuming with a different seed, batch size or epoch size: the run '
                        'will not repeat the interrupted one exactly')
        if state['world_size'] != self.dist.world_size:
            LOG.warning('resuming on %d process(es), saved on %d', self.dist.world_size,
                        state['world_size'])
        self.model.load_state_dict(src.state_dict())
        self.model.to(self.device)
        self.optimizer.load_state_dict(state['optimizer'])
        if self.adw is not None and 'adw' in state:
            self.adw.load_state_dict(state['adw'])
        self.step = int(state['step'])
        self.elapsed = float(state['elapsed'])
        torch.set_rng_state(state['torch_rng'])
        if self.dist.is_main:
            LOG.info('resumed from %s at step %d', path, self.step)

    # ---------------------------------------------------------------- saving
    def save(self, path: Optional[str] = None) -> Optional[str]:
        if not self.dist.is_main:
            return None
        path = path or os.path.join(self.out_dir, 'last.pt')
        state = {
            'version': TRAIN_STATE_VERSION,
            'step': self.step,
            'epoch': self.step // self.steps_per_epoch,
            'elapsed': self.elapsed,
            'world_size': self.dist.world_size,
            'config': to_dict(self.cfg),
            'optimizer': self.optimizer.state_dict(),
            'torch_rng': torch.get_rng_state(),
        }
        if self.adw is not None:
            state['adw'] = self.adw.state_dict()
        save_checkpoint(path, self.model, extra={'train_state': state})
        return path

    # ---------------------------------------------------------------- one step
    def _batch_to(self, batch: Dict[str, torch.Tensor]):
        dev = self.device
        return {
            'template': normalize(batch['template'], dev),
            'search': normalize(batch['search'], dev),
            'box': batch['box'].to(dev, torch.float32),
            'prev_search': (normalize(batch['prev_search'], dev)
                            if 'prev_search' in batch else None),
        }

    def train_step(self, batch: Dict[str, torch.Tensor], cstate: CurriculumState
                   ) -> Dict[str, float]:
        """One optimiser step on ``batch`` (collated sampler items); returns the scalars."""
        cfg = self.cfg
        self.ddp.train()
        b = self._batch_to(batch)
        memory = None
        if cstate.film and b['prev_search'] is not None:
            # The previous frame's context, as the tracker would carry it.
            with torch.no_grad():
                memory = self.model(b['template'], b['prev_search']).temporal_ctx  # (B, d)
        out = self.ddp(b['template'], b['search'], temporal_ctx=memory)
        parts = compute_losses(out, b['box'], cfg, cstate.hard_weight)
        main = {k: parts[k] for k in ('focal', 'giou', 'l1')}
        if self.adw is not None:
            total = self.adw(main)
        else:
            total = L.weighted_sum(main, {'focal': cfg.loss.focal, 'giou': cfg.loss.giou,
                                          'l1': cfg.loss.l1})
        total = total + cfg.loss.nll * parts['nll']
        if cfg.phase == 2 and memory is not None and cfg.loss.contrastive > 0:
            parts['contrastive'] = L.memory_contrastive_loss(
                memory, out.temporal_ctx, cfg.loss.contrastive_temperature)
            total = total + cfg.loss.contrastive * parts['contrastive']
        if self.teacher is not None and cfg.loss.distill > 0:
            parts['distill'] = self._distill(b, out, memory is not None)
            total = total + cfg.loss.distill * parts['distill']
        if not torch.isfinite(total):
            raise TrainError(f'loss is not finite at step {self.step}: '
                             + ', '.join(f'{k}={float(v):.4g}' for k, v in parts.items()))
        factor = lr_factor(cfg, self.step, self.steps_per_epoch)
        for g in self.optimizer.param_groups:
            g['lr'] = g['base_lr'] * factor
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self.adw is not None and self.dist.enabled:
            for p in self.adw.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= self.dist.world_size
        if cfg.optim.grad_clip > 0:
            params = [p for g in self.optimizer.param_groups for p in g['params']]
            torch.nn.utils.clip_grad_norm_(params, cfg.optim.grad_clip)
        self.optimizer.step()
        self.step += 1
        scalars = {k: float(v.detach()) for k, v in parts.items()}
        scalars['loss'] = float(total.detach())
        scalars['lr'] = cfg.optim.lr * factor
        return scalars

    def _distill(self, b, out, with_memory: bool) -> torch.Tensor:
        """AFKD against the teacher; it carries its own context where the student did."""
        t_cfg = self.teacher.cfg

        def resized(crop: torch.Tensor, size: int) -> torch.Tensor:
            if crop.shape[-1] == size:
                return crop
            return F.interpolate(crop, size=(size, size), mode='bilinear',
                                 align_corners=False)

        template = resized(b['template'], t_cfg.template_size)
        search = resized(b['search'], t_cfg.search_size)
        with torch.no_grad():
            memory = None
            if with_memory and self.teacher.film_enabled:
                prev = resized(b['prev_search'], t_cfg.search_size)
                memory = self.teacher(template, prev).temporal_ctx  # (B, d_teacher)
            t_out = self.teacher(template, search, temporal_ctx=memory)
        return L.afkd_loss(out.score_map, t_out.score_map, out.boxes, t_out.boxes,
                           self.cfg.loss.distill_temperature)

    # ---------------------------------------------------------------- loop
    def _should_stop(self) -> bool:
        stop = self._stop or (self.cfg.run.max_steps and self.step >= self.cfg.run.max_steps)
        if self.dist.enabled:
            flag = torch.tensor([1.0 if stop else 0.0])
            if self.device.type == 'cuda':
                flag = flag.to(self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            stop = bool(flag.item() > 0)
        return bool(stop)

    def _sync_buffers(self) -> None:
        """Give every rank rank 0's buffers (BatchNorm statistics are updated per rank)."""
        if self.dist.enabled:
            for buf in self.model.buffers():
                if buf.dtype != torch.bool:   # bool flags are set identically everywhere
                    dist.broadcast(buf, 0)

    def _on_signal(self, signum, frame) -> None:
        LOG.warning('signal %d: stopping after this step', signum)
        self._stop = True

    def _loader(self, epoch: int, start_batch: int) -> Iterator:
        batches = epoch_batches(self.cfg.data.samples_per_epoch, self.cfg.optim.batch_size,
                                epoch, self.cfg.run.seed, self.dist.rank,
                                self.dist.world_size, start_batch)
        loader = DataLoader(self.dataset, batch_sampler=batches,
                            num_workers=self.cfg.data.num_workers,
                            worker_init_fn=ignore_stop_signals)
        return iter_with_shielded_workers(loader)

    def run(self) -> nn.Module:
        """Train until ``optim.epochs`` (or ``run.max_steps``, or a signal); return the model."""
        cfg = self.cfg
        handlers = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                handlers[sig] = signal.signal(sig, self._on_signal)
            except ValueError:   # not the main thread
                pass
        self.logbook.start()
        last_ckpt = time.monotonic()
        window: Dict[str, List[float]] = {}
        t_window = time.monotonic()
        data_wait = 0.0
        try:
            while self.step < cfg.optim.epochs * self.steps_per_epoch:
                if self._should_stop():
                    break
                epoch, start = divmod(self.step, self.steps_per_epoch)
                cstate = self.curriculum.state(epoch)
                self.model.set_film_enabled(cstate.film)
                self.dataset.set_state(SamplingState(epoch, cstate.max_gap,
                                                     cstate.center_jitter, cstate.scale_jitter))
                bar = None
                if self.dist.is_main and cfg.run.progress:
                    from tqdm import tqdm
                    bar = tqdm(total=self.steps_per_epoch, initial=start,
                               desc=f'epoch {epoch}', dynamic_ncols=True, leave=False)
                t_ready = time.monotonic()
                for batch in self._loader(epoch, start):
                    t0 = time.monotonic()
                    data_wait += t0 - t_ready   # time the step waited for its batch
                    scalars = self.train_step(batch, cstate)
                    t_ready = time.monotonic()
                    self.elapsed += t_ready - t0
                    for k, v in scalars.items():
                        window.setdefault(k, []).append(v)
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f'{scalars["loss"]:.3f}',
                                        iou=f'{scalars["iou"]:.3f}')
                    if self.step % cfg.run.log_every == 0:
                        now = time.monotonic()
                        n = len(window['loss'])
                        row = {k: float(np.mean(v)) for k, v in window.items()}
                        row.update(step=self.step, epoch=epoch, difficulty=cstate.difficulty,
                                   film=float(cstate.film), elapsed_s=self.elapsed,
                                   samples_per_s=n * cfg.optim.batch_size
                                   * self.dist.world_size / max(1e-9, now - t_window),
                                   data_fraction=data_wait / max(1e-9, now - t_window))
                        data_wait = 0.0
                        self.logbook.log(row)
                        window, t_window = {}, now
                    minutes = cfg.run.checkpoint_every_minutes
                    due = (cfg.run.checkpoint_every_steps
                           and self.step % cfg.run.checkpoint_every_steps == 0)
                    due = due or (minutes > 0 and time.monotonic() - last_ckpt >= 60 * minutes)
                    if due:
                        self.save()
                        last_ckpt = time.monotonic()
                    if self._should_stop():
                        break
                    if self.step % self.steps_per_epoch == 0:
                        break   # epoch done (the loader holds exactly its remainder)
                if bar is not None:
                    bar.close()
                if self.step % self.steps_per_epoch == 0:
                    self.save()
                    last_ckpt = time.monotonic()
            self._sync_buffers()
            self.save()
        finally:
            self.logbook.close()
            for sig, h in handlers.items():
                signal.signal(sig, h)
        return self.model


def train(cfg: TrainConfig) -> nn.Module:
    """Run training for ``cfg``; returns the (unwrapped) model on its device."""
    return Trainer(cfg).run()
