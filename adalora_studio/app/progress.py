"""A terminal progress display for headless runs: a bar with loss, steps/s and ETA, then a summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from ..core.events import (
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


def format_duration(seconds: float) -> str:
    """``1:02:03`` / ``2:03`` style durations; ``?`` for unknown."""
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressPrinter:
    """Turns engine events into terminal output. On a TTY the bar redraws in place; otherwise a line every few s."""

    def __init__(self, stream: TextIO = sys.stdout, quiet: bool = False, width: int = 28, interval_s: float = 5.0):
        self.stream = stream
        self.quiet = quiet
        self.width = width
        self.interval_s = interval_s
        self.total = 0
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_line_time = 0.0
        self._bar_open = False
        self._last_ranks: RanksUpdated | None = None
        self._run_dir = ""
        self._prev_step: tuple[int, float] | None = None
        """(step, elapsed_s) of the previous StepLogged, for steps/s."""

    def handle(self, event: Event) -> None:
        """Print what a person wants to see about ``event``."""
        if isinstance(event, RunStarted):
            self.total = event.total_steps
            self._run_dir = event.run_dir
            self._prev_step = None
            verb = f"Resuming at step {event.resumed_from_step}" if event.resumed_from_step is not None else "Training"
            self._line(f"Run folder: {event.run_dir}")
            self._line(
                f"{verb}: {event.total_steps} optimizer steps on {event.device} ({event.precision}); "
                f"{event.n_train} train / {event.n_eval} eval rows; {event.n_matrices} matrices, "
                f"rank {event.init_r} -> {event.target_r}; adapter {event.trainable_init:,} params in memory, "
                f"{event.trainable_target:,} kept ({100 * event.trainable_target / max(event.model_params, 1):.2f}% "
                f"of {event.model_params:,})"
            )
        elif isinstance(event, StepLogged):
            self._progress(event)
        elif isinstance(event, EvalLogged):
            metrics = ", ".join(f"{k} {v:.4f}" for k, v in event.metrics.items())
            self._line(f"eval @ step {event.step}: loss {event.eval_loss:.4f}" + (f", {metrics}" if metrics else ""))
        elif isinstance(event, RanksUpdated):
            self._last_ranks = event
        elif isinstance(event, CheckpointSaved):
            if not self.quiet and not self.tty:
                self._line(f"checkpoint @ step {event.step}")
        elif isinstance(event, LogMessage):
            if event.level != "info" or not self.quiet:
                self._line(f"{event.level}: {event.message}")
        elif isinstance(event, Finished):
            self._summary_ranks()
            metrics = ", ".join(f"{k} {v:.4f}" for k, v in event.metrics.items())
            self._line(f"Finished at step {event.step}." + (f" {metrics}" if metrics else ""))
            if event.peak_memory_mb is not None:
                gpu = f", GPU {event.peak_cuda_mb:,.0f} MiB" if event.peak_cuda_mb is not None else ""
                self._line(f"Peak memory: RAM {event.peak_memory_mb:,.0f} MiB{gpu}")
            self._line(f"Adapter: {event.adapter_dir}")
            self._line(f"Run:     {event.run_dir}")
        elif isinstance(event, Stopped):
            self._line(f"Stopped at step {event.step}; checkpoint {event.checkpoint}")
            self._line(f"Continue with: adalora-studio train --resume {self._resume_dir(event.checkpoint)}")
        elif isinstance(event, Failed):
            self._line(f"FAILED at step {event.step}: {event.message}")
            if event.checkpoint:
                self._line(f"Last good checkpoint: {event.checkpoint}")
                self._line("Once the cause is fixed, continue with: "
                           f"adalora-studio train --resume {self._resume_dir(event.checkpoint)}")

    def _resume_dir(self, checkpoint: str) -> str:
        """The run folder to resume: from RunStarted, else the checkpoint's grandparent (run/checkpoints/step-N)."""
        if self._run_dir:
            return self._run_dir
        return str(Path(checkpoint).parents[1]) if checkpoint else "RUN_DIR"

    def _steps_per_s(self, e: StepLogged) -> float:
        """Optimizer steps per second since the previous logged step (since the start for the first one)."""
        prev, self._prev_step = self._prev_step, (e.step, e.elapsed_s)
        if prev is not None and e.elapsed_s > prev[1]:
            return (e.step - prev[0]) / (e.elapsed_s - prev[1])
        return e.step / e.elapsed_s if e.elapsed_s > 0 else 0.0

    def _summary_ranks(self) -> None:
        ranks = self._last_ranks
        if ranks is None:
            return
        self._line(f"Final allocation: {ranks.total_rank} triplets over {len(ranks.matrices)} matrices "
                   f"(budget {ranks.budget}, phase {ranks.phase})")

    def _progress(self, e: StepLogged) -> None:
        steps_per_s = self._steps_per_s(e)
        if self.quiet:
            return
        total = max(self.total, 1)
        frac = min(e.step / total, 1.0)
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        text = (f"[{bar}] {e.step}/{total} loss {e.task_loss:.4f} {steps_per_s:.2f} steps/s "
                f"({e.samples_per_s:.1f} samples/s) ETA {format_duration(e.eta_s)}")
        if self.tty:
            self.stream.write("\r" + text)
            self.stream.flush()
            self._bar_open = True
        else:
            now = time.monotonic()
            if now - self._last_line_time >= self.interval_s or e.step == total:
                self._last_line_time = now
                self._line(text)

    def _line(self, text: str) -> None:
        if self._bar_open:
            self.stream.write("\n")
            self._bar_open = False
        self.stream.write(text + "\n")
        self.stream.flush()
