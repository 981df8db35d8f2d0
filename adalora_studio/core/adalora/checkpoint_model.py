"""An AdaLoRA model rebuilt from a training checkpoint (full-size weights + ``rank_pattern``), for inference.

A stopped run has no saved adapter, only ``checkpoints/step-N/trainable.safetensors`` (every trainable tensor at
``init_r`` triplets) and the live ``rank_pattern`` in ``state.json``. The adapted modules and ``init_r`` are read
from the tensor names and shapes; the pruned triplets are zeroed for good, which is what ``save_pretrained``
would have dropped, so the result predicts as the adapter saved at that step would.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ModelError
from .ranks import ADAPTER_NAME, normalize_rank_key

_PREFIX = "base_model.model."


def checkpoint_targets(trainable: Mapping[str, Any]) -> tuple[list[str], int]:
    """(exact module paths that carry ``lora_E``, ``init_r``) from a checkpoint's trainable tensors."""
    suffix = f".lora_E.{ADAPTER_NAME}"
    modules = sorted(normalize_rank_key(k) for k in trainable if k.endswith(suffix))
    if not modules:
        raise ModelError("the checkpoint holds no AdaLoRA weights (no lora_E tensors)")
    init_r = max(int(v.shape[0]) for k, v in trainable.items() if k.endswith(suffix))
    return modules, init_r


def load_checkpoint_model(base: Any, task_type: str, trainable: Mapping[str, Any],
                          rank_pattern: Mapping[str, list[bool]] | None, lora_alpha: float) -> Any:
    """Wrap ``base`` in AdaLoRA, copy the checkpoint's tensors in, zero the pruned triplets; eval mode."""
    import torch
    from peft import AdaLoraConfig, get_peft_model

    modules, init_r = checkpoint_targets(trainable)
    fan_in_fan_out = any(type(m).__name__ == "Conv1D" for n, m in base.named_modules() if n in set(modules))
    cfg = AdaLoraConfig(task_type=task_type, target_modules=modules, init_r=init_r,
                        target_r=max(1, init_r - 1), total_step=10, lora_alpha=lora_alpha,  # type: ignore[arg-type]
                        fan_in_fan_out=fan_in_fan_out)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        model = get_peft_model(base, cfg)
    params = dict(model.named_parameters())
    unknown = sorted(set(trainable) - set(params))
    if unknown:
        raise ModelError(f"the checkpoint does not fit the base model (unexpected {unknown[:3]}); "
                         "was the run's model changed?")
    flags = {normalize_rank_key(k): list(v) for k, v in (rank_pattern or {}).items()}
    with torch.no_grad():
        for name, value in trainable.items():
            params[name].copy_(value.to(params[name].dtype))
        for name, param in params.items():
            keep = flags.get(normalize_rank_key(name)) if name.endswith(f".lora_E.{ADAPTER_NAME}") else None
            if keep is not None and len(keep) == param.shape[0]:
                mask = torch.tensor(keep, dtype=torch.bool).view(-1, 1)
                param.masked_fill_(~mask, 0.0)
    model.peft_config[ADAPTER_NAME].rank_pattern = None  # type: ignore[attr-defined]  # masked for good
    model.eval()
    return model


@contextlib.contextmanager
def adapter_disabled(model: Any) -> Iterator[Any]:
    """Run the base model inside a peft model (the adapter switched off), for base-vs-tuned comparisons."""
    with model.disable_adapter():
        yield model


def unwrap_base(model: Any) -> Any:
    """The transformers model under a peft model (the model itself when it is not wrapped)."""
    getter = getattr(model, "get_base_model", None)
    return getter() if callable(getter) else model
