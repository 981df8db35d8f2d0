"""Comparisons in the main window: the run library page, the compare view, the A/B queue dock, and starting an
A/B from the wizard or from a finished run ("Compare with LoRA…" in the library and on the dashboard's finish
panel). Built on first use; the window keeps one :class:`ComparisonController`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QInputDialog

from ...core.config import RunConfig
from .queue import ComparisonRunner, QueuePanel


class ComparisonController(QObject):
    """Owns the comparison pages and the queue of one main window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self._library: Any = None
        self._compare: Any = None
        self.runner = ComparisonRunner(window.worker, window.start_run, self)
        self.panel = QueuePanel(self.runner)
        self.dock = QDockWidget("A/B queue", window)
        self.dock.setObjectName("ab-queue")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.panel.compare_requested.connect(self.show_compare)
        self.runner.done.connect(self._on_done)

    @property
    def library(self) -> Any:
        """The run library page (built on first use)."""
        if self._library is None:
            from ..library.page import LibraryPage

            self._library = LibraryPage(parent=self.window.pages)
            self._library.open_requested.connect(self.window.open_run)
            self._library.compare_requested.connect(self.show_compare)
            self._library.back_requested.connect(self.window.show_home)
            self._library.compare_with_lora_requested.connect(self.ask_compare_with_lora)
            self.window.pages.addWidget(self._library)
        return self._library

    @property
    def compare(self) -> Any:
        """The compare view (built on first use)."""
        if self._compare is None:
            from .view import CompareView

            self._compare = CompareView(self.window.pages)
            self._compare.closed.connect(self.show_library)
            self.window.pages.addWidget(self._compare)
        return self._compare

    def show_library(self) -> None:
        """Show the run library (re-read incrementally)."""
        self.library.refresh()
        self.window.pages.setCurrentWidget(self.library)

    def show_compare(self, run_dirs: Sequence[str]) -> None:
        """Show the compare view for ``run_dirs``."""
        problems = self.compare.set_runs(list(run_dirs))
        self.window.pages.setCurrentWidget(self.compare)
        if problems:
            self.window.statusBar().showMessage(f"{len(problems)} run(s) left out of the comparison", 8000)

    def ask_compare_with_lora(self, run_dir: str) -> bool:
        """"Compare with LoRA…" (library or finish panel): ask how many seeds, then :meth:`compare_with_lora`."""
        if self.runner.active or self.window.running:
            self.window.notify("A run or a comparison is already in progress. Compare once it ends.")
            return False
        seeds, ok = QInputDialog.getInt(
            self.window, "Compare with LoRA",
            "Seeds per method. 1 trains only plain LoRA, matched to this run's final parameter count;\n"
            "N also trains AdaLoRA with N - 1 further seeds, each followed by its matched LoRA.", 1, 1, 10)
        return bool(ok) and self.compare_with_lora(run_dir, seeds)

    def compare_with_lora(self, run_dir: str, seeds: int = 1) -> bool:
        """"Compare with LoRA…" on a finished AdaLoRA run: train the matched LoRA arm (and further seeds)."""
        from ...core.runs import RunFolder

        cfg = RunFolder(run_dir).read_config()
        if cfg.method != "adalora":
            self.window.notify(f"{run_dir} is a {cfg.method} run; choose a finished AdaLoRA run.", warning=True)
            return False
        return self.start(cfg, seeds, adopt=run_dir)

    def start(self, cfg: RunConfig, seeds: int = 1, budgets: Sequence[int] = (), adopt: str = "") -> bool:
        """Queue an A/B (or a sweep) and show the queue; False when something is already running. When every
        arm has run, the compare view opens (see :meth:`_on_done`)."""
        if not self.runner.start(cfg, seeds, budgets, adopt=adopt):
            self.window.notify("A run or a comparison is already in progress. Stop it first.")
            return False
        self.dock.show()
        return True

    def _on_done(self, outcome: Any) -> None:
        """The queue ended: open the compare view on its runs, unless it was stopped, fewer than two runs
        finished, or the user has moved on to the wizard or the playground (then the status bar says so)."""
        ready = not outcome.stopped and len(outcome.run_dirs) >= 2
        busy = self.window.pages.currentWidget() in (self.window._wizard, getattr(self.window, "_playground", None))
        if ready and not busy:
            self.show_compare(outcome.run_dirs)
            self.window.statusBar().showMessage("A/B comparison done.", 8000)
        else:
            self.window.statusBar().showMessage(
                "A/B comparison done." + (" Compare results is in the A/B queue." if ready else ""), 8000)
