"""The LoRA baseline (``"method": "lora"``): its plan, its peft ``LoraConfig`` and model, and its rank events.

A LoRA run adapts the same matrices as the AdaLoRA run of the same config, on the same data, with one uniform
rank chosen by :mod:`.budget_match`: matched to ``lora.match_params`` when an A/B sets it (the AdaLoRA arm's
final effective count), else to the AdaLoRA plan's target budget (``target_r`` on every matrix). No rank
allocator, no orthogonality term: the engine skips ``update_and_allocate`` and the rank events show the uniform
rank in the final phase from the first step.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..config import RunConfig, with_section
from ..errors import ConfigError, ConfigErrors
from ..events import PHASE_FINAL, MatrixRank, RanksUpdated
from .budget_match import BudgetMatch, lora_params, lora_rank_step, matched_lora_rank

if TYPE_CHECKING:  # pragma: no cover
    from peft import LoraConfig

    from ..model import ModelInfo
    from .plan import RunPlan

ADALORA_ONLY_WARNINGS = ("budget.tfinal", "budget.delta_t")
"""Plan warnings about AdaLoRA's schedule, which a LoRA run does not have."""


def lora_match(cfg: RunConfig, plan: RunPlan) -> BudgetMatch:
    """The LoRA rank of a run: ``lora.r`` when given, else matched to ``lora.match_params`` or the planned
    AdaLoRA target budget (``plan.trainable_target``)."""
    target = cfg.lora.match_params or plan.trainable_target
    if cfg.lora.r > 0:
        r = cfg.lora.r
        match = matched_lora_rank(plan.targets, target, cfg.lora.use_dora)
        return dataclasses.replace(match, rank=r, lora_params=lora_params(plan.targets, r, cfg.lora.use_dora))
    return matched_lora_rank(plan.targets, target, cfg.lora.use_dora)


def make_lora_plan(cfg: RunConfig, n_train: int, info: ModelInfo, num_processes: int = 1) -> RunPlan:
    """The plan of a LoRA run: the AdaLoRA plan's targets, steps and budget, with the matched uniform rank.

    The AdaLoRA schedule (tinit, tfinal, delta_t) does not apply, so its checks and warnings are skipped: the
    plan has no warm-up or final phase and no mask step.
    """
    from .plan import make_plan

    schedule_free = with_section(cfg.replace(method="adalora"), "budget", tinit=0.0, tfinal=0.0)
    plan = make_plan(schedule_free, n_train, info, num_processes)
    kept = tuple(w for w in plan.warnings if not w.startswith(ADALORA_ONLY_WARNINGS))
    if cfg.lora.rank_file:
        return _rank_file_plan(cfg, dataclasses.replace(plan, warnings=kept))
    match = lora_match(cfg, plan)
    return dataclasses.replace(
        plan, init_r=match.rank, target_r=match.rank, tinit_steps=0, tfinal_steps=0,
        delta_t=max(plan.total_steps, 1) + 1, trainable_init=match.lora_params, trainable_target=match.lora_params,
        warnings=kept, method="lora", matched_params=match.target_params, lora_rank_step=match.rank_step,
    )


def _rank_file_plan(cfg: RunConfig, plan: RunPlan) -> RunPlan:
    """The LoRA plan at ``lora.rank_file``'s per-module ranks (``init_r``/``target_r``: the largest of them)."""
    from .rank_file import file_lora_params, file_ranks, left_out_warning

    try:
        found = file_ranks(cfg.lora.rank_file, plan.targets)
    except ConfigError as exc:
        raise ConfigErrors([exc]) from exc
    params = file_lora_params(found, cfg.lora.use_dora)
    warning = left_out_warning(found)
    top = max(found.ranks)
    return dataclasses.replace(
        plan, targets=found.targets, init_r=top, target_r=top, tinit_steps=0, tfinal_steps=0,
        delta_t=max(plan.total_steps, 1) + 1, trainable_init=params, trainable_target=params,
        warnings=plan.warnings + ((warning,) if warning else ()), method="lora",
        matched_params=cfg.lora.match_params or plan.trainable_target, lora_rank_step=lora_rank_step(found.targets),
        lora_ranks=found.ranks, lora_alphas=found.alphas, rank_file=str(found.path),
    )


