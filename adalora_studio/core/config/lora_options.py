"""The run config's method choice and the LoRA baseline's options (kept apart so ``schema.py`` stays small)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METHODS = ("adalora", "lora")
"""``adalora`` trains AdaLoRA; ``lora`` trains a plain LoRA baseline at a matched parameter budget."""


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class LoraOptions:
    """The LoRA baseline (method "lora"): its rank is matched to the AdaLoRA budget unless given."""

    r: int = _f(0, "LoRA rank. 0: the rank whose adapter parameters best match the AdaLoRA budget.")
    match_params: int = _f(
        0, "Adapter parameters to match (an A/B sets the AdaLoRA arm's final count). 0: the planned target budget.")
    use_rslora: bool = _f(False, "rsLoRA: scale updates by lora_alpha / sqrt(r) instead of lora_alpha / r.")
    use_dora: bool = _f(False, "DoRA: learn a magnitude vector per matrix as well (its parameters count too).")
    rank_file: str = _f(
        "", "A LoraConfig JSON (or the folder holding its adapter_config.json) from `export RUN_DIR --lora-config`: "
            "train LoRA with its per-module ranks and alphas on the same target modules instead of one uniform rank.")
