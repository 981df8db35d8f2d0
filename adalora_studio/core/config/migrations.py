"""Upgrades of ``run.json`` files written by older versions, keyed on their ``schema_version``.

:data:`MIGRATIONS` ``[v]`` turns a plain version-``v`` dict into version ``v + 1``; :func:`migrate` runs the
chain up to :data:`SCHEMA_VERSION` before the dict becomes a :class:`~.schema.RunConfig`. Version 1 is the first
format. When a field is renamed or its meaning changes: bump ``SCHEMA_VERSION``,
add the step here (a plain function of the dict, with a test that an old file loads), and never edit an old step.
A file from a newer version, or from before version 1, gets a clear message instead of a confusing field error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError

SCHEMA_VERSION = 2
"""The config format this version writes and reads."""
FIRST_SCHEMA_VERSION = 1
"""The first format ever written."""

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_causal_lm_was_plain(data: dict[str, Any]) -> dict[str, Any]:
    """Format 2 renders causal-LM rows with the tokenizer's chat template by default (``data.template`` auto).
    Format 1 always joined ``prompt + newline + response + end token``, which is ``data.template = "plain"``:
    keep that for old runs, so a resumed or re-evaluated run sees the text it was trained on."""
    if data.get("task") == "causal-lm":
        section = data.setdefault("data", {})
        if isinstance(section, dict):
            section.setdefault("template", "plain")
    return data


MIGRATIONS: dict[int, Migration] = {1: _v1_causal_lm_was_plain}
"""``MIGRATIONS[v]`` upgrades a version-``v`` dict to version ``v + 1``."""


def migrate(data: Mapping[str, Any], source: str = "<config>", *, current: int = SCHEMA_VERSION,
            migrations: Mapping[int, Migration] = MIGRATIONS) -> dict[str, Any]:
    """``data`` upgraded to format ``current`` (a deep copy; ``data`` is not changed, steps may edit theirs).

    A missing ``schema_version`` means the current format. Raises :class:`ConfigError` (field
    ``schema_version``, naming ``source``) for a newer format, one older than the first, or a missing step.
    """
    version = data.get("schema_version", current)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ConfigError("schema_version", f"{source}: must be a whole number such as {current}, not {version!r}")
    if version > current:
        raise ConfigError("schema_version", f"{source}: was written by a newer AdaLoRA Studio (config format "
                          f"{version}); this version reads formats {FIRST_SCHEMA_VERSION} to {current}. Update "
                          "AdaLoRA Studio to use it.")
    if version < FIRST_SCHEMA_VERSION:
        raise ConfigError("schema_version", f"{source}: config format {version} was never written by AdaLoRA "
                          f"Studio (the first format is {FIRST_SCHEMA_VERSION}); check the file")
    out = copy.deepcopy(dict(data))
    while version < current:
        step = migrations.get(version)
        if step is None:
            raise ConfigError("schema_version", f"{source}: no upgrade from config format {version} to "
                              f"{version + 1} is known; open it with the AdaLoRA Studio version that wrote it")
        out = dict(step(out))
        version += 1
        out["schema_version"] = version
    return out
