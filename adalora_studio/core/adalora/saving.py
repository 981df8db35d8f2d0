"""Saving a live AdaLoRA model as a standard peft adapter folder, atomically."""

from __future__ import annotations

import os
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
    except BaseException:  # e.g. a full disk: remove the partial copy; an earlier adapter stays as it was
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        cfg.rank_pattern = live_pattern
    if adapter_dir.exists():  # swap: the old adapter is moved aside, never deleted before the new one is in place
        old = adapter_dir.with_name(f".{adapter_dir.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(adapter_dir, old)
        os.replace(tmp, adapter_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(adapter_dir)
