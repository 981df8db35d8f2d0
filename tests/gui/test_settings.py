"""Preferences file: round trip, recent lists, migration, and a corrupt file falling back to defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.app.settings import (
    MAX_RECENT,
    SETTINGS_VERSION,
    Settings,
    SettingsStore,
    parse_settings,
    settings_path,
)
from adalora_studio.core.config import demo_config


def test_settings_live_under_config_dir(isolated_home: Path) -> None:
    assert settings_path() == isolated_home / "config" / "settings.json"


def test_round_trip_and_recent_lists(isolated_home: Path) -> None:
    store = SettingsStore()
    assert store.problem is None and store.settings == Settings()
    for i in range(MAX_RECENT + 3):
        store.settings.add_recent("datasets", f"/data/{i}.csv")
    store.settings.add_recent("datasets", "/data/5.csv")  # moves to the front, no duplicate
    store.settings.add_recent("models", "/models/tiny")
    store.settings.last_wizard = demo_config().to_dict()
    store.save()

    again = SettingsStore()
    assert again.problem is None
    s = again.settings
    assert s.recent_datasets[0] == "/data/5.csv"
    assert len(s.recent_datasets) == MAX_RECENT and s.recent_datasets.count("/data/5.csv") == 1
    assert s.recent_models == ["/models/tiny"]
    assert s.last_wizard == demo_config().to_dict()
    on_disk = json.loads(settings_path().read_text())
    assert on_disk["version"] == SETTINGS_VERSION


def test_version_1_is_migrated() -> None:
    s = parse_settings(json.dumps({"version": 1, "recent_files": ["/a.csv"], "wizard": {"name": "x"}}))
    assert s.recent_datasets == ["/a.csv"] and s.last_wizard == {"name": "x"}


@pytest.mark.parametrize("text, reason", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "top level must be an object"),
    ('{"recent_models": []}', "missing or invalid 'version'"),
    ('{"version": 99}', "newer AdaLoRA Studio"),
    ('{"version": 2, "recent_models": "oops"}', "'recent_models' must be a list of strings"),
])
def test_corrupt_file_is_reported_once_and_replaced(isolated_home: Path, text: str, reason: str) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    store = SettingsStore()
    assert store.settings == Settings()
    assert store.problem is not None and reason in store.problem and str(path) in store.problem
    backups = list(path.parent.glob("settings.json.broken-*"))
    assert len(backups) == 1 and backups[0].read_text() == text
    # The replacement is a valid file: the next start is quiet.
    assert SettingsStore().problem is None


def test_unreadable_bytes_do_not_block(isolated_home: Path) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xfe\x00garbage")
    store = SettingsStore()
    assert store.problem is not None and store.settings == Settings()
