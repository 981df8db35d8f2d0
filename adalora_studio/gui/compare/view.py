"""The compare view: curves of several runs overlaid, the table (mean ± seed spread), the verdict, the config diff,
the budget sweep, and export as PNG/SVG and CSV.

Everything it shows comes from :mod:`adalora_studio.core.compare` reading the run folders (small JSON files and
event logs; no torch), so it can run on the GUI thread.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.atomic import atomic_write_text
from ...core.compare import (
    METHOD_LABELS,
    RunResult,
    arm_stats,
    config_diff,
    default_metric,
    memory_text,
    read_curves,
    read_run_result,
    results_csv,
    verdict_for,
)
from ...core.errors import StudioError
from ...core.export import ema
from ..dashboard import _plotting as P
from ..dashboard.plot_export import save_plots
from .sweep_plot import CountAxis, draw_sweep, prepare_plot

AXES = {"optimizer step": "step", "epoch": "epoch"}


def run_label(r: RunResult) -> str:
    """``AdaLoRA r8 s42`` / ``LoRA r5 s42``: method, rank, seed."""
    return f"{METHOD_LABELS.get(r.method, r.method)} r{r.rank} s{r.seed}"


class CompareView(QWidget):
    """Compare 2 or more finished runs. :meth:`set_runs` loads them; problems show in the verdict line."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: list[RunResult] = []
        self.metric_name = "accuracy"
        self.look = P.current_look()
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title = QLabel("<b>Compare runs</b>", self)
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(QLabel("x axis:", self))
        self.axis = QComboBox(self)
        self.axis.addItems(list(AXES))
        top.addWidget(self.axis)
        self.export_plots_button = QPushButton("Export PNG/SVG…", self)
        self.export_csv_button = QPushButton("Export CSV…", self)
        self.back_button = QPushButton("Back", self)
        for b in (self.export_plots_button, self.export_csv_button, self.back_button):
            top.addWidget(b)
        lay.addLayout(top)
        self.verdict = QLabel("", self)
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.verdict)

        split = QSplitter(Qt.Orientation.Vertical, self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(self.look.background)
        self.graphics.setMinimumHeight(260)
        self.loss_plot = self.graphics.addPlot(row=0, col=0)
        self.metric_plot = self.graphics.addPlot(row=0, col=1)
        self.sweep_plot = self.graphics.addPlot(row=0, col=2, axisItems={"bottom": CountAxis("bottom")})
        split.addWidget(self.graphics)
        tabs = QTabWidget(self)
        self.table = QTableWidget(0, 6, tabs)
        self.table.setHorizontalHeaderLabels(["method", "budget (target_r) / rank", "effective params",
                                              "final metric (mean ± spread)", "s / step", "peak memory"])
        self.table.horizontalHeaderItem(5).setToolTip(
            "Peak resident RAM of the training process (and peak GPU allocation on CUDA), the largest over the "
            "arm's seeds; — for runs recorded before peak memory was logged")
        self.diff = QTableWidget(0, 1, tabs)
        for t in (self.table, self.diff):
            t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        tabs.addTab(self.table, "Table")
        tabs.addTab(self.diff, "Config diff")
        split.addWidget(tabs)
        split.setSizes([420, 220])
        lay.addWidget(split, 1)

        self.axis.currentTextChanged.connect(lambda _t: self._draw_curves())
        self.export_plots_button.clicked.connect(self._export_plots_dialog)
        self.export_csv_button.clicked.connect(self._export_csv_dialog)
        self.back_button.clicked.connect(self.closed.emit)

    # ------------------------------------------------------------------ loading
    def set_runs(self, run_dirs: Sequence[str | Path]) -> list[str]:
        """Load and show ``run_dirs``; returns the problems (runs left out, each with its reason)."""
        self.results, problems = [], []
        for d in run_dirs:
            try:
                self.results.append(read_run_result(d))
            except StudioError as exc:
                problems.append(exc.user_message())
        self.metric_name = default_metric(self.results)
        ids = {r.comparison_id for r in self.results if r.comparison_id}
        self.title.setText(f"<b>Compare {len(self.results)} runs</b>" + (f" — {ids.pop()}" if len(ids) == 1 else ""))
        lines = verdict_for(self.results, self.metric_name) if self.results else ["No finished run to compare."]
        self.verdict.setText("<br>".join(f"<b>{html.escape(v)}</b>" for v in lines) + "".join(
            f"<br><span style='color:#b00'>Left out: {html.escape(p)}</span>" for p in problems))
        self._draw_curves()
        self._draw_sweep()
        self._fill_table()
        self._fill_diff()
        return problems

    # ------------------------------------------------------------------ plots
    def _style(self, plot: pg.PlotItem, title: str, left: str, bottom: str) -> None:
        prepare_plot(plot, title, left, bottom, self.look)

    def _draw_curves(self) -> None:
        axis = AXES[self.axis.currentText()]
        self._style(self.loss_plot, "Training loss (smoothed)", "task loss", self.axis.currentText())
        self._style(self.metric_plot, f"Eval {self.metric_name}", self.metric_name, self.axis.currentText())
        for i, r in enumerate(self.results):
            c = read_curves(r.run_dir)
            colour = self.look.type_color(i)
            style = Qt.PenStyle.SolidLine if r.method == "adalora" else Qt.PenStyle.DashLine
            pen = pg.mkPen(colour, width=2, style=style)
            xs = c.steps if axis == "step" else c.epochs
            if xs:
                self.loss_plot.plot(list(xs), ema(c.task_loss), pen=pen, name=run_label(r))
            ex = c.eval_steps if axis == "step" else c.eval_epochs
            ys = c.eval_loss if self.metric_name == "eval_loss" else c.eval_metrics.get(self.metric_name, ())
            if ex and ys:
                self.metric_plot.plot(list(ex), list(ys), pen=pen, symbol="o", symbolSize=6, symbolBrush=colour,
                                      symbolPen=None, name=run_label(r))

    def _draw_sweep(self) -> None:
        draw_sweep(self.sweep_plot, self.results, self.metric_name, self.look)

    # ------------------------------------------------------------------ tables
    def _fill_table(self) -> None:
        stats = arm_stats(self.results, self.metric_name)
        ranks: dict[tuple[str, int], set[int]] = {}
        for r in self.results:
            ranks.setdefault((r.method, r.target_r), set()).add(r.rank)
        self.table.setRowCount(len(stats))
        self.table.horizontalHeaderItem(3).setText(f"final {self.metric_name} (mean ± spread)")
        for row, s in enumerate(stats):
            rank = "/".join(str(x) for x in sorted(ranks.get((s.method, s.target_r), ())))
            budget = (f"target_r {s.target_r}" if s.method == "adalora"
                      else f"matched to target_r {s.target_r}: r {rank}")
            value = "n/a" if s.n == 0 else f"{s.mean:.4f} ± {s.spread:.4f} (n={s.n})"
            cells = [METHOD_LABELS.get(s.method, s.method), budget, f"{s.effective_params:,.0f}", value,
                     f"{s.seconds_per_step:.3f}", memory_text(s)]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))

    def _fill_diff(self) -> None:
        rows = config_diff(self.results)
        self.diff.setColumnCount(len(self.results))
        self.diff.setHorizontalHeaderLabels([run_label(r) for r in self.results])
        self.diff.setRowCount(len(rows))
        self.diff.setVerticalHeaderLabels([k for k, _ in rows])
        for row, (_key, values) in enumerate(rows):
            for col, value in enumerate(values):
                self.diff.setItem(row, col, QTableWidgetItem("" if value is None else str(value)))

    # ------------------------------------------------------------------ export
    def export_plots(self, folder: str | Path) -> list[Path]:
        """Write the three plots as PNG and SVG, and the whole view as ``compare.png``, into ``folder``."""
        folder = Path(folder)
        files = save_plots({"compare_loss": self.loss_plot, "compare_metric": self.metric_plot,
                            "compare_sweep": self.sweep_plot}, folder)
        whole = folder / "compare.png"
        self.grab().save(str(whole))
        return [*files, whole]

    def export_csv(self, path: str | Path) -> Path:
        """Write one row per run (see :func:`core.compare.results_csv`)."""
        atomic_write_text(Path(path), results_csv(self.results))
        return Path(path)

    def _export_plots_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the comparison plots into")
        if folder:
            self.export_plots(folder)

    def _export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the comparison as CSV", "comparison.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)
