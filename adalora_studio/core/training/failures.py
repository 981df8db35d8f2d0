"""Failures of a training step a person can act on: non-finite loss and out-of-memory, with what to do."""

from __future__ import annotations

from typing import Any

from ..config import RunConfig
from ..errors import RunError


class NonFiniteLoss(RunError):
    """The loss or the gradient norm became NaN or infinite."""


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
