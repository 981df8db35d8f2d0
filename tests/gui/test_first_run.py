"""The one-time "Add to start menu?" offer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from adalora_studio.app import desktop
from adalora_studio.app.settings import SettingsStore
from adalora_studio.gui import first_run


@pytest.fixture
def window(qtbot) -> QWidget:  # type: ignore[no-untyped-def]
    w = QWidget()
    qtbot.addWidget(w)
    return w


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    launcher = tmp_path / "bin" / "adalora-studio"  # an uninstalled checkout has no launcher of its own
    launcher.parent.mkdir()
    launcher.write_text("#!/bin/sh\n")
    monkeypatch.setattr(desktop, "launcher_command", lambda: [str(launcher)])
    monkeypatch.delenv(first_run.SMOKE_ENV, raising=False)
    monkeypatch.delenv(first_run.SKIP_ENV, raising=False)
    return tmp_path / "share"


def test_not_offered_headless_or_when_already_answered(window: QWidget, data_home: Path) -> None:
    store = SettingsStore()
    assert first_run.offer_desktop_entry(window, store) is None  # offscreen platform: never ask
    store.settings.desktop_entry_offered = True
    assert not first_run.should_offer_desktop_entry(store)


def test_yes_installs_the_entry_and_is_remembered(qtbot, window: QWidget, data_home: Path) -> None:  # type: ignore[no-untyped-def]
    store = SettingsStore()
    box = first_run.offer_desktop_entry(window, store, force=True)
    assert box is not None and box.isVisible() and "start menu" in box.text()
    with qtbot.waitSignal(box.finished, timeout=5_000):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert (data_home / "applications" / "adalora-studio.desktop").is_file()
    assert SettingsStore().settings.desktop_entry_offered  # persisted, not only in memory
    assert not first_run.should_offer_desktop_entry(store)
    desktop.uninstall_desktop(refresh=False)


def test_no_is_remembered_and_installs_nothing(qtbot, window: QWidget, data_home: Path) -> None:  # type: ignore[no-untyped-def]
    store = SettingsStore()
    box = first_run.offer_desktop_entry(window, store, force=True)
    assert box is not None
    with qtbot.waitSignal(box.finished, timeout=5_000):
        box.button(QMessageBox.StandardButton.No).click()
    assert not data_home.exists() or not any(data_home.rglob("*.desktop"))
    assert SettingsStore().settings.desktop_entry_offered


def test_a_failed_install_is_reported_without_blocking(qtbot, window: QWidget, data_home: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> list[str]:
        raise desktop.DesktopError("AdaLoRA Studio is not installed in the Python environment /x")

    monkeypatch.setattr(desktop, "launcher_command", fail)
    store = SettingsStore()
    box = first_run.offer_desktop_entry(window, store, force=True)
    assert box is not None
    with qtbot.waitSignal(box.finished, timeout=5_000):
        box.button(QMessageBox.StandardButton.Yes).click()
    error = box.findChild(first_run._Answer).error_box
    assert error is not None and error.isVisible() and "not installed" in error.informativeText()
    error.close()
    assert SettingsStore().settings.desktop_entry_offered
