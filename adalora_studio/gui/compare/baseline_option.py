"""The review page's "Also train a LoRA baseline at the same budget" option, with the number of seeds."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QWidget


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
        lay.addWidget(self.check)
        lay.addWidget(self.seeds)
        self.note = QLabel("", self)
        lay.addWidget(self.note, 1)
        self.check.toggled.connect(lambda _on: self._update())
        self.seeds.valueChanged.connect(lambda _n: self._update())

    def _update(self) -> None:
        on = self.check.isChecked()
        self.seeds.setEnabled(on)
        self.note.setText(f"{2 * self.seeds.value()} runs, one after another" if on else "")

    @property
    def enabled(self) -> bool:
        """Whether the baseline is asked for."""
        return self.check.isChecked()

    @property
    def seed_count(self) -> int:
        """Seeds per arm."""
        return int(self.seeds.value())
