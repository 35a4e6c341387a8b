# Copyright 2026 The vil_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0

"""Tracker network: shapes, finiteness, track == forward, FiLM, TMoE, variant sizes."""

import pytest
import torch

from vil_tracker_ros.config import ConfigError
from vil_tracker_ros.model import build_model, get_config, list_variants, TrackerOutput
from vil_tracker_ros.model.registry import CPU_DEFAULT_VARIANT

# seed 000's parameter table (vil_s), in parameters
SEED_TABLE = {
    'patch_embed': 0.42e6,
    'block': 0.92e6,          # each of the 22 standard blocks
    'tmoe_block': 6.23e6,     # each of the 2 TMoE blocks
    'film': 0.78e6,
    'center_head': 1.92e6,
    'uncertainty_head': 0.52e6,
    'total': 36.33e6,
}


def _inputs(cfg, batch=1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    template = torch.randn(batch, 3, cfg.template_size, cfg.template_size, generator=gen)
    search = torch.randn(batch, 3, cfg.search_size, cfg.search_size, generator=gen)
    return template, search


def _check_output(out, batch, cfg):
    assert isinstance(out, TrackerOutput)
    grid = cfg.search_size // cfg.patch_size
    assert out.boxes.shape == (batch, 4)
    assert out.scores.shape == (batch,)
    assert out.score_map.shape == (batch, 1, grid, grid)
    assert out.size_map.shape == (batch, 2, grid, grid)
    assert out.offset_map.shape == (batch, 2, grid, grid)
    assert out.log_var.shape == (batch, 4)
    assert out.temporal_ctx.shape == (batch, cfg.embed_dim)
    for value in out.as_tuple():
        assert torch.isfinite(value).all()
    assert ((out.scores > 0) & (out.scores < 1)).all()


@pytest.mark.parametrize('variant', list_variants())
def test_every_variant_runs(variant):
    cfg = get_config(variant)
    model = build_model(cfg).eval()
    model.set_film_enabled(True)
    small = variant in ('vil_tiny', CPU_DEFAULT_VARIANT)
    batch = 2 if small else 1
    template, search = _inputs(cfg, batch)
    with torch.no_grad():
        if small:
            out = model(template, search)
            _check_output(out, batch, cfg)
            ctx = out.temporal_ctx
        else:  # big variants: one forward only (CPU time)
            ctx = torch.randn(batch, cfg.embed_dim)
        _check_output(model(template, search, ctx), batch, cfg)


@pytest.mark.parametrize('correlation', [False, True])
@pytest.mark.parametrize('scan', ['full_flip', 'template_first'])
def test_track_equals_forward(scan, correlation):
    cfg = get_config('vil_tiny', scan=scan, head_correlation=correlation)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    model.set_film_enabled(True)
    with torch.no_grad():  # make FiLM and the TMoE context term non-trivial
        for p in model.film.parameters():
            p.normal_(std=0.1)
        for block in model.blocks[-cfg.tmoe_blocks:]:
            block.tmoe.router_ctx.weight.normal_(std=0.1)
    template, search = _inputs(cfg, batch=2)
    with torch.no_grad():
        tstate = model.encode_template(template)
        first = model(template, search)
        ctx = first.temporal_ctx
        for a, b in ((first, model.track(tstate, search)),
                     (model(template, search, ctx), model.track(tstate, search, ctx))):
            for x, y in zip(a.as_tuple(), b.as_tuple()):
                assert (x - y).abs().max() <= 1e-4


def test_film_identity_at_init_and_wired():
    cfg = get_config('vil_tiny')
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    template, search = _inputs(cfg)
    with torch.no_grad():
        base = model(template, search)
        ctx = torch.randn(1, cfg.embed_dim)
        model.set_film_enabled(True)
        assert model.film_enabled
        with_ctx = model(template, search, ctx)
        assert torch.allclose(base.score_map, with_ctx.score_map, atol=1e-6)
        assert torch.allclose(base.temporal_ctx, with_ctx.temporal_ctx, atol=1e-6)
        for p in model.film.generators.parameters():
            p.normal_(std=0.2)
        assert not torch.allclose(base.temporal_ctx, model(template, search, ctx).temporal_ctx)
        model.set_film_enabled(False)  # disabled: identity whatever the weights
        assert torch.allclose(base.temporal_ctx,
                              model(template, search, ctx).temporal_ctx, atol=1e-6)
    model.set_epoch(cfg.film_start_epoch)
    assert model.film_enabled
    model.set_epoch(cfg.film_start_epoch - 1)
    assert not model.film_enabled


def test_film_modulates_search_tokens_only():
    cfg = get_config('vil_tiny', scan='template_first')
    model = build_model(cfg).eval()
    model.set_film_enabled(True)
    with torch.no_grad():
        for p in model.film.generators.parameters():
            p.normal_(std=0.2)
        x_s = torch.randn(1, 16, cfg.embed_dim)
        out = model.film.modulate(model.film.after_blocks[0], x_s, torch.randn(1, cfg.embed_dim))
    assert out.shape == x_s.shape and not torch.allclose(out, x_s)
    # template state never sees the context (encode_template takes none)
    assert 'temporal_ctx' not in model.encode_template.__code__.co_varnames


def test_shared_expert_freeze():
    model = build_model(get_config('vil_tiny'))
    model.set_shared_experts_frozen(True)
    tmoe = [b.tmoe for b in model.blocks if b.tmoe is not None]
    assert len(tmoe) == 2 and all(len(t.experts) == 4 for t in tmoe)
    assert all(not p.requires_grad for t in tmoe for p in t.shared.parameters())
    assert all(p.requires_grad for t in tmoe for p in t.experts.parameters())
    model.set_shared_experts_frozen(False)
    assert all(p.requires_grad for t in tmoe for p in t.shared.parameters())


def test_training_step_backpropagates():
    cfg = get_config('vil_tiny')
    model = build_model(cfg).train()
    template, search = _inputs(cfg, batch=2)
    out = model(template, search)
    (out.score_map.mean() + out.size_map.mean() + out.log_var.mean()).backward()
    grads = [p.grad for p in model.blocks[0].parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_bad_inputs_raise_clear_errors():
    cfg = get_config('vil_tiny')
    model = build_model(cfg).eval()
    template, search = _inputs(cfg)
    with pytest.raises(ValueError, match='multiple of the patch size'):
        model(template, search[..., :60, :60])
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        model(template[:, :1], search)
    with pytest.raises(ValueError, match='temporal_ctx'):
        model(template, search, torch.zeros(1, cfg.embed_dim + 1))
    with pytest.raises(ValueError, match='batch'):
        model.track(model.encode_template(template), torch.cat([search, search]))
    with pytest.raises(ValueError, match='unknown model variant'):
        get_config('vil_huge')
    with pytest.raises(ConfigError, match='embed_dimm'):
        get_config('vil_tiny', embed_dimm=3)


def test_other_input_sizes_interpolate_positions():
    cfg = get_config('vil_tiny')
    model = build_model(cfg).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 48, 48), torch.randn(1, 3, 96, 96))
    assert out.score_map.shape == (1, 1, 6, 6)


