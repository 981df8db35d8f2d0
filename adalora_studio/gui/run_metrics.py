"""The final metrics of a finished run for the Recent runs list, read from the end of its ``events.jsonl``
(the Finished event is the last line; only the file's tail is read, so the list stays cheap)."""

from __future__ import annotations

import json
from pathlib import Path

TAIL_BYTES = 8192
SHOWN = ("accuracy", "macro_f1", "perplexity", "eval_loss")


def final_metrics(run_dir: str | Path) -> dict[str, float]:
    """The metrics of the run's Finished event ({} if it has none, or the log cannot be read)."""
    log = Path(run_dir) / "events.jsonl"
    try:
        with log.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return {}
    for line in reversed(tail.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("event") == "finished":
            metrics = data.get("metrics") or {}
            return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
        if isinstance(data, dict) and data.get("event") in ("stopped", "failed", "run_started"):
            return {}
    return {}


def metrics_text(metrics: dict[str, float], limit: int = 2) -> str:
    """``accuracy 0.912, macro_f1 0.897`` (the first ``limit`` of the usual metrics)."""
    names = [n for n in SHOWN if n in metrics] or list(metrics)
    return ", ".join(f"{n} {metrics[n]:.3g}" for n in names[:limit])
