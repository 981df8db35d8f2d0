"""Shared set-up of the export tests: tiny BERT and GPT-2 AdaLoRA adapters trained a few steps with peft itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adalora_studio.core.adalora import normalize_rank_key
from adalora_studio.core.config import ModelConfig
from adalora_studio.core.model import load_model_and_tokenizer

LABELS = ["billing", "bug", "login"]
INIT_R, TARGET_R, TOTAL = 4, 2, 12
TOL = 1e-5


@dataclass
class Trained:
    """An AdaLoRA model trained a few steps (masks applied) and saved."""

    model: Any
    adapter_dir: Path
    model_cfg: ModelConfig
    task: str
    inputs: dict[str, Any]
    ranks: dict[str, int]
    natural_total: int
    """Total rank the allocator left (before a matrix was forced to rank 0)."""
    zero_module: str | None


def fresh_base(model_cfg: ModelConfig, task: str, seed: int) -> Any:
    """The base model, freshly loaded with ``seed``."""
    import torch

    torch.manual_seed(seed)  # a different seed than training: a classifier head that is not carried over differs
    model, _ = load_model_and_tokenizer(model_cfg, task, LABELS if task == "text-classification" else None)
    return model.eval()


def logits(model: Any, inputs: dict[str, Any]) -> Any:
    """The model's logits for ``inputs``, without gradients."""
    import torch

    with torch.no_grad():
        return model(**inputs).logits


def train_adalora(folder: Path, tmp: Path, task: str, targets: list[str], zero_one: bool) -> Trained:
    """peft directly: get_peft_model, AdamW, update_and_allocate after every optimizer step."""
    import torch
    from peft import AdaLoraConfig, TaskType, get_peft_model

    model_cfg = ModelConfig(source="folder", path=str(folder))
    base = fresh_base(model_cfg, task, seed=0)
    config = AdaLoraConfig(
        task_type=TaskType.SEQ_CLS if task == "text-classification" else TaskType.CAUSAL_LM,
        init_r=INIT_R, target_r=TARGET_R, tinit=2, tfinal=3, deltaT=1, total_step=TOTAL, lora_alpha=8.0,
        target_modules=targets,
    )
    torch.manual_seed(1)
    model = get_peft_model(base, config)
    gen = torch.Generator().manual_seed(2)
    ids = torch.randint(10, 200, (4, 9), generator=gen)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    labels = torch.tensor([0, 1, 2, 1]) if task == "text-classification" else ids
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-2)
    model.train()
    for step in range(TOTAL):
        model(**inputs, labels=labels).loss.backward()
        optimizer.step()
        model.base_model.update_and_allocate(step)
        optimizer.zero_grad()
    model.eval()
    pattern = model.peft_config["default"].rank_pattern
    natural_total = sum(sum(v) for v in pattern.values())
    zero_module = None
    if zero_one:  # a matrix at rank 0 (the allocator may have pruned one already; else force it)
        key = next((k for k in sorted(pattern) if not any(pattern[k])), None)
        if key is None:
            key = sorted(pattern)[0]
            pattern[key] = [False] * INIT_R
            model.base_model.rankallocator.mask_using_rank_pattern(model.base_model.model, pattern)
        zero_module = normalize_rank_key(key)
    ranks = {normalize_rank_key(k): sum(v) for k, v in pattern.items()}
    adapter_dir = tmp / "adalora"
    model.save_pretrained(str(adapter_dir))
    # The adapter really changes the output (so equality checks below can fail).
    with model.disable_adapter():
        plain = logits(model, inputs)
    assert (plain - logits(model, inputs)).abs().max() > 1e-3
    return Trained(model, adapter_dir, model_cfg, task, inputs, ranks, natural_total, zero_module)


def reloaded_adalora_logits(t: Trained) -> Any:
    """Logits of the saved AdaLoRA adapter reloaded by peft onto a fresh base."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(fresh_base(t.model_cfg, t.task, seed=7), str(t.adapter_dir)).eval()
    return logits(model, t.inputs)
