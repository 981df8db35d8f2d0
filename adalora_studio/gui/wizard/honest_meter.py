"""The honest meter: adapter parameters held in memory while training (init_r) vs kept in the adapter (target_r)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QProgressBar, QWidget

from .page import human_count


class HonestMeter(QGroupBox):
    """Two bars and two lines of counts: what training costs in memory, and what the saved adapter keeps.

    AdaLoRA trains every matrix at init_r and only masks triplets, so memory follows init_r even though the
    adapter that is saved (and the budget a user asks for) follows target_r. Showing one number would mislead.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Honest meter: trainable adapter parameters", parent)
        grid = QGridLayout(self)
        self.memory_bar = QProgressBar(self)
        self.kept_bar = QProgressBar(self)
        for bar in (self.memory_bar, self.kept_bar):
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setMaximumHeight(12)
        self.memory_label = QLabel("—", self)
        self.kept_label = QLabel("—", self)
        for label in (self.memory_label, self.kept_label):
            label.setWordWrap(True)
        grid.addWidget(QLabel("<b>In memory while training</b> (at init_r):", self), 0, 0)
        grid.addWidget(self.memory_bar, 1, 0)
        grid.addWidget(self.memory_label, 2, 0)
        grid.addWidget(QLabel("<b>Kept in the saved adapter</b> (at target_r):", self), 3, 0)
        grid.addWidget(self.kept_bar, 4, 0)
        grid.addWidget(self.kept_label, 5, 0)

    def show_plan(self, plan: Any) -> None:
        """Show a ``core.adalora.RunPlan`` (None: unknown yet)."""
        if plan is None:
            for bar in (self.memory_bar, self.kept_bar):
                bar.setValue(0)
            self.memory_label.setText("—")
            self.kept_label.setText("—")
            return
        model = max(1, plan.model_params)
        self.memory_bar.setValue(1000)
        self.kept_bar.setValue(round(1000 * plan.trainable_target / max(1, plan.trainable_init)))
        self.memory_label.setText(f"{plan.trainable_init:,} ({human_count(plan.trainable_init)}), "
                                  f"{100 * plan.trainable_init / model:.2f}% of {human_count(model)} model parameters")
        self.kept_label.setText(f"{plan.trainable_target:,} ({human_count(plan.trainable_target)}), "
                                f"{100 * plan.trainable_target / model:.2f}% of the model — AdaLoRA decides where")
