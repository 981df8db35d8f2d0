"""Schedule advice on the budget page: each warning with its reason and a one-click fix, plus a "Paper recipe"
button that applies the AdaLoRA paper's schedule scaled to this run's length (core: ``core.adalora.advice``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QBoxLayout, QGridLayout, QGroupBox, QLabel, QPushButton, QWidget

from ...core.adalora import apply_fix, make_plan, paper_recipe_fix, schedule_advice
from ...core.errors import StudioError
from .qa_windows import planning_rows
from .state import WizardState


class ScheduleAdvice(QGroupBox):
    """Rows of (advice, Fix button) and a Paper recipe button; hidden when there is nothing to advise.

    Follows the wizard state itself: after a change of config, model, data or window count it re-plans (pure
    arithmetic, as the budget page does) and shows the advice for that plan. ``layout``: where to add itself."""

    def __init__(self, state: WizardState, parent: QWidget | None = None, layout: QBoxLayout | None = None) -> None:
        super().__init__("Schedule advice", parent)
        self.state = state
        self._timer = QTimer(self, singleShot=True, interval=80)
        self._timer.timeout.connect(self.refresh)
        for signal in (state.config_changed, state.model_info_changed, state.data_summary_changed,
                       state.windows_changed):
            signal.connect(lambda *_a: self._timer.start())
        if layout is not None:
            layout.addWidget(self)
        self._timer.start()
        self.grid = QGridLayout(self)
        self.rows: list[tuple[QLabel, QPushButton]] = []
        self.recipe_button = QPushButton("Paper recipe", self)
        self.recipe_button.setToolTip("10% warm-up, budgeting for half of the run, about 25 mask steps, "
                                      "init_r 1.5 x target_r, beta 0.85, orth_reg_weight 0.1 (scaled to this run)")
        self._recipe: dict[str, Any] = {}
        self.recipe_button.clicked.connect(lambda: self._apply(self._recipe))
        self.hide()

    def refresh(self) -> None:
        """Re-plan from the wizard state and show its advice (hidden while the plan cannot be made)."""
        cfg, info, summary = self.state.config, self.state.model_info, self.state.data_summary
        plan = None
        if info is not None and summary is not None:
            try:
                plan = make_plan(cfg, planning_rows(self.state)[0], info)  # QA: windows, once counted
            except StudioError:
                plan = None
        self.show_plan(cfg, plan)

    def show_plan(self, cfg: Any, plan: Any) -> None:
        """Show the advice for ``plan`` (None: hide)."""
        for widget in (w for row in self.rows for w in row):
            widget.hide()  # off screen now; deleted when the event loop next runs
            widget.deleteLater()
        self.rows = []
        advice = schedule_advice(cfg, plan) if plan is not None else []
        if not advice:
            self.hide()
            return
        for i, item in enumerate(advice):
            label = QLabel(f"⚠ {item.title}", self)
            label.setToolTip(item.message)
            button = QPushButton("Fix", self)
            button.setToolTip(item.fix_label)
            button.clicked.connect(lambda _c=False, fix=item.fix: self._apply(fix))
            self.grid.addWidget(label, i, 0)
            self.grid.addWidget(button, i, 1)
            self.rows.append((label, button))
        self._recipe = paper_recipe_fix(cfg, plan)
        self.recipe_button.setEnabled(bool(self._recipe))
        self.grid.addWidget(self.recipe_button, len(advice), 1)
        self.grid.setColumnStretch(0, 1)
        self.show()

    def _apply(self, fix: dict[str, Any]) -> None:
        if fix:
            self.state.set_config(apply_fix(self.state.config, fix))
