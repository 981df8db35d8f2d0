"""Small pieces the engine uses: timing of a run, failure messages, the atomic adapter save."""

from __future__ import annotations

import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import RunConfig
from .errors import RunError

if TYPE_CHECKING:  # pragma: no cover
    from .training_setup import TaskLossTap


class NonFiniteLoss(RunError):
    """The loss or the gradient norm became NaN or infinite."""


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


def nonfinite_message(step: int, loss: float, grad_norm: float, cfg: RunConfig) -> str:
    """What to tell a person whose loss diverged at optimizer step ``step`` (1-based)."""
    return (f"The loss became NaN or infinite at optimizer step {step} (loss {loss:.4g}, gradient norm "
            f"{grad_norm:.4g}). Lower training.learning_rate (now {cfg.training.learning_rate:g}) or keep "
            f"training.max_grad_norm above 0; the last good checkpoint is kept.")


def oom_message(step: int, device: str, cfg: RunConfig) -> str:
    """What to tell a person who ran out of memory."""
    return (f"Out of memory at optimizer step {step} on {device}. Try a smaller training.batch_size (now "
            f"{cfg.training.batch_size}) or data.max_length (now {cfg.data.max_length}); raise training.grad_accum "
            f"to keep the effective batch size.")


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-memory error (CUDA, MPS or host)."""
    import torch

    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def all_finite(loss: Any, grad_norm: Any) -> bool:
    """True when both tensors are finite (one device sync for the two)."""
    import torch

    return bool(torch.isfinite(loss.float() + torch.as_tensor(grad_norm, device=loss.device).float()).item())


def save_adapter(peft_model: Any, adapter_dir: Path) -> None:
    """``save_pretrained`` into a temporary folder renamed into place (an old adapter is replaced whole).

    ``save_pretrained`` strips the ``.default`` suffix of ``rank_pattern`` keys in the live config; the keys are
    restored afterwards so the live model keeps working as before.
    """
    cfg = peft_model.peft_config["default"]
    live_pattern = dict(cfg.rank_pattern) if cfg.rank_pattern else cfg.rank_pattern
    tmp = adapter_dir.with_name(f".{adapter_dir.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        with warnings.catch_warnings():
            # a matrix pruned to rank 0 is saved as a zero-sized tensor, which peft mistakes for an ungathered shard
            warnings.filterwarnings("ignore", message=".*invalid shape.*")
            peft_model.save_pretrained(str(tmp))
    finally:
        cfg.rank_pattern = live_pattern
    if adapter_dir.exists():
        shutil.rmtree(adapter_dir)
    tmp.rename(adapter_dir)


@dataclass
class TrainLoop:
    """Mutable state of the training loop within one session."""

    trainable: list
    tap: "TaskLossTap"
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


def pattern_fingerprint(pattern: dict[str, list[bool]] | None) -> int:
    """A CRC-32 of a rank pattern (module names and kept flags): equal on processes that agree, any size."""
    import json
    import zlib

    items = sorted((key, [bool(f) for f in flags]) for key, flags in (pattern or {}).items())
    return zlib.crc32(json.dumps(items).encode("utf-8"))


def processes_with_other_pattern(pattern: dict[str, list[bool]] | None, accelerator: Any) -> list[int]:
    """All-gather the rank pattern's fingerprint (a collective: call on every process at the same step; one
    number each, so patterns of different shapes cannot break the gather) and return the indices of the
    processes whose pattern differs from process 0's (empty when all agree)."""
    import torch

    mine = torch.tensor([[pattern_fingerprint(pattern)]], dtype=torch.long, device=accelerator.device)
    gathered = accelerator.gather(mine).view(-1).tolist()
    return [i for i, value in enumerate(gathered) if i > 0 and value != gathered[0]]


def pattern_mismatch_message(step: int, processes: list[int]) -> str:
    """The warning when processes computed different rank patterns."""
    return (f"At optimizer step {step} process(es) {', '.join(map(str, processes))} computed a different rank "
            "pattern than process 0; the saved adapter follows process 0. Check that every process uses the same "
            "data, seed and library versions.")
