"""Replay a run folder's event log and keep tailing it while another process writes it (by byte offset)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from ...core.events import TERMINAL_EVENTS
from ...core.runs import EVENTS_NAME, LOCK_NAME, follow_events, live_holder
from .state import DashboardState

POLL_INTERVAL_MS = 500


class RunFollower(QObject):
    """``start`` replays what is there into a state; while the run is live, ``events`` brings what is appended.

    ``ended(interrupted)`` fires when following stops: False after a terminal event, True when the log ends
    without one and no live process holds the run's lock.
    """

    events = Signal(object)
    ended = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_INTERVAL_MS)
        self.timer.timeout.connect(self.poll)
        self.following: Path | None = None
        self.offset = 0

    def start(self, run_dir: Path, state: DashboardState) -> None:
        """Fold the whole log into ``state`` now (synchronously), then follow it if the run is still live."""
        self.stop()
        self.offset = 0
        if not run_dir.is_dir():
            from ...core.errors import RunError

            raise RunError(f"{run_dir} is not a folder; choose a run folder (it holds events.jsonl)")
        if not (run_dir / EVENTS_NAME).is_file():
            from ...core.errors import RunError

            raise RunError(f"{run_dir} has no {EVENTS_NAME}: it is not a run folder, or the run never started")
        events, self.offset = follow_events(run_dir / EVENTS_NAME, 0)
        state.apply_all(events)
        self.following = run_dir
        if state.terminal is not None:
            self.following = None
        elif live_holder(run_dir / LOCK_NAME) is None:
            self.following = None
            state.mark_interrupted()
        else:
            self.timer.start()

    def stop(self) -> None:
        """Stop following."""
        self.timer.stop()
        self.following = None

    def poll(self) -> None:
        """Read what was appended since the last poll."""
        run_dir = self.following
        if run_dir is None:
            return
        events, self.offset = follow_events(run_dir / EVENTS_NAME, self.offset)
        if events:
            self.events.emit(events)
        if any(isinstance(e, TERMINAL_EVENTS) for e in events):
            self.stop()
            self.ended.emit(False)
        elif not events and live_holder(run_dir / LOCK_NAME) is None:
            self.stop()
            self.ended.emit(True)
