"""Comparing runs: AdaLoRA against a LoRA baseline at a matched budget, on the user's own data.

- :mod:`.results` - what a finished run folder contributes (method, seed, effective params, final metrics),
  curves, config diffs, JSON and CSV;
- :mod:`.verdict` - per-arm mean ± seed spread and the one-sentence verdict that respects seed noise;
- :mod:`.ab` - the A/B and budget-sweep queue (AdaLoRA arm, then the LoRA arm matched to its final count);
- :mod:`.report` - the sweep series and the comparison folder (results, verdict, sweep plot).

This package sits above :mod:`adalora_studio.core.training` in the layers: it drives the engine.
"""

from __future__ import annotations

from .ab import (
    Arm,
    ArmEvent,
    ComparisonOutcome,
    ComparisonQueue,
    arm_config,
    new_comparison_id,
    plan_arms,
    run_comparison,
    sweep_init_r,
)
from .report import COMPARISONS_DIR, comparison_dir, comparison_text, sweep_series, write_comparison
from .results import (
    CSV_COLUMNS,
    JSON_KEYS,
    MEMORY_JSON_KEYS,
    Curves,
    RunResult,
    config_diff,
    final_metrics,
    read_curves,
    read_run_result,
    results_csv,
    results_json,
)
from .verdict import (
    HIGHER_IS_BETTER,
    METHOD_LABELS,
    ArmStats,
    arm_stats,
    default_metric,
    format_table,
    memory_text,
    peak_text,
    verdict,
    verdict_for,
)

__all__ = [
    "Arm",
    "ArmEvent",
    "ComparisonOutcome",
    "ComparisonQueue",
    "arm_config",
    "new_comparison_id",
    "plan_arms",
    "run_comparison",
    "sweep_init_r",
    "COMPARISONS_DIR",
    "comparison_dir",
    "comparison_text",
    "sweep_series",
    "write_comparison",
    "CSV_COLUMNS",
    "JSON_KEYS",
    "MEMORY_JSON_KEYS",
    "Curves",
    "RunResult",
    "config_diff",
    "final_metrics",
    "read_curves",
    "read_run_result",
    "results_csv",
    "results_json",
    "HIGHER_IS_BETTER",
    "METHOD_LABELS",
    "ArmStats",
    "arm_stats",
    "default_metric",
    "format_table",
    "memory_text",
    "peak_text",
    "verdict",
    "verdict_for",
]
