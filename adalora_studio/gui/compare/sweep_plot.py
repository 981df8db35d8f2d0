"""The budget-sweep plot: the final metric against effective adapter parameters, one line per method, with the
seed spread as error bars.

The compare view draws it for the runs it compares (:func:`draw_sweep`); the A/B queue panel shows a
:class:`LiveSweep` while a sweep's arms train and adds each arm's point as it finishes. Both read only run
folders (small JSON files, the event log, a safetensors header), never torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from ...core.compare import RunResult, default_metric, read_run_result, sweep_series
from ...core.errors import StudioError
from ..dashboard import _plotting as P

WAITING_HINT = "Each arm's point appears here as it finishes"


def compact_count(value: float) -> str:
    """``950``, ``40k``, ``1.2M``: a parameter count short enough for a tick label."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


class CountAxis(pg.AxisItem):
    """An axis of parameter counts labelled ``40k``, ``120k`` (six-digit labels ran into each other)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 (Qt API)
        return [compact_count(v * scale) for v in values]


def prepare_plot(plot: pg.PlotItem, title: str, left: str, bottom: str, look: P.Look,
                 legend_offset: tuple[int, int] = (-8, 8)) -> None:
    """Clear ``plot`` and style it (title, axes, an emptied legend at ``legend_offset``: pyqtgraph's corner
    offsets, negative from the right or bottom)."""
    plot.clear()
    P.style_plot(plot, title, left, bottom=bottom, left_width=P.LEFT_AXIS_WIDTH, look=look)
    if plot.legend is None:
        plot.addLegend(offset=legend_offset, labelTextColor=look.foreground, brush=look.legend_fill)
    else:
        plot.legend.clear()
        plot.legend.setOffset(legend_offset)


def draw_sweep(plot: pg.PlotItem, results: Sequence[RunResult], metric: str, look: P.Look) -> dict[str, int]:
    """Draw the sweep of ``results`` on ``metric``; returns the points drawn per method (``{"AdaLoRA": 2, ...}``)."""
    prepare_plot(plot, f"Final {metric} vs effective params", metric, "adapter parameters", look)
    drawn: dict[str, int] = {}
    for i, (name, points) in enumerate(sweep_series(results, metric).items()):
        colour = look.type_color(i)
        xs, ys, spread = [p[0] for p in points], [p[1] for p in points], [p[2] for p in points]
        plot.plot(xs, ys, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=7, symbolBrush=colour,
                  symbolPen=None, name=name)
        if any(spread):
            import numpy as np

            plot.addItem(pg.ErrorBarItem(x=np.array(xs), y=np.array(ys), height=2 * np.array(spread),
                                         pen=pg.mkPen(colour, width=1)))
        drawn[name] = len(points)
    return drawn


class LiveSweep(pg.GraphicsLayoutWidget):
    """A sweep plot that grows while the arms run: :meth:`add_runs` with the finished arms' folders so far."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = P.current_look()
        self.setBackground(self.look.background)
        self.setMinimumSize(320, 240)
        self.plot = self.addPlot(axisItems={"bottom": CountAxis("bottom")})
        self.results: dict[str, RunResult] = {}
        self.problems: list[str] = []
        self.points: dict[str, int] = {}
        """Points drawn per method."""
        self._hint = P.hint_text(self.plot, WAITING_HINT, look=self.look)  # re-added while no arm has finished
        self.reset()

    def reset(self) -> None:
        """Empty the plot for a new sweep."""
        self.results, self.problems, self.points = {}, [], {}
        self._redraw()

    def add_runs(self, run_dirs: Sequence[str]) -> None:
        """Read the folders not seen yet and redraw when one was new (cheap when none is)."""
        new = [d for d in run_dirs if d not in self.results and d not in self.problems]
        for d in new:
            try:
                self.results[d] = read_run_result(d)
            except StudioError as exc:  # listed in the tooltip; the plot keeps the others
                self.problems.append(d)
                self.setToolTip(f"Left out: {exc.user_message()}")
        if new:
            self._redraw()

    @property
    def point_count(self) -> int:
        """All points drawn (every method)."""
        return sum(self.points.values())

    def _redraw(self) -> None:
        results = list(self.results.values())
        self.points = draw_sweep(self.plot, results, default_metric(results), self.look)
        if not results:
            self.plot.addItem(self._hint, ignoreBounds=True)
