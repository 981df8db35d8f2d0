"""The ``ab`` and ``compare`` commands' work, kept out of ``cli.py``: train the arms, print the comparison."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ..core.errors import StudioError


def parse_budgets(text: str) -> tuple[int, ...]:
    """``"1,2,4,8"`` -> ``(1, 2, 4, 8)``; ValueError naming the bad item."""
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if not item.isdigit() or int(item) < 1:
            raise ValueError(f"--budgets: '{item}' is not a whole number >= 1 (give e.g. 1,2,4,8)")
        out.append(int(item))
    if not out:
        raise ValueError("--budgets: give at least one target_r, e.g. 1,2,4,8")
    return tuple(dict.fromkeys(out))


def run_ab(cfg: Any, seeds: int, budgets: Sequence[int], as_json: bool, stop: Any,
           out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Train every arm one after another, then print the comparison (or ``--json``); returns the exit code:
    0 when every arm finished, 1 when one failed or was skipped, 130 when stopped."""
    out, err = out or sys.stdout, err or sys.stderr
    from ..core.compare import (
        ComparisonOutcome,
        comparison_dir,
        comparison_text,
        new_comparison_id,
        read_run_result,
        results_json,
        run_comparison,
        write_comparison,
    )
    from ..core.events import Failed, Finished, RunStarted, Stopped

    outcome = ComparisonOutcome(new_comparison_id())
    log = err if as_json else out
    print(f"Comparison {outcome.comparison_id}: AdaLoRA vs matched LoRA, {seeds} seed(s)"
          + (f", budgets target_r {', '.join(map(str, budgets))}" if budgets else ""), file=log, flush=True)
    for item in run_comparison(cfg, seeds=seeds, budgets=budgets, stop=stop, outcome=outcome):
        head = f"[{item.arm.index + 1}/{item.n_arms}] {item.arm.label}"
        event = item.event
        if isinstance(event, RunStarted):
            print(f"{head}: {event.total_steps} steps, {event.trainable_init:,} adapter parameters at the start "
                  f"({event.run_dir})", file=log, flush=True)
        elif isinstance(event, Finished):
            shown = ", ".join(f"{k} {v:.4g}" for k, v in sorted(event.metrics.items()))
            print(f"{head}: finished ({shown or 'no evaluation'})", file=log, flush=True)
        elif isinstance(event, (Failed, Stopped)):
            print(f"{head}: {'failed: ' + event.message if isinstance(event, Failed) else 'stopped'}",
                  file=log, flush=True)
    results = [read_run_result(d) for d in outcome.run_dirs]
    if results:
        folder = comparison_dir(cfg, outcome.comparison_id)
        written = write_comparison(results, folder)
        if as_json:
            out.write(results_json(results))
        else:
            print("\n" + comparison_text(results), file=out)
        print(f"\nComparison files: {', '.join(str(p) for p in written)}", file=log)
    for problem in outcome.problems:
        print(f"warning: {problem}", file=err)
    if outcome.stopped:
        return 130
    return 1 if outcome.problems or not results else 0


def run_compare(run_dirs: Sequence[str], as_json: bool, out: TextIO | None = None,
                csv_path: str | None = None) -> int:
    """Compare finished runs: the table and verdict, or ``--json``; ``csv_path`` also writes the CSV."""
    out = out or sys.stdout
    from ..core.atomic import atomic_write_text
    from ..core.compare import comparison_text, read_run_result, results_csv, results_json

    results = []
    problems = []
    for d in run_dirs:
        try:
            results.append(read_run_result(d))
        except StudioError as exc:
            problems.append(exc.user_message())
    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
    if csv_path:
        atomic_write_text(Path(csv_path), results_csv(results))
    out.write(results_json(results) if as_json else comparison_text(results) + "\n")
    return 0
