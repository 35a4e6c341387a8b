# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""What one step optimises: the learning-rate schedule, parameter groups and losses."""

import math
from typing import Dict, List

import torch
from torch import nn

from vil_tracker_ros.config import TrainConfig
from vil_tracker_ros.train import losses as L
from vil_tracker_ros.train.curriculum import sample_weights

BACKBONE_PREFIXES = ('patch_embed.', 'blocks.', 'norm.')


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


def compute_losses(out, target: torch.Tensor, cfg: TrainConfig, hard_weight: float
                   ) -> Dict[str, torch.Tensor]:
    """Per-batch losses from a ``TrackerOutput`` and (B, 4) normalised cxcywh targets.

    Size and offset are supervised at the ground-truth centre cell (CenterNet),
    not at the predicted peak, so early random peaks do not teach nonsense. With
    ``loss.neighbour_weight`` > 0 the 8 cells around it are supervised too (the mean of
    their GIoU and L1, times that weight): the tracker decodes the box at the score
    peak, which is a neighbouring cell on about 30 % of frames, and an untrained
    neighbour cannot point back across its border (weights/README.md, session 10: one
    fine-tuning cycle with weight 1 tracked worse, without a control run).
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
    if lc.neighbour_weight > 0.0:
        cells, valid = L.neighbour_indices(idx, feat)                    # (B, 8)
        b, k = cells.shape
        around = torch.stack([L.boxes_at(out.size_map, out.offset_map, cells[:, j])
                              for j in range(k)], dim=1).reshape(b * k, 4)   # (B*8, 4)
        near = target.unsqueeze(1).expand(b, k, 4).reshape(b * k, 4)     # (B*8, 4)
        mask = valid.to(target.dtype)
        count = mask.sum(dim=1).clamp(min=1.0)
        for name, fn in (('giou', L.giou_loss), ('l1', L.l1_loss)):
            extra = (fn(around, near, reduction='none').view(b, k) * mask).sum(1) / count
            per[name] = per[name] + lc.neighbour_weight * extra
    combined = lc.focal * per['focal'] + lc.giou * per['giou'] + lc.l1 * per['l1']
    w = sample_weights(combined, hard_weight)                            # (B,)
    result = {k: (v * w).mean() for k, v in per.items()}
    result['nll'] = L.uncertainty_nll(pred, target, out.log_var)
    with torch.no_grad():
        _, iou = L.box_giou(out.boxes.detach(), target)
        result['iou'] = iou.mean()
    return result
