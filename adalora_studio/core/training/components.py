"""Building blocks of a training run: hardware, the accelerator, the AdaLoRA model, optimizer, schedule, loaders.

Each function does one thing so the engine, the tests' reference loops and the benchmark build the same objects.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..config import TrainingConfig

if TYPE_CHECKING:  # pragma: no cover
    import torch


SCHEDULER_NAMES = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}



def warmup_steps(training: TrainingConfig, total_steps: int) -> int:
    """Learning-rate warm-up in optimizer steps."""
    return int(math.ceil(training.warmup_ratio * total_steps))


def make_optimizer(model: Any, training: TrainingConfig) -> torch.optim.Optimizer:
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


def make_train_loader(dataset: Any, collator: Any, batch_size: int) -> tuple[Any, torch.Generator]:
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


