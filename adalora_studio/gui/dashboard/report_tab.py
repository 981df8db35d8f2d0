"""The dashboard's Report tab: the run's evaluation report, shown once ``report.json`` exists.

The engine writes ``report.json`` (and its SVG figures) just before ``Finished``, so the tab appears, is selected
and announced in the log when a run finishes, and when a finished run is opened from the library or File ▸ Open
run. A newer report (a post-hoc evaluation) replaces the one shown. Stopped and failed runs have no report.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget

from .report_view import ReportView
from .state import PART_LOG, DashboardState, LogLine

TAB_TITLE = "Report"


class ReportTab(QObject):
    """Adds :attr:`view` to ``tabs`` when the run has a report; :meth:`refresh` after each end-of-run redraw."""

    shown = Signal(str)
    """The report file, when a report newly appears on the dashboard."""

    def __init__(self, tabs: QTabWidget) -> None:
        super().__init__(tabs)
        self.tabs = tabs
        self.view = ReportView()
        self._key: tuple[str, float] | None = None
        self._state: DashboardState | None = None
        self.view.pngs.drawn.connect(self._announce_pngs)

    @property
    def present(self) -> bool:
        """True while the Report tab is on the dashboard."""
        return self.tabs.indexOf(self.view) >= 0

    def refresh(self, state: DashboardState) -> bool:
        """Show the run's newest report if it is not the one shown; select the tab the first time. True if shown."""
        from ...core.inference import report_files

        files = report_files(state.run_dir) if state.run_dir else []
        if not files:
            return False
        newest = files[-1]
        try:
            key = (str(newest), newest.stat().st_mtime)
        except OSError:
            return False
        if key == self._key:
            return False
        first = self._key is None
        if not self.view.load_run(state.run_dir):
            return False
        self._key = key
        if not self.present:
            self.tabs.addTab(self.view, TAB_TITLE)
        self.tabs.setTabToolTip(self.tabs.indexOf(self.view), f"The evaluation report: {newest}")
        if first:
            self.tabs.setCurrentWidget(self.view)
        self._announce(state, newest)
        self.shown.emit(str(newest))
        return True

    def _announce(self, state: DashboardState, report: Path) -> None:
        self._state = state
        state.logs.append(LogLine(time.time(), "info", f"Evaluation report {report.name}: see the Report tab"))
        state.dirty.add(PART_LOG)

    def _announce_pngs(self, written: list[Path], problems: list[str]) -> None:
        """The background PNG drawing of the shown run's figures ended: say so in the run's log."""
        state = self._state
        if state is None:
            return
        now = time.time()
        if written:
            state.logs.append(LogLine(now, "info", f"Saved {len(written)} figures as PNG beside their SVGs in "
                                                   f"{Path(written[0]).parent}"))
        for problem in problems:
            state.logs.append(LogLine(now, "warning", f"A PNG figure could not be drawn: {problem}"))
        state.dirty.add(PART_LOG)

    def select(self) -> bool:
        """Bring the Report tab to the front (the finish panel's Report card button); False when there is none."""
        if not self.present:
            return False
        self.tabs.setCurrentWidget(self.view)
        return True

    def clear(self) -> None:
        """Remove the tab (another run is about to be shown)."""
        index = self.tabs.indexOf(self.view)
        if index >= 0:
            self.tabs.removeTab(index)
        self._key = None
        self.view.run_dir = ""
        self.view.report = None
        self.view.tabs.clear()
