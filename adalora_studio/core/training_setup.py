"""Building blocks of a training run: hardware, the accelerator, the AdaLoRA model, optimizer, schedule, loaders.

Each function does one thing so the engine, the tests' reference loops and the benchmark build the same objects.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import RunConfig, TrainingConfig
from .errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from accelerate import Accelerator
    from peft import AdaLoraConfig

    from .plan import RunPlan

SCHEDULER_NAMES = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}


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


def make_accelerator(training: TrainingConfig, hardware: Hardware) -> "Accelerator":
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


def task_type(task: str) -> str:
    """peft's task type for one of our tasks."""
    return {"text-classification": "SEQ_CLS", "causal-lm": "CAUSAL_LM"}[task]


def adalora_config(cfg: RunConfig, plan: "RunPlan") -> "AdaLoraConfig":
    """The peft :class:`AdaLoraConfig` of a run: exact target paths, ranks and schedule in optimizer steps."""
    from peft import AdaLoraConfig

    b = cfg.budget
    return AdaLoraConfig(
        task_type=task_type(cfg.task),
        target_modules=[m.module for m in plan.targets],
        init_r=plan.init_r,
        target_r=plan.target_r,
        tinit=plan.tinit_steps,
        tfinal=plan.tfinal_steps,
        deltaT=plan.delta_t,
        beta1=b.beta1,
        beta2=b.beta2,
        orth_reg_weight=b.orth_reg_weight,
        lora_alpha=b.lora_alpha,
        lora_dropout=b.lora_dropout,
        total_step=plan.total_steps,
        fan_in_fan_out=any(m.layer_kind == "conv1d" for m in plan.targets),  # GPT-2's Conv1D layout
    )


def build_peft_model(model: Any, cfg: RunConfig, plan: "RunPlan") -> Any:
    """Wrap a loaded transformers model in an AdaLoRA ``PeftModel`` (classifier heads go to modules_to_save)."""
    import warnings

    from peft import get_peft_model

    with warnings.catch_warnings():
        # peft 0.21 asks transformers 5 a deprecated question while wrapping; the user cannot act on it.
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, adalora_config(cfg, plan))


def warmup_steps(training: TrainingConfig, total_steps: int) -> int:
    """Learning-rate warm-up in optimizer steps."""
    return int(math.ceil(training.warmup_ratio * total_steps))


def make_optimizer(model: Any, training: TrainingConfig) -> "torch.optim.Optimizer":
    """AdamW over the trainable parameters (adapter triplets and classifier head), in named order."""
    import torch

    params = [p for _, p in model.named_parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=training.learning_rate, weight_decay=training.weight_decay)


def make_scheduler(optimizer: Any, training: TrainingConfig, total_steps: int) -> Any:
    """transformers' linear / cosine / constant schedule with warm-up, stepped once per optimizer step."""
    from transformers import get_scheduler

    return get_scheduler(
        SCHEDULER_NAMES[training.scheduler],
        optimizer=optimizer,
        num_warmup_steps=warmup_steps(training, total_steps),
        num_training_steps=total_steps,
    )


def epoch_seed(seed: int, epoch: int) -> int:
    """Seed of the data order of ``epoch``: each epoch's shuffle depends only on (seed, epoch), so a resumed
    run reproduces it without replaying earlier epochs."""
    return seed * 1_000_003 + epoch


def make_train_loader(dataset: Any, collator: Any, batch_size: int) -> tuple[Any, "torch.Generator"]:
    """A shuffling DataLoader whose order comes from the returned generator (seed it with :func:`epoch_seed`
    before each epoch)."""
    import torch
    from torch.utils.data import DataLoader, RandomSampler

    generator = torch.Generator()
    sampler = RandomSampler(dataset, generator=generator)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=collator), generator


def make_eval_loader(dataset: Any, collator: Any, batch_size: int) -> Any:
    """An evaluation DataLoader in dataset order."""
    from torch.utils.data import DataLoader

    return DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collator)


class TaskLossTap:
    """Reads the task loss the transformers model returns, before peft adds its orthogonality term to it.

    ``AdaLoraModel.forward`` calls ``self.model.forward(...)`` and then adds ``orth_reg_weight * regulariser`` to
    ``outputs.loss`` in place. The tap wraps that inner ``forward`` on this model instance and keeps a detached
    copy of the loss (a scalar copy on the device, no sync), so the task loss is logged exactly and the
    regulariser term is ``total - task`` - no second forward and no recomputation. :meth:`remove` undoes it.
    """

    def __init__(self, peft_model: Any) -> None:
        from .ranks import adalora_model

        self._inner = adalora_model(peft_model).model
        self._original = self._inner.forward
        self._own_forward = "forward" in vars(self._inner)  # e.g. accelerate's device-map hooks set one
        self.last: Any = None

        def forward(*args: Any, **kwargs: Any) -> Any:
            out = self._original(*args, **kwargs)
            loss = getattr(out, "loss", None)
            self.last = loss.detach().clone() if loss is not None else None
            return out

        self._inner.forward = forward

    def remove(self) -> None:
        """Restore the model's ``forward`` as it was."""
        if self._own_forward:
            self._inner.forward = self._original
        elif "forward" in vars(self._inner):
            del self._inner.forward
