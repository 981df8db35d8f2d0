"""Export as plain LoRA: the AdaLoRA triplets folded into a standard LoRA adapter folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..adalora import (
    ADAPTER_NAME,
    adalora_to_lora,
    is_lora_config,
    lora_adapter_writer,
    lora_copy_writer,
    read_adalora_source,
)
from .publish import publish_dir


def write_lora_adapter(
    source: Any, out_dir: str | Path, *, uniform_rank: bool = False, adapter_name: str = ADAPTER_NAME
) -> Path:
    """Write ``source`` (a live AdaLoRA PeftModel, an AdaLoRA adapter folder, or a run folder) as a plain LoRA
    adapter in ``out_dir`` (``adapter_config.json`` + ``adapter_model.safetensors``) that
    ``PeftModel.from_pretrained(base, out_dir)`` loads as LoRA. Needs no base model. Returns ``out_dir``.

    A LoRA adapter (a LoRA baseline run) is written unchanged. ``out_dir`` is created, or replaced if it holds
    an earlier export; a folder with other content is refused.
    """
    config, tensors, adapter_dir = read_adalora_source(source, adapter_name)
    if is_lora_config(config):  # a LoRA baseline run: it already is LoRA
        return publish_dir(lora_copy_writer(config, tensors), out_dir, protect=adapter_dir)
    kwargs, lora_tensors = adalora_to_lora(config, tensors, uniform_rank=uniform_rank)
    write = lora_adapter_writer(kwargs, lora_tensors)  # checks the config before anything is written
    return publish_dir(write, out_dir, protect=adapter_dir)
