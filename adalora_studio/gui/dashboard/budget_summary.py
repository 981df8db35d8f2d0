"""Where did the budget go: the share of the final rank held by each matrix type and by each layer, next to the
share a uniform allocation would give it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ...core.events import RanksUpdated
from . import _plotting as P
from .explorer_state import BudgetShare, budget_sentence, budget_shares

BAR = 0.38


class BudgetSummaryView(QWidget):
    """Two grouped bar charts (by type, by layer) of one snapshot (call :meth:`show_snapshot`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = look = P.current_look()
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setBackground(look.background)
        self.widget.setMinimumSize(320, 240)
        self.by_type = self.widget.addPlot(row=0, col=0)
        self.by_layer = self.widget.addPlot(row=0, col=1)
        for plot, title, bottom in ((self.by_type, "Share of the rank by matrix type", "matrix type"),
                                    (self.by_layer, "Share of the rank by layer", "layer")):
            P.style_plot(plot, title, "share of final rank (%)", bottom, look=look)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            legend = plot.addLegend(offset=(-8, 4), labelTextColor=look.foreground, brush=look.legend_fill)
            legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=look.held, pen=look.held), "this run")
            legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=look.marker, pen=look.marker),
                           "uniform")
        self.hints = [P.hint_text(p, "Shares appear at the first allocation", look=look)
                      for p in (self.by_type, self.by_layer)]
        self.sentence = QLabel("")
        self.sentence.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget, 1)
        layout.addWidget(self.sentence)
        self.shares: dict[str, list[BudgetShare]] = {}

    def clear(self) -> None:
        """Nothing to show."""
        for plot in (self.by_type, self.by_layer):
            self._bars(plot, [])
        for hint in self.hints:
            hint.show()
        self.sentence.setText("")
        self.shares = {}

    def show_snapshot(self, snapshot: RanksUpdated | None) -> None:
        """Draw the shares of ``snapshot`` (the newest one, usually the final allocation)."""
        if snapshot is None or not snapshot.matrices:
            self.clear()
            return
        self.shares = {by: budget_shares(snapshot, by) for by in ("type", "layer")}
        self._bars(self.by_type, self.shares["type"])
        self._bars(self.by_layer, self.shares["layer"])
        for hint in self.hints:
            hint.hide()
        when = "final allocation" if snapshot.phase == "final" else f"allocation at step {snapshot.step}"
        self.sentence.setText(f"Where the budget went ({when}, {snapshot.total_rank} triplets): "
                              f"{budget_sentence(snapshot)}")

    def _bars(self, plot: pg.PlotItem, shares: list[BudgetShare]) -> None:
        for item in [i for i in plot.items if isinstance(i, pg.BarGraphItem)]:
            plot.removeItem(item)
        if not shares:
            plot.getAxis("bottom").setTicks(None)
            return
        xs = np.arange(len(shares), dtype=float)
        run = np.array([100 * s.share for s in shares])
        uniform = np.array([100 * s.uniform_share for s in shares])
        plot.addItem(pg.BarGraphItem(x=xs - BAR / 2, height=run, width=BAR, brush=self.look.held,
                                     pen=self.look.held))
        plot.addItem(pg.BarGraphItem(x=xs + BAR / 2, height=uniform, width=BAR, brush=self.look.marker,
                                     pen=self.look.marker))
        plot.getAxis("bottom").setTicks([[(float(i), s.group) for i, s in enumerate(shares)], []])
        plot.setXRange(-0.7, len(shares) - 0.3, padding=0)
        plot.setYRange(0, max(float(run.max()), float(uniform.max())) * 1.35 + 1, padding=0)
