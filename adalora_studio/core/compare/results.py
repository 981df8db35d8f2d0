"""What one finished run contributes to a comparison, read back from its run folder alone.

``run.json`` gives the method, seed, budget and comparison id; ``status.json`` the steps and training seconds;
``events.jsonl`` the final evaluation (the ``Finished`` event's metrics, else the last ``EvalLogged``) and the
run's peak memory (recorded on the ``Finished`` event; None for runs logged before it was); the saved adapter's
safetensors header the effective adapter parameters (AdaLoRA saves only the kept triplets, so this is its final
effective count; classifier heads are not counted).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..adalora import adapter_effective_params
from ..errors import RunError, StudioError
from ..events import EvalLogged, Finished, StepLogged
from ..runs import RunFolder, read_run_events

JSON_KEYS = ("run_dir", "method", "seed", "effective_params", "steps", "train_seconds", "metrics")
"""The keys of each object in ``compare --json`` / ``ab --json`` output, in order."""
MEMORY_JSON_KEYS = ("peak_memory_mb", "peak_cuda_mb")
"""Added after :data:`JSON_KEYS`: ``peak_memory_mb`` always (null when the run did not record it),
``peak_cuda_mb`` only when the run trained on CUDA and recorded it."""
CSV_COLUMNS = ("run_dir", "name", "method", "comparison_id", "target_r", "rank", "seed", "effective_params",
               "steps", "train_seconds", "seconds_per_step", "peak_memory_mb", "peak_cuda_mb")


@dataclass(frozen=True)
class RunResult:
    """One run as a comparison sees it."""

    run_dir: str
    name: str
    method: str
    seed: int
    comparison_id: str
    target_r: int
    """The AdaLoRA budget (average final rank) of the config; a LoRA arm keeps its AdaLoRA arm's."""
    rank: int
    """LoRA: the uniform rank; AdaLoRA: the configured target_r."""
    effective_params: int
    steps: int
    train_seconds: float
    metrics: dict[str, float]
    state: str
    config: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    peak_memory_mb: float | None = None
    """Peak resident RAM of the run's process in MiB (None: not recorded)."""
    peak_cuda_mb: float | None = None
    """Peak CUDA allocation in MiB (None: not on CUDA, or not recorded)."""

    @property
    def seconds_per_step(self) -> float:
        """Training seconds per optimizer step (0 when unknown)."""
        return self.train_seconds / self.steps if self.steps else 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: ``run_dir, method, seed, effective_params, steps, train_seconds, metrics``, then
        ``peak_memory_mb`` (null when not recorded) and, when known, ``peak_cuda_mb``."""
        out = {"run_dir": self.run_dir, "method": self.method, "seed": self.seed,
               "effective_params": self.effective_params, "steps": self.steps,
               "train_seconds": round(self.train_seconds, 3), "metrics": dict(self.metrics),
               "peak_memory_mb": _mb(self.peak_memory_mb)}
        if self.peak_cuda_mb is not None:
            out["peak_cuda_mb"] = _mb(self.peak_cuda_mb)
        return out


def _mb(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def read_run_result(run_dir: str | Path) -> RunResult:
    """A :class:`RunResult` from a run folder; :class:`RunError` naming the folder when it cannot be compared
    (no run.json, unreadable config, not finished)."""
    folder = RunFolder.open(run_dir)
    try:
        cfg = folder.read_config()
        status = folder.read_status()
    except StudioError as exc:
        raise RunError(f"{folder.path}: cannot be compared: {exc.user_message()}") from exc
    state = status.state if status is not None else "new"
    if state != "finished":
        raise RunError(f"{folder.path}: cannot be compared: the run is {state}, not finished")
    adapter_dir = folder.adapter_dir
    rank = cfg.budget.target_r
    if cfg.method == "lora":
        try:
            rank = int(json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))["r"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RunError(f"{adapter_dir}: cannot read the LoRA rank ({exc})") from exc
    metrics, finished = _final_record(folder.path)
    return RunResult(
        run_dir=str(folder.path), name=cfg.name, method=cfg.method, seed=cfg.training.seed,
        comparison_id=cfg.comparison_id, target_r=cfg.budget.target_r, rank=rank,
        effective_params=adapter_effective_params(adapter_dir), steps=status.step if status else 0,
        train_seconds=float((status.info if status else {}).get("elapsed_s", 0.0) or 0.0),
        metrics=metrics, state=state, config=cfg.to_dict(),
        peak_memory_mb=finished.peak_memory_mb if finished else None,
        peak_cuda_mb=finished.peak_cuda_mb if finished else None,
    )


def final_metrics(run_dir: str | Path) -> dict[str, float]:
    """The final evaluation of a run: the ``Finished`` event's metrics, else the last evaluation's."""
    return _final_record(run_dir)[0]


def _final_record(run_dir: str | Path) -> tuple[dict[str, float], Finished | None]:
    """The final evaluation (as :func:`final_metrics`) and the last ``Finished`` event, from one read of the log."""
    last: dict[str, float] = {}
    finished: Finished | None = None
    for event in read_run_events(run_dir):
        if isinstance(event, EvalLogged):
            last = {"eval_loss": event.eval_loss, **event.metrics}
        elif isinstance(event, Finished):
            finished = event
            if event.metrics:
                last = dict(event.metrics)
    return {k: float(v) for k, v in last.items()}, finished


@dataclass(frozen=True)
class Curves:
    """Training and evaluation curves of one run, for overlaying runs."""

    steps: tuple[int, ...]
    epochs: tuple[float, ...]
    task_loss: tuple[float, ...]
    eval_steps: tuple[int, ...]
    eval_epochs: tuple[float, ...]
    eval_loss: tuple[float, ...]
    eval_metrics: dict[str, tuple[float, ...]]


def read_curves(run_dir: str | Path) -> Curves:
    """The curves of a run from its event log (steps and epochs, so either can be the x axis)."""
    events = read_run_events(run_dir)
    steps = [e for e in events if isinstance(e, StepLogged)]
    epoch_of = {e.step: e.epoch for e in steps}
    evals = [e for e in events if isinstance(e, EvalLogged)]
    names = sorted({k for e in evals for k in e.metrics})
    return Curves(
        steps=tuple(e.step for e in steps), epochs=tuple(e.epoch for e in steps),
        task_loss=tuple(e.task_loss for e in steps), eval_steps=tuple(e.step for e in evals),
        eval_epochs=tuple(epoch_of.get(e.step, 0.0) for e in evals), eval_loss=tuple(e.eval_loss for e in evals),
        eval_metrics={n: tuple(float(e.metrics.get(n, float("nan"))) for e in evals) for n in names},
    )


def results_json(results: Sequence[RunResult]) -> str:
    """The ``--json`` output: a list with one object per run."""
    return json.dumps([r.to_json() for r in results], indent=2) + "\n"


def results_csv(results: Sequence[RunResult]) -> str:
    """One row per run: the :data:`CSV_COLUMNS` then every final metric (``metric:<name>``)."""
    metric_names = sorted({k for r in results for k in r.metrics})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"metric:{m}" for m in metric_names)])
    for r in results:
        writer.writerow([r.run_dir, r.name, r.method, r.comparison_id, r.target_r, r.rank, r.seed,
                         r.effective_params, r.steps, f"{r.train_seconds:.3f}", f"{r.seconds_per_step:.4f}",
                         *("" if v is None else f"{v:.1f}" for v in (r.peak_memory_mb, r.peak_cuda_mb)),
                         *(repr(r.metrics[m]) if m in r.metrics else "" for m in metric_names)])
    return buf.getvalue()


def config_diff(results: Sequence[RunResult]) -> list[tuple[str, list[Any]]]:
    """The config fields whose values differ between the runs: ``[(dotted field, [value per run]), ...]``
    (``name`` and ``output_dir`` included; identical fields left out)."""
    flats = [_flatten(r.config) for r in results]
    keys = sorted({k for f in flats for k in f})
    return [(k, [f.get(k) for f in flats]) for k in keys if len({json.dumps(f.get(k)) for f in flats}) > 1]


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
