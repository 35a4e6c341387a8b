# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Training losses for the ViL tracker.

All boxes here are torch tensors in normalised ``cx, cy, w, h`` search-crop
coordinates (the model's output convention). Each loss returns a scalar mean
over the batch unless it takes ``reduction='none'``, which returns one value
per sample so the curriculum can re-weight samples.
"""

from __future__ import annotations

import math
from typing import Dict, Iterable, Optional, Sequence

import torch
from torch import nn
import torch.nn.functional as F

from vil_tracker_ros import geometry


# ----------------------------------------------------------------------- boxes


def box_giou(pred: torch.Tensor, target: torch.Tensor):
    """Return (giou, iou) for paired (N, 4) cx, cy, w, h boxes, each (N,)."""
    return (geometry.giou(pred, target, fmt='cxcywh', eps=1e-7),
            geometry.iou(pred, target, fmt='cxcywh', eps=1e-7))


def _reduce(per_sample: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == 'none':
        return per_sample
    if reduction == 'mean':
        return per_sample.mean()
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def giou_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = 'mean'):
    """1 - GIoU per box pair; 0 for identical boxes, up to 2 for far-apart ones."""
    giou, _ = box_giou(pred, target)
    return _reduce(1.0 - giou, reduction)


def l1_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = 'mean'):
    """Mean absolute error over the 4 box coordinates, per sample."""
    return _reduce((pred - target).abs().mean(dim=-1), reduction)


# -------------------------------------------------------------------- heatmaps


def gaussian_radius(w: torch.Tensor, h: torch.Tensor, min_overlap: float = 0.7):
    """Return CenterNet's radius: the largest centre shift that keeps IoU >= min_overlap.

    ``w`` and ``h`` are box sizes in feature-map cells. Solves the three corner
    cases of CornerNet's derivation (both corners inside, one inside, both
    outside) and takes the tightest.
    """
    a1 = 1.0
    b1 = h + w
    c1 = w * h * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + torch.sqrt(b1 ** 2 - 4 * a1 * c1)) / 2
    a2 = 4.0
    b2 = 2 * (h + w)
    c2 = (1 - min_overlap) * w * h
    r2 = (b2 + torch.sqrt(b2 ** 2 - 4 * a2 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (h + w)
    c3 = (min_overlap - 1) * w * h
    r3 = (b3 + torch.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return torch.minimum(torch.minimum(r1, r2), r3)


def center_index(boxes: torch.Tensor, feat_size: int) -> torch.Tensor:
    """Flat index (B,) of the feature cell that holds each box centre."""
    cx = (boxes[:, 0] * feat_size).floor().clamp(0, feat_size - 1)
    cy = (boxes[:, 1] * feat_size).floor().clamp(0, feat_size - 1)
    return (cy * feat_size + cx).long()


def gaussian_heatmap(boxes: torch.Tensor, feat_size: int, min_overlap: float = 0.7):
    """Build the CenterNet target heatmap (B, 1, F, F) for normalised cx, cy, w, h boxes.

    The peak (exactly 1) sits on the cell holding the box centre; the Gaussian's
    sigma is (2r + 1) / 6 with r the CenterNet radius of the box in cells.
    """
    b = boxes.shape[0]
    w = (boxes[:, 2] * feat_size).clamp(min=1e-3)
    h = (boxes[:, 3] * feat_size).clamp(min=1e-3)
    radius = gaussian_radius(w, h, min_overlap).clamp(min=0).floor()    # (B,)
    sigma = (2 * radius + 1) / 6                                        # (B,)
    idx = center_index(boxes, feat_size)                                # (B,)
    cx = (idx % feat_size).to(boxes.dtype)
    cy = (idx // feat_size).to(boxes.dtype)
    grid = torch.arange(feat_size, dtype=boxes.dtype, device=boxes.device)
    dx2 = (grid.view(1, 1, -1) - cx.view(b, 1, 1)) ** 2                 # (B, 1, F)
    dy2 = (grid.view(1, -1, 1) - cy.view(b, 1, 1)) ** 2                 # (B, F, 1)
    heat = torch.exp(-(dx2 + dy2) / (2 * sigma.view(b, 1, 1) ** 2))     # (B, F, F)
    return heat.unsqueeze(1)                                            # (B, 1, F, F)


def focal_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 2.0,
               beta: float = 4.0, reduction: str = 'mean', eps: float = 1e-12):
    """CornerNet/CenterNet penalty-reduced focal loss on a (B, 1, F, F) heatmap.

    ``pred`` holds probabilities (the model's sigmoid output). Cells where the
    target is exactly 1 are positives; the others are negatives down-weighted
    by ``(1 - target) ** beta`` near the peak. Normalised by the number of
    positives per sample (one per sample here: the 1/256 positive ratio).
    """
    pred = pred.clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).to(pred.dtype)
    neg = 1.0 - pos
    pos_term = torch.log(pred + eps) * (1 - pred) ** alpha * pos
    neg_term = torch.log(1 - pred + eps) * pred ** alpha * (1 - target) ** beta * neg
    dims = tuple(range(1, pred.dim()))
    num_pos = pos.sum(dim=dims).clamp(min=1.0)
    per_sample = -(pos_term.sum(dim=dims) + neg_term.sum(dim=dims)) / num_pos
    return _reduce(per_sample, reduction)


def boxes_at(size_map: torch.Tensor, offset_map: torch.Tensor, index: torch.Tensor):
    """Decode (B, 4) cx, cy, w, h at flat cell ``index`` (B,) of the head maps.

    Convention shared with the model's decoder: centre = (cell + offset) / F,
    size = size_map value (already normalised to the search crop).
    """
    b, _, fh, fw = size_map.shape
    gather = index.view(b, 1, 1).expand(b, 2, 1)
    size = size_map.flatten(2).gather(2, gather).squeeze(2)             # (B, 2)
    offset = offset_map.flatten(2).gather(2, gather).squeeze(2)         # (B, 2)
    cx = ((index % fw).to(size.dtype) + offset[:, 0]) / fw
    cy = ((index // fw).to(size.dtype) + offset[:, 1]) / fh
    return torch.stack((cx, cy, size[:, 0], size[:, 1]), dim=-1)        # (B, 4)


def neighbour_indices(index: torch.Tensor, feat_size: int):
    """Return the 8 cells around each flat ``index`` (B,): indices (B, 8), validity (B, 8).

    Cells outside the map are marked invalid (their index is clamped into the map).
    """
    cx = (index % feat_size).unsqueeze(1)                               # (B, 1)
    cy = torch.div(index, feat_size, rounding_mode='floor').unsqueeze(1)
    steps = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dx, dy) != (0, 0)]
    dx = torch.tensor([s[0] for s in steps], device=index.device).unsqueeze(0)   # (1, 8)
    dy = torch.tensor([s[1] for s in steps], device=index.device).unsqueeze(0)
    nx, ny = cx + dx, cy + dy                                           # (B, 8)
    valid = (nx >= 0) & (nx < feat_size) & (ny >= 0) & (ny < feat_size)
    flat = ny.clamp(0, feat_size - 1) * feat_size + nx.clamp(0, feat_size - 1)
    return flat, valid


# ---------------------------------------------------------------- uncertainty


def uncertainty_nll(pred: torch.Tensor, target: torch.Tensor, log_var: torch.Tensor,
                    reduction: str = 'mean', detach_pred: bool = True,
                    min_log_var: float = -12.0, max_log_var: float = 6.0):
    """Gaussian negative log-likelihood of ``target`` under N(pred, exp(log_var)).

    Per coordinate: 0.5 * (exp(-s) * (pred - target)^2 + s + log 2pi), averaged
    over the 4 coordinates. With ``detach_pred`` the loss trains the variance
    head only, so it cannot pull the box towards a lazy large-variance answer.
    """
    if detach_pred:
        pred = pred.detach()
    s = log_var.clamp(min_log_var, max_log_var)
    per_coord = 0.5 * (torch.exp(-s) * (pred - target) ** 2 + s + math.log(2 * math.pi))
    return _reduce(per_coord.mean(dim=-1), reduction)


# ----------------------------------------------------------------- contrastive


def memory_contrastive_loss(memory: torch.Tensor, query: torch.Tensor,
                            temperature: float = 0.1) -> torch.Tensor:
    """Symmetric InfoNCE between paired (B, C) features of the same targets.

    Row i of ``memory`` (e.g. the previous frame's temporal context) and row i
    of ``query`` (the current frame's) are a positive pair; the other rows of
    the batch are negatives. Needs B >= 2 to have any negative.
    """
    if memory.shape != query.shape or memory.dim() != 2:
        raise ValueError(f'memory and query must both be (B, C), got '
                         f'{tuple(memory.shape)} and {tuple(query.shape)}')
    if memory.shape[0] < 2:
        raise ValueError('memory_contrastive_loss needs a batch of at least 2 samples')
    m = F.normalize(memory, dim=-1)
    q = F.normalize(query, dim=-1)
    logits = q @ m.t() / temperature                                    # (B, B)
    labels = torch.arange(q.shape[0], device=q.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))


# ---------------------------------------------------------------- distillation


def afkd_loss(student_score: torch.Tensor, teacher_score: torch.Tensor,
              student_boxes: torch.Tensor, teacher_boxes: torch.Tensor,
              temperature: float = 2.0, box_weight: float = 1.0) -> torch.Tensor:
    """Distillation from a teacher's outputs (no attention maps needed).

    KL divergence between the spatial softmax of both score maps (logits of
    the probabilities, tempered) plus L1 on the decoded boxes. The teacher map
    is resized to the student's grid when their sizes differ.
    """
    teacher_score = teacher_score.detach()
    teacher_boxes = teacher_boxes.detach()
    if teacher_score.shape[-2:] != student_score.shape[-2:]:
        teacher_score = F.interpolate(teacher_score, size=student_score.shape[-2:],
                                      mode='bilinear', align_corners=False)
    s = torch.logit(student_score.clamp(1e-4, 1 - 1e-4)).flatten(1) / temperature
    t = torch.logit(teacher_score.clamp(1e-4, 1 - 1e-4)).flatten(1) / temperature
    kl = F.kl_div(F.log_softmax(s, dim=-1), F.log_softmax(t, dim=-1),
                  log_target=True, reduction='batchmean') * temperature ** 2
    return kl + box_weight * (student_boxes - teacher_boxes).abs().mean()


# ------------------------------------------------------------------------ ADW


class ADWWeighting(nn.Module):
    """Homoscedastic-uncertainty loss weighting (Kendall, Gal and Cipolla, 2018).

    total = sum_i exp(-s_i) * L_i + s_i with one learnable log-variance s_i per
    loss. s_i starts at -log(w_i), so the first step weights the losses exactly
    like the fixed weights w_i. The +s_i term keeps s_i from growing forever.
    """

    def __init__(self, initial_weights: Dict[str, float]):
        super().__init__()
        for name, w in initial_weights.items():
            if not (w > 0 and math.isfinite(w)):
                raise ValueError(f'ADW initial weight for {name!r} must be > 0, got {w!r}')
        self.names = tuple(initial_weights)
        init = torch.tensor([-math.log(initial_weights[n]) for n in self.names])
        self.log_vars = nn.Parameter(init)

    def weights(self) -> Dict[str, float]:
        """Return the current effective weights exp(-s_i), for logging."""
        return {n: float(torch.exp(-s)) for n, s in zip(self.names, self.log_vars.detach())}

    def forward(self, losses: Dict[str, torch.Tensor]) -> torch.Tensor:
        missing = [n for n in self.names if n not in losses]
        if missing:
            raise ValueError(f'ADW is missing loss(es) {missing}')
        total = self.log_vars.new_zeros(())
        for i, name in enumerate(self.names):
            s = self.log_vars[i]
            total = total + torch.exp(-s) * losses[name] + s
        return total


def weighted_sum(losses: Dict[str, torch.Tensor], weights: Dict[str, float],
                 names: Optional[Iterable[str]] = None) -> torch.Tensor:
    """Sum of ``weights[k] * losses[k]`` over ``names`` (default: every loss)."""
    keys: Sequence[str] = list(names) if names is not None else list(losses)
    total = None
    for k in keys:
        term = weights[k] * losses[k]
        total = term if total is None else total + term
    if total is None:
        raise ValueError('weighted_sum needs at least one loss')
    return total
