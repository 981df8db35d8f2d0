"""The review page's "Check resources" as work for the TorchWorker: the measured preflight, with its progress.

Plain Python, no Qt: :func:`check_resources` runs on the worker thread and writes what it is doing into a
:class:`PreflightProgress`, which the page reads with a timer on the GUI thread (single attribute writes, so a
reader never sees a torn value). Stop goes through the same :class:`~adalora_studio.core.events.StopToken` a
run uses; the engine honours it at the next optimizer step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.config import RunConfig
from ...core.errors import StudioError
from ...core.events import Event, StepLogged, StopToken
from .jobs import Problem

MEASURED_STEPS = 5
WARMUP_STEPS = 2
"""As ``adalora-studio validate --dry-run``: 2 warm-up steps, then 5 timed ones."""


@dataclass
class PreflightProgress:
    """What the dry run is doing now: ``phase`` for a person, ``step`` of ``total`` optimizer steps done."""

    total: int = WARMUP_STEPS + MEASURED_STEPS
    warmup: int = WARMUP_STEPS
    step: int = 0
    phase: str = "Checking the config and the data…"

    def see(self, event: Event) -> None:
        """Follow one event of the dry run (called on the worker thread)."""
        if event.kind == "run_started":
            self.phase = "Model loaded; warming up…"
        elif isinstance(event, StepLogged):
            self.step = event.step
            if event.step < self.warmup:
                self.phase = f"Warm-up step {event.step} of {self.warmup}"
            elif event.step < self.total:
                self.phase = f"Measured step {event.step - self.warmup} of {self.total - self.warmup}"
            else:
                self.phase = "Timing one evaluation of the evaluation set…"


def check_resources(cfg: RunConfig, progress: PreflightProgress, stop: StopToken) -> Any:
    """``core.training.measure_run`` on ``cfg``: a :class:`~adalora_studio.core.training.PreflightReport`, or a
    :class:`Problem` when the config cannot run, the dry run fails, or it was stopped. Nothing is kept on disk."""
    from ...core.training import measure_run

    try:
        return measure_run(cfg, steps=progress.total - progress.warmup, warmup=progress.warmup, stop=stop,
                           on_event=progress.see)
    except StudioError as exc:
        return Problem.from_error(exc)
