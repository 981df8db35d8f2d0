"""The log pane: run messages, warnings (amber) and errors (red), appended as they arrive."""

from __future__ import annotations

import html
import time

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from .state import DashboardState, LogLine

LEVEL_COLOURS = {"error": "#cf222e", "warning": "#b07800"}
"""Info lines keep the palette's text colour (readable in light and dark themes)."""
MAX_LINES = 5000


def format_line(line: LogLine) -> str:
    """One HTML line: time, level and message (escaped), coloured by level."""
    colour = LEVEL_COLOURS.get(line.level)
    stamp = time.strftime("%H:%M:%S", time.localtime(line.time)) if line.time else "--:--:--"
    tag = "" if line.level == "info" else f"{line.level.upper()}: "
    body = html.escape(line.message).replace("\n", "<br>")
    style = f"color:{colour}; " if colour else ""
    return f'<span style="{style}white-space:pre-wrap">{stamp}  {tag}{body}</span>'


class LogPane(QPlainTextEdit):
    """Read-only, bounded, follows the state's ``logs`` list (only new lines are appended)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Messages and warnings of the run appear here.")
        self._shown = 0

    def clear_lines(self) -> None:
        """Empty the pane."""
        self.clear()
        self._shown = 0

    def refresh(self, state: DashboardState) -> None:
        """Append the lines added to the state since the last refresh."""
        if len(state.logs) < self._shown:
            self.clear_lines()
        for line in state.logs[self._shown:]:
            self.appendHtml(format_line(line))
        self._shown = len(state.logs)

    @property
    def shown(self) -> int:
        """Lines appended so far."""
        return self._shown
