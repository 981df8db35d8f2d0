"""What the dashboard knows about a run's device memory and skipped steps, from its StepLogged events (no Qt).

Each StepLogged carries ``skipped_steps`` (optimizer steps the fp16 gradient scaler skipped after inf/NaN
gradients, counted per session) and, on CUDA, ``cuda_memory_mb`` / ``cuda_peak_mb`` (allocated now, peak so far).
Events of a run on CPU, and logs written before these fields existed, carry none: then :attr:`has_cuda` is False
and the views show nothing for CUDA memory.
"""

from __future__ import annotations

import math

import numpy as np

from ...core.events import StepLogged
from .state_arrays import GrowingArray


class MemoryTrack:
    """CUDA memory per logged step (allocated, peak) and the steps the gradient scaler skipped."""

    def __init__(self) -> None:
        self.steps = GrowingArray(256)
        self.allocated_mb = GrowingArray(256)
        self.peak_mb = GrowingArray(256)
        self._earlier_sessions = 0
        self._this_session = 0

    def add(self, event: StepLogged) -> None:
        """Fold one step's fields in."""
        self._this_session = event.skipped_steps
        if event.cuda_memory_mb is not None:
            self.steps.append(event.step)
            self.allocated_mb.append(event.cuda_memory_mb)
            self.peak_mb.append(event.cuda_peak_mb if event.cuda_peak_mb is not None else math.nan)

    def new_session(self) -> None:
        """A resume starts a new session, whose skip count starts again from 0: keep the earlier ones."""
        self._earlier_sessions += self._this_session
        self._this_session = 0

    def trim_after(self, step: int) -> None:
        """Drop the memory samples logged after ``step`` (a resume re-does those steps)."""
        n = int(np.searchsorted(self.steps.view(), step, side="right"))
        for arr in (self.steps, self.allocated_mb, self.peak_mb):
            arr.truncate(n)

    @property
    def skipped_steps(self) -> int:
        """Optimizer steps skipped by the gradient scaler over the run's sessions."""
        return self._earlier_sessions + self._this_session

    @property
    def has_cuda(self) -> bool:
        """Whether any step reported CUDA memory."""
        return len(self.steps) > 0

    @property
    def peak(self) -> float:
        """The highest peak reported so far, MiB (NaN without CUDA samples)."""
        values = self.peak_mb.view()
        finite = values[np.isfinite(values)]
        return float(finite.max()) if finite.size else math.nan
