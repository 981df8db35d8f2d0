"""The report card of a run (its newest ``report*.json``): headline metrics, per-class table, confusion heatmap
(counts, coloured by row share), calibration, most confident mistakes; for causal LM, loss, perplexity and sample
generations. "Evaluate on another file…" runs a post-hoc evaluation on the worker (a new report, never replacing
one); unseen labels are listed and evaluated past only when the user confirms."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)


class ConfusionHeatmap(QWidget):
    """Rows: true label; columns: predicted. Colour = row-normalised share; text = count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.counts: list[list[int]] = []
        self.normalized: list[list[float]] = []
        self.setMinimumSize(360, 300)

    def set_matrix(self, labels: list[str], counts: list[list[int]], normalized: list[list[float]]) -> None:
        self.labels, self.counts, self.normalized = labels, counts, normalized
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(120 + 48 * max(len(self.labels), 2), 90 + 40 * max(len(self.labels), 2))

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt API)
        k = len(self.labels)
        if not k:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        left = min(max(fm.horizontalAdvance(n) for n in [*self.labels, "true ↓  predicted →"]) + 16, 170)
        top = fm.height() + 10
        cell = max(18.0, min((self.width() - left - 8) / k, (self.height() - top - 8) / k))
        p.drawText(QRectF(0, 0, left - 6, top - 4), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                   "true ↓  predicted →")
        for j, name in enumerate(self.labels):
            text = fm.elidedText(name, Qt.TextElideMode.ElideRight, int(cell) - 2)
            p.drawText(QRectF(left + j * cell, 2, cell, fm.height()), Qt.AlignmentFlag.AlignCenter, text)
        for i, name in enumerate(self.labels):
            y = top + i * cell
            text = fm.elidedText(name, Qt.TextElideMode.ElideRight, left - 10)
            p.setPen(QColor("#222"))
            p.drawText(QRectF(0, y, left - 6, cell), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
            for j in range(k):
                share = self.normalized[i][j]
                rect = QRectF(left + j * cell, y, cell, cell)
                p.fillRect(rect, QColor.fromRgbF(1 - share * 0.88, 1 - share * 0.67, 1 - share * 0.29))
                p.setPen(QColor("#bbbbbb"))
                p.drawRect(rect)
                p.setPen(QColor("white" if share > 0.55 else "#222"))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(self.counts[i][j]))
        p.end()


