"""The dataset doctor on the dataset page: token lengths against max_length, what is cut or left out, balance,
train/eval overlap, and one example rendered exactly as the model sees it (no-loss part styled apart).

The figures come from ``core.data.run_doctor`` on the worker (:func:`data_jobs.doctor`), requested after every
successful data check; the page keeps working while the sample is measured.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from . import data_jobs
from .jobs import Problem
from .state import WizardState

MASKED_STYLE = "color:#6c6c6c; background:rgba(128,128,128,0.16);"
TRAINED_STYLE = "color:palette(text); background:rgba(133,153,0,0.28); font-weight:600;"


def render_html(pieces: Any) -> str:
    """(text, trained) pieces as HTML: no-loss text grey, trained text highlighted; whitespace kept."""
    spans = []
    for text, trained in pieces:
        body = html.escape(text).replace("\n", "↵<br>")
        spans.append(f"<span style='{TRAINED_STYLE if trained else MASKED_STYLE}'>{body}</span>")
    return f"<div style='font-family:monospace; white-space:pre-wrap;'>{''.join(spans)}</div>"


class LengthHistogram(pg.PlotWidget):
    """Token lengths of the sample as bars, with ``max_length`` as a dashed line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        palette = self.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        fg = palette.color(QPalette.ColorRole.Text)
        for axis in ("left", "bottom"):
            self.getAxis(axis).setPen(fg)
            self.getAxis(axis).setTextPen(fg)
            self.getAxis(axis).enableAutoSIPrefix(False)
        self.setMinimumHeight(150)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setLabel("bottom", "tokens per example")
        self.setLabel("left", "rows in sample")
        self.bars = pg.BarGraphItem(x=[], height=[], width=1, brush=pg.mkBrush(38, 139, 210, 170))
        self.addItem(self.bars)
        self.second = pg.BarGraphItem(x=[], height=[], width=1, brush=pg.mkBrush(211, 54, 130, 150))
        self.addItem(self.second)
        self.legend = self.addLegend(offset=(-10, 8), labelTextColor=fg)
        dashed = pg.mkPen((220, 50, 47), width=2, style=Qt.PenStyle.DashLine)
        self.limit = pg.InfiniteLine(angle=90, movable=False, pen=dashed, label="max_length",
                                     labelOpts={"position": 0.97, "color": (220, 50, 47), "anchors": [(1, 0), (1, 0)]})
        self.addItem(self.limit)

    def show_bins(self, bins: Any, max_length: int, second: Any = (), names: tuple[str, str] = ("", "")) -> None:
        """Draw (low, high, count) bins and the max_length line; ``second`` bins (seq2seq targets) beside them,
        each set named in a legend when ``names`` are given."""
        lows = np.array([lo for lo, _hi, _n in bins], dtype=float)
        highs = np.array([hi for _lo, hi, _n in bins], dtype=float)
        counts = np.array([n for _lo, _hi, n in bins], dtype=float)
        share = 0.46 if len(second) else 0.92
        self.bars.setOpts(x=lows + (highs - lows) * (0.27 if len(second) else 0.5), height=counts,
                          width=(highs - lows) * share)
        lo2 = np.array([lo for lo, _hi, _n in second], dtype=float)
        hi2 = np.array([hi for _lo, hi, _n in second], dtype=float)
        n2 = np.array([n for _lo, _hi, n in second], dtype=float)
        self.second.setOpts(x=lo2 + (hi2 - lo2) * 0.73, height=n2, width=(hi2 - lo2) * share)
        self.legend.clear()
        if names[0]:
            self.legend.addItem(self.bars, names[0])
        if names[1] and len(second):
            self.legend.addItem(self.second, names[1])
        if len(second):
            highs, counts = np.concatenate([highs, hi2]), np.concatenate([counts, n2])
        self.limit.setValue(max_length)
        right = max(float(highs.max()) if len(highs) else 1.0, max_length * 1.05)  # the line's label sits to its left
        self.setXRange(0, right * 1.02, padding=0)
        self.setYRange(0, float(max(1.0, counts.max() if len(counts) else 1)) * 1.1, padding=0)


