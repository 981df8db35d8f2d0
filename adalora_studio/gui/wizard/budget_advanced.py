"""The budget page's "Advanced" section, collapsed by default: lora_alpha, lora_dropout, orth_reg_weight, beta1
and beta2, each with the config's help text as tooltip. Bound to the WizardState like every page."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QToolButton, QVBoxLayout, QWidget

from .page import tip
from .state import WizardState

FIELDS = (
    # name, label, lo, hi, decimals, step
    ("lora_alpha", "LoRA alpha:", 0.01, 100000.0, 2, 1.0),
    ("lora_dropout", "LoRA dropout:", 0.0, 0.99, 2, 0.05),
    ("orth_reg_weight", "Orthogonality weight:", 0.0, 1000.0, 3, 0.1),
    ("beta1", "Sensitivity smoothing (beta1):", 0.0, 0.9999, 4, 0.01),
    ("beta2", "Uncertainty smoothing (beta2):", 0.0, 0.9999, 4, 0.01),
)


class BudgetAdvanced(QWidget):
    """A "▸ Advanced" toggle over a small form; edits go straight to ``state.config.budget``."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._loading = False
        self.toggle = QToolButton(self)
        self.toggle.setText("Advanced: alpha, dropout, orthogonality, smoothing")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.body = QWidget(self)
        form = QFormLayout(self.body)
        form.setContentsMargins(18, 0, 0, 0)
        self.spins: dict[str, QDoubleSpinBox] = {}
        for name, label, lo, hi, decimals, step in FIELDS:
            spin = QDoubleSpinBox(self.body)
            spin.setRange(lo, hi)
            spin.setDecimals(decimals)
            spin.setSingleStep(step)
            spin.setToolTip(tip("budget", name))
            spin.valueChanged.connect(self._on_edit)
            form.addRow(label, spin)
            self.spins[name] = spin
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.toggle)
        lay.addWidget(self.body)
        self.body.setVisible(False)
        self.toggle.toggled.connect(self.set_expanded)
        state.config_changed.connect(self._load)
        self._load(state.config)

    @classmethod
    def add_to(cls, layout: Any, state: WizardState, parent: QWidget) -> BudgetAdvanced:
        """Build the section and append it to ``layout`` (the budget page's right-hand column)."""
        section = cls(state, parent)
        layout.addWidget(section)
        return section

    def set_expanded(self, expanded: bool) -> None:
        """Show or hide the fields."""
        self.toggle.setChecked(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)

    def _load(self, cfg: Any) -> None:
        if self._loading:
            return
        self._loading = True
        for name, spin in self.spins.items():
            spin.setValue(getattr(cfg.budget, name))
        self._loading = False

    def _on_edit(self, *_: Any) -> None:
        if self._loading:
            return
        self._loading = True
        self.state.update("budget", **{name: round(spin.value(), spin.decimals()) for name, spin in
                                       self.spins.items()})
        self._loading = False
