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
    """The LoRA part of an Axolotl config with the discovered ranks (strings JSON-quoted, which YAML reads).

    Axolotl types ``lora_alpha`` and ``lora_alpha_pattern`` values as positive integers, so each alpha is rounded
    (the peft JSON keeps the exact ones); a comment says how far that moves the largest per-module scale."""
    q = json.dumps
    rank_pattern: dict[str, int] = kwargs.get("rank_pattern") or {}
    alpha_pattern: dict[str, float] = kwargs.get("alpha_pattern") or {}
    alpha = _axolotl_alpha(kwargs["lora_alpha"])
    lines = [
        f"# LoRA ranks discovered by AdaLoRA ({source}).",
        "# Each module's lora_alpha keeps the effective scale it had under AdaLoRA"
        + _rounding_note(kwargs, rank_pattern, alpha_pattern) + ".",
        "adapter: lora",
        f"lora_r: {kwargs['r']}",
        f"lora_alpha: {alpha}",
        f"lora_dropout: {kwargs.get('lora_dropout', 0.0)!r}",
        "lora_target_modules:",
        *(f"  - {q(m)}" for m in kwargs["target_modules"]),
    ]
    if rank_pattern:
        lines.append("lora_rank_pattern:")
        lines += [f"  {q(m)}: {int(v)}" for m, v in rank_pattern.items()]
    if alpha_pattern:
        lines.append("lora_alpha_pattern:")
        lines += [f"  {q(m)}: {_axolotl_alpha(v)}" for m, v in alpha_pattern.items()]
    if kwargs.get("modules_to_save"):
        lines.append("lora_modules_to_save:")
        lines += [f"  - {q(m)}" for m in kwargs["modules_to_save"]]
    return "\n".join(lines) + "\n"


def _axolotl_alpha(value: float) -> int:
    """An alpha as Axolotl accepts it: a whole number of at least 1."""
    return max(1, round(float(value)))


def _rounding_note(kwargs: dict[str, Any], ranks: dict[str, int], alphas: dict[str, float]) -> str:
    """``" (alphas rounded to whole numbers for Axolotl: scales within N%)"`` when rounding changed any alpha."""
    pairs = [(float(kwargs["lora_alpha"]), int(kwargs["r"]))]
    pairs += [(float(a), int(ranks.get(m, kwargs["r"]))) for m, a in alphas.items()]
    worst = max((abs(_axolotl_alpha(a) - a) / a for a, _r in pairs if a > 0), default=0.0)
    if worst == 0.0:
        return ""
    return f" (alphas rounded to whole numbers for Axolotl: scales within {100 * worst:.1f}%)"


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
