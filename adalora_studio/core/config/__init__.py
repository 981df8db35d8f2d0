"""The run configuration: one file drives the GUI, the CLI and multi-process launches.

Frozen dataclasses with field help (:mod:`.schema`), checks that need neither model nor data (:mod:`.checks`),
named starting points (:mod:`.presets`) and upgrades of older ``run.json`` files (:mod:`.migrations`).
"""

from __future__ import annotations

from .advice import ConfigAdvice, advise_config
from .checks import RANK_RATIO, check_config, suggested_init_r, validate_config
from .lora_options import METHODS, LoraOptions
from .migrations import FIRST_SCHEMA_VERSION, MIGRATIONS, migrate
from .presets import (
    BUDGET_PRESETS,
    BudgetPreset,
    budget_preset,
    bundled_causal_lm_gguf,
    demo_config,
    paper_recipe,
)
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
    commented_json,
    field_help,
    load_config,
    save_config,
    strip_json_comments,
    with_section,
)

__all__ = [
    "SCHEMA_VERSION",
    "TASKS",
    "FUTURE_TASKS",
    "MODEL_SOURCES",
    "DATA_FORMATS",
    "DELIMITERS",
    "CHAT_FORMATS",
    "TEMPLATES",
    "TEXT_MODES",
    "BUDGET_MODES",
    "SCHEDULERS",
    "DEVICES",
    "PRECISIONS",
    "EVAL_METRICS",
    "ModelConfig",
    "DataConfig",
    "BudgetConfig",
    "TrainingConfig",
    "RunConfig",
    "with_section",
    "load_config",
    "save_config",
    "commented_json",
    "strip_json_comments",
    "field_help",
    "validate_config",
    "check_config",
    "RANK_RATIO",
    "suggested_init_r",
    "migrate",
    "MIGRATIONS",
    "FIRST_SCHEMA_VERSION",
    "BudgetPreset",
    "BUDGET_PRESETS",
    "budget_preset",
    "demo_config",
    "bundled_causal_lm_gguf",
    "METHODS",
    "LoraOptions",
    "paper_recipe",
    "ConfigAdvice",
    "advise_config",
]