class DataDoctorView(QGroupBox):
    """The doctor's findings; asks the worker for them whenever the data check succeeds."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__("Dataset doctor", parent)
        self.state = state
        self.report: Any = None
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        self.histogram = LengthHistogram(self)
        left.addWidget(self.histogram, 1)
        self.status = QLabel("The doctor runs after the data check.", self)
        self.status.setWordWrap(True)
        left.addWidget(self.status)
        self.figures = QLabel("", self)
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        left.addWidget(self.figures)
        self.use_suggested = QPushButton("Use suggested max_length", self)
        self.use_suggested.setVisible(False)
        self.use_suggested.clicked.connect(self._use_suggested)
        left.addWidget(self.use_suggested)
        lay.addLayout(left, 1)
        right = QVBoxLayout()
        self.example_title = QLabel("One training example, exactly as the model sees it:", self)
        right.addWidget(self.example_title)
        self.example = QTextBrowser(self)
        self.example.setMinimumHeight(120)
        right.addWidget(self.example, 1)
        legend = QLabel(f"<span style='{MASKED_STYLE}'>&nbsp;grey: no loss (prompt, template)&nbsp;</span> "
                        f"<span style='{TRAINED_STYLE}'>&nbsp;highlighted: trained (assistant turns)&nbsp;</span> "
                        "↵ is a line break", self)
        legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend = legend
        right.addWidget(legend)
        lay.addLayout(right, 1)
        self._timer = QTimer(self, singleShot=True, interval=400)
        self._timer.timeout.connect(self._request)
        state.data_summary_changed.connect(self._on_summary)

    def _on_summary(self, summary: Any) -> None:
        if summary is None:
            self._timer.stop()
            return
        self.status.setText("Measuring a sample of rows with the model's tokenizer…")
        self._timer.start()

    def _request(self) -> None:
        self.state.submit("doctor", data_jobs.doctor, (self.state.config,), self.show_report,
                          lambda message, _detail: self.show_report(Problem(message)))

    def _use_suggested(self) -> None:
        if self.report is not None:
            self.state.update("data", max_length=int(self.report.suggested_max_length))

    def show_report(self, report: Any) -> None:
        """Show a ``core.data.DoctorReport`` (or a :class:`Problem`)."""
        if isinstance(report, Problem):
            self.report = None
            self.status.setText(report.message)
            self.use_suggested.setVisible(False)
            return
        self.report = report
        if report.task in ("question-answering", "seq2seq"):
            self._show_task_report(report)
            return
        self.histogram.setLabel("bottom", "tokens per example")
        self.histogram.setLabel("left", "rows in sample")
        self.histogram.show_bins(report.bins, report.max_length)
        self.status.setText(f"{report.sample_rows:,} of {report.total_rows:,} training rows measured"
                            + (f"; template: {report.template}" if report.template else "") + ".")
        lines = [f"<b>{report.share_truncated:.1%}</b> of rows are longer than max_length ({report.max_length}) "
                 "and will be cut"]
        if report.task == "causal-lm":
            lines.append(f"<b>{report.share_dropped:.1%}</b> have every assistant turn past it and will be left out")
        lines.append(f"suggested max_length: <b>{report.suggested_max_length}</b> (keeps 95% of rows whole)")
        if report.label_counts:
            counts = report.label_counts.values()
            lines.append(f"label balance: largest/smallest class <b>{max(counts) / max(1, min(counts)):.1f}×</b>")
        dup = f"<b>{report.duplicates:,}</b> evaluation rows also occur in the training rows"
        if report.duplicates:
            dup += f" (e.g. “{html.escape(report.duplicate_example[:60])}”)"
        lines.append(dup)
        self.figures.setText("<br>".join(lines))
        self.use_suggested.setText(f"Use max_length {report.suggested_max_length}")
        self.use_suggested.setVisible(report.suggested_max_length != report.max_length)
        self.example.setHtml(render_html(report.preview))
        causal = report.task == "causal-lm"
        self.legend.setVisible(causal)
        self.example_title.setText("One training example, exactly as the model sees it:" if causal else
                                   f"One training input, exactly as the model sees it (cut at {report.max_length} "
                                   "tokens; the label is given apart):")

    def _show_task_report(self, report: Any) -> None:
        """Question answering: windows per question and answers lost; seq2seq: sources and targets, empty ones."""
        from .doctor_task_lines import task_figures

        qa = report.task == "question-answering"
        self.histogram.setLabel("bottom", "question + context tokens" if qa else "tokens per source / target")
        self.histogram.setLabel("left", "questions in sample" if qa else "rows in sample")
        self.histogram.show_bins(report.bins, report.max_length, () if qa else report.target_bins,
                                 ("", "") if qa else ("source", "target"))
        what = "questions" if qa else "rows"
        self.status.setText(f"{report.sample_rows:,} of {report.total_rows:,} training {what} measured.")
        self.figures.setText("<br>".join(task_figures(report)))
        self.use_suggested.setText(f"Use max_length {report.suggested_max_length}")
        self.use_suggested.setVisible(report.suggested_max_length != report.max_length)
        self.example.setHtml(render_html(report.preview))
        self.legend.setVisible(False)
        self.example_title.setText(
            "One training window, exactly as the model sees it (the answer span highlighted):" if qa else
            f"One training pair, as the model sees it (cut at {report.max_length} tokens; target highlighted):")
