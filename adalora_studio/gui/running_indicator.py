"""Always one click from the run in progress: a "▶ Running: demo — step 64/300" button in the status bar, shown
while a run trains, that brings its dashboard back from the home page or the wizard. Also the notice shown when
a run ends while the window is minimised (a tray message where the desktop has a tray, else a taskbar alert).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QPushButton, QSystemTrayIcon, QWidget

from ..core.events import RunStarted, StepLogged

TERMINAL_TEXT = {"Finished": "finished", "Stopped": "stopped (it can be resumed)", "Failed": "failed"}


class RunningIndicator(QPushButton):
    """Flat status-bar button; ``show_requested`` when clicked. Feed it the worker's events."""

    show_requested = Signal()
    changed = Signal()
    """The run's name, progress or state changed (the home page follows it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runningIndicator")
        self.setFlat(True)
        self.setToolTip("Show the dashboard of the run in progress")
        self.name = ""
        self.run_dir = ""
        self.step = 0
        self.total = 0
        self.queued = 0
        self.clicked.connect(self.show_requested)
        self.hide()

    def run_started(self, name: str) -> None:
        """A run was handed to the worker."""
        self.name, self.step, self.total, self.run_dir = name, 0, 0, ""
        self._render()
        self.show()

    def apply_event(self, event: Any) -> None:
        """Follow the run's progress (cheap: only text)."""
        if isinstance(event, RunStarted):
            self.total, self.run_dir = event.total_steps, event.run_dir
            if not self.name and isinstance(event.config, dict) and event.config.get("name"):
                self.name = str(event.config["name"])
            self.step = event.resumed_from_step or 0
            self._render()
        elif isinstance(event, StepLogged) and self.isVisible():
            self.step = event.step
            self._render()

    def set_queued(self, n: int) -> None:
        """How many runs wait behind this one."""
        self.queued = n
        if self.isVisible():
            self._render()

    def run_ended(self) -> None:
        """No run in progress."""
        self.hide()
        self.changed.emit()

    @property
    def progress_text(self) -> str:
        """"step 64/300" (or "starting…" before the first step)."""
        if not self.step:
            return "starting…"
        return f"step {self.step:,}/{self.total:,}" if self.total else f"step {self.step:,}"

    def _render(self) -> None:
        queued = f" (+{self.queued} queued)" if self.queued else ""
        self.setText(f"▶ Running: {self.name} — {self.progress_text}{queued}  ·  Show")
        self.changed.emit()


def notify_run_ended(window: Any, name: str, terminal: Any) -> str:
    """Tell a user whose window is minimised that a run ended: a tray message where there is a system tray,
    and always a taskbar alert. Returns the message."""
    kind = type(terminal).__name__
    text = f"The run {name} {TERMINAL_TEXT.get(kind, kind.lower())}."
    if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
        tray = getattr(window, "_run_tray", None)
        if tray is None:
            tray = QSystemTrayIcon(window.windowIcon(), window)
            tray.activated.connect(lambda _reason: (window.showNormal(), window.activateWindow()))
            window._run_tray = tray
        tray.show()
        icon = QSystemTrayIcon.MessageIcon.Warning if kind == "Failed" else QSystemTrayIcon.MessageIcon.Information
        tray.showMessage("AdaLoRA Studio", text, icon, 10_000)
    QApplication.alert(window)
    return text
