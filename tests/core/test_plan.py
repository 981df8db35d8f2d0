"""The run plan: step counting, rank resolution, validation messages, and the budget schedule against peft's own."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

from adalora_studio.core.adalora import (
    RunPlan,
    adapter_params,
    budget_at,
    budget_curve,
    is_mask_step,
    make_plan,
    optimizer_steps,
    resolve_ranks,
)
from adalora_studio.core.config import BudgetConfig, ModelConfig, RunConfig, TrainingConfig, with_section
from adalora_studio.core.errors import ConfigError, ConfigErrors
from adalora_studio.core.events import PHASE_BUDGETING, PHASE_FINAL, PHASE_WARMUP
from adalora_studio.core.model import AdaptableMatrix, ModelInfo, describe_model

# tiny BERT: per layer 4 attention matrices 32x32 (65 params per rank) + ffn 32x64 and 64x32 (97 each)
PER_RANK = 2 * (4 * 65 + 2 * 97)


@pytest.fixture(scope="module")
def bert_info(tiny_bert_dir: Path) -> ModelInfo:
    return describe_model(ModelConfig(source="folder", path=str(tiny_bert_dir)), "text-classification")


def run_cfg(tiny_bert_dir: Path, **budget: object) -> RunConfig:
    cfg = RunConfig(model=ModelConfig(source="folder", path=str(tiny_bert_dir)))
    return with_section(cfg, "budget", **budget) if budget else cfg


def messages(exc: ConfigErrors) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


# ------------------------------------------------------------------------------------------ steps


@pytest.mark.parametrize(
    ("n_train", "kw", "procs", "expected"),
    [
        (100, {"batch_size": 8, "grad_accum": 1, "epochs": 2.0}, 1, (26, 13, 13)),
        (100, {"batch_size": 8, "grad_accum": 3, "epochs": 2.0}, 1, (10, 5, 13)),  # 13 micro: 3+3+3+3+1
        (100, {"batch_size": 8, "grad_accum": 4, "epochs": 1.5}, 1, (6, 4, 13)),  # ceil(1.5 * 4)
        (100, {"batch_size": 8, "grad_accum": 3, "epochs": 2.0}, 2, (6, 3, 7)),  # 50 rows per process
        (101, {"batch_size": 10, "grad_accum": 1, "epochs": 1.0}, 4, (3, 3, 3)),  # ceil(101/4)=26 rows
        (100, {"batch_size": 8, "grad_accum": 3, "epochs": 2.0, "max_steps": 7}, 1, (7, 5, 13)),
        (5, {"batch_size": 16, "grad_accum": 8, "epochs": 3.0}, 1, (3, 1, 1)),
    ],
)
def test_optimizer_steps(n_train: int, kw: dict, procs: int, expected: tuple[int, int, int]) -> None:
    assert optimizer_steps(n_train, TrainingConfig(**kw), procs) == expected


# ------------------------------------------------------------------------------------------ ranks


def test_adapter_params(bert_info: ModelInfo) -> None:
    assert adapter_params(bert_info.matrices, 1) == PER_RANK
    assert adapter_params(bert_info.matrices[:1], 12) == 12 * (32 + 32 + 1)


@pytest.mark.parametrize(("ranks", "expected"), [(1, (2, 1)), (3, (5, 3)), (4, (6, 4)), (8, (12, 8))])
def test_resolve_ranks_percent(bert_info: ModelInfo, ranks: int, expected: tuple[int, int]) -> None:
    pct = 100.0 * PER_RANK * (ranks + 0.5) / bert_info.n_params
    cfg = BudgetConfig(budget_mode="percent", budget_value=pct)
    assert resolve_ranks(cfg, bert_info.matrices, bert_info.n_params) == expected


def test_resolve_ranks_params_and_ranks(bert_info: ModelInfo) -> None:
    exact = BudgetConfig(budget_mode="params", budget_value=PER_RANK * 8)
    assert resolve_ranks(exact, bert_info.matrices, bert_info.n_params) == (12, 8)
    below = BudgetConfig(budget_mode="params", budget_value=PER_RANK * 8 - 1)
    assert resolve_ranks(below, bert_info.matrices, bert_info.n_params) == (11, 7)
    ranks = BudgetConfig(budget_mode="ranks", init_r=6, target_r=2)
    assert resolve_ranks(ranks, bert_info.matrices, bert_info.n_params) == (6, 2)


def test_resolve_ranks_budget_too_small(bert_info: ModelInfo) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_ranks(BudgetConfig(budget_mode="params", budget_value=900), bert_info.matrices, bert_info.n_params)
    assert err.value.field == "budget.budget_value"
    assert f"less than one rank for the 12 chosen matrices ({PER_RANK:,} parameters per rank)" in err.value.message
    assert f"at least {PER_RANK:,}" in err.value.message
    with pytest.raises(ConfigError, match=r"0.0001% of .* Raise budget_value to at least \d"):
        resolve_ranks(BudgetConfig(budget_mode="percent", budget_value=0.0001), bert_info.matrices,
                      bert_info.n_params)


# ------------------------------------------------------------------------------------------ make_plan


def test_make_plan_default(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    cfg = run_cfg(tiny_bert_dir)  # batch 16, accum 1, 3 epochs, init 12 -> target 8, tinit .1, tfinal .2
    plan = make_plan(cfg, 200, bert_info)
    assert (plan.total_steps, plan.steps_per_epoch, plan.micro_batches_per_epoch) == (39, 13, 13)
    assert (plan.tinit_steps, plan.tfinal_steps, plan.delta_t) == (3, 7, 10)
    assert (plan.init_r, plan.target_r, plan.n_targets) == (12, 8, 12)
    assert (plan.init_budget, plan.target_budget) == (144, 96)
    assert plan.trainable_init == 12 * PER_RANK and plan.trainable_target == 8 * PER_RANK
    assert plan.trainable_init_pct == pytest.approx(100 * 12 * PER_RANK / bert_info.n_params)
    assert plan.trainable_target_pct == pytest.approx(100 * 8 * PER_RANK / bert_info.n_params)
    assert plan.target_modules == bert_info.default_targets
    assert plan.warnings == ()
    text = "\n".join(plan.summary_lines())
    assert "39 optimizer steps" in text and "init_r 12 -> target_r 8" in text
    assert "warm-up steps 0-3, budgeting 4-32 (prune every 10), final 33-38" in text


def test_make_plan_percent_budget(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    pct = 100.0 * PER_RANK * 4 / bert_info.n_params
    cfg = run_cfg(tiny_bert_dir, budget_mode="percent", budget_value=pct, target_modules=("query", "value"))
    plan = make_plan(cfg, 200, bert_info)
    assert plan.target_r == math.floor(PER_RANK * 4 / (4 * 65)) == 13  # 4 matrices: L0/L1 query, value
    assert plan.init_r == math.ceil(1.5 * 13) == 20
    assert plan.trainable_target_pct <= pct


def test_make_plan_unknown_modules(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    with pytest.raises(ConfigErrors) as err:
        make_plan(run_cfg(tiny_bert_dir, target_modules=("q_proj",)), 200, bert_info)
    msg = messages(err.value)["budget.target_modules"]
    assert "'q_proj' match no adaptable matrix" in msg and "query, key, value, attn_out, ffn_in, ffn_out" in msg


def test_make_plan_too_few_rows(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    with pytest.raises(ConfigErrors) as err:
        make_plan(run_cfg(tiny_bert_dir), 0, bert_info)
    assert "has 0 training rows; at least one row is needed" in messages(err.value)["data.train_file"]
    with pytest.raises(ConfigErrors) as err:
        make_plan(run_cfg(tiny_bert_dir), 1, bert_info, num_processes=2)
    assert "at least 2 rows (one per process)" in messages(err.value)["data.train_file"]


def test_make_plan_budget_too_small(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    cfg = run_cfg(tiny_bert_dir, budget_mode="params", budget_value=100.0)
    with pytest.raises(ConfigErrors) as err:
        make_plan(cfg, 200, bert_info)
    assert "less than one rank" in messages(err.value)["budget.budget_value"]


def test_make_plan_target_not_below_init(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    with pytest.raises(ConfigErrors) as err:
        make_plan(run_cfg(tiny_bert_dir, init_r=8, target_r=8), 200, bert_info)
    assert "smaller than init_r (8)" in messages(err.value)["budget.target_r"]
    assert "Try init_r = 12" in messages(err.value)["budget.target_r"]


def test_make_plan_no_budgeting_phase(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    cfg = run_cfg(tiny_bert_dir, tinit=0.5, tfinal=0.5)  # validate_config rejects this too; make_plan must as well
    cfg = with_section(cfg, "training", max_steps=10)
    with pytest.raises(ConfigErrors) as err:
        make_plan(cfg, 40, bert_info)
    msg = messages(err.value)["budget.tinit"]
    assert "only 10 optimizer steps" in msg and "tinit = 5 steps" in msg and "tfinal = 5 steps" in msg
    assert "more training.epochs" in msg and "lower budget.tinit/budget.tfinal" in msg


def test_make_plan_collects_all_errors(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    cfg = run_cfg(tiny_bert_dir, target_modules=("nope",), init_r=4, target_r=6)
    with pytest.raises(ConfigErrors) as err:
        make_plan(cfg, 0, bert_info)
    assert set(messages(err.value)) == {"budget.target_modules", "data.train_file", "budget.target_r"}


def test_make_plan_warnings(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    cfg = with_section(run_cfg(tiny_bert_dir, delta_t=50, tfinal=0.0), "training", max_steps=20)
    plan = make_plan(cfg, 200, bert_info)
    assert len(plan.warnings) == 2
    assert plan.warnings[0].startswith("budget.delta_t (50) is longer than the budgeting phase (18 steps)")
    assert plan.warnings[1].startswith("budget.tfinal is 0 steps")
    assert sum(line.startswith("Warning: ") for line in plan.summary_lines()) == 2


# ------------------------------------------------------------------------------------------ schedule


def small_plan(targets: tuple[AdaptableMatrix, ...], total: int, tinit: int, tfinal: int, delta_t: int = 1) -> RunPlan:
    return RunPlan(total_steps=total, steps_per_epoch=total, micro_batches_per_epoch=total, tinit_steps=tinit,
                   tfinal_steps=tfinal, delta_t=delta_t, init_r=6, target_r=2, targets=targets, model_params=1,
                   trainable_init=0, trainable_target=0, n_train=total)


def test_budget_phases_and_curve(tiny_bert_dir: Path, bert_info: ModelInfo) -> None:
    plan = make_plan(with_section(run_cfg(tiny_bert_dir), "training", max_steps=100), 200, bert_info)
    assert (plan.tinit_steps, plan.tfinal_steps) == (10, 20)
    assert budget_at(0, plan) == (144, PHASE_WARMUP)
    assert budget_at(10, plan) == (144, PHASE_WARMUP)
    assert budget_at(11, plan)[1] == PHASE_BUDGETING and budget_at(11, plan)[0] < 144
    assert budget_at(80, plan) == (96, PHASE_BUDGETING)  # total - tfinal: the final allocation step
    assert budget_at(81, plan) == (96, PHASE_FINAL)
    curve = budget_curve(plan)
    assert len(curve) == 100 and curve[0] == 144 and curve[-1] == 96
    assert all(a >= b for a, b in zip(curve, curve[1:], strict=False))
    assert [s for s in range(100) if is_mask_step(s, plan)] == [20, 30, 40, 50, 60, 70, 80]


def _peft_model(base: Any, cfg: RunConfig, plan: RunPlan) -> Any:
    """The model exactly as the engine builds it (the one AdaLoraConfig builder)."""
    from adalora_studio.core.adalora import build_peft_model

    model = build_peft_model(copy.deepcopy(base), cfg, plan)
    assert model.peft_config["default"].target_modules == set(plan.target_modules)
    return model


@pytest.fixture(scope="module")
def bert_base(tiny_bert_dir: Path) -> tuple[Any, Any]:
    from adalora_studio.core.model import load_model_and_tokenizer

    return load_model_and_tokenizer(ModelConfig(source="folder", path=str(tiny_bert_dir)), "text-classification",
                                    ["a", "b"])


@pytest.mark.parametrize(
    ("max_steps", "tinit", "tfinal", "delta_t", "init_r", "target_r"),
    [(100, 0.1, 0.2, 10, 12, 8), (37, 0.0, 0.1, 1, 6, 2), (250, 0.3, 0.3, 7, 9, 1), (12, 0.25, 0.25, 3, 4, 3)],
)
def test_budget_at_matches_peft(
    tiny_bert_dir: Path, bert_info: ModelInfo, bert_base: tuple[Any, Any], max_steps: int, tinit: float, tfinal: float,
    delta_t: int, init_r: int, target_r: int,
) -> None:
    cfg = run_cfg(tiny_bert_dir, tinit=tinit, tfinal=tfinal, delta_t=delta_t, init_r=init_r, target_r=target_r)
    plan = make_plan(with_section(cfg, "training", max_steps=max_steps), 200, bert_info)
    model = _peft_model(bert_base[0], cfg, plan)
    ra = model.base_model.rankallocator
    assert (ra.init_bgt, ra.target_bgt) == (plan.init_budget, plan.target_budget)
    assert len(ra.name_set) == plan.n_targets
    for step in range(max_steps + 2):
        budget, mask_ind = ra.budget_schedule(step)
        assert budget_at(step, plan)[0] == budget, step
        if step < plan.final_mask_step:
            assert is_mask_step(step, plan) == mask_ind, step


def test_allocation_follows_budget_in_training(
    tiny_bert_dir: Path, bert_info: ModelInfo, bert_base: tuple[Any, Any]
) -> None:
    """Drive peft's allocator for a few real steps: after every mask step the kept triplets equal budget_at."""
    import torch

    cfg = run_cfg(tiny_bert_dir, tinit=0.2, tfinal=0.2, delta_t=2, init_r=6, target_r=2)
    plan = make_plan(with_section(cfg, "training", max_steps=10), 200, bert_info)
    model = _peft_model(bert_base[0], cfg, plan)
    tok = bert_base[1]
    torch.manual_seed(0)
    batch = tok(["my password reset is broken", "refund my order please", "the app is slow", "thanks"],
                padding=True, return_tensors="pt")
    labels = torch.tensor([0, 1, 0, 1])
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    config = model.peft_config["default"]
    for step in range(plan.total_steps):
        model(**batch, labels=labels).loss.backward()
        opt.step()
        model.base_model.update_and_allocate(step)
        if is_mask_step(step, plan):
            kept = sum(sum(mask) for mask in config.rank_pattern.values())
            assert kept == budget_at(step, plan)[0], step
        opt.zero_grad()
    assert sum(sum(mask) for mask in config.rank_pattern.values()) == plan.target_budget


def test_budget_at_short_schedule(bert_info: ModelInfo) -> None:
    plan = small_plan(bert_info.matrices[:2], total=5, tinit=0, tfinal=1)
    assert (plan.init_budget, plan.target_budget) == (12, 4)
    phases = [budget_at(s, plan)[1] for s in range(6)]
    assert phases == [PHASE_WARMUP] + [PHASE_BUDGETING] * 4 + [PHASE_FINAL]
    assert [budget_at(s, plan)[0] for s in range(6)] == [12, int(8 * 0.75**3 + 4), int(8 * 0.5**3 + 4),
                                                         int(8 * 0.25**3 + 4), 4, 4]
    assert [s for s in range(5) if is_mask_step(s, plan)] == [1, 2, 3, 4]


def test_importing_models_and_plan_stays_light() -> None:
    """The GUI imports these on the main thread: torch/transformers/peft must load only when a function runs."""
    import subprocess
    import sys

    code = ("import sys, adalora_studio.core.adalora.plan, adalora_studio.core.model.discovery; "
            "print(sorted(m for m in ('torch', 'transformers', 'peft', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
