"""Throughput and ETA that do not jump: the average throughput of the run so far (what the header shows once a
run has ended) and an ETA from an exponential average of step durations, which ignores the first step after a
start or resume (it includes loading the model and compiling kernels)."""

from __future__ import annotations

import math

ETA_ALPHA = 0.1
"""Weight of the newest step duration in the ETA's moving average (about the last 20 steps count)."""


class Pace:
    """Feed it every StepLogged's (step, elapsed_s, samples_per_s); read :attr:`average_sps` and :meth:`eta`."""

    def __init__(self) -> None:
        self._inv_sum = 0.0
        self._n = 0
        self._last: tuple[int, float] | None = None
        self._step_s = math.nan

    def restart(self) -> None:
        """A (resumed) run starts: the next step's duration includes loading, so it is not measured."""
        self._last = None

    def add(self, step: int, elapsed_s: float, samples_per_s: float) -> None:
        """One optimizer step was logged."""
        if samples_per_s > 0 and math.isfinite(samples_per_s):
            self._inv_sum += 1.0 / samples_per_s  # harmonic mean = total samples / total time per step
            self._n += 1
        last, self._last = self._last, (step, elapsed_s)
        if last is None or step <= last[0] or elapsed_s < last[1]:
            return
        per_step = (elapsed_s - last[1]) / (step - last[0])
        self._step_s = per_step if math.isnan(self._step_s) else (1 - ETA_ALPHA) * self._step_s + ETA_ALPHA * per_step

    @property
    def average_sps(self) -> float:
        """Samples per second over all logged steps (NaN before the first)."""
        return self._n / self._inv_sum if self._inv_sum > 0 else math.nan

    def eta(self, step: int, total: int, fallback: float) -> float:
        """Seconds left: remaining steps x the smoothed step time, or ``fallback`` before two steps are seen."""
        if math.isnan(self._step_s):
            return fallback
        return max(0, total - step) * self._step_s
