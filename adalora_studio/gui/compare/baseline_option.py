"""The review page's "Also train a LoRA baseline at the same budget" option, with the number of seeds."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget


class BaselineOption(QWidget):
    """A tick box and a seeds spin box. :attr:`enabled` and :attr:`seeds` are what the window reads."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox("Also train a LoRA baseline at the same budget", self)
        self.check.setToolTip(
            "After the AdaLoRA run, train plain LoRA on the same matrices and data, with the uniform rank whose "
            "adapter parameters match AdaLoRA's final count. Each seed trains both; the comparison shows the "
            "difference against the seed spread.")
        self.seeds = QSpinBox(self)
        self.seeds.setRange(1, 10)
        self.seeds.setValue(3)
        self.seeds.setSuffix(" seed(s)")
        self.seeds.setEnabled(False)
        self.budgets = QLineEdit(self)
        self.budgets.setPlaceholderText("sweep target_r, e.g. 1,2,4,8")
        self.budgets.setToolTip("Optional budget sweep: train both methods at each target_r (LoRA matched at each) "
                                "and plot the final metric against effective parameters.")
        self.budgets.setEnabled(False)
        lay.addWidget(self.check)
        lay.addWidget(self.seeds)
        lay.addWidget(self.budgets)
        self.note = QLabel("", self)
        lay.addWidget(self.note, 1)
        self.check.toggled.connect(lambda _on: self._update())
        self.seeds.valueChanged.connect(lambda _n: self._update())
        self.budgets.textChanged.connect(lambda _t: self._update())

    def _update(self) -> None:
        on = self.check.isChecked()
        self.seeds.setEnabled(on)
        self.budgets.setEnabled(on)
        try:
            n = 2 * self.seeds.value() * max(1, len(self.budget_values))
            self.note.setText(f"{n} runs, one after another" if on else "")
        except ValueError as exc:
            self.note.setText(str(exc).replace("--budgets: ", ""))

    @property
    def budget_values(self) -> tuple[int, ...]:
        """The swept target_r values (empty: no sweep); ValueError naming a bad item."""
        from ...app.compare_cli import parse_budgets

        text = self.budgets.text().strip()
        return parse_budgets(text) if text else ()

    @property
    def enabled(self) -> bool:
        """Whether the baseline is asked for."""
        return self.check.isChecked()

    @property
    def seed_count(self) -> int:
        """Seeds per arm."""
        return int(self.seeds.value())
