"""Classification playground: paste one or several lines, see each predicted label with its class probabilities
(and a second run's, side by side), or score random validation rows."""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .bars import ProbabilityBars

FILL_CHUNK = 50
"""Validation-table rows set per event-loop turn."""


class ClassifyView(QWidget):
    """Input box, Predict, per-line results (label, confidence, bars) for one or two runs, validation-row table."""

    predict_requested = Signal(list)
    score_requested = Signal(int)
    rows_shown = Signal()
    """The validation-row table is filled (after the last chunk of :meth:`show_rows`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Type or paste text; one example per line.")
        self.input.setMaximumHeight(110)
        self.predict_button = QPushButton("Predict")
        self.predict_button.setToolTip("Classify every non-empty line")
        self.rows_spin = QSpinBox()
        self.rows_spin.setRange(1, 200)
        self.rows_spin.setValue(10)
        self.score_button = QPushButton("Score random validation rows")
        self.score_button.setToolTip("Pick rows from the run's own evaluation split and compare with the true label")
        buttons = QHBoxLayout()
        buttons.addWidget(self.predict_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Rows:"))
        buttons.addWidget(self.rows_spin)
        buttons.addWidget(self.score_button)
        self.results = QWidget()
        self.results_layout = QVBoxLayout(self.results)
        self.results_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.results)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Text", "True label", "Predicted", "Confidence"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setResizeContentsPrecision(FILL_CHUNK)  # size columns from a sample of rows
        self._fill_id = 0
        layout = QVBoxLayout(self)
        layout.addWidget(self.input)
        layout.addLayout(buttons)
        layout.addWidget(scroll, 3)
        layout.addWidget(self.table, 2)
        self.predict_button.clicked.connect(self._on_predict)
        self.score_button.clicked.connect(lambda: self.score_requested.emit(self.rows_spin.value()))

    def texts(self) -> list[str]:
        return [line.strip() for line in self.input.toPlainText().splitlines() if line.strip()]

    def _on_predict(self) -> None:
        texts = self.texts()
        if texts:
            self.predict_requested.emit(texts)

    def show_predictions(self, columns: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """One box per input line; inside, one column per run (name, predictions in line order)."""
        while self.results_layout.count() > 1:
            item = self.results_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        n = len(columns[0][1]) if columns else 0
        for i in range(n):
            box = QGroupBox(_short(columns[0][1][i]["text"], 110))
            row = QHBoxLayout(box)
            for name, preds in columns:
                p = preds[i]
                cell = QVBoxLayout()
                head = QLabel(f"<b>{name}</b>: {p['label']} ({p['probabilities'][p['label']]:.1%})")
                head.setWordWrap(True)
                cell.addWidget(head)
                bars = ProbabilityBars()
                bars.set_probabilities(p["probabilities"])
                cell.addWidget(bars)
                if p.get("note"):
                    note = QLabel(f"⚠ {p['note']}")
                    note.setWordWrap(True)
                    note.setStyleSheet("color: #a15c00;")
                    cell.addWidget(note)
                row.addLayout(cell, 1)
            self.results_layout.insertWidget(self.results_layout.count() - 1, box)

    def show_rows(self, rows: list[dict[str, Any]], other_name: str = "") -> None:
        """Fill the validation-row table (two more columns when a second run scored the same rows).

        Rows go in ``FILL_CHUNK`` at a time, one chunk per event-loop turn, so a long table never holds the GUI
        thread; :attr:`rows_shown` is emitted when the last row is in. A new call drops a fill still under way."""
        self._fill_id += 1
        two = bool(rows) and "other_predicted" in rows[0]
        headers = ["Text", "True label", "Predicted", "Confidence"]
        if two:
            headers += [f"{other_name or 'Run B'}: predicted", "Confidence"]
        table = self.table
        table.setUpdatesEnabled(False)
        table.blockSignals(True)
        table.clearContents()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(rows))
        table.blockSignals(False)
        table.setUpdatesEnabled(True)
        self._fill(self._fill_id, rows, two, 0)

    def _fill(self, fill_id: int, rows: list[dict[str, Any]], two: bool, start: int) -> None:
        """Set the items of rows ``start`` .. ``start + FILL_CHUNK``; queue the next chunk or finish."""
        if fill_id != self._fill_id:  # a newer fill took over
            return
        table = self.table
        table.setUpdatesEnabled(False)
        table.blockSignals(True)
        stop = min(start + FILL_CHUNK, len(rows))
        for r in range(start, stop):
            for c, value, wrong in _cells(rows[r], two):
                item = QTableWidgetItem(value)
                if wrong:
                    item.setForeground(_wrong_brush())
                item.setToolTip(value)
                table.setItem(r, c, item)
        table.blockSignals(False)
        table.setUpdatesEnabled(True)
        if stop < len(rows):
            QTimer.singleShot(0, lambda: self._fill(fill_id, rows, two, stop))
            return
        table.resizeColumnsToContents()
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.rows_shown.emit()


def _cells(row: dict[str, Any], two: bool) -> list[tuple[int, str, bool]]:
    """(column, text, whether it is a wrong prediction) of one scored row."""
    cells = [(0, str(row["text"]), False), (1, str(row["true"]), False),
             (2, str(row["predicted"]), row["predicted"] != row["true"]), (3, f"{row['confidence']:.1%}", False)]
    if two:
        cells += [(4, str(row["other_predicted"]), row["other_predicted"] != row["true"]),
                  (5, f"{row['other_confidence']:.1%}", False)]
    return cells


@functools.cache
def _wrong_brush() -> Any:
    """The wrong-prediction brush, built once (on the GUI thread, at first use)."""
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor("#c0392b"))


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