def _table(headers: list[str], rows: list[list[Any]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            text = _cell_text(value)
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    return table


def _cell_text(value: Any) -> str:
    """Floats to 3 decimals, lists of answers joined, and an empty generation said as such (not a blank cell)."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return " | ".join(map(str, value)) or "(none)"
    text = str(value)
    return text if text.strip() else "(empty)"


def _wrapped(table: QTableWidget, text_columns: set[int]) -> QTableWidget:
    """Text columns share the width and wrap; number columns fit their values. Row heights follow the column
    widths whenever they change (computed before the table is laid out they would clip the wrapped text)."""
    table.setWordWrap(True)
    header = table.horizontalHeader()
    for c in range(table.columnCount()):
        mode = QHeaderView.ResizeMode.Stretch if c in text_columns else QHeaderView.ResizeMode.ResizeToContents
        header.setSectionResizeMode(c, mode)
    header.sectionResized.connect(lambda *_args: table.resizeRowsToContents())
    table.resizeRowsToContents()
    return table


class SvgFigure(QWidget):
    """One of the report's SVG figures, drawn to fit the widget with its aspect ratio kept."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtSvg import QSvgRenderer

        self.renderer = QSvgRenderer(str(path), self)
        self.setMinimumSize(280, 220)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return self.renderer.defaultSize()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt API)
        size = self.renderer.defaultSize().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.renderer.render(p, QRectF(0, 0, size.width(), size.height()))
        p.end()


class ReportView(QWidget):
    """Shows one report; :meth:`load_run` picks the run's newest. Emits ``evaluate_requested(run_dir, file)``."""

    evaluate_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir = ""
        self.report: dict[str, Any] | None = None
        from ..svg_png import PngDrawer

        self.pngs = PngDrawer(self)
        """Draws the PNG twins of the run's figures in the background; its ``drawn(written, problems)`` signal
        says when they are done."""
        self.title = QLabel("No report yet: it is written when a run finishes.")
        self.title.setWordWrap(True)
        self.headline = QLabel("")
        self.headline.setWordWrap(True)
        self.evaluate_button = QPushButton("Evaluate on another file…")
        self.evaluate_button.setToolTip("Evaluate this run on a file with the same columns; writes a new report")
        self.heatmap = ConfusionHeatmap()
        self.tabs = QTabWidget()
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.headline)
        layout.addWidget(self.tabs, 1)
        self.evaluate_button.clicked.connect(self._choose_file)

    def load_run(self, run_dir: str | Path) -> bool:
        """Show the run's newest report; False when it has none."""
        from ...core.inference import latest_report

        self.run_dir = str(run_dir)
        found = latest_report(run_dir)
        if found is None:
            self.report = None
            self.title.setText("No report yet: it is written when a run finishes.")
            self.tabs.clear()
            return False
        self.show_report(found[1], found[0].name)
        from ..svg_png import run_svgs

        self.pngs.draw(run_svgs(run_dir))  # PNG twins of the missing or stale SVG figures
        return True

    def _show_task_report(self, report: dict[str, Any]) -> None:
        """Question answering / seq2seq: EM and F1 or the generation metric, and the worst examples."""
        self.headline.setText(" &nbsp; ".join(f"<b>{k}</b> {v:.2f}" for k, v in report["metrics"].items()))
        worst = report.get("worst_examples", [])
        columns = [k for k in (worst[0] if worst else {}) if k != "id"]
        table = _table([c.replace("_", " ").capitalize() for c in columns], [[_cell(w[c]) for c in columns]
                                                                              for w in worst])
        texts = {i for i, c in enumerate(columns) if not isinstance(worst[0][c], (int, float))} if worst else set()
        self.tabs.addTab(_wrapped(table, texts), "Worst examples")

    def show_report(self, report: dict[str, Any], name: str = "report.json") -> None:
        self.report = report
        data = report.get("data", {})
        self.title.setText(f"<b>{name}</b> — {report.get('run', '')}, {report.get('origin', '')} on "
                           f"{Path(str(data.get('file', ''))).name}: {report.get('n_rows', 0)} rows "
                           f"({report.get('model', '')})")
        partners = report.get("partners") or []
        if partners:
            links = ", ".join(f"{p['name']} ({p['method']}): {p['path']}" for p in partners)
            self.title.setText(f"{self.title.text()}<br>A/B partner: {links}")
        self.tabs.clear()
        m = report["metrics"]
        if report.get("task") in ("question-answering", "seq2seq"):
            self._show_task_report(report)
            return
        if report.get("task") == "causal-lm":
            self.headline.setText(f"<b>eval loss</b> {m['eval_loss']:.4f} &nbsp; <b>perplexity</b> "
                                  f"{m['perplexity']:.2f}")
            rows = [[s["prompt"], s["reference"], s["base"], s["tuned"]] for s in report.get("samples", [])]
            samples = _table(["Prompt", "Reference", "Base", "Tuned"], rows)
            self.tabs.addTab(_wrapped(samples, {0, 1, 2, 3}), "Samples")
            return
        left = data.get("left_out_labels") or {}
        extra = f" &nbsp; (left out: {', '.join(f'{k} ×{n}' for k, n in left.items())})" if left else ""
        self.headline.setText(f"<b>accuracy</b> {m['accuracy']:.3f} &nbsp; <b>macro-F1</b> {m['macro_f1']:.3f} "
                              f"&nbsp; <b>ECE</b> {m['ece']:.3f}{extra}")
        cm = report["confusion_matrix"]
        self.heatmap.set_matrix(cm["labels"], cm["counts"], cm["normalized"])
        per = report["per_class"]
        classes = _table(["Class", "Precision", "Recall", "F1", "Support"],
                         [[n, c["precision"], c["recall"], c["f1"], c["support"]] for n, c in per.items()])
        overview = QWidget()
        row = QHBoxLayout(overview)
        row.addWidget(self.heatmap, 3)
        row.addWidget(classes, 2)
        self.tabs.addTab(overview, "Classes")
        mistakes = _table(["Text", "True", "Predicted", "Confidence"],
                          [[x["text"], x["true"], x["predicted"], x["confidence"]] for x in report["mistakes"]])
        self.tabs.addTab(_wrapped(mistakes, {0}), f"Confident mistakes ({len(report['mistakes'])})")
        bins = [b for b in report["calibration"]["bins"] if b["count"]]
        table = _table(["Confidence bin", "Rows", "Mean confidence", "Accuracy"],
                       [[f"{b['lo']:.1f}–{b['hi']:.1f}", b["count"], b["confidence"], b["accuracy"]] for b in bins])
        calibration = QWidget()
        row = QHBoxLayout(calibration)
        row.addWidget(table, 2)
        figure = Path(self.run_dir, f"{Path(name).stem}-reliability.svg")
        if self.run_dir and figure.is_file():  # the reliability diagram written beside the report
            row.addWidget(SvgFigure(figure), 3)
        self.tabs.addTab(calibration, "Calibration")

    def save_heatmap_png(self, path: str | Path) -> bool:
        """The confusion heatmap as PNG (the PNG twin of the report's SVG)."""
        return bool(self.report and "confusion_matrix" in self.report and self.heatmap.grab().save(str(path)))

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Evaluate on another file", self.run_dir,
                                              "Data (*.csv *.tsv *.json *.jsonl *.parquet)")
        if path:
            self.evaluate_requested.emit(self.run_dir, path)


