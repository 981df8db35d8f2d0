"""Live curves: task loss (raw and smoothed) with eval loss, the eval metric, the learning rate, and the
budget b(t) with the current step marked and the total rank actually held overlaid."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from . import _plotting as P
from .state import DashboardState


def _live_curve(plot: pg.PlotItem, **kwargs: object) -> pg.PlotDataItem:
    """A curve for a growing series: clipped to the view and peak-downsampled, so 100k points stay cheap."""
    curve = plot.plot([], [], **kwargs)
    curve.setClipToView(True)
    curve.setDownsampling(auto=True, method="peak")
    return curve


class CurvesView(QWidget):
    """Four linked plots fed from a :class:`DashboardState` (call :meth:`refresh` from the redraw timer)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = look = P.current_look()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(look.background)
        self.graphics.setMinimumSize(360, 300)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        self.loss_plot = self.graphics.addPlot(row=0, col=0)
        P.style_plot(self.loss_plot, "Loss", "loss", left_width=P.LEFT_AXIS_WIDTH, look=look)
        legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextColor=look.foreground, brush=look.legend_fill)
        self.loss_raw = _live_curve(self.loss_plot, pen=pg.mkPen(look.loss_raw, width=1), name="task loss")
        self.loss_smooth = _live_curve(self.loss_plot, pen=pg.mkPen(look.loss_smooth, width=2), name="smoothed")
        self.eval_loss = self.loss_plot.plot([], [], pen=pg.mkPen(look.eval, width=2), symbol="o", symbolSize=6,
                                             symbolBrush=look.eval, symbolPen=None, name="eval loss")
        legend.setParentItem(self.loss_plot.getViewBox())

        self.metric_plot = self.graphics.addPlot(row=0, col=1)
        P.style_plot(self.metric_plot, "Eval metric", "metric", left_width=P.LEFT_AXIS_WIDTH, look=look)
        self.metric = self.metric_plot.plot([], [], pen=pg.mkPen(look.eval, width=2), symbol="o", symbolSize=6,
                                            symbolBrush=look.eval, symbolPen=None)
        self.metric_hint = P.hint_text(self.metric_plot, "No evaluation yet", look=look)

        self.lr_plot = self.graphics.addPlot(row=1, col=0)
        P.style_plot(self.lr_plot, "Learning rate", "lr", left_width=P.LEFT_AXIS_WIDTH, look=look)
        self.lr = _live_curve(self.lr_plot, pen=pg.mkPen(look.lr, width=2))
        self.lr_plot.getViewBox().setLimits(yMin=0)  # a learning rate is never negative, even on an empty axis

        self.budget_plot = self.graphics.addPlot(row=1, col=1)
        P.style_plot(self.budget_plot, "Rank budget b(t)", "triplets", left_width=P.LEFT_AXIS_WIDTH, look=look)
        legend = self.budget_plot.addLegend(offset=(-8, 8), labelTextColor=look.foreground, brush=look.legend_fill)
        self.budget_plot.getViewBox().setLimits(yMin=0)
        self.warmup_region = pg.LinearRegionItem(movable=False, brush=(120, 120, 120, 30), pen=pg.mkPen(None))
        self.final_region = pg.LinearRegionItem(movable=False, brush=(120, 120, 120, 30), pen=pg.mkPen(None))
        for region in (self.warmup_region, self.final_region):
            region.setZValue(-10)
            region.hide()
            self.budget_plot.addItem(region, ignoreBounds=True)
        self.budget = self.budget_plot.plot([], [], pen=pg.mkPen(look.budget, width=2), name="scheduled b(t)")
        self.budget.setDownsampling(auto=True, method="peak")
        self.budget.setClipToView(True)
        # The rank held changes only at a snapshot: draw it as steps (each value holds until the next snapshot),
        # so sparse snapshots in warm-up never look like pruning below the schedule.
        self.held = self.budget_plot.plot([], [], pen=pg.mkPen(look.held, width=2), stepMode="right",
                                          name="rank held")
        self.step_marker = pg.InfiniteLine(angle=90, movable=False,
                                           pen=pg.mkPen(look.marker, width=1, style=Qt.PenStyle.DashLine))
        self.step_marker.hide()
        self.budget_plot.addItem(self.step_marker, ignoreBounds=True)
        legend.setParentItem(self.budget_plot.getViewBox())

        for plot in (self.metric_plot, self.lr_plot, self.budget_plot):
            plot.setXLink(self.loss_plot)
        self._budget_for: object = None
        self._metric_name = ""
        self._marks: dict[str, tuple[int, int]] = {}

    @property
    def plots(self) -> dict[str, pg.PlotItem]:
        """The plots by file-friendly name (used by plot export)."""
        return {"loss": self.loss_plot, "eval_metric": self.metric_plot, "learning_rate": self.lr_plot,
                "budget": self.budget_plot}

    def clear(self) -> None:
        """Back to empty plots."""
        for curve in (self.loss_raw, self.loss_smooth, self.eval_loss, self.metric, self.lr, self.budget, self.held):
            curve.setData([], [])
        self.step_marker.hide()
        self.warmup_region.hide()
        self.final_region.hide()
        self.metric_hint.show()
        self.metric_hint.setText("No evaluation yet")
        for plot in self.plots.values():  # a new run must not start with the previous run's axis ranges
            plot.enableAutoRange(axis="xy", enable=True)
        self._budget_for = None
        self._metric_name = ""
        self._marks = {}

    def refresh(self, state: DashboardState) -> None:
        """Push the state's arrays into the curves (setData on views of preallocated arrays); a curve whose
        series did not grow is left alone."""
        steps = state.steps.view()
        if self._changed("steps", state, len(steps)):
            self.loss_raw.setData(steps, state.task_loss.view())
            self.loss_smooth.setData(steps, state.loss_ema.view())
            self.lr.setData(steps, state.lr.view())
        eval_steps = state.eval_steps.view()
        metric = state.eval_metric.view()
        if self._changed("eval", state, len(eval_steps)):
            self.eval_loss.setData(eval_steps, state.eval_loss.view())
            self.metric.setData(eval_steps, metric)
        held_x, held_y = state.held_steps.view(), state.held_total.view()
        if self._changed("held", state, len(held_x) * 1_000_000_000 + state.current_step) and len(held_x):
            end = max(float(state.current_step), float(held_x[-1]))  # the last value holds up to now
            self.held.setData(np.append(held_x, end), np.append(held_y, held_y[-1]))
        elif not len(held_x):
            self.held.setData([], [])
        has_metric = bool(len(metric)) and bool(np.isfinite(metric).any())
        self.metric_hint.setVisible(not has_metric)
        name = state.metric_name or "metric"
        if name != self._metric_name:  # a title change re-lays out the plot: only when it changes
            self.metric_plot.setTitle(f"Eval {name}", color=self.look.foreground, size="10pt")
            self.metric_plot.getAxis("left").setLabel(name, color=self.look.foreground)
            self._metric_name = name
        if not has_metric and state.started is not None:
            every = state.started.config.get("training", {}).get("eval_every", 0) if isinstance(
                state.started.config, dict) else 0
            when = f"every {every} steps" if every else "at the end of each epoch"
            self.metric_hint.setText(f"No evaluation yet\n(runs {when})")  # two lines: fits a narrow plot
        self._refresh_budget(state)

    def _changed(self, key: str, state: DashboardState, length: int) -> bool:
        mark = (state.generation, length)
        if self._marks.get(key) == mark:
            return False
        self._marks[key] = mark
        return True

    def _refresh_budget(self, state: DashboardState) -> None:
        started = state.started
        if started is not self._budget_for:
            x, y = state.budget_curve()
            self.budget.setData(x, y)
            self._budget_for = started
            if started is not None and started.total_steps > 0:
                total = started.total_steps
                self.warmup_region.setRegion((0, started.tinit_steps + 1))
                self.final_region.setRegion((total - started.tfinal_steps, total))
                self.warmup_region.setVisible(started.tinit_steps > 0)
                self.final_region.setVisible(started.tfinal_steps > 0)
                for plot in self.plots.values():
                    plot.setXRange(0, total, padding=0.02)
                    plot.enableAutoRange(axis="x", enable=False)
        step = state.current_step
        self.step_marker.setVisible(started is not None)
        if self.step_marker.value() != step:
            self.step_marker.setValue(step)
