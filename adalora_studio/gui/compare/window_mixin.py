"""What the main window gains for comparisons, kept out of ``main_window.py``: File ▸ Run library…, the lazily
built :class:`~.controller.ComparisonController`, and the wizard's Start turning into an A/B when the review
page's "Also train a LoRA baseline" is ticked."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence


class ComparisonsMixin:
    """Mixed into ``MainWindow`` (before ``QMainWindow``)."""

    _comparisons: Any = None
    library_action: QAction | None = None

    @property
    def comparisons(self) -> Any:
        """Run library, compare view and the A/B queue (built on first use)."""
        if self._comparisons is None:
            from .controller import ComparisonController

            self._comparisons = ComparisonController(self)
        return self._comparisons

    def show_library(self) -> None:
        """File ▸ Run library…"""
        self.comparisons.show_library()

    def compare_with_lora(self, run_dir: str) -> None:
        """"Compare with LoRA…" on the dashboard's finish panel: the same queue as the run library's."""
        self.comparisons.ask_compare_with_lora(run_dir)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)  # type: ignore[misc]
        if self.library_action is None:
            self._add_library_action()

    def _add_library_action(self) -> None:
        """Put File ▸ Run library… (Ctrl+L) right after File ▸ Home (the menus exist once the window is built)."""
        home = getattr(self, "home_action", None)
        menu = next((a.menu() for a in self.menuBar().actions()  # type: ignore[attr-defined]
                     if a.menu() is not None and home in a.menu().actions()), None)
        if menu is None:
            return
        action = QAction("Run &library…", self)  # type: ignore[arg-type]
        action.setShortcut(QKeySequence("Ctrl+L"))
        action.triggered.connect(lambda _checked=False: self.show_library())
        actions = menu.actions()
        after = actions.index(home) + 1
        menu.insertAction(actions[after] if after < len(actions) else None, action)
        self.library_action = action

    def _start_from_wizard(self, cfg: Any) -> None:
        """The wizard's Start: an A/B (seeds, optional sweep) when the baseline option is ticked, else one run."""
        wizard = getattr(self, "_wizard", None)
        baseline = getattr(getattr(wizard, "review_page", None), "baseline", None)
        if baseline is not None and baseline.enabled:
            try:
                budgets = baseline.budget_values
            except ValueError as exc:
                self.notify(str(exc), warning=True)  # type: ignore[attr-defined]
                return
            self.comparisons.start(cfg, baseline.seed_count, budgets)
        else:
            self.start_run(cfg)  # type: ignore[attr-defined]