def lora_config(cfg: RunConfig, plan: RunPlan) -> LoraConfig:
    """The peft :class:`LoraConfig` of a LoRA run: exact target paths, the plan's uniform rank (or each module's
    rank and alpha from ``lora.rank_file`` as ``rank_pattern``/``alpha_pattern``), rsLoRA/DoRA."""
    from peft import LoraConfig

    from .build import task_type

    b = cfg.budget
    patterns: dict[str, Any] = {}
    if plan.lora_ranks:
        patterns = {"rank_pattern": {m.module: r for m, r in zip(plan.targets, plan.lora_ranks, strict=True)},
                    "alpha_pattern": {m.module: a for m, a in zip(plan.targets, plan.lora_alphas, strict=True)}}
    return LoraConfig(
        **patterns,
        task_type=task_type(cfg.task),
        target_modules=list(plan.target_modules),
        r=plan.init_r,
        lora_alpha=b.lora_alpha,  # type: ignore[arg-type]  # peft annotates int; a float scale works
        lora_dropout=b.lora_dropout,
        use_rslora=cfg.lora.use_rslora,
        use_dora=cfg.lora.use_dora,
        fan_in_fan_out=any(m.layer_kind == "conv1d" for m in plan.targets),  # GPT-2's Conv1D layout
    )


def build_lora_model(model: Any, cfg: RunConfig, plan: RunPlan) -> Any:
    """Wrap a loaded transformers model in a LoRA ``PeftModel`` (classifier heads go to modules_to_save)."""
    import warnings

    from peft import get_peft_model

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, lora_config(cfg, plan))


def uniform_ranks(plan: RunPlan, step: int, time: float = 0.0) -> RanksUpdated:
    """The rank event of a LoRA run: every matrix at its fixed rank (uniform, or from ``lora.rank_file``), in the
    final phase, no importance."""
    ranks = plan.lora_ranks or (plan.init_r,) * len(plan.targets)
    matrices = tuple(MatrixRank(name=m.name, module=m.module, layer=m.layer, matrix_type=m.matrix_type, rank=r,
                                init_rank=r, importance=()) for m, r in zip(plan.targets, ranks, strict=True))
    return RanksUpdated(step=step, budget=sum(ranks), phase=PHASE_FINAL, total_rank=sum(ranks),
                        matrices=matrices, time=time)


def lora_summary_lines(plan: RunPlan) -> list[str]:
    """The plan summary of a LoRA run (what ``validate`` prints)."""
    types = ", ".join(dict.fromkeys(m.matrix_type for m in plan.targets))
    pct = 100.0 * plan.trainable_init / plan.model_params if plan.model_params else 0.0
    diff = plan.trainable_init - plan.matched_params
    rel = 100.0 * diff / plan.matched_params if plan.matched_params else 0.0
    if plan.lora_ranks:
        return _rank_file_lines(plan, types, pct, rel) + [f"Warning: {w}" for w in plan.warnings]
    lines = [
        f"Method: LoRA baseline, uniform rank {plan.init_r} on {plan.n_targets} matrices ({types}) of a "
        f"{plan.model_params:,}-parameter model.",
        f"Steps: {plan.total_steps} optimizer steps ({plan.epochs:.3g} epochs x {plan.steps_per_epoch} steps; "
        f"{plan.n_train} training rows, batch {plan.batch_size} x accumulation {plan.grad_accum}).",
        f"Trainable adapter: {plan.trainable_init:,} parameters ({pct:.3g}%), matched to AdaLoRA's "
        f"{plan.matched_params:,} ({rel:+.1f}%; one rank step is {plan.lora_rank_step:,}).",
    ]
    return lines + [f"Warning: {w}" for w in plan.warnings]


def _rank_file_lines(plan: RunPlan, types: str, pct: float, rel: float) -> list[str]:
    ranks = plan.lora_ranks
    return [
        f"Method: LoRA with per-module ranks from {plan.rank_file} (lora.rank_file): ranks {min(ranks)}-{max(ranks)}"
        f" (total {sum(ranks)}) on {plan.n_targets} matrices ({types}) of a {plan.model_params:,}-parameter model.",
        f"Steps: {plan.total_steps} optimizer steps ({plan.epochs:.3g} epochs x {plan.steps_per_epoch} steps; "
        f"{plan.n_train} training rows, batch {plan.batch_size} x accumulation {plan.grad_accum}).",
        f"Trainable adapter: {plan.trainable_init:,} parameters ({pct:.3g}%) at the file's ranks; AdaLoRA's "
        f"planned target budget here is {plan.matched_params:,} ({rel:+.1f}%).",
    ]