def test_vil_s_matches_seed_table():
    model = build_model(get_config('vil_s'))
    counts = {name: sum(p.numel() for m in mods for p in m.parameters())
              for name, mods in model.component_modules().items()}
    got = {
        'patch_embed': counts['patch_embed'],
        'block': (counts['blocks'] - sum(p.numel() for p in model.norm.parameters())) / 22,
        'tmoe_block': counts['tmoe_blocks'] / 2,
        'film': counts['film'],
        'center_head': counts['center_head'],
        'uncertainty_head': counts['uncertainty_head'],
        'total': sum(p.numel() for p in model.parameters()),
    }
    for row, want in SEED_TABLE.items():
        assert abs(got[row] - want) / want <= 0.02, f'{row}: {got[row]} vs seed {want}'


@pytest.mark.parametrize('scan', ['full_flip', 'template_first'])
def test_half_precision_stays_finite(scan):
    cfg = get_config('vil_tiny', scan=scan)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    template, search = _inputs(cfg)
    with torch.no_grad():
        ref = model.track(model.encode_template(template), search)
        half = model.to(torch.float16)
        out = half.track(half.encode_template(template.half()), search.half())
    assert all(torch.isfinite(v).all() for v in out.as_tuple())
    assert (out.score_map.float() - ref.score_map).abs().max() < 1e-2


