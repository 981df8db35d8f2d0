"""The run plan: optimizer steps, resolved ranks, the AdaLoRA budget schedule, and the checks that need the model
and the dataset size.

:func:`budget_at` mirrors peft 0.21's ``RankAllocator.budget_schedule`` operation for operation (a test compares
them step by step), so the curve the dashboard draws is the budget the allocator applies. Budgets count
triplets (singular values) summed over all adapted matrices: ``init_r * n`` down to ``target_r * n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..config import BudgetConfig, RunConfig, TrainingConfig, suggested_init_r
from ..errors import ConfigError, ConfigErrors
from ..events import PHASE_BUDGETING, PHASE_FINAL, PHASE_WARMUP
from ..model import AdaptableMatrix, ModelInfo, select_targets


@dataclass(frozen=True)
class RunPlan:
    """Everything the engine and the viewers need to know about a run before it starts."""

    total_steps: int
    """Optimizer steps (after gradient accumulation); peft's ``total_step``."""
    steps_per_epoch: int
    micro_batches_per_epoch: int
    """Micro-batches per epoch on one process."""
    tinit_steps: int
    tfinal_steps: int
    delta_t: int
    init_r: int
    target_r: int
    targets: tuple[AdaptableMatrix, ...]
    model_params: int
    trainable_init: int
    """Adapter parameters at init_r (task heads not included)."""
    trainable_target: int
    """Adapter parameters at target_r if the final ranks were spread evenly (the allocator decides the spread)."""
    n_train: int
    num_processes: int = 1
    batch_size: int = 1
    grad_accum: int = 1
    warnings: tuple[str, ...] = ()
    method: str = "adalora"
    """``adalora``, or ``lora`` for a LoRA baseline (uniform rank ``init_r == target_r``, no schedule)."""
    matched_params: int = 0
    """LoRA plans: the AdaLoRA parameter count the rank was matched to."""
    lora_rank_step: int = 0
    """LoRA plans: parameters one more uniform rank adds."""
    lora_ranks: tuple[int, ...] = ()
    """LoRA plans from ``lora.rank_file``: each target's rank (empty: the uniform ``init_r``)."""
    lora_alphas: tuple[float, ...] = ()
    """LoRA plans from ``lora.rank_file``: each target's ``lora_alpha``."""
    rank_file: str = ""
    """LoRA plans: the file the per-module ranks came from."""

    @property
    def n_targets(self) -> int:
        """Number of adapted matrices."""
        return len(self.targets)

    @property
    def target_modules(self) -> tuple[str, ...]:
        """Full module paths for peft's ``target_modules``."""
        return tuple(m.module for m in self.targets)

    @property
    def init_budget(self) -> int:
        """Triplets at the start (peft's ``init_bgt``)."""
        return self.init_r * len(self.targets)

    @property
    def target_budget(self) -> int:
        """Triplets from the final phase on (peft's ``target_bgt``)."""
        return self.target_r * len(self.targets)

    @property
    def final_mask_step(self) -> int:
        """The step at which peft fixes the final allocation (``total_step - tfinal``)."""
        return self.total_steps - self.tfinal_steps

    @property
    def budgeting_steps(self) -> int:
        """Steps in the budgeting phase (``tinit < step <= total - tfinal``)."""
        return self.final_mask_step - self.tinit_steps

    @property
    def epochs(self) -> float:
        """Epochs the run covers (fractional when max_steps is set)."""
        return self.total_steps / self.steps_per_epoch if self.steps_per_epoch else 0.0

    @property
    def trainable_init_pct(self) -> float:
        """Adapter parameters at init_r as a percentage of the model's parameters."""
        return 100.0 * self.trainable_init / self.model_params if self.model_params else 0.0

    @property
    def trainable_target_pct(self) -> float:
        """Adapter parameters at target_r as a percentage of the model's parameters."""
        return 100.0 * self.trainable_target / self.model_params if self.model_params else 0.0

    def summary_lines(self) -> list[str]:
        """A few human lines describing the plan (the CLI prints them; the wizard's summary page shows them)."""
        if self.method == "lora":
            from .lora_build import lora_summary_lines

            return lora_summary_lines(self)
        types = ", ".join(dict.fromkeys(m.matrix_type for m in self.targets))
        last = self.total_steps - 1
        lines = [
            f"Adapting {self.n_targets} matrices ({types}) of a {_count(self.model_params)}-parameter model.",
            f"Steps: {self.total_steps} optimizer steps ({self.epochs:.3g} epoch{'' if self.epochs == 1 else 's'}"
            f" x {self.steps_per_epoch} steps; "
            f"{self.n_train} training rows, batch {self.batch_size} x accumulation {self.grad_accum}"
            f" x {self.num_processes} process{'es' if self.num_processes != 1 else ''}).",
            f"Ranks: init_r {self.init_r} -> target_r {self.target_r} per matrix on average "
            f"(budget {self.init_budget} -> {self.target_budget} singular values).",
            f"Trainable adapter: {_count(self.trainable_init)} ({self.trainable_init_pct:.3g}%) at the start, "
            f"about {_count(self.trainable_target)} ({self.trainable_target_pct:.3g}%) at the end.",
            f"Schedule: warm-up steps 0-{self.tinit_steps}, budgeting {self.tinit_steps + 1}-{self.final_mask_step}"
            f" (prune every {self.delta_t}), final {min(self.final_mask_step + 1, last)}-{last}.",
        ]
        lines += [f"Warning: {w}" for w in self.warnings]
        return lines


