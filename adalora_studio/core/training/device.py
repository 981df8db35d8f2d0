"""Device and precision policy: the one place that turns ``auto`` into CUDA, MPS or CPU and a precision."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config import TrainingConfig
from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from accelerate import Accelerator


@dataclass(frozen=True)
class Hardware:
    """Where and in which precision a run trains."""

    cpu: bool
    mixed_precision: str
    """accelerate's value: no | bf16 | fp16."""
    device: str
    """cpu | cuda | mps (what the user sees)."""

    @property
    def precision(self) -> str:
        """fp32 | bf16 | fp16 (what the user sees)."""
        return "fp32" if self.mixed_precision == "no" else self.mixed_precision


def resolve_hardware(training: TrainingConfig) -> Hardware:
    """Pick the device and precision: ``auto`` means CUDA, then MPS, then CPU; bf16 on GPUs that support it.

    Raises :class:`ConfigError` for a device that is not there or a precision it cannot do.
    """
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    device = training.device
    if device == "auto":
        device = "cuda" if cuda else "mps" if mps else "cpu"
    elif device == "cuda" and not cuda:
        raise ConfigError("training.device", "no CUDA GPU is available here; choose auto or cpu")
    elif device == "mps" and not mps:
        raise ConfigError("training.device", "Apple MPS is not available here; choose auto or cpu")
    precision = training.precision
    if precision == "auto":
        precision = "bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision == "fp16" and device != "cuda":
        raise ConfigError("training.precision", f"fp16 needs a CUDA GPU (device is {device}); choose auto or fp32")
    if precision == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError("training.precision", "this GPU does not support bf16; choose fp16, auto or fp32")
    return Hardware(cpu=device == "cpu", mixed_precision="no" if precision == "fp32" else precision, device=device)


def make_accelerator(training: TrainingConfig, hardware: Hardware) -> Accelerator:
    """An :class:`accelerate.Accelerator` for this run.

    In a plain single process the shared accelerate state is reset first, so several runs with different
    settings can follow one another in one program (the GUI). Under ``accelerate launch`` it is left alone.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
    return Accelerator(
        gradient_accumulation_steps=training.grad_accum,
        mixed_precision=hardware.mixed_precision,
        cpu=hardware.cpu,
    )
