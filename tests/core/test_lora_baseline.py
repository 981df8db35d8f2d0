"""The LoRA baseline: the engine against a hand-written peft LoRA loop, resume, export, and the budget match."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from adalora_studio.core.adalora import (
    adalora_effective_params,
    adapter_effective_params,
    lora_params,
    make_plan,
    matched_lora_rank,
)
from adalora_studio.core.config import with_section
from adalora_studio.core.events import Finished, RanksUpdated, RunStarted, StepLogged, Stopped, StopToken
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_classification_csv(tmp_path_factory.mktemp("data"))


def _lora_cfg(tiny_bert_dir: Path, tickets: Path, out: Path, **training):
    return bert_config(tiny_bert_dir, tickets, out, **training).replace(method="lora")


def _reference_lora_loop(cfg, r: int):
    """A plain LoRA loop in torch + peft, from peft's documentation (no engine code): seeded right before the
    model is loaded, same per-epoch shuffle seed, AdamW, linear warm-up schedule, clipping."""
    import numpy as np
    import torch
    from peft import LoraConfig, get_peft_model
    from torch.utils.data import DataLoader, RandomSampler
    from transformers import get_linear_schedule_with_warmup

    from adalora_studio.core.data import inspect_dataset, make_collator, prepare_data
    from adalora_studio.core.model import describe_model, load_model_and_tokenizer

    t, b = cfg.training, cfg.budget
    summary = inspect_dataset(cfg)
    plan = make_plan(cfg, summary.n_train, describe_model(cfg.model, cfg.task, len(summary.label_names)))
    random.seed(t.seed)
    np.random.seed(t.seed)
    torch.manual_seed(t.seed)
    model, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task, summary.label_names)
    model = get_peft_model(model, LoraConfig(task_type="SEQ_CLS", target_modules=[m.module for m in plan.targets],
                                             r=r, lora_alpha=b.lora_alpha, lora_dropout=b.lora_dropout))
    data = prepare_data(cfg, tokenizer)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)
    sched = get_linear_schedule_with_warmup(opt, math.ceil(t.warmup_ratio * plan.total_steps), plan.total_steps)
    generator = torch.Generator()
    loader = DataLoader(data.train, batch_size=t.batch_size, sampler=RandomSampler(data.train, generator=generator),
                        collate_fn=make_collator(cfg.task, tokenizer))
    model.train()
    step, epoch, losses = 0, 0, []
    while step < plan.total_steps:
        generator.manual_seed(t.seed * 1_000_003 + epoch)
        for batch in loader:
            out = model(**batch)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, t.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad()
            losses.append(out.loss.item())
            step += 1
            if step == plan.total_steps:
                break
        epoch += 1
    return model, data, losses


def test_lora_run_equals_a_hand_written_peft_lora_loop(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    import torch

    cfg = _lora_cfg(tiny_bert_dir, tickets, tmp_path, max_steps=12, batch_size=8)
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished), events[-1]
    plan = engine.session.plan
    assert plan.method == "lora" and plan.init_r == plan.target_r
    # matched to the planned AdaLoRA target budget (target_r 2 on 4 matrices of 32 x 32)
    assert plan.matched_params == 2 * 4 * (32 + 32 + 1)
    assert abs(plan.trainable_init - plan.matched_params) <= plan.lora_rank_step / 2
    ref_model, data, ref_losses = _reference_lora_loop(cfg, plan.init_r)

    steps = [e for e in events if isinstance(e, StepLogged)]
    assert [e.task_loss for e in steps] == pytest.approx(ref_losses, abs=1e-6)
    assert all(e.orth_loss == 0.0 for e in steps)  # no orthogonality term
    ranks = [e for e in events if isinstance(e, RanksUpdated)]
    assert ranks and all(m.rank == plan.init_r for e in ranks for m in e.matrices)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.config["method"] == "lora" and started.init_r == started.target_r == plan.init_r

    from adalora_studio.core.data import make_collator

    batch = make_collator(cfg.task, engine.session.tokenizer)([data.eval[i] for i in range(8)])
    batch.pop("labels")
    engine.session.peft_model.eval()
    ref_model.eval()
    with torch.no_grad():
        a = engine.session.peft_model(**batch).logits
        b = ref_model(**batch).logits
    assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()

    run_dir = Path(events[-1].run_dir)
    adapter = json.loads((run_dir / "adapter" / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "LORA" and adapter["r"] == plan.init_r
    assert adapter_effective_params(run_dir / "adapter") == plan.trainable_init

    from adalora_studio.core.export import export_as_lora

    exported = export_as_lora(run_dir)  # a LoRA run exports as itself
    assert json.loads((exported / "adapter_config.json").read_text())["r"] == plan.init_r
    assert adapter_effective_params(exported) == plan.trainable_init


def test_lora_run_resumes_exactly(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    import torch

    cfg = _lora_cfg(tiny_bert_dir, tickets, tmp_path, max_steps=10)
    full = Engine(cfg)
    assert isinstance(list(full.events())[-1], Finished)
    stop = StopToken()
    first = Engine(cfg, stop)
    for event in first.events():
        if isinstance(event, StepLogged) and event.step == 4:
            stop.request_stop()
    assert isinstance(event, Stopped) and event.step == 4
    resumed = Engine(None, resume_from=Path(event.checkpoint).parents[1])
    assert isinstance(list(resumed.events())[-1], Finished)
    a = {n: p for n, p in full.session.peft_model.named_parameters() if p.requires_grad}
    b = {n: p for n, p in resumed.session.peft_model.named_parameters() if p.requires_grad}
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)


def test_lora_options_reach_peft_and_dora_counts_its_magnitudes(tiny_bert_dir: Path, tickets: Path,
                                                                tmp_path: Path) -> None:
    cfg = _lora_cfg(tiny_bert_dir, tickets, tmp_path, max_steps=2)
    cfg = cfg.replace(lora=cfg.lora.__class__(r=3, use_dora=True, use_rslora=True))
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished), events[-1]
    peft_cfg = engine.session.peft_model.peft_config["default"]
    assert peft_cfg.r == 3 and peft_cfg.use_dora and peft_cfg.use_rslora
    counted = sum(p.numel() for n, p in engine.session.peft_model.named_parameters() if "lora_" in n)
    assert counted == engine.session.plan.trainable_init == 3 * 4 * 64 + 4 * 32
    assert adapter_effective_params(Path(events[-1].run_dir) / "adapter") == counted


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_matched_rank_is_within_one_rank_step_of_adalora_final_params(
        kind: str, tiny_bert_dir: Path, tiny_gpt2_dir: Path, tickets: Path, tmp_path: Path) -> None:
    """Train AdaLoRA (BERT Linear or GPT-2 Conv1D), count its kept parameters from the saved adapter, match LoRA,
    and check the LoRA model peft builds at that rank holds the parameters the rule says."""
    from adalora_studio.core.model import describe_model, load_model_and_tokenizer

    model_dir = tiny_bert_dir if kind == "bert" else tiny_gpt2_dir
    budget = {} if kind == "bert" else {"target_modules": ("c_attn", "c_fc")}
    cfg = bert_config(model_dir, tickets, tmp_path, max_steps=12, budget=budget)
    events = list(Engine(cfg).events())
    assert isinstance(events[-1], Finished), events[-1]
    run_dir = Path(events[-1].run_dir)
    final = events[-2] if isinstance(events[-2], RanksUpdated) else next(
        e for e in reversed(events) if isinstance(e, RanksUpdated))
    info = describe_model(cfg.model, cfg.task, 5)
    plan = make_plan(cfg, 54, info)
    assert {m.layer_kind for m in plan.targets} == ({"linear"} if kind == "bert" else {"conv1d"})
    effective = adalora_effective_params(plan.targets, {m.module: m.rank for m in final.matrices})
    assert adapter_effective_params(run_dir / "adapter") == effective  # the rule counts what peft saved

    match = matched_lora_rank(plan.targets, effective)
    assert abs(match.lora_params - effective) <= match.rank_step  # within one rank step
    assert all(abs(lora_params(plan.targets, r) - effective) >= abs(match.difference) for r in range(1, 12))
    lora_cfg = with_section(cfg.replace(method="lora", lora=cfg.lora.__class__(match_params=effective)), "budget")
    lora_plan = make_plan(lora_cfg, 54, info)
    assert lora_plan.init_r == match.rank and lora_plan.matched_params == effective

    from adalora_studio.core.adalora import build_peft_model

    base, _ = load_model_and_tokenizer(cfg.model, cfg.task, [f"l{i}" for i in range(5)])
    built = build_peft_model(base, lora_cfg, lora_plan)
    counted = sum(p.numel() for n, p in built.named_parameters() if "lora_" in n)
    assert counted == match.lora_params
