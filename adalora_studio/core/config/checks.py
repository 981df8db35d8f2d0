"""Checks on a :class:`~adalora_studio.core.config.schema.RunConfig` that need neither the model nor the data.

Every problem names its field (``budget.target_r``) and says what to do. Checks that need the dataset size or the
model's modules (steps, budgeting phase, unknown target modules) are in :mod:`adalora_studio.core.adalora.plan`.
"""

from __future__ import annotations

import math

from ..errors import ConfigError, ConfigErrors
from .lora_options import METHODS
from .schema import (
    BUDGET_MODES,
    CHAT_FORMATS,
    DATA_FORMATS,
    DELIMITERS,
    DEVICES,
    EVAL_METRICS,
    FUTURE_TASKS,
    MODEL_SOURCES,
    PRECISIONS,
    SCHEDULERS,
    SCHEMA_VERSION,
    TASKS,
    TEMPLATES,
    TEXT_MODES,
    BudgetConfig,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainingConfig,
)


def _choice(errors: list[ConfigError], path: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        errors.append(ConfigError(path, f"'{value}' is not one of: {', '.join(allowed)}"))


RANK_RATIO = 1.5
"""init_r is suggested (and resolved from a parameter budget) as about 1.5 x target_r."""


def suggested_init_r(target_r: int) -> int:
    """The init_r to suggest for ``target_r``: ``max(target_r + 1, ceil(1.5 * target_r))``.

    The one rule behind every "Try init_r = N" (the CLI, ``validate``, the wizard) and behind the init_r that a
    percent or params budget resolves to.
    """
    target_r = max(int(target_r), 1)
    return max(target_r + 1, math.ceil(RANK_RATIO * target_r))


def validate_config(cfg: RunConfig) -> list[ConfigError]:
    """Every check that needs neither the model nor the data. Returns the problems found (empty: fine)."""
    e: list[ConfigError] = []
    _check_run(e, cfg)
    _check_model(e, cfg.model)
    _check_data(e, cfg.data)
    e.extend(_task_data_checks(cfg))
    _check_budget(e, cfg.budget)
    _check_training(e, cfg.training)
    e += _method_errors(cfg)
    return e


def _check_run(e: list[ConfigError], cfg: RunConfig) -> None:
    if cfg.schema_version != SCHEMA_VERSION:
        e.append(ConfigError("schema_version", f"this version of AdaLoRA Studio reads version {SCHEMA_VERSION}"))
    if not cfg.name.strip():
        e.append(ConfigError("name", "give the run a name"))
    if cfg.task in FUTURE_TASKS:
        e.append(ConfigError("task", f"'{cfg.task}' is planned but not supported yet; use {' or '.join(TASKS)}"))
    else:
        _choice(e, "task", cfg.task, TASKS)


def _check_model(e: list[ConfigError], m: ModelConfig) -> None:
    _choice(e, "model.source", m.source, MODEL_SOURCES)
    if m.source in ("folder", "gguf", "hub") and not m.path.strip():
        what = {"folder": "a model folder", "gguf": "a .gguf file", "hub": "a hub id such as org/model"}[m.source]
        e.append(ConfigError("model.path", f"source '{m.source}' needs {what}"))
    if m.source == "gguf" and m.path and not m.path.lower().endswith(".gguf"):
        e.append(ConfigError("model.path", "a GGUF model path must end in .gguf"))


def _check_data(e: list[ConfigError], d: DataConfig) -> None:
    if not d.train_file.strip():
        e.append(ConfigError("data.train_file", "choose a training data file"))
    _choice(e, "data.format", d.format, DATA_FORMATS)
    if not d.eval_file and not 0.0 < d.eval_fraction < 1.0:
        e.append(ConfigError("data.eval_fraction", "must be between 0 and 1 (e.g. 0.1) when no eval_file is given"))
    if len(d.text_columns) > 2:
        e.append(ConfigError("data.text_columns", "give one text column, or two for sentence pairs"))
    if d.max_length < 8:
        e.append(ConfigError("data.max_length", "must be at least 8 tokens"))
    _choice(e, "data.delimiter", d.delimiter, DELIMITERS)
    _choice(e, "data.chat_format", d.chat_format, CHAT_FORMATS)
    _choice(e, "data.template", d.template, TEMPLATES)
    _choice(e, "data.text_mode", d.text_mode, TEXT_MODES)


def _check_budget(e: list[ConfigError], b: BudgetConfig) -> None:
    _choice(e, "budget.budget_mode", b.budget_mode, BUDGET_MODES)
    if b.budget_mode == "ranks":
        _check_ranks(e, b)
    elif b.budget_value <= 0:
        unit = "a percentage of model parameters, e.g. 0.5" if b.budget_mode == "percent" else "a parameter count"
        e.append(ConfigError("budget.budget_value", f"give {unit}"))
    elif b.budget_mode == "percent" and b.budget_value >= 100:
        e.append(ConfigError("budget.budget_value", "a percentage must be below 100"))
    for name, value in (("tinit", b.tinit), ("tfinal", b.tfinal)):
        if not 0.0 <= value < 1.0:
            e.append(ConfigError(f"budget.{name}", "is a fraction of total steps: between 0 and 1"))
    if b.tinit + b.tfinal >= 1.0:
        e.append(ConfigError(
            "budget.tfinal",
            f"tinit ({b.tinit}) + tfinal ({b.tfinal}) leave no budgeting phase; "
            "keep their sum below 1 (e.g. 0.1 + 0.2)",
        ))
    if b.delta_t < 1:
        e.append(ConfigError("budget.delta_t", "must be at least 1 optimizer step"))
    for name in ("beta1", "beta2"):
        if not 0.0 < getattr(b, name) < 1.0:
            e.append(ConfigError(f"budget.{name}", "must be between 0 and 1 (e.g. 0.85)"))
    if b.orth_reg_weight < 0:
        e.append(ConfigError("budget.orth_reg_weight", "cannot be negative"))
    if b.lora_alpha <= 0:
        e.append(ConfigError("budget.lora_alpha", "must be positive"))
    if not 0.0 <= b.lora_dropout < 1.0:
        e.append(ConfigError("budget.lora_dropout", "must be in [0, 1)"))


def _check_ranks(e: list[ConfigError], b: BudgetConfig) -> None:
    if b.target_r < 1:
        e.append(ConfigError("budget.target_r", "must be at least 1"))
    if b.init_r < 1:
        e.append(ConfigError("budget.init_r", "must be at least 1"))
    elif b.target_r >= b.init_r:
        e.append(ConfigError(
            "budget.target_r",
            f"must be smaller than init_r ({b.init_r}); AdaLoRA prunes from init_r down to target_r. "
            f"Try init_r = {suggested_init_r(b.target_r)}.",
        ))


def _check_training(e: list[ConfigError], t: TrainingConfig) -> None:
    if t.max_steps < 0:
        e.append(ConfigError("training.max_steps", "cannot be negative"))
    if t.max_steps == 0 and t.epochs <= 0:
        e.append(ConfigError("training.epochs", "must be positive when max_steps is 0"))
    if t.batch_size < 1:
        e.append(ConfigError("training.batch_size", "must be at least 1"))
    if t.grad_accum < 1:
        e.append(ConfigError("training.grad_accum", "must be at least 1"))
    if not 0.0 < t.learning_rate < 1.0:
        e.append(ConfigError("training.learning_rate", "must be between 0 and 1 (e.g. 5e-4)"))
    _choice(e, "training.scheduler", t.scheduler, SCHEDULERS)
    if not 0.0 <= t.warmup_ratio < 1.0:
        e.append(ConfigError("training.warmup_ratio", "must be in [0, 1)"))
    if t.weight_decay < 0:
        e.append(ConfigError("training.weight_decay", "cannot be negative"))
    if t.max_grad_norm < 0:
        e.append(ConfigError("training.max_grad_norm", "cannot be negative (0 turns clipping off)"))
    for name in ("eval_every", "checkpoint_every"):
        if getattr(t, name) < 0:
            e.append(ConfigError(f"training.{name}", "cannot be negative (0 means once per epoch)"))
    if t.keep_checkpoints < 1:
        e.append(ConfigError("training.keep_checkpoints", "keep at least 1 checkpoint"))
    if t.log_every < 1:
        e.append(ConfigError("training.log_every", "must be at least 1"))
    _choice(e, "training.device", t.device, DEVICES)
    _choice(e, "training.precision", t.precision, PRECISIONS)


_METRICS_BY_TASK = {
    "text-classification": ("auto", "loss"),
    "causal-lm": ("auto", "loss", "rouge", "bleu", "chrf", "exact_match"),
    "seq2seq": ("auto", "loss", "rouge", "bleu", "chrf", "exact_match"),
    "question-answering": ("auto", "loss", "squad", "squad_v2"),
}


def _task_data_checks(cfg: RunConfig) -> list[ConfigError]:
    """Checks of the question-answering and generation fields of ``data``."""
    e: list[ConfigError] = []
    d = cfg.data
    _choice(e, "data.eval_metric", d.eval_metric, EVAL_METRICS)
    allowed = _METRICS_BY_TASK.get(cfg.task, EVAL_METRICS)
    if d.eval_metric in EVAL_METRICS and d.eval_metric not in allowed:
        e.append(ConfigError("data.eval_metric", f"'{d.eval_metric}' does not apply to task {cfg.task}; "
                                                 f"choose one of: {', '.join(allowed)}"))
    if cfg.task == "question-answering":
        if d.doc_stride < 1:
            e.append(ConfigError("data.doc_stride", "must be at least 1 token"))
        elif d.doc_stride >= d.max_length // 2:
            e.append(ConfigError("data.doc_stride", f"must be below half of data.max_length ({d.max_length}) so "
                                                    "each window still moves forward; e.g. max_length // 4"))
        if d.max_answer_length < 1:
            e.append(ConfigError("data.max_answer_length", "must be at least 1 token"))
    if d.generation_eval_rows < 0:
        e.append(ConfigError("data.generation_eval_rows", "cannot be negative (0 means every eval row)"))
    if d.max_new_tokens < 1:
        e.append(ConfigError("data.max_new_tokens", "must be at least 1 token"))
    return e


def _method_errors(cfg: RunConfig) -> list[ConfigError]:
    """Checks of ``method`` and the LoRA options."""
    e: list[ConfigError] = []
    _choice(e, "method", cfg.method, METHODS)
    lo = cfg.lora
    if lo.r < 0:
        e.append(ConfigError("lora.r", "cannot be negative (0 matches the AdaLoRA budget)"))
    if lo.match_params < 0:
        e.append(ConfigError("lora.match_params", "cannot be negative (0 matches the planned target budget)"))
    if cfg.method == "adalora" and (lo.use_dora or lo.use_rslora):
        which = "lora.use_dora" if lo.use_dora else "lora.use_rslora"
        e.append(ConfigError(which, "applies to the LoRA baseline only; set method to \"lora\" or turn it off"))
    if lo.rank_file and cfg.method != "lora":
        e.append(ConfigError("lora.rank_file", "gives a LoRA run its ranks; set method to \"lora\" or clear it"))
    if lo.rank_file and lo.r > 0:
        e.append(ConfigError("lora.r", f"({lo.r}) and lora.rank_file both set the ranks; keep one (r 0 uses the "
                                       "file's per-module ranks)"))
    return e


def check_config(cfg: RunConfig) -> RunConfig:
    """Raise :class:`ConfigErrors` if :func:`validate_config` finds anything; return ``cfg`` otherwise."""
    errors = validate_config(cfg)
    if errors:
        raise ConfigErrors(errors)
    return cfg
