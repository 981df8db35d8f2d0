"""Per-matrix rank bars: one bar per adapted matrix, grouped by layer, coloured by matrix type, with the init_r
and average target_r lines; hovering a bar shows its module, rank and the importance of its triplets.

Readable from 6 to 80 layers: the legend sits above the plot (never over the bars), layer labels are thinned to
fit, and the x axis zooms (wheel) and pans (drag); right-click ▸ View All or the "A" button resets it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

from ...core.events import MatrixRank, RanksUpdated, RunStarted
from . import _plotting as P
from .state import bar_positions, matrix_types
from .ticks import thin_ticks

BAR_WIDTH = 0.8
TOP_SCORES = 4
PRUNED_STUB = 0.035
"""Height of the outline drawn for a rank-0 (fully pruned) matrix, as a share of the y range."""


def rank_title(snapshot: RanksUpdated, started: RunStarted | None) -> str:
    """The view's title: AdaLoRA's allocation, or what a LoRA baseline holds (it has no allocation to show)."""
    method = str((started.config or {}).get("method", "adalora")) if started else "adalora"
    if method != "lora":
        return "Rank per matrix"
    ranks = sorted({m.rank for m in snapshot.matrices})
    if len(ranks) == 1:
        return f"LoRA baseline: uniform rank r = {ranks[0]} (no allocation)"
    return f"LoRA baseline: fixed per-module ranks {ranks[0]}–{ranks[-1]} from a rank file (no allocation)"


def format_score(value: float) -> str:
    """Importance scores span many decades: three significant digits."""
    return f"{value:.3g}"


def matrix_tooltip(m: MatrixRank) -> str:
    """Hover text for one matrix: name, module, rank/init and its triplet importance."""
    pruned_note = " (fully pruned)" if m.rank == 0 else ""
    lines = [f"{m.name}  ({m.matrix_type})", m.module, f"rank {m.rank} / {m.init_rank} (init){pruned_note}"]
    if m.importance:
        scores = list(m.importance)
        if m.kept and len(m.kept) == len(scores):
            kept = sorted((s for s, k in zip(scores, m.kept, strict=False) if k), reverse=True)
            pruned = sorted((s for s, k in zip(scores, m.kept, strict=False) if not k), reverse=True)
        else:
            kept, pruned = sorted(scores, reverse=True), []
        if kept:
            top = ", ".join(format_score(s) for s in kept[:TOP_SCORES])
            more = f" … (lowest kept {format_score(kept[-1])})" if len(kept) > TOP_SCORES else ""
            lines.append(f"importance of kept triplets: {top}{more}")
        if pruned:
            lines.append(f"best pruned triplet: {format_score(pruned[0])}")
    else:
        lines.append("importance: not scored yet")
    return "\n".join(lines)


class RankBarsView(QWidget):
    """Bars of the rank each matrix holds in one snapshot (call :meth:`show_snapshot`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = look = P.current_look()
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setBackground(look.background)
        self.widget.setMinimumSize(300, 200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        self.legend = pg.LegendItem(labelTextColor=look.foreground, brush=look.legend_fill, colCount=8)
        """Above the plot (a row of the layout), so it never covers bars."""
        self.widget.addItem(self.legend, row=0, col=0)
        self.plot: pg.PlotItem = self.widget.addPlot(row=1, col=0)
        P.style_plot(self.plot, "Rank per matrix", "rank", "layer", look=look)
        self.plot.setMouseEnabled(x=True, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH)
        self.plot.addItem(self.bars)
        self.pruned = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=None)
        """Dashed outline stubs where a matrix holds rank 0, so a pruned matrix is visibly there."""
        self.pruned.setZValue(5)
        self.plot.addItem(self.pruned)
        dash = Qt.PenStyle.DashLine
        self.init_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(look.reference, width=1, style=dash),
                                         label="init_r {value:.0f}",
                                         labelOpts={"position": 0.02, "color": look.reference,
                                                    "fill": look.legend_fill, "anchors": [(0, 1), (0, 1)]})
        self.target_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(look.eval, width=1, style=dash),
                                           label="avg target_r {value:.1f}",
                                           labelOpts={"position": 0.98, "color": look.eval, "fill": look.legend_fill,
                                                      "anchors": [(1, 1), (1, 1)]})
        for line in (self.init_line, self.target_line):
            line.setZValue(20)  # above the bars, so the labels stay readable
            line.hide()
            self.plot.addItem(line, ignoreBounds=True)
        self._legend_types: list[str] = []
        self._ticks: list[tuple[float, str]] = []
        self._lines: tuple[int, int | None] = (-1, None)
        self._top = -1.0
        self._title = "Rank per matrix"
        self.snapshot: RanksUpdated | None = None
        self.xs = np.empty(0)
        self.hint = P.hint_text(self.plot, "Ranks appear at the first allocation snapshot", look=look)
        self.widget.viewport().installEventFilter(self)  # Qt's own tooltip event: works on every platform
        # The last layer's label may reach past the axis end by half a label: draw it rather than drop it.
        self.plot.getAxis("bottom").setStyle(hideOverlappingLabels=24)
        vb = self.plot.getViewBox()
        vb.sigXRangeChanged.connect(lambda *_: self._apply_ticks())
        vb.sigResized.connect(lambda *_: self._apply_ticks())

    def clear(self) -> None:
        """No bars."""
        self.bars.setOpts(x=[], height=[], brushes=None)
        self.pruned.setOpts(x=[], height=[], pens=None)
        self.snapshot = None
        self.xs = np.empty(0)
        self.init_line.hide()
        self.target_line.hide()
        self.legend.clear()
        self._legend_types = []
        self.plot.getAxis("bottom").setTicks(None)
        self._ticks, self._lines, self._top = [], (-1, None), -1.0
        self.hint.show()

    def show_snapshot(self, snapshot: RanksUpdated, started: RunStarted | None) -> None:
        """Draw one snapshot's ranks."""
        types = matrix_types(snapshot)
        colour = {t: self.look.type_color(i) for i, t in enumerate(types)}
        xs, ticks = bar_positions(snapshot)
        heights = np.array([m.rank for m in snapshot.matrices], dtype=float)
        brushes = [pg.mkBrush(colour[m.matrix_type]) for m in snapshot.matrices]
        pens = [pg.mkPen(colour[m.matrix_type]) for m in snapshot.matrices]
        self.bars.setOpts(x=xs, height=heights, width=BAR_WIDTH, brushes=brushes, pens=pens)
        self.snapshot, self.xs = snapshot, xs
        self.hint.hide()
        if ticks != self._ticks:
            self._ticks = ticks
            if len(xs):
                self.plot.getViewBox().setLimits(xMin=xs[0] - 2, xMax=xs[-1] + 2, minXRange=4)
                self.plot.setXRange(xs[0] - 1, xs[-1] + 1, padding=0)
            self._apply_ticks()
        title = rank_title(snapshot, started)
        if title != self._title:
            self.plot.setTitle(title, color=self.look.foreground, size="10pt")
            self._title = title
        lora = title != "Rank per matrix"
        init_r = started.init_r if started else max((m.init_rank for m in snapshot.matrices), default=0)
        target_r = started.target_r if started else None
        if lora:  # a LoRA run's ranks never move: budget lines would suggest an allocation
            init_r, target_r = 0, None
        if (init_r, target_r) != self._lines:
            # Show before setValue: a hidden line does not update its label text.
            self.init_line.setVisible(init_r > 0)
            self.init_line.setValue(init_r)
            self.target_line.setVisible(target_r is not None)
            if target_r is not None:
                self.target_line.setValue(target_r)
            self._lines = (init_r, target_r)
        if types != self._legend_types:
            self.legend.clear()
            for t in types:
                sample = pg.BarGraphItem(x=[0], height=[1], width=1, brush=colour[t], pen=colour[t])
                self.legend.addItem(sample, t)
            self._legend_types = types
        legend_rows = -(-len(types) // 3)  # room above the bars for the legend (3 columns): 1.6x for two rows
        top = max(init_r, float(heights.max(initial=0))) * (1.3 + 0.15 * max(legend_rows, 2)) + 0.5
        if top != self._top:
            self.plot.setYRange(0, top, padding=0)
            self._top = top
        self._show_pruned(snapshot, xs, heights, colour, top)

    def _show_pruned(self, snapshot: RanksUpdated, xs: np.ndarray, heights: np.ndarray, colour: dict[str, str],
                     top: float) -> None:
        zero = np.flatnonzero(heights == 0)
        if not len(zero):
            self.pruned.setOpts(x=[], height=[], pens=None)  # (pyqtgraph fails on an empty pens list)
            return
        pens = [pg.mkPen(colour[snapshot.matrices[i].matrix_type], width=1.5, style=Qt.PenStyle.DashLine)
                for i in zero]
        self.pruned.setOpts(x=xs[zero], height=np.full(len(zero), PRUNED_STUB * top), width=BAR_WIDTH,
                            brushes=[pg.mkBrush(None)] * len(zero), pens=pens)

    def index_at(self, x: float) -> int:
        """Index of the bar under data coordinate ``x`` (-1 if none)."""
        if not len(self.xs):
            return -1
        i = int(np.argmin(np.abs(self.xs - x)))
        return i if abs(self.xs[i] - x) <= BAR_WIDTH / 2 else -1

    def tooltip_at(self, x: float) -> str:
        """Hover text for the bar under ``x`` ('' if none)."""
        i = self.index_at(x)
        if i < 0 or self.snapshot is None:
            return ""
        return matrix_tooltip(self.snapshot.matrices[i])

    def _apply_ticks(self) -> None:
        """Label as many layers as fit in the visible range (always the last one)."""
        if not self._ticks:
            return
        (x0, x1), width = self.plot.getViewBox().viewRange()[0], self.plot.getViewBox().width()
        major, minor = thin_ticks(self._ticks, x0, x1, width or 600)
        self.plot.getAxis("bottom").setTicks([major, minor])

    def text_at_scene(self, pos: QPointF) -> str:
        """Hover text for a scene position over a bar ('' elsewhere)."""
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return ""
        point = vb.mapSceneToView(pos)
        text = self.tooltip_at(point.x())
        top = max(self._bar_height(point.x()), PRUNED_STUB * max(self._top, 1.0))
        return text if text and -0.5 <= point.y() <= top + 0.5 else ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.text_at_scene(self.widget.mapToScene(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self.widget)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().eventFilter(watched, event)

    def _bar_height(self, x: float) -> float:
        i = self.index_at(x)
        return float(self.snapshot.matrices[i].rank) if i >= 0 and self.snapshot else -1.0
