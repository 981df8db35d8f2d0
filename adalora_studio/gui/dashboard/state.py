"""What the dashboard knows about a run, built from core events alone (no Qt here).

``DashboardState.apply(event)`` is cheap (appends to preallocated arrays) so it can take every event of a
100k-step run; the views read the arrays when the dashboard redraws (at most ~10 times per second) and use
the ``dirty`` set to redraw only what changed. A live run and a replay of its ``events.jsonl`` produce the
same state, event for event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ...core.adalora import scheduled_budget
from ...core.events import (
    CheckpointSaved,
    EvalLogged,
    Event,
    Failed,
    Finished,
    LogMessage,
    RanksUpdated,
    RunStarted,
    StepLogged,
    Stopped,
)
from .memory_track import MemoryTrack
from .pace import Pace
from .state_arrays import GrowingArray

STATUS_EMPTY = "empty"
STATUS_RUNNING = "running"
STATUS_FINISHED = "finished"
STATUS_STOPPED = "stopped"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"
"""The log ends without a terminal event and nothing is writing it (a crash or a killed process)."""

EMA_ALPHA = 0.9
"""Smoothing of the task-loss curve (debiased exponential moving average, as TensorBoard draws it)."""

# Parts of the state the views redraw separately.
PART_CURVES = "curves"
PART_RANKS = "ranks"
PART_PROGRESS = "progress"
PART_LOG = "log"
PART_FINISH = "finish"
ALL_PARTS = frozenset({PART_CURVES, PART_RANKS, PART_PROGRESS, PART_LOG, PART_FINISH})


@dataclass(frozen=True)
class LogLine:
    """One line of the log pane."""

    time: float
    level: str
    """info | warning | error"""
    message: str


def pick_metric(metrics: dict[str, float]) -> str | None:
    """The metric worth plotting: accuracy (classification), F1 (QA), ROUGE-L/BLEU/chrF/exact match (generation),
    perplexity (causal LM by loss), else the first."""
    for name in ("accuracy", "f1", "rougeL", "bleu", "chrf", "exact_match", "perplexity", "macro_f1"):
        if name in metrics:
            return name
    return next(iter(metrics), None)


class DashboardState:
    """Everything the dashboard shows, as plain data; feed it events with :meth:`apply`."""

    def __init__(self) -> None:
        self.reset()

    # ------------------------------------------------------------------ building

    def reset(self) -> None:
        """Forget the run (the empty state)."""
        self.started: RunStarted | None = None
        self.status = STATUS_EMPTY
        self.terminal: Finished | Failed | Stopped | None = None
        self.last_step: StepLogged | None = None
        self.steps = GrowingArray()
        self.task_loss = GrowingArray()
        self.loss_ema = GrowingArray()
        self.orth_loss = GrowingArray()
        self.lr = GrowingArray()
        self.eval_steps = GrowingArray(64)
        self.eval_loss = GrowingArray(64)
        self.eval_metric = GrowingArray(64)
        self.metric_name: str | None = None
        self.last_eval: EvalLogged | None = None
        self.snapshots: list[RanksUpdated] = []
        self.held_steps = GrowingArray(256)
        self.held_total = GrowingArray(256)
        self.checkpoints: list[CheckpointSaved] = []
        self.logs: list[LogLine] = []
        self.memory = MemoryTrack()
        """CUDA memory per step and the fp16 scaler's skipped steps."""
        self.n_events = 0
        self.generation = getattr(self, "generation", 0) + 1
        """Changes whenever arrays are cut (reset, resume): views then redraw everything."""
        self._ema = 0.0
        self._ema_n = 0
        self.pace = Pace()
        self.dirty: set[str] = set(ALL_PARTS)

    def apply(self, event: Event) -> None:
        """Fold one event into the state (cheap: no drawing)."""
        self.n_events += 1
        if isinstance(event, StepLogged):
            self._apply_step(event)
        elif isinstance(event, RanksUpdated):
            if self.snapshots and self.snapshots[-1].step == event.step:  # a resume re-sends its step's snapshot
                self.snapshots.pop()
                self.held_steps.truncate(len(self.held_steps) - 1)
                self.held_total.truncate(len(self.held_total) - 1)
            self.snapshots.append(event)
            self.held_steps.append(event.step)
            self.held_total.append(event.total_rank)
            self.dirty.update((PART_RANKS, PART_CURVES))
        elif isinstance(event, EvalLogged):
            self._apply_eval(event)
        elif isinstance(event, LogMessage):
            self.logs.append(LogLine(event.time, event.level, event.message))
            self.dirty.add(PART_LOG)
        elif isinstance(event, CheckpointSaved):
            self.checkpoints.append(event)
            self.logs.append(LogLine(event.time, "info", f"Checkpoint at step {event.step}: {event.path}"))
            self.dirty.update((PART_LOG, PART_FINISH))
        elif isinstance(event, RunStarted):
            self._apply_started(event)
        elif isinstance(event, Finished):
            self._apply_terminal(event, STATUS_FINISHED, "info", f"Finished at step {event.step}. Adapter saved to "
                                 f"{event.adapter_dir}")
        elif isinstance(event, Stopped):
            where = f" Checkpoint: {event.checkpoint}." if event.checkpoint else ""
            self._apply_terminal(event, STATUS_STOPPED, "warning", f"Stopped at step {event.step}.{where} "
                                 "Press Resume to continue.")
        elif isinstance(event, Failed):
            self._apply_terminal(event, STATUS_FAILED, "error", f"Failed at step {event.step}: {event.message}")

    def apply_all(self, events: Iterable[Event]) -> None:
        """Fold many events (a replay)."""
        for event in events:
            self.apply(event)

    def mark_interrupted(self) -> None:
        """The log ended without a terminal event and no process is writing it."""
        if self.status == STATUS_RUNNING:
            self.status = STATUS_INTERRUPTED
            self.logs.append(LogLine(0.0, "warning", "The run ended without finishing (the app or the machine "
                                     "stopped). Press Resume to continue from its last checkpoint."))
            self.dirty.update((PART_PROGRESS, PART_LOG, PART_FINISH))

    def _apply_started(self, event: RunStarted) -> None:
        resumed = event.resumed_from_step
        if resumed is None or self.started is None:
            kept_logs = self.logs if resumed is not None else []
            self.reset()
            self.logs = kept_logs
        else:
            self._trim_after(resumed)
            self.memory.new_session()
        self.started = event
        self.pace.restart()
        self.status = STATUS_RUNNING
        self.terminal = None
        note = f"Resumed from step {resumed}" if resumed is not None else "Run started"
        self.logs.append(LogLine(event.time, "info", f"{note}: {event.run_dir} on {event.device} ({event.precision})"))
        self.dirty.update(ALL_PARTS)

    def _apply_step(self, event: StepLogged) -> None:
        self.last_step = event
        self.pace.add(event.step, event.elapsed_s, event.samples_per_s)
        self.steps.append(event.step)
        self.task_loss.append(event.task_loss)
        self.orth_loss.append(event.orth_loss)
        self.lr.append(event.lr)
        self.loss_ema.append(self._next_ema(event.task_loss))
        self.memory.add(event)
        self.dirty.update((PART_CURVES, PART_PROGRESS))

    def _next_ema(self, value: float) -> float:
        if not math.isfinite(value):
            return self.loss_ema.last()
        self._ema = EMA_ALPHA * self._ema + (1 - EMA_ALPHA) * value
        self._ema_n += 1
        return self._ema / (1 - EMA_ALPHA**self._ema_n)

    def _apply_eval(self, event: EvalLogged) -> None:
        self.last_eval = event
        if self.metric_name is None:
            self.metric_name = pick_metric(event.metrics)
        self.eval_steps.append(event.step)
        self.eval_loss.append(event.eval_loss)
        value = event.metrics.get(self.metric_name, math.nan) if self.metric_name else math.nan
        self.eval_metric.append(value)
        self.dirty.update((PART_CURVES, PART_PROGRESS))

    def _apply_terminal(self, event: Finished | Failed | Stopped, status: str, level: str, message: str) -> None:
        self.terminal = event
        self.status = status
        self.logs.append(LogLine(event.time, level, message))
        if isinstance(event, Failed) and event.detail:
            self.logs.append(LogLine(event.time, "error", event.detail.rstrip()))
        self.dirty.update(ALL_PARTS)

    def _trim_after(self, step: int) -> None:
        """Drop what was logged after ``step`` (a resume re-does those steps)."""
        self.generation += 1
        n = int(np.searchsorted(self.steps.view(), step, side="right"))
        for arr in (self.steps, self.task_loss, self.orth_loss, self.lr):
            arr.truncate(n)
        self.loss_ema.truncate(0)
        self._ema, self._ema_n = 0.0, 0
        for value in self.task_loss.view().copy():
            self.loss_ema.append(self._next_ema(float(value)))
        n_eval = int(np.searchsorted(self.eval_steps.view(), step, side="right"))
        for arr in (self.eval_steps, self.eval_loss, self.eval_metric):
            arr.truncate(n_eval)
        self.snapshots = [s for s in self.snapshots if s.step <= step]
        n_held = int(np.searchsorted(self.held_steps.view(), step, side="right"))
        self.held_steps.truncate(n_held)
        self.held_total.truncate(n_held)
        self.checkpoints = [c for c in self.checkpoints if c.step <= step]
        self.memory.trim_after(step)

    # ------------------------------------------------------------------ reading

    def take_dirty(self) -> set[str]:
        """The parts changed since the last call (and clear the set)."""
        parts, self.dirty = self.dirty, set()
        return parts

    @property
    def current_step(self) -> int:
        """Optimizer steps done so far (from the newest step, snapshot or terminal event)."""
        candidates = [0]
        if self.last_step is not None:
            candidates.append(self.last_step.step)
        if self.snapshots:
            candidates.append(self.snapshots[-1].step)
        if self.terminal is not None:
            candidates.append(self.terminal.step)
        return max(candidates)

    @property
    def total_steps(self) -> int:
        """Planned optimizer steps (0 before RunStarted)."""
        return self.started.total_steps if self.started else 0

    @property
    def run_dir(self) -> str:
        """The run folder ('' before RunStarted)."""
        if isinstance(self.terminal, Finished):
            return self.terminal.run_dir
        return self.started.run_dir if self.started else ""

    @property
    def last_checkpoint(self) -> str:
        """The newest checkpoint path ('' if none)."""
        if isinstance(self.terminal, Stopped) and self.terminal.checkpoint:
            return self.terminal.checkpoint
        if isinstance(self.terminal, Failed) and self.terminal.checkpoint:
            return self.terminal.checkpoint
        return self.checkpoints[-1].path if self.checkpoints else ""

    @property
    def can_resume(self) -> bool:
        """A stopped, failed or interrupted run that left something to resume from."""
        return self.status in (STATUS_STOPPED, STATUS_FAILED, STATUS_INTERRUPTED) and bool(
            self.last_checkpoint or self.run_dir)

    def budget_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """The scheduled budget b(t) at every optimizer step 1..T (x is steps done, as StepLogged counts)."""
        s = self.started
        if s is None or s.total_steps <= 0:
            return np.empty(0), np.empty(0)
        init_bgt, target_bgt = s.init_r * s.n_matrices, s.target_r * s.n_matrices
        x = np.arange(1, s.total_steps + 1, dtype=np.float64)
        y = np.fromiter(
            (scheduled_budget(i, init_bgt, target_bgt, s.tinit_steps, s.tfinal_steps, s.total_steps)[0]
             for i in range(s.total_steps)),
            dtype=np.float64, count=s.total_steps)
        return x, y

    def snapshot_index_at_step(self, step: int) -> int:
        """Index of the newest snapshot taken at or before ``step`` (-1 if none)."""
        index = -1
        for i, snap in enumerate(self.snapshots):
            if snap.step <= step:
                index = i
            else:
                break
        return index


