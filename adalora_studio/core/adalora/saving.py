"""Saving a live AdaLoRA model as a standard peft adapter folder, atomically."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any


def save_adapter(peft_model: Any, adapter_dir: Path) -> None:
    """``save_pretrained`` into a temporary folder renamed into place (an old adapter is replaced whole).

    ``save_pretrained`` strips the ``.default`` suffix of ``rank_pattern`` keys in the live config; the keys are
    restored afterwards so the live model keeps working as before.
    """
    cfg = peft_model.peft_config["default"]
    live_pattern = dict(cfg.rank_pattern) if cfg.rank_pattern else cfg.rank_pattern
    tmp = adapter_dir.with_name(f".{adapter_dir.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        with warnings.catch_warnings():
            # a matrix pruned to rank 0 is saved as a zero-sized tensor, which peft mistakes for an ungathered shard
            warnings.filterwarnings("ignore", message=".*invalid shape.*")
            peft_model.save_pretrained(str(tmp))
    finally:
        cfg.rank_pattern = live_pattern
    if adapter_dir.exists():
        shutil.rmtree(adapter_dir)
    tmp.rename(adapter_dir)
