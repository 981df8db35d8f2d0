"""The "Recent ▾" drop-down button the wizard pages put next to their path fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QMenu, QToolButton, QWidget


class RecentButton(QToolButton):
    """A button whose menu lists recently used entries; disabled while the list is empty."""

    def __init__(self, parent: QWidget | None = None, tooltip: str = "") -> None:
        super().__init__(parent)
        self.setText("Recent ▾")
        if tooltip:
            self.setToolTip(tooltip)
        self.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self)
        self.setMenu(self.recent_menu)
        self.setEnabled(False)

    def set_items(self, items: Sequence[str], on_pick: Callable[[str], object]) -> None:
        """Replace the menu with ``items``; choosing one calls ``on_pick(item)``."""
        self.recent_menu.clear()
        for item in items:
            self.recent_menu.addAction(item, lambda i=item: on_pick(i))
        self.setEnabled(bool(items))
