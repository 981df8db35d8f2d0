"""CUDA memory over the run: allocated at each logged step and the peak so far, from the run's events.

Shown only when the run's steps carry CUDA memory (a CPU run, or a log from before these fields, has none and
the plot stays hidden).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from . import _plotting as P
from .state import DashboardState

HEIGHT = 170


class MemoryPlot(QWidget):
    """One small plot: CUDA memory allocated and its peak, in MiB, against optimizer steps."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        look = P.current_look()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(look.background)
        self.graphics.setFixedHeight(HEIGHT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.plot = self.graphics.addPlot(row=0, col=0)
        P.style_plot(self.plot, "CUDA memory", "MiB", left_width=P.LEFT_AXIS_WIDTH, look=look)
        legend = self.plot.addLegend(offset=(-8, 8), labelTextColor=look.foreground, brush=look.legend_fill)
        self.allocated = self.plot.plot([], [], pen=pg.mkPen(look.loss_smooth, width=2), name="allocated")
        self.peak = self.plot.plot([], [], pen=pg.mkPen(look.eval, width=1), name="peak so far")
        for curve in (self.allocated, self.peak):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        legend.setParentItem(self.plot.getViewBox())
        self.plot.getViewBox().setLimits(yMin=0)
        self._mark: tuple[int, int] | None = None
        self._range_for: object = None
        self.hide()

    def clear(self) -> None:
        """Empty and hidden (a new run)."""
        self.allocated.setData([], [])
        self.peak.setData([], [])
        self._mark = None
        self._range_for = None
        self.plot.enableAutoRange(axis="xy", enable=True)
        self.hide()

    def refresh(self, state: DashboardState) -> None:
        """Draw the state's CUDA samples (only when they grew); hidden while there are none."""
        memory = state.memory
        mark = (state.generation, len(memory.steps))
        if mark == self._mark:
            return
        self._mark = mark
        self.setVisible(memory.has_cuda)
        started = state.started
        if started is not self._range_for and started is not None and started.total_steps > 0:
            self._range_for = started  # the whole run's steps, as the curves above show them
            self.plot.setXRange(0, started.total_steps, padding=0.02)
            self.plot.enableAutoRange(axis="x", enable=False)
        if memory.has_cuda:
            steps = memory.steps.view()
            self.allocated.setData(steps, memory.allocated_mb.view())
            self.peak.setData(steps, memory.peak_mb.view())
