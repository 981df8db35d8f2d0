"""Class-probability bars: one labelled bar per class, the predicted class in bold."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget


class ProbabilityBars(QWidget):
    """Shows ``{label: probability}`` as bars, highest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setVerticalSpacing(2)
        self.bars: dict[str, QProgressBar] = {}

    def set_probabilities(self, probabilities: dict[str, float]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.bars = {}
        ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])
        for row, (label, p) in enumerate(ranked):
            name = QLabel(f"<b>{label}</b>" if row == 0 else label)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(round(p * 1000))
            bar.setFormat(f"{p:.1%}")
            bar.setTextVisible(True)
            bar.setMaximumHeight(18)
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(bar, row, 1)
            self.bars[label] = bar
        self.grid.setColumnStretch(1, 1)
