"""Export the ranks an AdaLoRA run found for plain-LoRA tools: a peft ``LoraConfig`` JSON and an Axolotl snippet.

``OUT`` is a folder: ``OUT/adapter_config.json`` (``LoraConfig.from_pretrained(OUT)`` reads it) and
``OUT/axolotl_lora.yml``. An ``OUT`` ending in ``.json`` writes that file and ``<stem>.axolotl.yml`` beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..adalora import CONFIG_NAME, lora_config_from_adapter, lora_config_json
from ..atomic import atomic_write_json, atomic_write_text

AXOLOTL_NAME = "axolotl_lora.yml"


def axolotl_snippet(kwargs: dict[str, Any], source: str) -> str:
    """The LoRA part of an Axolotl config with the discovered ranks (strings JSON-quoted, which YAML reads)."""
    q = json.dumps
    lines = [
        f"# LoRA ranks discovered by AdaLoRA ({source}).",
        "# Each module's lora_alpha keeps the effective scale it had under AdaLoRA.",
        "adapter: lora",
        f"lora_r: {kwargs['r']}",
        f"lora_alpha: {kwargs['lora_alpha']!r}",
        f"lora_dropout: {kwargs.get('lora_dropout', 0.0)!r}",
        "lora_target_modules:",
        *(f"  - {q(m)}" for m in kwargs["target_modules"]),
    ]
    for key, name in (("rank_pattern", "lora_rank_pattern"), ("alpha_pattern", "lora_alpha_pattern")):
        pattern = kwargs.get(key) or {}
        if pattern:
            lines.append(f"{name}:")
            lines += [f"  {q(m)}: {v!r}" for m, v in pattern.items()]
    if kwargs.get("modules_to_save"):
        lines.append("lora_modules_to_save:")
        lines += [f"  - {q(m)}" for m in kwargs["modules_to_save"]]
    return "\n".join(lines) + "\n"


def export_lora_config(source: str | Path, out: str | Path) -> tuple[Path, Path]:
    """Write the LoraConfig JSON and the Axolotl snippet for an AdaLoRA run or adapter folder; returns both paths."""
    kwargs = lora_config_from_adapter(source)
    out = Path(out).expanduser()
    if out.suffix.lower() == ".json":
        json_path, yaml_path = out, out.with_name(f"{out.stem}.axolotl.yml")
    else:
        json_path, yaml_path = out / CONFIG_NAME, out / AXOLOTL_NAME
    json_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(json_path, lora_config_json(kwargs))
    atomic_write_text(yaml_path, axolotl_snippet(kwargs, str(source)))
    return json_path, yaml_path
