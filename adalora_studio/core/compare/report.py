"""A comparison's artefacts: the sweep series, and the folder ``<runs>/comparisons/<id>/`` with the results as
JSON and CSV, the verdict and the sweep plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import paths
from ..atomic import atomic_write_text
from ..config import RunConfig
from ..export import SweepPoint, sweep_svg
from .results import RunResult, results_csv, results_json
from .verdict import METHOD_LABELS, arm_stats, default_metric, format_table, verdict_for

COMPARISONS_DIR = "comparisons"


def sweep_series(results: Sequence[RunResult], metric: str) -> dict[str, list[SweepPoint]]:
    """Per method, one point per budget: ``(mean effective params, metric mean, seed spread)``."""
    series: dict[str, list[SweepPoint]] = {}
    for s in arm_stats(results, metric):
        if s.n:
            series.setdefault(METHOD_LABELS.get(s.method, s.method), []).append(
                (s.effective_params, s.mean, s.spread))
    return {name: sorted(points) for name, points in series.items()}


def comparison_dir(cfg: RunConfig, comparison_id: str) -> Path:
    """``<runs folder>/comparisons/<id>`` for a config's runs (its output_dir, or the user's runs folder)."""
    base = Path(cfg.output_dir).expanduser() if cfg.output_dir else paths.runs_dir()
    return base / COMPARISONS_DIR / comparison_id


def comparison_text(results: Sequence[RunResult], metric: str | None = None) -> str:
    """The table and the verdict, as the CLI prints them."""
    metric = metric or default_metric(results)
    return format_table(arm_stats(results, metric), metric) + "\n\n" + "\n".join(verdict_for(results, metric))


def write_comparison(results: Sequence[RunResult], out_dir: str | Path, metric: str | None = None) -> list[Path]:
    """Write ``results.json``, ``results.csv``, ``verdict.txt`` and (with two budgets or more) ``sweep.svg``."""
    metric = metric or default_metric(results)
    out = Path(out_dir)
    written = []
    for name, text in (("results.json", results_json(results)), ("results.csv", results_csv(results)),
                       ("verdict.txt", comparison_text(results, metric) + "\n")):
        atomic_write_text(out / name, text)
        written.append(out / name)
    series = sweep_series(results, metric)
    if max((len(points) for points in series.values()), default=0) >= 2:
        svg = sweep_svg(series, metric)
        if svg is not None:
            atomic_write_text(out / "sweep.svg", svg)
            written.append(out / "sweep.svg")
    return written
