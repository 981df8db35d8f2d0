"""Wizard page 3: the AdaLoRA budget — size, target matrices, honest meter and the schedule b(t)."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.config import BUDGET_PRESETS, BudgetConfig
from ...core.errors import ConfigError, ConfigErrors, StudioError
from .honest_meter import HonestMeter
from .page import InlineMessage, WizardPage, tip
from .qa_windows import WindowCounter, planning_rows, steps_text
from .schedule_advice import ScheduleAdvice
from .schedule_plot import SchedulePlot
from .state import WizardState
from .target_tree import TargetTree, compact_targets

MODES = (("ranks", "Ranks (init_r → target_r)"), ("percent", "% of model parameters"),
         ("params", "Absolute parameter count"))
CUSTOM = "Custom"


def compute_plan(cfg: Any, n_train: int, info: Any) -> tuple[Any, list[int]]:
    """``core.adalora.make_plan`` and ``budget_curve``: pure arithmetic (no torch), cheap enough for the GUI thread."""
    from ...core.adalora import budget_curve, make_plan

    return (plan := make_plan(cfg, n_train, info)), list(budget_curve(plan))


def _int_spin(parent: QWidget, low: int, high: int, tooltip: str) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low, high)
    spin.setToolTip(tooltip)
    return spin


class BudgetPage(WizardPage):
    """How many adapter parameters, on which matrices, and how the budget shrinks during training."""

    title = "Budget"
    subtitle = "AdaLoRA starts every matrix at init_r and prunes the least important triplets down to target_r."

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.plan: Any = None
        self._problem: str | None = None
        self._loading = False
        self._grid = QGridLayout(self.body)
        self._wide: bool | None = None
        self._left = QVBoxLayout()
        self._build_presets(self._left)
        self._left.addWidget(self._build_size_box())
        self.meter = HonestMeter(self.body)
        self._left.addWidget(self.meter)
        self._left.addWidget(self._build_targets_box(), 1)
        self.advice = ScheduleAdvice(state, self.body, self._left)  # warnings, one-click fixes, paper recipe
        self._right = QVBoxLayout()
        self._right.addWidget(self._build_schedule_box(), 1)
        self.plan_error = InlineMessage(self.body)
        self._right.addWidget(self.plan_error)
        self._arrange(True)
        self._recompute_timer = QTimer(self, singleShot=True, interval=60)
        self.windows = WindowCounter(state, self)  # question answering: windows, counted on the worker
        self._connect(state)
        self._load(state.config)
        self._on_model_info(state.model_info)

    # ------------------------------------------------------------------ building the page
    def _build_presets(self, left: QVBoxLayout) -> None:
        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset:", self.body))
        self.preset_combo = QComboBox(self.body)
        self.preset_combo.addItems([p.name for p in BUDGET_PRESETS] + [CUSTOM])
        preset_row.addWidget(self.preset_combo, 1)
        left.addLayout(preset_row)
        self.preset_note = QLabel("", self.body)
        self.preset_note.setWordWrap(True)
        left.addWidget(self.preset_note)

    def _build_size_box(self) -> QGroupBox:
        size_box = QGroupBox("Budget size", self.body)
        form = QFormLayout(size_box)
        self.mode_combo = QComboBox(size_box)
        for key, label in MODES:
            self.mode_combo.addItem(label, key)
        self.mode_combo.setToolTip(tip("budget", "budget_mode"))
        form.addRow("Budget in:", self.mode_combo)
        self.value_spin = QDoubleSpinBox(size_box)
        self.value_spin.setToolTip(tip("budget", "budget_value"))
        form.addRow("Kept at the end:", self.value_spin)
        self._size_form = form
        self.init_spin = _int_spin(size_box, 1, 512, tip("budget", "init_r"))
        self.target_spin = _int_spin(size_box, 1, 512, tip("budget", "target_r"))
        form.addRow("init_r:", self.init_spin)
        form.addRow("target_r (average):", self.target_spin)
        self.equiv_label = QLabel("", size_box)
        self.equiv_label.setWordWrap(True)
        form.addRow("", self.equiv_label)
        return size_box

    def _build_targets_box(self) -> QGroupBox:
        targets_box = QGroupBox("Matrices to adapt", self.body)
        tl = QVBoxLayout(targets_box)
        self.tree = TargetTree(targets_box)
        self.tree.setToolTip(tip("budget", "target_modules"))
        tl.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        self.defaults_button = QPushButton("Defaults", targets_box)
        self.all_button = QPushButton("All", targets_box)
        self.none_button = QPushButton("None", targets_box)
        for b in (self.defaults_button, self.all_button, self.none_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.targets_label = QLabel("", targets_box)
        buttons.addWidget(self.targets_label)
        tl.addLayout(buttons)
        return targets_box

    def _build_schedule_box(self) -> QGroupBox:
        sched_box = QGroupBox("Schedule", self.body)
        sl = QGridLayout(sched_box)
        self.tinit_spin = self._fraction_spin(sched_box, "tinit")
        self.tfinal_spin = self._fraction_spin(sched_box, "tfinal")
        self.delta_spin = _int_spin(sched_box, 1, 100000, tip("budget", "delta_t"))
        self.epochs_spin = QDoubleSpinBox(sched_box)
        self.epochs_spin.setRange(0.01, 1000)
        self.epochs_spin.setDecimals(2)
        self.epochs_spin.setToolTip(tip("training", "epochs"))
        self.batch_spin = _int_spin(sched_box, 1, 4096, tip("training", "batch_size"))
        self.accum_spin = _int_spin(sched_box, 1, 1024, tip("training", "grad_accum"))
        fields = (("Warm-up (tinit):", self.tinit_spin), ("Final (tfinal):", self.tfinal_spin),
                  ("Prune every (ΔT):", self.delta_spin), ("Epochs:", self.epochs_spin),
                  ("Batch size:", self.batch_spin), ("Accumulation:", self.accum_spin))
        for i, (label, w) in enumerate(fields):
            sl.addWidget(QLabel(label, sched_box), i // 2, 2 * (i % 2))
            sl.addWidget(w, i // 2, 2 * (i % 2) + 1)
        self.steps_label = QLabel("", sched_box)
        self.steps_label.setWordWrap(True)
        sl.addWidget(self.steps_label, 3, 0, 1, 4)
        self.plot = SchedulePlot(sched_box)
        sl.addWidget(self.plot, 4, 0, 1, 4)
        sl.setRowStretch(4, 1)
        sl.setColumnStretch(1, 1)
        sl.setColumnStretch(3, 1)
        return sched_box

    def _connect(self, state: WizardState) -> None:
        self._recompute_timer.timeout.connect(self._recompute)
        self._recompute_timer.timeout.connect(self.complete_changed)
        self.preset_combo.activated.connect(self._on_preset)
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        for spin in (self.value_spin, self.init_spin, self.target_spin, self.tinit_spin, self.tfinal_spin,
                     self.delta_spin, self.epochs_spin, self.batch_spin, self.accum_spin):
            spin.valueChanged.connect(self._on_edit)
        self.tree.selection_changed.connect(self._on_edit)
        self.defaults_button.clicked.connect(lambda: self._check(self._info_defaults()))
        self.all_button.clicked.connect(lambda: self._check([m.module for m in self.state.model_info.matrices]
                                                            if self.state.model_info else []))
        self.none_button.clicked.connect(lambda: self._check([]))
        state.model_info_changed.connect(self._on_model_info)
        for signal in (state.data_summary_changed, state.windows_changed):  # windows: question answering
            signal.connect(lambda _: self._recompute_timer.start())
        state.config_changed.connect(self._on_config_changed)

    def _arrange(self, wide: bool) -> None:
        """Side by side on wide windows; the schedule below the budget on narrow ones (the page then scrolls)."""
        if wide == self._wide:
            return
        self._wide = wide
        for item in (self._left, self._right):
            self._grid.removeItem(item)
        self._grid.addLayout(self._left, 0, 0)
        self._grid.addLayout(self._right, 0 if wide else 1, 1 if wide else 0)
        self._grid.setColumnStretch(1, 1 if wide else 0)
        self._grid.setColumnStretch(0, 1)
        self.plot.setMinimumHeight(200 if wide else 300)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._arrange(event.size().width() >= 960)

    @staticmethod
    def _fraction_spin(parent: QWidget, name: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(parent)
        spin.setRange(0.0, 0.95)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setToolTip(tip("budget", name))
        return spin

    # ------------------------------------------------------------------ config <-> widgets
    def _load(self, cfg: Any) -> None:
        self._loading = True
        b, t = cfg.budget, cfg.training
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(b.budget_mode)))
        self._configure_value_spin(b.budget_mode)
        self.value_spin.setValue(b.budget_value)
        self.init_spin.setValue(b.init_r)
        self.target_spin.setValue(b.target_r)
        self.tinit_spin.setValue(b.tinit)
        self.tfinal_spin.setValue(b.tfinal)
        self.delta_spin.setValue(b.delta_t)
        self.epochs_spin.setValue(t.epochs)
        self.batch_spin.setValue(t.batch_size)
        self.accum_spin.setValue(t.grad_accum)
        self._sync_preset(b)
        self._loading = False
        self._sync_enabled()
        self._recompute_timer.start()

    def _on_config_changed(self, cfg: Any) -> None:
        if not self._loading and (cfg.budget, cfg.training.epochs, cfg.training.batch_size,
                                  cfg.training.grad_accum) != self._widget_values():
            self._load(cfg)
            if self.state.model_info is not None:
                self._refill_tree(self.state.model_info)
        self._recompute_timer.start()

    def _widget_values(self) -> tuple[Any, ...]:
        return (self._budget_from_widgets(), self.epochs_spin.value(), self.batch_spin.value(),
                self.accum_spin.value())

    def _budget_from_widgets(self) -> BudgetConfig:
        """The config's budget with this page's fields replaced; every field the page does not show is kept."""
        old = self.state.config.budget
        info = self.state.model_info
        targets = compact_targets(info, self.tree.checked_modules()) if info is not None else old.target_modules
        mode = self.mode_combo.currentData()
        return dataclasses.replace(
            old, target_modules=targets, budget_mode=mode,
            budget_value=self.value_spin.value() if mode != "ranks" else 0.0, init_r=self.init_spin.value(),
            target_r=self.target_spin.value(), tinit=round(self.tinit_spin.value(), 4),
            tfinal=round(self.tfinal_spin.value(), 4), delta_t=self.delta_spin.value())

    def _on_edit(self, *_: Any) -> None:
        if self._loading:
            return
        budget = self._budget_from_widgets()
        self._loading = True
        self.state.update("", budget=budget)
        self.state.update("training", epochs=round(self.epochs_spin.value(), 4), batch_size=self.batch_spin.value(),
                          grad_accum=self.accum_spin.value())
        self._loading = False
        self._sync_preset(budget)
        self._recompute_timer.start()

    def _on_mode(self, *_: Any) -> None:
        if self._loading:
            return
        mode = self.mode_combo.currentData()
        self._loading = True
        self._configure_value_spin(mode)
        if mode == "percent" and self.plan is not None:
            self.value_spin.setValue(round(100 * self.plan.trainable_target / max(1, self.plan.model_params), 3))
        elif mode == "params" and self.plan is not None:
            self.value_spin.setValue(float(self.plan.trainable_target))
        self._loading = False
        self._sync_enabled()
        self._on_edit()

    def _configure_value_spin(self, mode: str) -> None:
        if mode == "params":
            self.value_spin.setRange(0, 1e12)
            self.value_spin.setDecimals(0)
            self.value_spin.setSingleStep(10000)
            self.value_spin.setSuffix(" params")
        else:
            self.value_spin.setRange(0, 99.999)
            self.value_spin.setDecimals(3)
            self.value_spin.setSingleStep(0.1)
            self.value_spin.setSuffix(" %")

    def _sync_enabled(self) -> None:
        ranks = self.mode_combo.currentData() == "ranks"
        self._size_form.setRowVisible(self.value_spin, not ranks)
        self.init_spin.setEnabled(ranks)
        self.target_spin.setEnabled(ranks)

    def _on_preset(self, index: int) -> None:
        if index >= len(BUDGET_PRESETS):
            return
        preset = BUDGET_PRESETS[index].budget
        current = self.state.config.budget
        self.state.update("budget", **{k: getattr(preset, k) for k in (
            "init_r", "target_r", "tinit", "tfinal", "delta_t", "beta1", "beta2", "orth_reg_weight", "lora_alpha",
            "lora_dropout")}, budget_mode="ranks", budget_value=0.0, target_modules=current.target_modules)

    def _sync_preset(self, b: BudgetConfig) -> None:
        keys = ("init_r", "target_r", "tinit", "tfinal", "delta_t")
        for i, preset in enumerate(BUDGET_PRESETS):
            if b.budget_mode == "ranks" and all(getattr(preset.budget, k) == getattr(b, k) for k in keys):
                self.preset_combo.setCurrentIndex(i)
                self.preset_note.setText(preset.description)
                return
        self.preset_combo.setCurrentIndex(len(BUDGET_PRESETS))
        self.preset_note.setText("Your own settings.")

    # ------------------------------------------------------------------ targets
    def _info_defaults(self) -> list[str]:
        info = self.state.model_info
        return list(info.default_targets) if info is not None else []

    def _check(self, modules: list[str]) -> None:
        self.tree.set_checked(modules)

    def _on_model_info(self, info: Any) -> None:
        self._refill_tree(info)
        self._recompute_timer.start()

    def _refill_tree(self, info: Any) -> None:
        if info is None:
            self.tree.set_matrices(None, [])
            self.targets_label.setText("Choose a model on the first page.")
            return
        from ...core.model import select_targets

        try:
            chosen = [m.module for m in select_targets(info, self.state.config.budget.target_modules)]
        except ConfigError:
            chosen = list(info.default_targets)
        self.tree.blockSignals(True)
        self.tree.set_matrices(info, chosen)
        self.tree.blockSignals(False)

    # ------------------------------------------------------------------ plan, meter and plot
    def _recompute(self) -> None:
        cfg, info, summary = self.state.config, self.state.model_info, self.state.data_summary
        n_checked = len(self.tree.checked_modules())
        total = self.tree.topLevelItemCount() and sum(self.tree.topLevelItem(i).childCount()
                                                      for i in range(self.tree.topLevelItemCount()))
        self.targets_label.setText(f"{n_checked} of {total} checked" if info is not None else "")
        self.plan = None
        if info is None or summary is None:
            self._problem = ("Waiting for the model's matrices (page 1)." if info is None
                             else "Waiting for the dataset check (page 2).")
            self.meter.show_plan(None)
            self.plot.show_empty(self._problem)
            self.steps_label.setText("")
            self.plan_error.show_message(None)
            self.complete_changed.emit()
            return
        if n_checked == 0:
            self._fail("Check at least one matrix to adapt.")
            return
        try:
            plan, curve = compute_plan(cfg, planning_rows(self.state)[0], info)
        except ConfigErrors as exc:
            self._fail("<br>".join(str(e) for e in exc.errors))
            return
        except StudioError as exc:
            self._fail(getattr(exc, "message", str(exc)))
            return
        self.plan = plan
        self._problem = None
        self.plan_error.show_message("<br>".join(plan.warnings) if plan.warnings else None, "warning")
        self.meter.show_plan(plan)
        n = len(plan.targets)
        self.plot.show_curve(curve, plan.tinit_steps, plan.tfinal_steps, plan.target_r * n)
        self.steps_label.setText(steps_text(self.state, plan))
        if cfg.budget.budget_mode != "ranks":
            self.equiv_label.setText(f"= init_r {plan.init_r} → average target_r {plan.target_r}")
            self._loading = True
            self.init_spin.setValue(plan.init_r)
            self.target_spin.setValue(plan.target_r)
            self._loading = False
        else:
            self.equiv_label.setText("")
        self.complete_changed.emit()

    def _fail(self, message: str) -> None:
        self._problem = message
        self.plan_error.show_message(message)
        self.steps_label.setText("")
        self.meter.show_plan(None)
        self.plot.show_empty("Fix the budget to see the schedule.")
        self.complete_changed.emit()

    def entered(self) -> None:
        self._recompute_timer.start()

    def problem(self) -> str | None:
        if self._recompute_timer.isActive():
            return "Updating the plan…"
        return self._problem
