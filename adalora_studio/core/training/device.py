"""Device and precision policy: the one place that turns ``auto`` into CUDA, MPS or CPU and a precision."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

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


@dataclass(frozen=True)
class Devices:
    """What this machine offers torch, as plain data (safe to send from the worker to the GUI thread)."""

    cuda: bool
    mps: bool
    cuda_name: str = ""
    """The first CUDA GPU's name ("" without CUDA)."""
    cuda_version: str = ""
    bf16: bool = False
    """The CUDA GPU supports bf16."""
    threads: int = 1
    """torch's CPU threads."""

    @property
    def auto_device(self) -> str:
        """What ``device=auto`` picks: CUDA, then MPS, then CPU."""
        return "cuda" if self.cuda else "mps" if self.mps else "cpu"

    @property
    def auto_precision(self) -> str:
        """What ``precision=auto`` picks on :attr:`auto_device`: bf16 on a CUDA GPU that supports it, else fp32."""
        return auto_precision(self.auto_device, self)

    def describe(self) -> str:
        """One line for a person: the device ``auto`` trains on (GPU name, Apple MPS, or CPU threads)."""
        if self.cuda:
            return f"CUDA GPU 0: {self.cuda_name} (CUDA {self.cuda_version})"
        if self.mps:
            return "Apple GPU (MPS)"
        return f"CPU ({self.threads} thread{'' if self.threads == 1 else 's'})"

    def to_dict(self) -> dict[str, Any]:
        """The fields plus ``auto_device``, ``auto_precision`` and ``summary`` (:meth:`describe`)."""
        return {**asdict(self), "auto_device": self.auto_device, "auto_precision": self.auto_precision,
                "summary": self.describe()}


def probe_devices() -> Devices:
    """Ask torch which accelerators are here (imports torch: call it off the GUI thread)."""
    import torch

    cuda = bool(torch.cuda.is_available())
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if not cuda:
        return Devices(cuda=False, mps=mps, threads=torch.get_num_threads())
    index = torch.cuda.current_device()
    return Devices(cuda=True, mps=mps, cuda_name=torch.cuda.get_device_name(index),
                   cuda_version=str(torch.version.cuda), bf16=bool(torch.cuda.is_bf16_supported()),
                   threads=torch.get_num_threads())


def auto_precision(device: str, devices: Devices) -> str:
    """``precision=auto`` on ``device``: bf16 on a CUDA GPU that supports it, else fp32."""
    return "bf16" if device == "cuda" and devices.bf16 else "fp32"


def choose_hardware(training: TrainingConfig, devices: Devices) -> Hardware:
    """The device and precision policy: ``auto`` means CUDA, then MPS, then CPU; bf16 on GPUs that support it.

    Raises :class:`ConfigError` for a device that is not there or a precision it cannot do.
    """
    device = training.device
    if device == "auto":
        device = devices.auto_device
    elif device == "cuda" and not devices.cuda:
        raise ConfigError("training.device", "no CUDA GPU is available here; choose auto or cpu")
    elif device == "mps" and not devices.mps:
        raise ConfigError("training.device", "Apple MPS is not available here; choose auto or cpu")
    precision = training.precision
    if precision == "auto":
        precision = auto_precision(device, devices)
    if precision == "fp16" and device != "cuda":
        raise ConfigError("training.precision", f"fp16 needs a CUDA GPU (device is {device}); choose auto or fp32")
    if precision == "bf16" and device == "cuda" and not devices.bf16:
        raise ConfigError("training.precision", "this GPU does not support bf16; choose fp16, auto or fp32")
    return Hardware(cpu=device == "cpu", mixed_precision="no" if precision == "fp32" else precision, device=device)


def resolve_hardware(training: TrainingConfig) -> Hardware:
    """:func:`choose_hardware` for the devices torch sees here (:func:`probe_devices`)."""
    return choose_hardware(training, probe_devices())


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
