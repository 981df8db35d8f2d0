"""Runs waiting for the one worker: a run started while another trains waits here, first in, first out.

The worker trains one run at a time (two torch runs on two cores would each slow down), so the window keeps a
small FIFO of (config, resume folder) and starts the next one when the current run ends. A comparison queue with
its own view can build on the same entries; this one only keeps the order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject


@dataclass(frozen=True)
class QueuedRun:
    """One waiting run."""

    config: Any
    """The RunConfig."""
    resume_from: str | None = None


class RunQueue:
    """A FIFO of :class:`QueuedRun`."""

    def __init__(self) -> None:
        self._items: deque[QueuedRun] = deque()

    def push(self, config: Any, resume_from: str | None = None) -> int:
        """Add a run at the end; returns its place (1: next)."""
        self._items.append(QueuedRun(config, resume_from))
        return len(self._items)

    def pop(self) -> QueuedRun | None:
        """The next run to start, or None."""
        return self._items.popleft() if self._items else None

    def names(self) -> list[str]:
        """The waiting runs' names, in order."""
        return [item.config.name for item in self._items]

    def __len__(self) -> int:
        return len(self._items)


class RunTracker(QObject):
    """The window's side of "one run trains, others wait": the FIFO, the status-bar indicator that brings the
    running dashboard back in one click, and the notice when a run ends while the window is minimised.

    It follows the worker's own signals (connected before the window's, so it sees whether the window is about
    to close when a run ends), so the window needs only a few calls into it."""

    def __init__(self, window: Any) -> None:
        from .running_indicator import RunningIndicator

        super().__init__(window)  # a child of the window: its slots disconnect when the window goes
        self.window = window
        self.queue = RunQueue()
        self.indicator = RunningIndicator(window)
        self.indicator.show_requested.connect(self.show_dashboard)
        window.statusBar().addPermanentWidget(self.indicator)
        window.home.follow(self.indicator)
        worker = window.worker  # a QThread only; torch loads inside its jobs
        worker.run_started.connect(self._started)
        worker.event.connect(self.indicator.apply_event)
        worker.run_finished.connect(self._ended)

    def show_dashboard(self) -> None:
        """Bring the dashboard (of the run in progress) to the front."""
        self.window.pages.setCurrentWidget(self.window.dashboard)

    def enqueue(self, config: Any, resume_from: str | None) -> bool:
        """Queue a run behind the one training; tells the user its place. Returns True (it will run)."""
        place = self.queue.push(config, resume_from)
        self.indicator.set_queued(len(self.queue))
        self.window.notify(f"{config.name} is queued (place {place}); it starts when the current run ends.")
        return True

    def show_running(self, run_dir: str) -> None:
        """"Open" a run while one trains: the running run's dashboard (the live one); any other run waits."""
        live = self.window.dashboard.state.run_dir
        if not live or Path(run_dir).resolve() != Path(live).resolve():
            self.window.notify("A run is in progress and its dashboard is shown. Open other runs once it ends.")
        self.show_dashboard()

    def save_shown_run_config(self) -> bool:
        """Ctrl+S on the dashboard: save the shown run's config (True), else leave it to the wizard (False)."""
        dash = self.window._dashboard
        if dash is None or self.window.pages.currentWidget() is not dash or not dash.state.run_dir:
            return False
        from .run_actions import save_run_config_dialog

        save_run_config_dialog(self.window, dash.state.run_dir)
        return True

    def _started(self) -> None:
        last = self.window.store.settings.last_wizard or {}  # the window remembers a run's config as it starts
        name = str(last.get("name", "")) if isinstance(last, dict) else ""
        self.indicator.run_started(name)
        dash = self.window._dashboard
        if dash is not None and dash.state.status == "empty":  # not "No run to show" while the model loads
            dash.show_starting(name or "the run")

    def _ended(self, terminal: Any) -> None:
        """The run ended: notify a minimised window, then start the next queued run (unless the window closes)."""
        from PySide6.QtCore import QTimer

        from .running_indicator import notify_run_ended

        name = self.indicator.name
        self.indicator.run_ended()
        if self.window.isMinimized():
            notify_run_ended(self.window, name, terminal)
        queued = None if self.window._close_after_run else self.queue.pop()
        if queued is not None:
            self.indicator.set_queued(len(self.queue))
            QTimer.singleShot(0, lambda: self.window.start_run(queued.config, queued.resume_from))
