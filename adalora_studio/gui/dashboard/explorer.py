"""Importance explorer: one matrix over the run (triplet importance against the moving threshold, when each triplet
was masked or came back, Λ kept and masked, the orthogonality residual) and an overview of every matrix ranked by
rank gained against uniform and by total importance. Live and in replay: it reads only the state's snapshots."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.events import RanksUpdated
from . import _plotting as P
from .explorer_state import MatrixHistory, matrix_history, overview

OVERVIEW_COLUMNS = ("matrix", "rank", "vs uniform", "total importance")
MIN_SCORE = 1e-30
"""Scores are drawn as log10 (they span decades); a score of 0 (a triplet nothing depends on) at this floor."""


class ImportanceExplorer(QWidget):
    """Pick a matrix (the combo, the overview table, or a click on the bars/heatmap) to see its history."""

    matrix_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.look = look = P.current_look()
        self.snapshots: Sequence[RanksUpdated] = ()
        self.target_r = 0
        self.module = ""
        self.history: MatrixHistory | None = None
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(28)
        self.combo.currentIndexChanged.connect(self._on_combo)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(OVERVIEW_COLUMNS))
        self.table.setHorizontalHeaderLabels(OVERVIEW_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.cellClicked.connect(lambda row, _col: self.select(self._row_modules[row]))
        self.table.setToolTip("Matrices ranked by rank gained against a uniform allocation (target_r each), then by "
                              "total importance (sum of their triplet scores in the newest scored snapshot).")
        self._row_modules: list[str] = []

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(look.background)
        self.importance_plot = self.plots.addPlot(row=0, col=0)
        P.style_plot(self.importance_plot, "Triplet importance and the pruning threshold", "log10 score", "",
                     left_width=P.LEFT_AXIS_WIDTH, look=look)
        self.lambda_plot = self.plots.addPlot(row=1, col=0)
        P.style_plot(self.lambda_plot, "Singular values Λ (filled: kept, hollow: masked)", "Λ", "",
                     left_width=P.LEFT_AXIS_WIDTH, look=look)
        self.orth_plot = self.plots.addPlot(row=2, col=0)
        P.style_plot(self.orth_plot, "Orthogonality residual ‖PᵀP−I‖ + ‖QQᵀ−I‖", "residual",
                     left_width=P.LEFT_AXIS_WIDTH, look=look)
        for plot in (self.lambda_plot, self.orth_plot):
            plot.setXLink(self.importance_plot)
        self.legend = self.importance_plot.addLegend(offset=(8, 4), labelTextColor=look.foreground,
                                                     brush=look.legend_fill, colCount=3)
        self.hint = P.hint_text(self.importance_plot, "Importance appears at the first mask step", look=look)

        top = QHBoxLayout()
        top.addWidget(QLabel("Matrix:"))
        top.addWidget(self.combo)
        top.addWidget(self.summary, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([330, 820])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------------ feeding

    def show_snapshots(self, snapshots: Sequence[RanksUpdated], target_r: int) -> None:
        """Show the run's snapshots (call again when more arrive)."""
        self.snapshots, self.target_r = snapshots, target_r
        rows = overview(snapshots, target_r)
        self._fill_table(rows)
        modules = [m.module for m in snapshots[-1].matrices] if snapshots else []
        names = [m.name for m in snapshots[-1].matrices] if snapshots else []
        if [self.combo.itemData(i) for i in range(self.combo.count())] != modules:
            self.combo.blockSignals(True)
            self.combo.clear()
            for name, module in zip(names, modules, strict=True):
                self.combo.addItem(name, module)
            self.combo.blockSignals(False)
        if modules and self.module not in modules:
            self.module = rows[0].module if rows else modules[0]
        self.select(self.module, force=True)

    def clear(self) -> None:
        """No run."""
        self.show_snapshots((), 0)
        self._clear_plots()
        self.summary.setText("")
        self.hint.show()

    def select(self, module: str, force: bool = False) -> None:
        """Show ``module``'s history."""
        if not module or (module == self.module and not force and self.history is not None):
            return
        self.module = module
        index = self.combo.findData(module)
        if index >= 0 and index != self.combo.currentIndex():
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)
        self.history = matrix_history(self.snapshots, module)
        self._draw()
        self.matrix_selected.emit(module)

    def _on_combo(self, index: int) -> None:
        module = self.combo.itemData(index)
        if module:
            self.select(str(module))

    def _fill_table(self, rows: list) -> None:
        self.table.setRowCount(len(rows))
        self._row_modules = [r.module for r in rows]
        for i, r in enumerate(rows):
            importance = f"{r.total_importance:.3g}" if math.isfinite(r.total_importance) else "–"
            cells = (r.name, f"{r.rank} / {r.init_rank}", f"{r.rank_change:+d}", importance)
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(r.module)
                self.table.setItem(i, j, item)

    # ------------------------------------------------------------------ drawing

    def _clear_plots(self) -> None:
        for plot in (self.importance_plot, self.lambda_plot, self.orth_plot):
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
        self.legend.clear()

    def _draw(self) -> None:
        self._clear_plots()
        h = self.history
        if h is None or not len(h.steps):
            self.hint.show()
            return
        scored = ~np.all(np.isnan(h.importance), axis=1)
        if h.mask_step.any():
            scored &= h.mask_step  # the final snapshot only repeats the last mask's scores
        self.hint.setVisible(not scored.any())
        x = h.steps.astype(float)
        for j in range(h.importance.shape[1]):
            colour = self.look.type_color(j)
            self._draw_triplet(j, x, h, colour, scored)
        thr = np.where(np.isfinite(h.threshold) & (h.threshold > 0), h.threshold, np.nan)
        if np.isfinite(thr).any():
            keep = np.isfinite(thr)
            self.importance_plot.addItem(pg.PlotDataItem(
                x[keep], np.log10(np.maximum(thr[keep], MIN_SCORE)), pen=pg.mkPen(self.look.foreground, width=2.5,
                                                                         style=Qt.PenStyle.DashLine),
                name="threshold (lines: one per triplet)"))
        self._draw_mask_marks(h)
        self._fit_ranges(h, scored)
        orth = np.isfinite(h.orth_residual)
        if orth.any():
            self.orth_plot.addItem(pg.PlotDataItem(x[orth], h.orth_residual[orth], pen=pg.mkPen(self.look.budget,
                                                                                                  width=2),
                                                   symbol="o", symbolSize=4, symbolBrush=self.look.budget))
        kept_now = int(h.kept[-1].sum())
        masked = sum(1 for t in h.masked_at if t)
        back = sum(1 for t in h.unmasked_at if t)
        self.summary.setText(f"<b>{h.name}</b> ({h.module}): rank {kept_now} of {h.kept.shape[1]} at step "
                             f"{int(h.steps[-1])}; {masked} triplets were masked at some point, {back} came back.")

    def _fit_ranges(self, h: MatrixHistory, scored: np.ndarray) -> None:
        """The whole run on x; room above the importance curves for the legend."""
        first, last = float(h.steps[0]), float(h.steps[-1])
        self.importance_plot.setXRange(first, max(last, first + 1), padding=0.02)
        logs = np.log10(np.maximum(h.importance[scored], MIN_SCORE)) if scored.any() else np.empty(0)
        thr = h.threshold[np.isfinite(h.threshold) & (h.threshold > 0)]
        values = np.concatenate([logs.reshape(-1), np.log10(thr)]) if len(thr) else logs.reshape(-1)
        if len(values):
            low, high = float(values.min()), float(values.max())
            span = max(high - low, 0.5)
            self.importance_plot.setYRange(low - 0.05 * span, high + 0.4 * span, padding=0)

    def _draw_triplet(self, j: int, x: np.ndarray, h: MatrixHistory, colour: str, scored: np.ndarray) -> None:
        if scored.any():
            y = np.log10(np.maximum(h.importance[scored, j], MIN_SCORE))
            self.importance_plot.addItem(pg.PlotDataItem(x[scored], y, pen=pg.mkPen(colour, width=1.2)))
        lam = h.singular_values[:, j]
        have = np.isfinite(lam)
        if have.any():
            self.lambda_plot.addItem(pg.PlotDataItem(x[have], lam[have], pen=pg.mkPen(colour, width=1)))
            kept = h.kept[have, j]
            brushes = [pg.mkBrush(colour) if k else pg.mkBrush(None) for k in kept]
            self.lambda_plot.addItem(pg.ScatterPlotItem(x[have], lam[have], size=6, pen=pg.mkPen(colour),
                                                        brush=brushes))

    def _draw_mask_marks(self, h: MatrixHistory) -> None:
        """A cross where a triplet was masked, a triangle where it came back (on its importance curve)."""
        step_row = {int(s): i for i, s in enumerate(h.steps)}
        for marks, symbol, colour, name in ((h.masked_at, "x", self.look.eval, "masked"),
                                            (h.unmasked_at, "t1", self.look.lr, "unmasked again")):
            xs, ys = [], []
            for j, steps in enumerate(marks):
                for s in steps:
                    score = h.importance[step_row[s], j]
                    if math.isfinite(score):
                        xs.append(float(s))
                        ys.append(math.log10(max(score, MIN_SCORE)))
            if xs:
                self.importance_plot.addItem(pg.PlotDataItem(xs, ys, pen=None, symbol=symbol, symbolSize=11,
                                                             symbolPen=pg.mkPen(colour, width=2),
                                                             symbolBrush=pg.mkBrush(colour), name=name))
