"""AdaLoRA as a rank finder: the ranks a run found, as a plain-LoRA ``LoraConfig`` with per-module ranks.

AdaLoRA scales every matrix by ``lora_alpha / (init_r + 1e-5)`` whatever its final rank; LoRA scales by
``alpha / r``. So a module with ``r_m`` kept triplets keeps its effective scale under LoRA with
``alpha_m = r_m * lora_alpha / (init_r + 1e-5)``: that goes into ``alpha_pattern`` (and ``r_m`` into
``rank_pattern``, keyed by the full module path). The global ``r`` is the most common rank (ties: the larger) and
the global ``lora_alpha`` matches it. Matrices pruned to rank 0 are left out of ``target_modules`` (LoRA has no
rank 0). The config is a fresh start for training a LoRA with those ranks, not a conversion of the weights (that
is :mod:`.to_lora`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .adapter_folder import adapter_dir_of, natural_key, read_adapter_config, read_adapter_ranks
from .to_lora import ADALORA_EPS

CARRIED_KEYS = ("task_type", "base_model_name_or_path", "modules_to_save", "lora_dropout", "bias",
                "fan_in_fan_out")
"""AdaLoRA config entries that mean the same in a LoraConfig and are carried over."""


def lora_config_from_adapter(source: str | Path) -> dict[str, Any]:
    """``LoraConfig`` keyword arguments reproducing the ranks of an AdaLoRA adapter (or run) folder.

    Validated by building a peft ``LoraConfig`` from them, so a bad one fails here, naming the folder.
    """
    adapter_dir = adapter_dir_of(source)
    config = read_adapter_config(adapter_dir)
    if str(config.get("peft_type", "")).upper() != "ADALORA":
        raise ModelError(f"{adapter_dir}: a {config.get('peft_type')} adapter, not AdaLoRA: it found no ranks")
    init_r = int(config["init_r"])
    scale = float(config["lora_alpha"]) / (init_r + ADALORA_EPS)
    ranks = {row.module: row.rank for row in read_adapter_ranks(adapter_dir) if row.rank > 0}
    if not ranks:
        raise ModelError(f"{adapter_dir}: every matrix was pruned to rank 0; there are no ranks to hand on")
    counts = Counter(ranks.values())
    r = max(counts, key=lambda k: (counts[k], k))
    modules = sorted(ranks, key=natural_key)
    kwargs: dict[str, Any] = {k: config[k] for k in CARRIED_KEYS if config.get(k) is not None}
    kwargs.update(
        r=r,
        lora_alpha=_alpha(r, scale),
        target_modules=modules,
        rank_pattern={m: ranks[m] for m in modules if ranks[m] != r},
        alpha_pattern={m: _alpha(ranks[m], scale) for m in modules if ranks[m] != r},
    )
    from peft import LoraConfig

    try:
        LoraConfig(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{adapter_dir}: the ranks do not make a valid LoraConfig ({exc})") from exc
    return kwargs


def _alpha(rank: int, scale: float) -> float:
    return float(rank * scale)


def lora_config_json(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``adapter_config.json``-style dict peft writes for ``LoraConfig(**kwargs)`` (loads with
    ``LoraConfig.from_pretrained`` / ``PeftConfig.from_pretrained`` on its folder, or ``LoraConfig(**d)``)."""
    from peft import LoraConfig

    data = LoraConfig(**kwargs).to_dict()
    for key in ("peft_type", "task_type"):
        value = data.get(key)
        data[key] = getattr(value, "value", value)
    data["target_modules"] = sorted(data["target_modules"], key=natural_key)
    return data
