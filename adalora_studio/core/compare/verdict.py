"""Arm statistics and the one-sentence verdict, which never claims more than the seeds support.

An *arm* is one method at one budget, over one or more seeds. Its spread is the sample standard deviation of
the final metric across seeds. The verdict compares the AdaLoRA and LoRA means: with one seed per arm it says a
single seed cannot separate the difference from noise; with several, it sets the difference against the seed
spread (the larger of the two arms' standard deviations) and says whether it falls within or outside it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .results import RunResult

HIGHER_IS_BETTER = {"accuracy": True, "macro_f1": True, "perplexity": False, "eval_loss": False}
POINTS_METRICS = ("accuracy", "macro_f1")
"""Fractions shown as percentage points (x100)."""
METHOD_LABELS = {"adalora": "AdaLoRA", "lora": "LoRA"}


@dataclass(frozen=True)
class ArmStats:
    """One method (at one budget) over its seeds."""

    method: str
    target_r: int
    n: int
    mean: float
    spread: float
    """Sample standard deviation over seeds (0 for one seed)."""
    effective_params: float
    """Mean effective adapter parameters."""
    seconds_per_step: float
    values: tuple[float, ...]
    peak_memory_mb: float | None = None
    """The largest peak RAM over the arm's runs that recorded one, in MiB (None: none did)."""
    peak_cuda_mb: float | None = None
    """The largest peak CUDA allocation over the arm's runs, in MiB (None: none on CUDA or none recorded)."""


def default_metric(results: Sequence[RunResult]) -> str:
    """accuracy when the runs report it, else perplexity, else eval_loss."""
    names = {k for r in results for k in r.metrics}
    for name in ("accuracy", "perplexity", "eval_loss"):
        if name in names:
            return name
    return sorted(names)[0] if names else "accuracy"


def arm_stats(results: Sequence[RunResult], metric: str) -> list[ArmStats]:
    """Statistics per (method, target_r), AdaLoRA first, then by budget."""
    groups: dict[tuple[str, int], list[RunResult]] = {}
    for r in results:
        groups.setdefault((r.method, r.target_r), []).append(r)
    out = []
    for (method, target_r), runs in sorted(groups.items(), key=lambda kv: (kv[0][0] != "adalora", kv[0][1])):
        values = tuple(r.metrics[metric] for r in runs if metric in r.metrics and math.isfinite(r.metrics[metric]))
        out.append(ArmStats(
            method=method, target_r=target_r, n=len(values),
            mean=statistics.fmean(values) if values else math.nan,
            spread=statistics.stdev(values) if len(values) > 1 else 0.0,
            effective_params=statistics.fmean(r.effective_params for r in runs),
            seconds_per_step=statistics.fmean(r.seconds_per_step for r in runs), values=values,
            peak_memory_mb=_largest(r.peak_memory_mb for r in runs),
            peak_cuda_mb=_largest(r.peak_cuda_mb for r in runs),
        ))
    return out


def _largest(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def peak_text(ram_mb: float | None, cuda_mb: float | None) -> str:
    """``RAM 812 MiB``, ``RAM 2,301 MiB · GPU 1,204 MiB``, or ``—`` when neither is known."""
    parts = [f"{name} {value:,.0f} MiB" for name, value in (("RAM", ram_mb), ("GPU", cuda_mb)) if value is not None]
    return " · ".join(parts) or "—"


def memory_text(stats: ArmStats) -> str:
    """The arm's peak memory for a table (:func:`peak_text`; ``—`` for runs from before it was recorded)."""
    return peak_text(stats.peak_memory_mb, stats.peak_cuda_mb)


def _amount(diff: float, metric: str) -> str:
    if metric in POINTS_METRICS:
        return f"{100 * diff:.1f} points"
    return f"{diff:.3g}"


def verdict(adalora: ArmStats, lora: ArmStats, metric: str) -> str:
    """The one-sentence verdict for two arms, e.g. "AdaLoRA +0.8 points accuracy, within seed spread (±1.1)"."""
    if adalora.n == 0 or lora.n == 0:
        missing = METHOD_LABELS.get(adalora.method if adalora.n == 0 else lora.method, "an arm")
        return f"No verdict: {missing} has no final {metric} (did its runs finish with an evaluation set?)."
    higher = HIGHER_IS_BETTER.get(metric, True)
    diff = adalora.mean - lora.mean
    better = diff > 0 if higher else diff < 0
    leader, other = ("AdaLoRA", "LoRA") if better else ("LoRA", "AdaLoRA")
    gap = abs(diff)
    if gap == 0:
        head = f"AdaLoRA and LoRA are level on {metric} ({adalora.mean:.4g})"
    elif higher:
        head = f"{leader} +{_amount(gap, metric)} {metric} over {other}"
    else:
        head = f"{leader} {_amount(gap, metric)} lower {metric} than {other}"
    if min(adalora.n, lora.n) < 2:
        return (f"{head} with one seed per arm: a single seed cannot tell this from seed noise; "
                "run 3 or more seeds.")
    spread = max(adalora.spread, lora.spread)
    seeds = f"{min(adalora.n, lora.n)}" if adalora.n == lora.n else f"{adalora.n} and {lora.n}"
    where = "within" if gap <= spread else "outside"
    tail = "no clear winner" if where == "within" else f"{leader} is ahead"
    return f"{head}, {where} seed spread (±{_amount(spread, metric)}) over {seeds} seeds: {tail}."


def verdict_for(results: Sequence[RunResult], metric: str | None = None) -> list[str]:
    """One verdict per budget present in both methods (a plain A/B has one)."""
    metric = metric or default_metric(results)
    stats = arm_stats(results, metric)
    by_budget: dict[int, dict[str, ArmStats]] = {}
    for s in stats:
        by_budget.setdefault(s.target_r, {})[s.method] = s
    lines = []
    for target_r, arms in sorted(by_budget.items()):
        if "adalora" in arms and "lora" in arms:
            line = verdict(arms["adalora"], arms["lora"], metric)
            lines.append(line if len(by_budget) == 1 else f"target_r {target_r}: {line}")
    return lines or [f"No verdict: compare at least one AdaLoRA run with one LoRA run ({metric})."]


def format_table(stats: Sequence[ArmStats], metric: str) -> str:
    """A plain-text table: method, budget, effective params, metric mean ± spread (n), time per step, peak
    memory (the largest over the arm's seeds; ``—`` when not recorded)."""
    header = (f"{'method':8} {'target_r':>8} {'params':>10} {metric + ' (mean ± spread)':>28} {'s/step':>8}  "
              "peak memory")
    rows = []
    for s in stats:
        value = "n/a" if s.n == 0 else f"{s.mean:.4f} ± {s.spread:.4f} (n={s.n})"
        rows.append(f"{METHOD_LABELS.get(s.method, s.method):8} {s.target_r:>8} {s.effective_params:>10,.0f} "
                    f"{value:>28} {s.seconds_per_step:>8.3f}  {memory_text(s)}")
    return "\n".join([header, "-" * max(len(r) for r in [header, *rows]), *rows])