# ---------------------------------------------------------------------- rank layouts (pure functions)

OTHER_LAYER = "other"
"""Heatmap column for matrices outside the numbered layers (e.g. a pooler)."""


def matrix_types(snapshot: RanksUpdated) -> list[str]:
    """Matrix types in the order they first appear (the model's own order: query, key, value, ...)."""
    seen: dict[str, None] = {}
    for m in snapshot.matrices:
        seen.setdefault(m.matrix_type, None)
    return list(seen)


def layer_labels(snapshot: RanksUpdated) -> list[str]:
    """Layer column labels: ``L0``, ``L1``, ... and ``other`` last when some matrix has no layer."""
    layers = sorted({m.layer for m in snapshot.matrices if m.layer is not None})
    labels = [f"L{layer}" for layer in layers]
    if any(m.layer is None for m in snapshot.matrices):
        labels.append(OTHER_LAYER)
    return labels


def rank_grid(snapshot: RanksUpdated) -> tuple[list[str], list[str], np.ndarray]:
    """(layer labels, matrix types, grid[layer, type]) of ranks; NaN where a layer has no such matrix.

    Two matrices landing in one cell (e.g. two unnamed ``other`` matrices of one type) are summed.
    """
    labels = layer_labels(snapshot)
    types = matrix_types(snapshot)
    col = {label: i for i, label in enumerate(labels)}
    row = {t: i for i, t in enumerate(types)}
    grid = np.full((len(labels), len(types)), np.nan)
    for m in snapshot.matrices:
        i = col[f"L{m.layer}" if m.layer is not None else OTHER_LAYER]
        j = row[m.matrix_type]
        grid[i, j] = m.rank if math.isnan(grid[i, j]) else grid[i, j] + m.rank
    return labels, types, grid


def bar_positions(snapshot: RanksUpdated, gap: float = 1.0) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """x of each matrix's bar (in snapshot order, a gap between layers) and (centre, label) ticks per layer."""
    xs = np.empty(len(snapshot.matrices))
    ticks: list[tuple[float, str]] = []
    x = 0.0
    group_start = 0.0
    current: object = object()
    for i, m in enumerate(snapshot.matrices):
        if m.layer != current:
            if i:
                ticks.append(((group_start + x - 1) / 2, _layer_label(current)))
                x += gap
            current, group_start = m.layer, x
        xs[i] = x
        x += 1
    if len(snapshot.matrices):
        ticks.append(((group_start + x - 1) / 2, _layer_label(current)))
    return xs, ticks


def _layer_label(layer: object) -> str:
    return f"L{layer}" if isinstance(layer, int) else OTHER_LAYER
