"""User preferences: a small versioned JSON file under ``paths.config_dir()``.

Preferences (recent models, datasets and output folders, the last wizard values) live here; window geometry and
dock state are UI state and live in ``QSettings`` instead (see ``main_window``), so clearing one never loses the
other. A settings file that cannot be read is moved aside, reported once, and replaced by defaults: it never
blocks start-up.

This module imports no Qt, so it is testable and reusable anywhere.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import paths
from ..core.atomic import atomic_write_text

log = logging.getLogger(__name__)

SETTINGS_VERSION = 2
SETTINGS_FILE = "settings.json"
MAX_RECENT = 10


@dataclass
class Settings:
    """Preferences that persist between launches."""

    recent_models: list[str] = field(default_factory=list)
    """Model folders, .gguf files or hub ids, newest first."""
    recent_datasets: list[str] = field(default_factory=list)
    recent_output_dirs: list[str] = field(default_factory=list)
    last_wizard: dict[str, Any] = field(default_factory=dict)
    """The RunConfig dict the wizard last produced (``RunConfig.to_dict``); empty: none yet."""
    desktop_entry_offered: bool = False
    """Whether the "Add to start menu" first-run offer was already shown (used by the desktop integration)."""

    def add_recent(self, kind: str, value: str) -> None:
        """Put ``value`` first in the recent list ``kind`` ("models", "datasets" or "output_dirs")."""
        if not value:
            return
        items: list[str] = getattr(self, f"recent_{kind}")
        if value in items:
            items.remove(value)
        items.insert(0, value)
        del items[MAX_RECENT:]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written to disk (with its version)."""
        return {
            "version": SETTINGS_VERSION,
            "recent_models": list(self.recent_models),
            "recent_datasets": list(self.recent_datasets),
            "recent_output_dirs": list(self.recent_output_dirs),
            "last_wizard": dict(self.last_wizard),
            "desktop_entry_offered": bool(self.desktop_entry_offered),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Build from a current-version document; raises ValueError naming the bad key."""
        out = cls()
        for key in ("recent_models", "recent_datasets", "recent_output_dirs"):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"'{key}' must be a list of strings")
            setattr(out, key, value[:MAX_RECENT])
        last = data.get("last_wizard", {})
        if not isinstance(last, dict):
            raise ValueError("'last_wizard' must be an object")
        out.last_wizard = last
        out.desktop_entry_offered = bool(data.get("desktop_entry_offered", False))
        return out


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept one ``recent_files`` list of datasets and called the wizard values ``wizard``."""
    data = dict(data)
    data.setdefault("recent_datasets", data.pop("recent_files", []))
    data.setdefault("last_wizard", data.pop("wizard", {}))
    data["version"] = 2
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_v1}
"""``MIGRATIONS[v]`` turns a version-``v`` document into version ``v + 1``."""


def settings_path() -> Path:
    """Where the preferences file lives."""
    return paths.config_dir() / SETTINGS_FILE


def parse_settings(text: str) -> Settings:
    """Parse and migrate a settings document; raises ValueError with a readable reason."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ValueError("the top level must be an object")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"missing or invalid 'version' ({version!r})")
    if version > SETTINGS_VERSION:
        raise ValueError(f"written by a newer AdaLoRA Studio (version {version}; this one reads {SETTINGS_VERSION})")
    while version < SETTINGS_VERSION:
        data = MIGRATIONS[version](data)
        version = data["version"]
    return Settings.from_dict(data)


class SettingsStore:
    """Loads the preferences once, keeps them in memory, writes them back atomically.

    ``problem`` is a one-line message when the file on disk was unreadable and was replaced by defaults (the
    broken file is kept next to it as ``settings.json.broken-<time>``); the window shows it once.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self.problem: str | None = None
        self.settings = self._load()

    def _load(self) -> Settings:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings()
        except (OSError, UnicodeDecodeError) as exc:
            return self._replace_broken(f"cannot be read ({exc})")
        try:
            return parse_settings(text)
        except ValueError as exc:
            return self._replace_broken(str(exc))

    def _replace_broken(self, reason: str) -> Settings:
        backup = self.path.with_name(f"{self.path.name}.broken-{int(time.time())}")
        try:
            self.path.replace(backup)
            kept = f" The old file was kept as {backup}."
        except OSError:
            kept = ""
        self.problem = f"Your settings file {self.path} was unusable ({reason}); default settings are used.{kept}"
        log.warning(self.problem)
        settings = Settings()
        self._write(settings)
        return settings

    def save(self) -> None:
        """Write the current preferences (atomic; a failure is logged, never raised into the UI)."""
        self._write(self.settings)

    def _write(self, settings: Settings) -> None:
        try:
            atomic_write_text(self.path, json.dumps(settings.to_dict(), indent=2) + "\n")
        except OSError as exc:
            log.warning("could not write settings to %s: %s", self.path, exc)
