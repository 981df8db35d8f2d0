"""Small pieces the engine uses: timing of a run, failure messages, the atomic adapter save."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import RunError

if TYPE_CHECKING:  # pragma: no cover
    from ..adalora import TaskLossTap



@dataclass
class EngineStats:
    """Where the time of a run went (for the benchmark and the final log line)."""

    train_s: float = 0.0
    """Wall time of the training loop this session (evaluation and checkpoints excluded)."""
    bookkeeping_s: float = 0.0
    """Part of ``train_s`` spent on the logged regulariser term, rank snapshots, events and their log lines."""
    eval_s: float = 0.0
    checkpoint_s: float = 0.0
    steps: int = 0
    n_evals: int = 0
    """Evaluations run this session (their mean duration goes into the ETA)."""

    @property
    def bookkeeping_share(self) -> float:
        """Bookkeeping as a fraction of the training loop's time."""
        return self.bookkeeping_s / self.train_s if self.train_s > 0 else 0.0


@dataclass
class LoopClock:
    """Training time of one session: pauses (evaluation, checkpoints) are excluded, earlier sessions added."""

    elapsed_before: float
    start_step: int
    t0: float = field(default_factory=time.perf_counter)
    window_t0: float = 0.0
    window_samples: int = 0
    bookkeeping_s: float = 0.0

    def __post_init__(self) -> None:
        self.window_t0 = self.t0

    def elapsed(self) -> float:
        """Training seconds of the whole run so far."""
        return self.elapsed_before + (time.perf_counter() - self.t0)

    def pause(self, seconds: float) -> None:
        """Leave ``seconds`` (spent evaluating or checkpointing) out of the training time and throughput."""
        self.t0 += seconds
        self.window_t0 += seconds

    def eta(self, steps_done_total: int, total_steps: int) -> float:
        """Seconds left at this session's pace."""
        done = steps_done_total - self.start_step
        per_step = (time.perf_counter() - self.t0) / max(done, 1)
        return per_step * (total_steps - steps_done_total)

    def take_window(self) -> float:
        """Samples per second since the last call; starts a new window."""
        now = time.perf_counter()
        rate = self.window_samples / max(now - self.window_t0, 1e-9)
        self.window_t0, self.window_samples = now, 0
        return rate



@dataclass
class TrainLoop:
    """Mutable state of the training loop within one session."""

    trainable: list
    tap: TaskLossTap
    """Task loss of each micro-batch, before peft adds the orthogonality term."""
    max_norm: float
    clock: LoopClock
    pending_rng: dict | None = None
    """RNG states of the checkpoint being resumed, restored at the first batch."""
    loss_sum: Any = None
    """Sum of the micro-batch losses (task + regulariser) of the current accumulation window, on the device."""
    task_sum: Any = None
    """Sum of the micro-batch task losses of the window, on the device."""
    n_micro: int = 0
    skipped_steps: int = 0
    """Optimizer steps the fp16 gradient scaler skipped (inf/NaN gradients) this session."""
    consecutive_skips: int = 0

    def add_micro_batch(self, loss: Any, n_samples: int, state: Any) -> None:
        """Account one micro-batch."""
        self.loss_sum = loss if self.loss_sum is None else self.loss_sum + loss
        task = self.tap.last
        if task is None:
            raise RunError("the model returned no loss; check that the data has labels")
        self.task_sum = task if self.task_sum is None else self.task_sum + task
        self.n_micro += 1
        self.clock.window_samples += n_samples
        state.samples_seen += n_samples
        state.batch_in_epoch += 1



