"""The new-fine-tune wizard: a stepped panel of five pages bound to one :class:`WizardState`.

Next is enabled only when the current page reports no problem; the reason is shown right above the buttons.
Start (on the last page) emits ``start_requested`` with the RunConfig, the same object ``Save config…`` writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.config import RunConfig
from ..labels import for_gui
from .budget import BudgetPage
from .budget_advanced import BudgetAdvanced
from .dataset import DatasetPage
from .page import InlineMessage, WizardPage
from .review import ReviewPage
from .state import Submitter, WizardState
from .task_model import TaskModelPage
from .training import TrainingPage


class Wizard(QWidget):
    """Task & model → Dataset → Budget → Training → Review."""

    start_requested = Signal(object)
    """The user pressed Start: carries the RunConfig."""
    cancelled = Signal()

    def __init__(self, worker: Submitter | None, config: RunConfig | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wizard")
        self.state = WizardState(worker, config, self)
        self.task_page = TaskModelPage(self.state)
        self.dataset_page = DatasetPage(self.state)
        self.budget_page = BudgetPage(self.state)
        # The collapsed "Advanced" budget settings, under the schedule (kept out of budget.py, which is at its size).
        self.budget_page.advanced = BudgetAdvanced.add_to(self.budget_page._right, self.state, self.budget_page.body)
        self.training_page = TrainingPage(self.state)
        self.review_page = ReviewPage(self.state)
        self.pages: list[WizardPage] = [self.task_page, self.dataset_page, self.budget_page, self.training_page,
                                        self.review_page]

        self.steps = QListWidget(self)
        self.steps.setObjectName("wizardSteps")
        self.steps.setFixedWidth(170)
        self.steps.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for i, page in enumerate(self.pages):
            self.steps.addItem(QListWidgetItem(f"{i + 1}. {page.title}"))
        self.title = QLabel(self)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel(self)
        self.subtitle.setWordWrap(True)
        self.stack = QStackedWidget(self)
        for page in self.pages:
            self.stack.addWidget(page)
            page.complete_changed.connect(self._update_buttons)
        self.reason = InlineMessage(self)
        self.reason.setObjectName("wizardReason")
        # The banner keeps its place when empty, so the buttons below never move under the cursor.
        policy = self.reason.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.reason.setSizePolicy(policy)
        self.reason.setMinimumHeight(2 * self.reason.fontMetrics().lineSpacing() + 10)
        self.cancel_button = QPushButton("Cancel", self)
        self.back_button = QPushButton("< Back", self)
        self.next_button = QPushButton("Next >", self)
        self.start_button = QPushButton("Start training", self)
        self.next_button.setDefault(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        for b in (self.back_button, self.next_button, self.start_button):
            buttons.addWidget(b)
        main = QVBoxLayout()
        main.addWidget(self.title)
        main.addWidget(self.subtitle)
        main.addWidget(self.stack, 1)
        main.addWidget(self.reason)
        main.addLayout(buttons)
        outer = QHBoxLayout(self)
        outer.addWidget(self.steps)
        outer.addLayout(main, 1)

        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.start_button.clicked.connect(self._start)
        self.cancel_button.clicked.connect(self.cancelled)
        self.steps.itemClicked.connect(lambda item: self._on_step_clicked(self.steps.row(item)))
        self.steps.currentRowChanged.connect(self._on_step_clicked)
        self.go_to(0)

    # ------------------------------------------------------------------ navigation
    @property
    def current_index(self) -> int:
        """Index of the page on screen."""
        return self.stack.currentIndex()

    def current_page(self) -> WizardPage:
        """The page on screen."""
        return self.pages[self.current_index]

    def go_to(self, index: int) -> None:
        """Show page ``index`` (any page: the config is shared, later pages just report what they still need)."""
        index = max(0, min(index, len(self.pages) - 1))
        self.stack.setCurrentIndex(index)
        page = self.pages[index]
        self.title.setText(f"Step {index + 1} of {len(self.pages)}: {page.title}")
        self.subtitle.setText(page.subtitle)
        self.steps.blockSignals(True)
        self.steps.setCurrentRow(index)
        self.steps.blockSignals(False)
        page.entered()
        self._update_buttons()

    def next(self) -> bool:
        """Go to the next page if the current one is complete; returns whether it moved."""
        if self._blocking(self.problem()) or self.current_index >= len(self.pages) - 1:
            return False
        self.go_to(self.current_index + 1)
        return True

    def back(self) -> None:
        """Go to the previous page."""
        if self.current_index > 0:
            self.go_to(self.current_index - 1)

    def _on_step_clicked(self, row: int) -> None:
        # Any step can be shown (the config is shared; a later page says what it still needs), so a click on
        # the sidebar always navigates; Start stays blocked until every page is complete.
        if 0 <= row != self.current_index:
            self.go_to(row)

    def problem(self) -> str | None:
        """Why the current page blocks Next/Start (None: it does not)."""
        return self.current_page().problem()

    @property
    def run_in_progress(self) -> bool:
        """Whether the worker is training (checks queue behind the run; the wizard stays usable meanwhile)."""
        return bool(getattr(self.state.worker, "is_running", False))

    @staticmethod
    def _pending(problem: str | None) -> bool:
        """A check that has not answered yet ("Reading…", "Waiting for the model's matrices…")."""
        return bool(problem) and (problem.endswith("…") or problem.startswith("Waiting for"))

    def _blocking(self, problem: str | None) -> bool:
        """A problem blocks Next/Start unless it is a check still pending behind a training run."""
        return problem is not None and not (self._pending(problem) and self.run_in_progress)

    def _update_buttons(self) -> None:
        last = self.current_index == len(self.pages) - 1
        problem = self.problem()
        self.back_button.setEnabled(self.current_index > 0)
        self.next_button.setVisible(not last)
        self.start_button.setVisible(last)
        self.next_button.setEnabled(not self._blocking(problem))
        self.start_button.setEnabled(not self._blocking(problem)
                                     and not any(self._blocking(p.problem()) for p in self.pages))
        self.start_button.setText("Queue run (starts after the current one)" if self.run_in_progress
                                  else "Start training")
        pending = self._pending(problem)
        if pending and self.run_in_progress:
            problem = (f"{problem} This check runs when the current training run ends; you can go on "
                       "preparing this run and queue it.")
        self.reason.show_message(for_gui(problem) if problem else None, "info" if pending else "error")
        for i, page in enumerate(self.pages):
            item = self.steps.item(i)
            item.setText(f"{i + 1}. {page.title}" + ("  ✓" if i < self.current_index and page.problem() is None
                                                    else ""))

    def _start(self) -> None:
        blocked = next(((p, msg) for p in self.pages if self._blocking(msg := p.problem())), None)
        if blocked is not None:
            self.go_to(self.pages.index(blocked[0]))
            return
        self.start_requested.emit(self.state.config)

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> RunConfig:
        """The RunConfig the pages describe."""
        return self.state.config

    def set_config(self, cfg: RunConfig, page: int = 0) -> None:
        """Load a config (from a file, the last wizard values or a preset) and show ``page``."""
        self.state.set_config(cfg)
        self.go_to(page)

    def set_recent(self, models: list[str], datasets: list[str], output_dirs: Sequence[str] = ()) -> None:
        """Fill the pages' "Recent" menus (from the settings file)."""
        self.task_page.set_recent(models)
        self.dataset_page.set_recent(datasets)
        self.training_page.set_recent(list(output_dirs))

    def save_config_to(self, path: str) -> None:
        """Write the current config as ``Save config…`` does."""
        self.review_page.save_to(path)

    def describe(self) -> dict[str, Any]:
        """A small dict for logs and tests: page index, title and problem."""
        return {"index": self.current_index, "title": self.current_page().title, "problem": self.problem()}
