"""Schedule advice: warnings, each with its reason and a one-click fix, when an AdaLoRA schedule cannot do its job.

- the budgeting phase is shorter than about 40% of training (the AdaLoRA author advises about half);
- the run has too few optimizer steps for the schedule to settle (warm-up, masking and a final phase);
- ``delta_t`` leaves fewer than about 10 mask steps (the allocation moves in a few large jumps).

A fix is a mapping of dotted config fields to new values (``{"budget.tfinal": 0.4}``); :func:`apply_fix` applies
it. ``validate`` prints the advice and the budget page shows it. A LoRA plan gets none: it has no schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import RunConfig, paper_recipe, with_section
from .plan import RunPlan, is_mask_step

MIN_BUDGETING_SHARE = 0.4
MIN_STEPS = 100
"""Fewer optimizer steps than this: the importance EMAs (beta 0.85: about 7 steps of memory) get a short
warm-up, few mask steps and almost no final phase to recover from pruning."""
MIN_MASK_STEPS = 10


@dataclass(frozen=True)
class Advice:
    """One piece of schedule advice."""

    code: str
    """budgeting_share | few_steps | few_mask_steps"""
    message: str
    """The problem and its reason, for a person."""
    fix_label: str
    """What the one-click fix does, e.g. "Set tfinal to 0.4"."""
    fix: dict[str, Any] = field(default_factory=dict)
    """Dotted config fields and their new values."""
    title: str = ""
    """The problem in a few words, for a narrow view (the message gives the reason)."""


def mask_steps(plan: RunPlan) -> int:
    """How many times the allocator masks in the plan (the budgeting steps divisible by delta_t, plus the final
    mask)."""
    return sum(1 for step in range(plan.tinit_steps + 1, plan.final_mask_step + 1) if is_mask_step(step, plan))


def schedule_advice(cfg: RunConfig, plan: RunPlan) -> list[Advice]:
    """Advice for an AdaLoRA run's schedule (empty when it looks sound, and for LoRA runs)."""
    if plan.method != "adalora" or plan.total_steps <= 0:
        return []
    out: list[Advice] = []
    total, b = plan.total_steps, cfg.budget
    share = plan.budgeting_steps / total
    if share < MIN_BUDGETING_SHARE:
        tinit = min(b.tinit, 0.1)
        tfinal = round(max(0.0, 0.5 - tinit), 6)
        out.append(Advice(
            "budgeting_share",
            f"The budgeting phase is {plan.budgeting_steps} of {total} steps ({100 * share:.0f}%). The allocator "
            f"needs time to score triplets before it prunes them; AdaLoRA's author advises giving budget "
            f"reduction about half of training (at least {100 * MIN_BUDGETING_SHARE:.0f}%).",
            f"Set tinit to {tinit:g} and tfinal to {tfinal:g} (budgeting 50%)",
            {"budget.tinit": tinit, "budget.tfinal": tfinal},
            f"Budgeting phase: {100 * share:.0f}% of training (advised: about half)",
        ))
    if total < MIN_STEPS:
        out.append(Advice(
            "few_steps",
            f"The run has only {total} optimizer steps. The importance scores are moving averages (beta "
            f"{b.beta1:g}), so the schedule needs enough steps to warm up, prune in several rounds and then train "
            f"the final ranks; with fewer than {MIN_STEPS} the final allocation is mostly noise.",
            f"Train for {MIN_STEPS} steps (training.max_steps)",
            {"training.max_steps": MIN_STEPS},
            f"Only {total} optimizer steps (advised: {MIN_STEPS} or more)",
        ))
    n_masks = mask_steps(plan)
    if n_masks < MIN_MASK_STEPS:
        delta_t = max(1, plan.budgeting_steps // MIN_MASK_STEPS)
        out.append(Advice(
            "few_mask_steps",
            f"delta_t {plan.delta_t} leaves {n_masks} mask step{'s' if n_masks != 1 else ''} in the budgeting "
            f"phase of {plan.budgeting_steps} steps, so the ranks move in a few large jumps; aim for about "
            f"{MIN_MASK_STEPS} or more.",
            f"Set delta_t to {delta_t}",
            {"budget.delta_t": delta_t},
            f"{n_masks} mask step{'s' if n_masks != 1 else ''} (advised: {MIN_MASK_STEPS} or more)",
        ))
    return out


def paper_recipe_fix(cfg: RunConfig, plan: RunPlan) -> dict[str, Any]:
    """The one-click "paper recipe" for this run's length, as dotted fields (see :func:`config.paper_recipe`)."""
    recipe = paper_recipe(cfg.budget, plan.total_steps)
    names = ("init_r", "target_r", "tinit", "tfinal", "delta_t", "beta1", "beta2", "orth_reg_weight")
    return {f"budget.{n}": getattr(recipe, n) for n in names if getattr(recipe, n) != getattr(cfg.budget, n)}


def apply_fix(cfg: RunConfig, fix: dict[str, Any]) -> RunConfig:
    """``cfg`` with the dotted fields of ``fix`` set (``"budget.delta_t"``; ``"name"`` for top-level)."""
    for key, value in fix.items():
        section, _, name = key.rpartition(".")
        cfg = with_section(cfg, section, **{name: value}) if section else cfg.replace(**{name: value})
    return cfg
