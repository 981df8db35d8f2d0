"""Precision and memory options of a run: fp16 overflow steps, gradient checkpointing, CUDA memory, 4-bit bases.

Under fp16 accelerate scales the loss with a ``GradScaler``; a step whose gradients overflow (inf/NaN) is
skipped by the scaler, which lowers its scale and goes on. The engine then skips the rest of that optimizer step
too (no scheduler step, no ``update_and_allocate``: peft would fold the inf gradients into its importance EMAs)
and retries the step index with the next batch, so the run still makes ``total_steps`` real updates and the
budget schedule is unchanged. :data:`MAX_CONSECUTIVE_SKIPS` overflows in a row mean the run diverged: it fails
as before. Without a scaler (fp32, bf16) a non-finite loss or gradient fails the run at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import RunConfig
from ..errors import ConfigError
from ..events import LogMessage

if TYPE_CHECKING:  # pragma: no cover
    from .loop import TrainLoop
    from .session import Session

MAX_CONSECUTIVE_SKIPS = 25
"""Overflowing steps in a row after which an fp16 run fails (the scale has fallen by 2**25)."""


def grad_scaler(accelerator: Any) -> Any:
    """The accelerator's gradient scaler (fp16 on a GPU), or None."""
    return getattr(accelerator, "scaler", None)


def skip_overflow_step(s: Session, loop: TrainLoop, index: int) -> LogMessage | None:
    """Skip optimizer step ``index + 1`` after inf/NaN gradients under a gradient scaler; None: fail instead.

    ``optimizer.step()`` still runs: the scaler sees the overflow, leaves the weights alone and lowers its
    scale. The gradients are dropped and the accumulation window restarts.
    """
    scaler = grad_scaler(s.accelerator)
    if scaler is None or loop.consecutive_skips >= MAX_CONSECUTIVE_SKIPS:
        return None
    s.optimizer.step()
    s.optimizer.zero_grad()
    loop.loss_sum, loop.task_sum, loop.n_micro = None, None, 0
    loop.skipped_steps += 1
    loop.consecutive_skips += 1
    return LogMessage(level="warning", message=(
        f"Optimizer step {index + 1} skipped: inf/NaN gradients under fp16; the gradient scaler lowered its "
        f"scale to {float(scaler.get_scale()):g} and the step is retried with the next batch "
        f"({loop.skipped_steps} skipped so far)."))


def cuda_memory(accelerator: Any) -> dict[str, Any]:
    """``cuda_memory_mb`` (allocated now) and ``cuda_peak_mb`` (peak so far) in MiB; None off CUDA."""
    import torch

    device = getattr(accelerator, "device", None)
    if device is None or getattr(device, "type", "") != "cuda":
        return {"cuda_memory_mb": None, "cuda_peak_mb": None}
    return {"cuda_memory_mb": torch.cuda.memory_allocated(device) / 2**20,
            "cuda_peak_mb": torch.cuda.max_memory_allocated(device) / 2**20}


def enable_gradient_checkpointing(model: Any, cfg: RunConfig) -> None:
    """Recompute activations in the backward pass (``training.gradient_checkpointing``): less memory, ~30% slower.

    Non-reentrant checkpointing keeps dropout's random draws, so the results equal a run without it.
    """
    if not cfg.training.gradient_checkpointing:
        return
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise ConfigError("training.gradient_checkpointing",
                          f"{type(model).__name__} does not support gradient checkpointing; switch it off")
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False


def check_4bit(cfg: RunConfig, device: str) -> None:
    """A 4-bit base (``model.load_in_4bit``) needs bitsandbytes and a CUDA GPU; say which is missing."""
    if not getattr(cfg.model, "load_in_4bit", False):
        return
    if device != "cuda":
        raise ConfigError("model.load_in_4bit", f"a 4-bit base needs a CUDA GPU (device is {device}); "
                                                "switch load_in_4bit off")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ConfigError("model.load_in_4bit", "a 4-bit base needs bitsandbytes: "
                                                "pip install 'adalora-studio[quant]'") from None