def _count(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def adapter_params(targets: Sequence[AdaptableMatrix], r: int) -> int:
    """AdaLoRA parameters for ``targets`` at rank ``r`` each: ``r * (in + out + 1)`` per matrix (P, Q and Λ)."""
    return sum(r * m.params_per_rank for m in targets)


def resolve_ranks(budget_cfg: BudgetConfig, targets: Sequence[AdaptableMatrix], model_params: int) -> tuple[int, int]:
    """``(init_r, target_r)``: as given (budget_mode "ranks") or from a parameter budget.

    "percent": the final adapter (at target_r) holds about ``budget_value`` % of the model's parameters;
    "params": about ``budget_value`` parameters. ``target_r = floor(budget / params_per_rank)`` and
    ``init_r = max(target_r + 1, ceil(1.5 * target_r))``. Raises :class:`ConfigError` when the budget is
    smaller than one rank across the chosen matrices.
    """
    if budget_cfg.budget_mode == "ranks":
        return budget_cfg.init_r, budget_cfg.target_r
    if not targets:
        raise ConfigError("budget.target_modules", "no matrices are selected; choose at least one module to adapt")
    per_rank = adapter_params(targets, 1)
    if budget_cfg.budget_mode == "percent":
        budget = budget_cfg.budget_value / 100.0 * model_params
        given = f"{budget_cfg.budget_value:g}% of {model_params:,} parameters ({budget:,.0f})"
        least = f"{100.0 * per_rank / model_params:.3g}%" if model_params else f"{per_rank:,} parameters"
    elif budget_cfg.budget_mode == "params":
        budget = budget_cfg.budget_value
        given = f"{budget:,.0f} parameters"
        least = f"{per_rank:,}"
    else:
        raise ConfigError("budget.budget_mode", f"'{budget_cfg.budget_mode}' is not one of: ranks, percent, params")
    target_r = math.floor(budget / per_rank)
    if target_r < 1:
        raise ConfigError(
            "budget.budget_value",
            f"{given} is less than one rank for the {len(targets)} chosen matrices ({per_rank:,} parameters per "
            f"rank). Raise budget_value to at least {least}, or adapt fewer matrices (budget.target_modules).",
        )
    init_r = suggested_init_r(target_r)
    return init_r, target_r


def optimizer_steps(n_train: int, training_cfg: TrainingConfig, num_processes: int = 1) -> tuple[int, int, int]:
    """``(total_steps, steps_per_epoch, micro_batches_per_epoch)`` for ``n_train`` rows.

    Each process sees ``ceil(n_train / num_processes)`` rows per epoch, in ``ceil(rows / batch_size)``
    micro-batches; a partial last accumulation window still makes an optimizer step. ``max_steps > 0``
    overrides epochs.
    """
    per_process = math.ceil(n_train / max(1, num_processes))
    micro = math.ceil(per_process / training_cfg.batch_size)
    per_epoch = math.ceil(micro / training_cfg.grad_accum)
    if training_cfg.max_steps > 0:
        total = training_cfg.max_steps
    else:
        total = math.ceil(training_cfg.epochs * per_epoch)
    return total, per_epoch, micro


def make_plan(cfg: RunConfig, n_train: int, info: ModelInfo, num_processes: int = 1) -> RunPlan:
    """Check the run against the model and the dataset size and work out its plan.

    Raises :class:`ConfigErrors` listing every problem: unknown target modules, too few training rows, a budget
    below one rank, target_r not below init_r, no budgeting phase. Softer problems go to ``RunPlan.warnings``.
    A LoRA run (``method`` "lora") gets :func:`.lora_build.make_lora_plan`'s plan.
    """
    if cfg.method == "lora":
        from .lora_build import make_lora_plan

        return make_lora_plan(cfg, n_train, info, num_processes)
    b, t = cfg.budget, cfg.training
    errors: list[ConfigError] = []
    targets: tuple[AdaptableMatrix, ...] = ()
    try:
        targets = select_targets(info, b.target_modules)
    except ConfigError as exc:
        errors.append(exc)
    if n_train < max(1, num_processes):
        need = "one row" if num_processes <= 1 else f"{num_processes} rows (one per process)"
        errors.append(ConfigError(
            "data.train_file",
            f"has {n_train} training rows; at least {need} is needed for one optimizer step. Add rows, or lower "
            "data.eval_fraction if the evaluation split took them.",
        ))
    total, per_epoch, micro = optimizer_steps(max(n_train, 0), t, num_processes)
    init_r, target_r = _plan_ranks(b, targets, info, errors)
    tinit_steps, tfinal_steps = _phase_steps(b, total, errors)
    if errors:
        raise ConfigErrors(errors)
    return RunPlan(
        total_steps=total,
        steps_per_epoch=per_epoch,
        micro_batches_per_epoch=micro,
        tinit_steps=tinit_steps,
        tfinal_steps=tfinal_steps,
        delta_t=b.delta_t,
        init_r=init_r,
        target_r=target_r,
        targets=targets,
        model_params=info.n_params,
        trainable_init=adapter_params(targets, init_r),
        trainable_target=adapter_params(targets, target_r),
        n_train=n_train,
        num_processes=num_processes,
        batch_size=t.batch_size,
        grad_accum=t.grad_accum,
        warnings=_plan_warnings(b, total, tinit_steps, tfinal_steps),
    )


def _plan_ranks(b: BudgetConfig, targets: Sequence[AdaptableMatrix], info: ModelInfo,
                errors: list[ConfigError]) -> tuple[int, int]:
    """``(init_r, target_r)`` as resolved; problems are appended to ``errors``."""
    init_r, target_r = b.init_r, b.target_r
    if targets:
        try:
            init_r, target_r = resolve_ranks(b, targets, info.n_params)
        except ConfigError as exc:
            errors.append(exc)
    if b.budget_mode == "ranks" and (target_r < 1 or target_r >= init_r):
        errors.append(ConfigError(
            "budget.target_r",
            f"({target_r}) must be at least 1 and smaller than init_r ({init_r}); AdaLoRA prunes from init_r to "
            f"target_r. Try init_r = {suggested_init_r(target_r)}.",
        ))
    return init_r, target_r


def _phase_steps(b: BudgetConfig, total: int, errors: list[ConfigError]) -> tuple[int, int]:
    """``(tinit_steps, tfinal_steps)`` for ``total`` optimizer steps; no budgeting phase is an error."""
    tinit_steps = math.floor(b.tinit * total)
    tfinal_steps = math.floor(b.tfinal * total)
    if total > 0 and tinit_steps >= total - tfinal_steps:
        errors.append(ConfigError(
            "budget.tinit",
            f"the run has only {total} optimizer steps, so warm-up (tinit = {tinit_steps} steps) and the final "
            f"phase (tfinal = {tfinal_steps} steps) leave no budgeting phase. Train for more steps (more "
            "training.epochs, more data, a smaller batch_size or grad_accum) or lower budget.tinit/budget.tfinal.",
        ))
    return tinit_steps, tfinal_steps


def _plan_warnings(b: BudgetConfig, total: int, tinit_steps: int, tfinal_steps: int) -> tuple[str, ...]:
    """Softer problems of a valid plan: pruning only once, or a final phase the run never reaches."""
    warnings: list[str] = []
    budgeting = total - tfinal_steps - tinit_steps
    if b.delta_t > budgeting:
        warnings.append(
            f"budget.delta_t ({b.delta_t}) is longer than the budgeting phase ({budgeting} steps), so ranks are "
            f"pruned only once, at step {total - tfinal_steps}. Lower delta_t to about {max(1, budgeting // 10)}."
        )
    if tfinal_steps == 0:
        warnings.append(
            "budget.tfinal is 0 steps: peft fixes the final allocation at step total - tfinal, which a run of "
            f"{total} steps (0-{total - 1}) never reaches, so ranks may end above target_r. Set tfinal to at "
            f"least {1 / total:.2g} (one step)."
        )
    return tuple(warnings)


def budget_at(step: int, plan: RunPlan) -> tuple[int, str]:
    """``(budget, phase)`` at optimizer step ``step`` (0-based), exactly as peft's ``budget_schedule`` computes it.

    Phases: warm-up while ``step <= tinit``, final once ``step > total - tfinal``, budgeting in between (the
    step ``total - tfinal`` itself is the last budgeting step, where peft fixes the allocation).
    """
    return scheduled_budget(step, plan.init_budget, plan.target_budget, plan.tinit_steps, plan.tfinal_steps,
                            plan.total_steps)


def scheduled_budget(step: int, init_bgt: int, target_bgt: int, tinit: int, tfinal: int,
                     total_step: int) -> tuple[int, str]:
    """``(budget, phase)`` from the schedule's numbers alone (what a viewer has from ``RunStarted``): the one
    implementation of peft's cubic ``budget_schedule`` in the studio. A degenerate schedule (no budgeting
    steps, which a validated plan never has) holds the target budget instead of dividing by zero."""
    if step <= tinit:
        return init_bgt, PHASE_WARMUP
    if step > total_step - tfinal:
        return target_bgt, PHASE_FINAL
    span = total_step - tfinal - tinit
    if span <= 0:
        return target_bgt, PHASE_FINAL
    mul_coeff = 1 - (step - tinit) / span
    return int((init_bgt - target_bgt) * (mul_coeff**3) + target_bgt), PHASE_BUDGETING


def is_mask_step(step: int, plan: RunPlan) -> bool:
    """Whether ``update_and_allocate(step)`` computes a new rank pattern (a budgeting step divisible by
    ``delta_t``, or the forced final mask at ``total - tfinal``)."""
    if step == plan.final_mask_step:
        return True
    return plan.tinit_steps < step < plan.final_mask_step and step % plan.delta_t == 0


def budget_curve(plan: RunPlan) -> list[int]:
    """The budget at every optimizer step ``0 .. total_steps - 1``."""
    return [budget_at(step, plan)[0] for step in range(plan.total_steps)]
