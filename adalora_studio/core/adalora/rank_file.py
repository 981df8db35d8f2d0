"""Closing the rank-finder loop: a LoRA run whose per-module ranks come from a ``LoraConfig`` file (``lora.rank_file``).

The file is what ``adalora-studio export RUN_DIR --lora-config OUT`` writes (or any peft LoRA
``adapter_config.json``): a default ``r`` / ``lora_alpha`` and per-module ``rank_pattern`` / ``alpha_pattern``.
Each of the run's target matrices gets the rank and alpha peft itself would give it from that file (the same
``(.*\\.)?KEY$`` pattern match). The run adapts the same matrices it would adapt with a uniform rank, so:

- a module the file adapts that is not a target of this run is an error (another model, other target modules);
- a target the file does not adapt is an error when the file adapts no matrix of that type at all (it was found
  on other target modules); a target of a type the file does adapt is the one AdaLoRA pruned to rank 0 (the
  export leaves those out: LoRA has no rank 0), so it is left unadapted and the plan says so in a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..model import AdaptableMatrix
from .adapter_folder import CONFIG_NAME

FIELD = "lora.rank_file"


@dataclass(frozen=True)
class FileRanks:
    """The per-module LoRA ranks a rank file gives the run's targets."""

    path: Path
    targets: tuple[AdaptableMatrix, ...]
    """The targets the file adapts, in the run's order."""
    ranks: tuple[int, ...]
    alphas: tuple[float, ...]
    left_out: tuple[AdaptableMatrix, ...]
    """Targets the file gives no rank (pruned to rank 0 by AdaLoRA): not adapted."""


def rank_file_path(value: str) -> Path:
    """The ``adapter_config.json`` a ``lora.rank_file`` names (a JSON file, or a folder holding one)."""
    path = Path(value).expanduser()
    return path / CONFIG_NAME if path.is_dir() else path


def read_rank_file(value: str) -> dict[str, Any]:
    """The LoRA config dict in ``value``; :class:`ConfigError` on ``lora.rank_file`` naming the file otherwise."""
    path = rank_file_path(value)
    if not path.is_file():
        raise ConfigError(FIELD, f"{path} does not exist; give a LoraConfig JSON written by `adalora-studio export "
                                 "RUN_DIR --lora-config OUT` (or the folder holding its adapter_config.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(FIELD, f"{path} cannot be read as JSON ({exc})") from exc
    if not isinstance(data, dict) or str(data.get("peft_type", "")).upper() != "LORA":
        kind = data.get("peft_type") if isinstance(data, dict) else type(data).__name__
        raise ConfigError(FIELD, f"{path} is not a LoRA config (peft_type {kind!r}, not 'LORA'); export one with "
                                 "`adalora-studio export RUN_DIR --lora-config OUT`")
    for key, kind in (("r", int), ("lora_alpha", (int, float))):
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool) or data[key] <= 0:
            raise ConfigError(FIELD, f"{path}: '{key}' must be a positive number, not {data.get(key)!r}")
    for key in ("rank_pattern", "alpha_pattern"):
        if not isinstance(data.get(key) or {}, dict):
            raise ConfigError(FIELD, f"{path}: '{key}' must be an object of module: value")
    if not isinstance(data.get("target_modules"), (list, str)) or not data["target_modules"]:
        raise ConfigError(FIELD, f"{path}: 'target_modules' must name the adapted modules")
    return data


def _adapts(entry: str | list[str], module: str) -> bool:
    """peft's target rule: a regex string must match the whole path; a list entry names the path or its end."""
    if isinstance(entry, str):
        return re.fullmatch(entry, module) is not None
    return any(module == name or module.endswith(f".{name}") for name in entry)


def _pattern_value(pattern: dict[str, Any], module: str, default: Any) -> Any:
    """The value peft's ``get_pattern_key`` picks for ``module`` (first key matching ``(.*\\.)?KEY$``)."""
    for key, value in pattern.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def file_ranks(value: str, targets: Sequence[AdaptableMatrix]) -> FileRanks:
    """The ranks ``lora.rank_file`` gives ``targets``; raises :class:`ConfigError` naming the file and field."""
    path = rank_file_path(value)
    data = read_rank_file(value)
    entry = data["target_modules"]
    try:
        adapted = [m for m in targets if _adapts(entry, m.module)]
        ranks = [_pattern_value(data.get("rank_pattern") or {}, m.module, data["r"]) for m in adapted]
        alphas = [_pattern_value(data.get("alpha_pattern") or {}, m.module, data["lora_alpha"]) for m in adapted]
    except re.error as exc:
        raise ConfigError(FIELD, f"{path}: a module pattern is not a valid regular expression ({exc})") from exc
    if isinstance(entry, list):
        names = {m.module for m in targets}
        stray = [e for e in entry if not any(n == e or n.endswith(f".{e}") for n in names)]
        if stray:
            more = " ..." if len(stray) > 4 else ""
            raise ConfigError(FIELD, f"{path} adapts {len(stray)} module(s) that are not targets of this run "
                                     f"(budget.target_modules): {', '.join(stray[:4])}{more}. Was it found on "
                                     "another model or other target modules?")
    bad = [(m.module, r) for m, r in zip(adapted, ranks, strict=True) if not isinstance(r, int) or r < 1]
    if bad:
        raise ConfigError(FIELD, f"{path}: rank {bad[0][1]!r} of {bad[0][0]} is not a positive whole number")
    if not adapted:
        raise ConfigError(FIELD, f"{path} adapts none of this run's {len(targets)} target matrices")
    kept_types = {m.matrix_type for m in adapted}
    missing = [m for m in targets if m not in adapted]
    foreign = [m for m in missing if m.matrix_type not in kept_types]
    if foreign:
        types = ", ".join(dict.fromkeys(m.matrix_type for m in foreign))
        raise ConfigError(FIELD, f"{path} has no rank for the {len(foreign)} target matrices of type {types} "
                                 f"(e.g. {foreign[0].module}); it was found on other target modules. Drop them "
                                 "from budget.target_modules or export ranks from a run that adapted them.")
    return FileRanks(path=path, targets=tuple(adapted), ranks=tuple(int(r) for r in ranks),
                     alphas=tuple(float(a) for a in alphas), left_out=tuple(missing))


def file_lora_params(ranks: FileRanks, use_dora: bool = False) -> int:
    """LoRA adapter parameters at the file's ranks: ``r_m * (in + out)`` per matrix, ``+ out`` with DoRA."""
    return sum(r * (m.in_features + m.out_features) + (m.out_features if use_dora else 0)
               for m, r in zip(ranks.targets, ranks.ranks, strict=True))


def left_out_warning(ranks: FileRanks) -> str:
    """The plan warning about targets the file gives no rank (empty when there are none)."""
    if not ranks.left_out:
        return ""
    names = ", ".join(m.name for m in ranks.left_out[:6]) + (" ..." if len(ranks.left_out) > 6 else "")
    return (f"{FIELD}: {ranks.path} gives no rank to {len(ranks.left_out)} of the target matrices ({names}; "
            "AdaLoRA pruned them to rank 0), so this LoRA run leaves them unadapted.")