def test_correlation_prior_grows_from_a_checkpoint_without_changing_its_output():
    from vil_tracker_ros.model.checkpoint import grow_from
    torch.manual_seed(0)
    src = build_model(get_config('vil_tiny', scan='template_first')).eval()
    with torch.no_grad():
        for p in src.parameters():
            p.add_(0.05 * torch.randn_like(p))
    grown = build_model(get_config('vil_tiny', scan='template_first', head_correlation=True,
                                   film_start_epoch=0))
    nt = grown.num_template_tokens
    assert grown.center_head.score[0][0].in_channels == 32 + nt
    grow_from(grown, src)
    grown.eval()
    template, search = _inputs(src.cfg, batch=2)
    with torch.no_grad():
        a, b = src(template, search), grown(template, search)
    for x, y in zip(a.as_tuple(), b.as_tuple()):
        assert (x - y).abs().max() <= 1e-5
    # The new inputs matter once their weights move: the correlation is wired in.
    with torch.no_grad():
        grown.center_head.score[0][0].weight[:, 32:].normal_(std=1.0)
        c = grown(template, search)
    assert (c.score_map - b.score_map).abs().max() > 1e-3
    with pytest.raises(ConfigError, match='embed_dim'):
        grow_from(build_model(get_config('vil_tiny', embed_dim=16, head_correlation=True)),
                  src)


def _perturbed(cfg):
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def test_a_student_starts_from_the_blocks_it_keeps():
    from vil_tracker_ros.model.checkpoint import shrink_from
    src = _perturbed(get_config('vil_tiny', scan='template_first'))   # TMoE on blocks 2, 3
    template, search = _inputs(src.cfg, batch=2)
    # Dropping the last two blocks computes the source without them.
    student = build_model(get_config('vil_tiny', scan='template_first', depth=2,
                                     tmoe_blocks=0))
    shrink_from(student, src, (0, 1))
    student.eval()
    with torch.no_grad():
        a = student(template, search)
        src.blocks = src.blocks[:2]
        b = src(template, search)
    for x, y in zip(a.as_tuple(), b.as_tuple()):
        assert (x - y).abs().max() <= 1e-5
    # Keeping every block but no TMoE computes the source without its TMoE residuals.
    src = _perturbed(get_config('vil_tiny', scan='template_first'))
    student = build_model(get_config('vil_tiny', scan='template_first', tmoe_blocks=0))
    shrink_from(student, src, (0, 1, 2, 3))
    student.eval()
    with torch.no_grad():
        a = student(template, search)
        for block in src.blocks:
            block.tmoe = None
        b = src(template, search)
    for x, y in zip(a.as_tuple(), b.as_tuple()):
        assert (x - y).abs().max() <= 1e-5
    # A kept block's TMoE comes with it.
    src = _perturbed(get_config('vil_tiny', scan='template_first'))
    student = build_model(get_config('vil_tiny', scan='template_first', depth=2))
    shrink_from(student, src, (2, 3))
    assert torch.equal(student.blocks[1].tmoe.experts[0].fc1.weight,
                       src.blocks[3].tmoe.experts[0].fc1.weight)
    assert torch.equal(student.center_head.score[0][0].weight,
                       src.center_head.score[0][0].weight)


def test_the_lean_variant_starts_from_the_cpu_default():
    from vil_tracker_ros.model.checkpoint import shrink_from
    teacher = build_model(get_config(CPU_DEFAULT_VARIANT))
    student = build_model(get_config('vil_cpu_lean'))
    shrink_from(student, teacher, tuple(range(teacher.cfg.depth)))
    assert all(block.tmoe is None for block in student.blocks)
    assert torch.equal(student.blocks[7].layer.proj_up.weight,
                       teacher.blocks[7].layer.proj_up.weight)


@pytest.mark.parametrize('overrides, keep, reason', [
    ({'depth': 2}, (1, 0), 'scans the other way'),
    ({'depth': 2}, (0, 5), 'not in the source'),
    ({'depth': 2}, (0, 1, 3), 'names 3 source blocks'),
    ({'depth': 2}, (0, 1), 'cannot start blocks.0.tmoe'),    # blocks 0, 1 have no TMoE
    ({'depth': 2, 'tmoe_blocks': 0, 'embed_dim': 16}, (0, 1), 'embed_dim'),
])
def test_a_student_that_cannot_start_from_the_source_is_refused(overrides, keep, reason):
    from vil_tracker_ros.model.checkpoint import shrink_from
    src = build_model(get_config('vil_tiny', scan='template_first'))
    student = build_model(get_config('vil_tiny', scan='template_first', **overrides))
    with pytest.raises(ConfigError, match=reason):
        shrink_from(student, src, keep)
