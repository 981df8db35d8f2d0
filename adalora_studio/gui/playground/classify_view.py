"""Classification playground: paste one or several lines, see each predicted label with its class probabilities
(and a second run's, side by side), or score random validation rows."""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .prediction_delegate import TOP_K, PredictionDelegate, row_height
from .predictions_model import PredictionsModel

FILL_CHUNK = 50
"""Validation-table rows set per event-loop turn."""


class ClassifyView(QWidget):
    """Input box, Predict, per-line results (label, confidence, bars) for one or two runs, validation-row table.

    The per-line results are :attr:`predictions` (a :class:`PredictionsModel`, one row per line, a column per run)
    shown by :attr:`results` (a table view whose delegate paints each run's cell), so hundreds of lines cost only
    the rows on screen."""

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
        self.predictions = PredictionsModel(self)
        self.results = _results_view(self.predictions)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Text", "True label", "Predicted", "Confidence"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setResizeContentsPrecision(FILL_CHUNK)  # size columns from a sample of rows
        self._fill_id = 0
        layout = QVBoxLayout(self)
        layout.addWidget(self.input)
        layout.addLayout(buttons)
        layout.addWidget(self.results, 3)
        layout.addWidget(self.table, 2)
        self.results.copy_requested.connect(self.copy_predictions)
        self.predict_button.clicked.connect(self._on_predict)
        self.score_button.clicked.connect(lambda: self.score_requested.emit(self.rows_spin.value()))

    def texts(self) -> list[str]:
        return [line.strip() for line in self.input.toPlainText().splitlines() if line.strip()]

    def _on_predict(self) -> None:
        texts = self.texts()
        if texts:
            self.predict_requested.emit(texts)

    def show_predictions(self, columns: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """One row per input line; after its text, one column per run: ``[(run name, predictions in line order)]``,
        each prediction a ``predict_job`` dict (text, label, probabilities {label: p}, optional note)."""
        self.predictions.set_predictions(columns)
        self._fit_rows()
        self.results.scrollToTop()

    def copy_predictions(self) -> str:
        """Copy the selected lines' predictions (every line when none is selected) to the clipboard as
        tab-separated text, header included; returns it."""
        from PySide6.QtGui import QGuiApplication

        rows = [index.row() for index in self.results.selectionModel().selectedRows()]
        text = self.predictions.as_tsv(rows or None)
        QGuiApplication.clipboard().setText(text)
        return text

    def prediction_count(self) -> int:
        """Input lines shown in the results."""
        return self.predictions.rowCount()

    def _fit_rows(self) -> None:
        """One fixed height for every row: the head, the top classes (at most TOP_K), "+N more", the note."""
        model = self.predictions
        classes = model.max_classes()
        height = row_height(self.results.font(), classes, classes > TOP_K, model.has_notes())
        self.results.verticalHeader().setDefaultSectionSize(height)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's signature
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_rows()

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


class _ResultsView(QTableView):
    """A table whose Copy key asks for the whole lines' predictions (Qt's own copies one cell's display text)."""

    copy_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's signature
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


def _results_view(model: PredictionsModel) -> _ResultsView:
    """The predictions table: fixed row heights, painted run cells, text and run columns sharing the width."""
    view = _ResultsView()
    view.setModel(model)
    view.setItemDelegate(PredictionDelegate(view))
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setWordWrap(True)
    view.setAlternatingRowColors(True)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setMinimumSectionSize(1)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    view.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
    return view


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

