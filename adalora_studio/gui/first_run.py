"""The one-time "Add AdaLoRA Studio to your start menu?" offer, shown after the main window appears.

The main window calls :func:`offer_desktop_entry` once it is shown, passing its own
:class:`~adalora_studio.app.settings.SettingsStore` (the answer is remembered there as
``desktop_entry_offered``, so a second store must not overwrite it). The question is non-blocking (a
window-modal box opened with ``open()``), asked at most once, and never when the entry already exists, on a
headless platform, or in the smoke-test mode.
"""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from ..app import desktop
from ..app.settings import SettingsStore

log = logging.getLogger(__name__)

SKIP_ENV = "ADALORA_STUDIO_NO_FIRST_RUN"
"""Set to 1 to never ask (kiosks, CI, screenshots)."""
SMOKE_ENV = "ADALORA_STUDIO_EXIT_AFTER_SHOWN"
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


def desktop_entry_supported() -> bool:
    """Whether this system can get a menu entry (Linux always; Windows/macOS when pyshortcuts is installed)."""
    if sys.platform.startswith("linux"):
        return True
    try:
        import pyshortcuts  # noqa: F401
    except ImportError:
        return False
    return True


def should_offer_desktop_entry(store: SettingsStore) -> bool:
    """True when the offer has not been made yet and makes sense here and now."""
    if store.settings.desktop_entry_offered:
        return False
    if os.environ.get(SKIP_ENV) == "1" or os.environ.get(SMOKE_ENV):
        return False
    if QGuiApplication.platformName() in HEADLESS_PLATFORMS:
        return False
    if desktop.is_installed():
        return False
    return desktop_entry_supported()


def offer_desktop_entry(parent: QWidget, store: SettingsStore, force: bool = False) -> QMessageBox | None:
    """Ask once whether to add the start-menu entry; return the open question, or None when not asked.

    Any answer (Yes, No, or closing the box) is remembered, so the question never comes back; the menu
    entry can still be added later with ``adalora-studio install-desktop``. ``force`` skips the checks
    (tests, a menu action).
    """
    if not force and not should_offer_desktop_entry(store):
        return None
    box = QMessageBox(parent)
    box.setObjectName("desktopEntryOffer")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("AdaLoRA Studio")
    box.setText("Add AdaLoRA Studio to your start menu?")
    box.setInformativeText(
        "Then you can start it from the applications menu like any other program. The entry is added for "
        "your user only; the command <code>adalora-studio uninstall-desktop</code> removes it again."
    )
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    answer = _Answer(box, store)
    box.finished.connect(answer.finished)
    box.open()
    return box


class _Answer(QObject):
    """Records the answer and installs the entry on Yes (a child of the box, so it lives as long)."""

    def __init__(self, box: QMessageBox, store: SettingsStore) -> None:
        super().__init__(box)
        self.box = box
        self.store = store
        self.installed: list[str] = []
        self.error_box: QMessageBox | None = None

    @Slot(int)
    def finished(self, _result: int) -> None:
        self.store.settings.desktop_entry_offered = True
        self.store.save()
        if self.box.clickedButton() is not self.box.button(QMessageBox.StandardButton.Yes):
            log.info("The start-menu entry was declined on first run")
            return
        try:
            self.installed = [str(p) for p in desktop.install_desktop()]
        except desktop.DesktopError as exc:
            log.warning("Could not add the start-menu entry: %s", exc)
            self.error_box = QMessageBox(
                QMessageBox.Icon.Warning, "AdaLoRA Studio", "The start-menu entry could not be added.",
                QMessageBox.StandardButton.Close, self.box.parentWidget(),
            )
            self.error_box.setInformativeText(exc.user_message())
            self.error_box.open()
            return
        log.info("Added the start-menu entry: %s", ", ".join(self.installed))