def _cell(value: Any) -> Any:
    """A worst-example cell: answer lists joined, anything else as it is (the table formats numbers)."""
    return " | ".join(map(str, value)) if isinstance(value, list) else value


def confirm_unseen(parent: QWidget, message: str) -> bool:
    """Ask whether to evaluate on the known labels only (the message lists the unseen ones)."""
    answer = QMessageBox.question(parent, "Labels the model never saw",
                                  f"{message}\n\nEvaluate on the rows with known labels only?")
    return answer == QMessageBox.StandardButton.Yes


class ReportEvaluator(QObject):
    """Runs "Evaluate on another file…" of a :class:`ReportView` on the torch worker, asks about unseen labels, then
    shows the new report (and draws its PNG figures). ``get_worker`` is called on the first evaluation only."""

    evaluated = Signal(str)
    """The run folder, once its new report is shown."""

    def __init__(self, get_worker: Callable[[], Any], view: ReportView) -> None:
        super().__init__(view)
        self.get_worker = get_worker
        self.view = view
        view.evaluate_requested.connect(self.evaluate)

    def evaluate(self, run_dir: str, file: str, known_labels_only: bool = False) -> Any:
        """Submit the evaluation job; returns it."""
        from .report_jobs import evaluate_job

        self.view.title.setText(f"Evaluating on {Path(file).name}…")
        job = self.get_worker().submit(evaluate_job, run_dir, file, known_labels_only)
        job.succeeded.connect(lambda result: self._done(run_dir, file, result))
        job.failed.connect(lambda message, _d: self.view.title.setText(f"<b>Evaluation failed</b>: {message}"))
        return job

    def _done(self, run_dir: str, file: str, result: dict[str, Any]) -> None:
        if result.get("unseen"):
            if confirm_unseen(self.view, result["message"]):
                self.evaluate(run_dir, file, known_labels_only=True)
            else:
                self.view.load_run(run_dir)
            return
        self.view.load_run(run_dir)
        self.evaluated.emit(run_dir)
