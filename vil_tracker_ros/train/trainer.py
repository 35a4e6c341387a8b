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

import csv
from dataclasses import dataclass
import logging
import math
import os
import signal
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import nn
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader

from vil_tracker_ros.config import from_dict, to_dict, TrainConfig
from vil_tracker_ros.core.preprocess import normalize
from vil_tracker_ros.data.sampler import (build_sources, epoch_batches, PairDataset,
                                          SamplingState)
from vil_tracker_ros.model.checkpoint import load_checkpoint, save_checkpoint
from vil_tracker_ros.model.tracker_net import build_model
from vil_tracker_ros.train import losses as L
from vil_tracker_ros.train.curriculum import Curriculum, CurriculumState, sample_weights

LOG = logging.getLogger(__name__)

CSV_FIELDS = ('step', 'epoch', 'lr', 'loss', 'focal', 'giou', 'l1', 'nll', 'contrastive',
              'distill', 'iou', 'difficulty', 'film', 'samples_per_s', 'elapsed_s')
BACKBONE_PREFIXES = ('patch_embed.', 'blocks.', 'norm.')
TRAIN_STATE_VERSION = 1


class TrainError(RuntimeError):
    """Training cannot start or continue (bad resume file, diverged loss, ...)."""


# ------------------------------------------------------------------- processes


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def _init_distributed(device_kind: str) -> DistInfo:
    world = int(os.environ.get('WORLD_SIZE', '1'))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ['RANK']), world, int(os.environ.get('LOCAL_RANK', '0')))
    if not dist.is_initialized():
        dist.init_process_group(backend='nccl' if device_kind == 'cuda' else 'gloo')
    return info


def _pick_device(cfg: TrainConfig) -> torch.device:
    want = cfg.run.device
    if want == 'cuda' and not torch.cuda.is_available():
        raise TrainError('run.device is cuda but no CUDA device is available')
    if want == 'cuda' or (want == 'auto' and torch.cuda.is_available()):
        return torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0')))
    return torch.device('cpu')


def _set_determinism(cfg: TrainConfig, device: torch.device) -> None:
    if cfg.run.threads > 0:
        torch.set_num_threads(cfg.run.threads)
    torch.manual_seed(cfg.run.seed)
    np.random.seed(cfg.run.seed % (2 ** 32))
    if cfg.run.deterministic:
        if device.type == 'cuda':
            os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
            torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


# -------------------------------------------------------------------- schedule


