"""The budget schedule b(t) as a pyqtgraph plot with the warm-up, budgeting and final phases shaded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

PHASE_BRUSHES = {
    "warm-up": (120, 120, 120, 45),
    "budgeting": (38, 139, 210, 35),
    "final": (133, 153, 0, 45),
}


class SchedulePlot(pg.PlotWidget):
    """Plots the total rank budget (triplets) against the optimizer step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        palette = self.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        fg = palette.color(QPalette.ColorRole.Text)
        for axis in ("left", "bottom"):
            self.getAxis(axis).setPen(fg)
            self.getAxis(axis).setTextPen(fg)
        self.setMinimumHeight(200)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setLabel("bottom", "optimizer step")
        self.setLabel("left", "budget b(t) (rank triplets)")
        for axis in ("left", "bottom"):
            self.getAxis(axis).enableAutoSIPrefix(False)
        self._regions = {name: pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*rgba), pen=pg.mkPen(None))
                         for name, rgba in PHASE_BRUSHES.items()}
        self._labels = {name: pg.TextItem(name, color=(90, 90, 90), anchor=(0.5, 0)) for name in PHASE_BRUSHES}
        for name in PHASE_BRUSHES:
            self.addItem(self._regions[name])
            self.addItem(self._labels[name])
        self.curve = self.plot([], [], pen=pg.mkPen((38, 139, 210), width=2), stepMode=None)
        dashed = pg.mkPen((133, 153, 0), style=pg.QtCore.Qt.PenStyle.DashLine)
        self.target_line = pg.InfiniteLine(angle=0, movable=False, pen=dashed)
        self.addItem(self.target_line)
        self.empty_text = pg.TextItem("", color=(120, 120, 120), anchor=(0.5, 0.5))
        self.addItem(self.empty_text)

    def show_curve(self, budgets: Sequence[int], tinit_steps: int, tfinal_steps: int, target_budget: int) -> None:
        """Draw b(t) for optimizer steps 0..len(budgets) - 1 (``core.adalora.budget_curve``) and shade the phases."""
        n = len(budgets)
        self.empty_text.setText("")
        for axis in ("left", "bottom"):
            self.getAxis(axis).setStyle(showValues=True)
        steps = np.arange(n, dtype=float)
        self.curve.setData(steps, np.asarray(budgets, dtype=float))
        bounds = {
            "warm-up": (0.0, float(tinit_steps)),
            "budgeting": (float(tinit_steps), float(n - tfinal_steps)),
            "final": (float(n - tfinal_steps), float(n)),
        }
        top = float(max(budgets)) if n else 1.0
        for name, (lo, hi) in bounds.items():
            self._regions[name].setRegion((lo, hi))
            self._regions[name].setVisible(hi > lo)
            self._labels[name].setVisible(hi > lo)
            # The first and last bands are labelled from their outer edge, so a narrow band never clips its label.
            x, anchor = {"warm-up": (lo, (0, 0)), "final": (hi, (1, 0))}.get(name, ((lo + hi) / 2, (0.5, 0)))
            self._labels[name].setAnchor(anchor)
            self._labels[name].setPos(x, top * 1.08)
        self.target_line.setPos(target_budget)
        self.target_line.setVisible(True)
        self.setXRange(0, max(n, 1), padding=0.01)
        self.setYRange(0, top * 1.12 if top else 1, padding=0)

    def show_empty(self, message: str) -> None:
        """No curve: say why (e.g. the data is not chosen yet)."""
        self.curve.setData([], [])
        for name in PHASE_BRUSHES:
            self._regions[name].setVisible(False)
            self._labels[name].setVisible(False)
        self.target_line.setVisible(False)
        for axis in ("left", "bottom"):
            self.getAxis(axis).setStyle(showValues=False)
        self.setXRange(0, 1, padding=0)
        self.setYRange(0, 1, padding=0)
        self.empty_text.setText(message)
        self.empty_text.setPos(0.5, 0.5)
