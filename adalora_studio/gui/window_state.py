"""The main window's geometry and dock/toolbar state, kept apart from preferences (``window.ini``)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from ..core import paths


def _window_settings() -> QSettings:
    return QSettings(str(paths.config_dir() / "window.ini"), QSettings.Format.IniFormat)


def restore_window_state(window: QMainWindow) -> None:
    """Put ``window`` back where and how it was when last closed (nothing on a first start)."""
    qs = _window_settings()
    geometry = qs.value("geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    state = qs.value("state")
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)


def save_window_state(window: QMainWindow) -> None:
    """Remember ``window``'s geometry and state for the next start."""
    qs = _window_settings()
    qs.setValue("geometry", window.saveGeometry())
    qs.setValue("state", window.saveState())
    qs.sync()