def lr_factor(cfg: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Learning-rate multiplier at optimiser ``step`` (a pure function: resumes exactly)."""
    o = cfg.optim
    if o.warmup_steps > 0 and step < o.warmup_steps:
        return (step + 1) / o.warmup_steps
    if o.schedule == 'constant':
        return 1.0
    if o.schedule == 'step':
        return 0.1 if step // steps_per_epoch >= o.lr_drop_epoch else 1.0
    total = max(1, o.epochs * steps_per_epoch - o.warmup_steps)
    t = min(1.0, max(0, step - o.warmup_steps) / total)
    return o.min_lr_ratio + (1 - o.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def param_groups(model: nn.Module, cfg: TrainConfig) -> List[Dict]:
    """Build AdamW groups: backbone at ``lr * backbone_lr_scale``; no decay on 1-D/embeddings."""
    o = cfg.optim
    groups: Dict[tuple, List[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        backbone = name.startswith(BACKBONE_PREFIXES)
        no_decay = p.ndim <= 1 or 'pos_' in name or 'type_embed' in name
        groups.setdefault((backbone, no_decay), []).append(p)
    out = []
    for (backbone, no_decay), params in sorted(groups.items()):
        scale = o.backbone_lr_scale if backbone else 1.0
        out.append({'params': params, 'lr': o.lr * scale, 'base_lr': o.lr * scale,
                    'weight_decay': 0.0 if no_decay else o.weight_decay})
    return out


# ----------------------------------------------------------------------- losses


def compute_losses(out, target: torch.Tensor, cfg: TrainConfig, hard_weight: float
                   ) -> Dict[str, torch.Tensor]:
    """Per-batch losses from a ``TrackerOutput`` and (B, 4) normalised cxcywh targets.

    Size and offset are supervised at the ground-truth centre cell (CenterNet),
    not at the predicted peak, so early random peaks do not teach nonsense.
    The curriculum's self-paced weights re-weight samples of all three main
    losses.
    """
    lc = cfg.loss
    feat = out.score_map.shape[-1]
    heat = L.gaussian_heatmap(target, feat)                              # (B, 1, F, F)
    idx = L.center_index(target, feat)                                   # (B,)
    pred = L.boxes_at(out.size_map, out.offset_map, idx)                 # (B, 4)
    per = {
        'focal': L.focal_loss(out.score_map, heat, lc.focal_alpha, lc.focal_beta,
                              reduction='none'),
        'giou': L.giou_loss(pred, target, reduction='none'),
        'l1': L.l1_loss(pred, target, reduction='none'),
    }
    combined = lc.focal * per['focal'] + lc.giou * per['giou'] + lc.l1 * per['l1']
    w = sample_weights(combined, hard_weight)                            # (B,)
    result = {k: (v * w).mean() for k, v in per.items()}
    result['nll'] = L.uncertainty_nll(pred, target, out.log_var)
    with torch.no_grad():
        _, iou = L.box_giou(out.boxes.detach(), target)
        result['iou'] = iou.mean()
    return result


# ---------------------------------------------------------------------- trainer


class Trainer:
    """Holds the run's state; ``run()`` trains until the configured end or a signal."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.device = _pick_device(cfg)
        self.dist = _init_distributed(self.device.type)
        _set_determinism(cfg, self.device)
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
        self._csv = None
        self._tb = None

    # ---------------------------------------------------------------- loading
    def _load_init(self, path: str) -> None:
        src, _ = load_checkpoint(path, map_location='cpu')
        if src.cfg != self.cfg.model:
            raise TrainError(f'init_checkpoint {path}: its ModelConfig differs from '
                             f'model.* in the training config ({src.cfg} vs {self.cfg.model})')
        self.model.load_state_dict(src.state_dict())

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

    # ---------------------------------------------------------------- logging
    def _open_logs(self) -> None:
        if not self.dist.is_main:
            return
        path = os.path.join(self.out_dir, 'metrics.csv')
        new = not os.path.exists(path) or os.path.getsize(path) == 0
        self._csv_file = open(path, 'a', newline='', encoding='utf-8')
        self._csv = csv.DictWriter(self._csv_file, fieldnames=CSV_FIELDS)
        if new:
            self._csv.writeheader()
        import yaml
        with open(os.path.join(self.out_dir, 'config.yaml'), 'w', encoding='utf-8') as f:
            yaml.safe_dump(to_dict(self.cfg), f, sort_keys=False)
        if self.cfg.run.tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self._tb = SummaryWriter(os.path.join(self.out_dir, 'tb'))

    def _log(self, row: Dict[str, float]) -> None:
        if self._csv is None:
            return
        self._csv.writerow({k: row.get(k, '') for k in CSV_FIELDS})
        self._csv_file.flush()
        if self._tb is not None:
            for k, v in row.items():
                if k not in ('step', 'epoch'):
                    self._tb.add_scalar(f'train/{k}', v, row['step'])
            self._tb.flush()

    def _close_logs(self) -> None:
        if self._csv is not None:
            self._csv_file.close()
            self._csv = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None

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
            parts['distill'] = self._distill(b, out)
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

    def _distill(self, b, out) -> torch.Tensor:
        t_cfg = self.teacher.cfg
        template, search = b['template'], b['search']
        if template.shape[-1] != t_cfg.template_size:
            template = F.interpolate(template, size=(t_cfg.template_size,) * 2,
                                     mode='bilinear', align_corners=False)
        if search.shape[-1] != t_cfg.search_size:
            search = F.interpolate(search, size=(t_cfg.search_size,) * 2, mode='bilinear',
                                   align_corners=False)
        with torch.no_grad():
            t_out = self.teacher(template, search)
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

    def _loader(self, epoch: int, start_batch: int) -> DataLoader:
        batches = epoch_batches(self.cfg.data.samples_per_epoch, self.cfg.optim.batch_size,
                                epoch, self.cfg.run.seed, self.dist.rank,
                                self.dist.world_size, start_batch)
        return DataLoader(self.dataset, batch_sampler=batches,
                          num_workers=self.cfg.data.num_workers)

    def run(self) -> nn.Module:
        """Train until ``optim.epochs`` (or ``run.max_steps``, or a signal); return the model."""
        cfg = self.cfg
        handlers = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                handlers[sig] = signal.signal(sig, self._on_signal)
            except ValueError:   # not the main thread
                pass
        self._open_logs()
        last_ckpt = time.monotonic()
        window: Dict[str, List[float]] = {}
        t_window = time.monotonic()
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
                for batch in self._loader(epoch, start):
                    t0 = time.monotonic()
                    scalars = self.train_step(batch, cstate)
                    self.elapsed += time.monotonic() - t0
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
                                   * self.dist.world_size / max(1e-9, now - t_window))
                        self._log(row)
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
            self._close_logs()
            for sig, h in handlers.items():
                signal.signal(sig, h)
        return self.model


def train(cfg: TrainConfig) -> nn.Module:
    """Run training for ``cfg``; returns the (unwrapped) model on its device."""
    return Trainer(cfg).run()
