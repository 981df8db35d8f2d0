"""Building the peft AdaLoRA model of a run from its plan (the one place that constructs ``AdaLoraConfig``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import RunConfig

if TYPE_CHECKING:  # pragma: no cover
    from peft import AdaLoraConfig

    from .plan import RunPlan


def task_type(task: str) -> str:
    """peft's task type for one of our tasks."""
    return {"text-classification": "SEQ_CLS", "causal-lm": "CAUSAL_LM", "question-answering": "QUESTION_ANS",
            "seq2seq": "SEQ_2_SEQ_LM"}[task]


def adalora_config(cfg: RunConfig, plan: RunPlan) -> AdaLoraConfig:
    """The peft :class:`AdaLoraConfig` of a run: exact target paths, ranks and schedule in optimizer steps."""
    from peft import AdaLoraConfig

    b = cfg.budget
    return AdaLoraConfig(
        task_type=task_type(cfg.task),
        target_modules=list(plan.target_modules),
        init_r=plan.init_r,
        target_r=plan.target_r,
        tinit=plan.tinit_steps,
        tfinal=plan.tfinal_steps,
        deltaT=plan.delta_t,
        total_step=plan.total_steps,
        beta1=b.beta1,
        beta2=b.beta2,
        orth_reg_weight=b.orth_reg_weight,
        lora_alpha=b.lora_alpha,  # type: ignore[arg-type]  # peft annotates int; a float scale works
        lora_dropout=b.lora_dropout,
        fan_in_fan_out=any(m.layer_kind == "conv1d" for m in plan.targets),  # GPT-2's Conv1D layout
    )


def build_peft_model(model: Any, cfg: RunConfig, plan: RunPlan) -> Any:
    """Wrap a loaded transformers model in an AdaLoRA ``PeftModel`` (classifier heads go to modules_to_save);
    a LoRA run (``method`` "lora") gets :func:`.lora_build.build_lora_model`'s LoRA model.

    With ``budget.fast_allocator`` (the default) the batched allocator and orthogonality term of
    :mod:`.fast_allocator` are installed; they keep peft's maths."""
    import warnings

    if cfg.method == "lora":
        from .lora_build import build_lora_model

        return build_lora_model(model, cfg, plan)

    from peft import get_peft_model

    with warnings.catch_warnings():
        # peft 0.21 asks transformers 5 a deprecated question while wrapping; the user cannot act on it.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        peft_model = get_peft_model(model, adalora_config(cfg, plan))
    if cfg.budget.fast_allocator:
        from .fast_allocator import install_fast_path

        install_fast_path(peft_model)
    return peft_model
