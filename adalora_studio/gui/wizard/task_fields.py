"""Data-page fields of the question-answering and generation tasks: their columns and the eval metric.

Bound to :class:`WizardState` like every page part: it writes ``data.*`` fields and follows the config. QA shows
the question/context/answers columns, the doc stride and the longest answer; seq2seq its source/target columns;
causal LM and seq2seq the generation metric, "evaluate generation on N eval rows" and the new-token cap.
Classification shows nothing here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from .page import tip
from .state import WizardState

AUTO = "(detect)"
COLUMN_FIELDS = {
    "question-answering": (("question_column", "Question column:"), ("context_column", "Context column:"),
                           ("answers_column", "Answers column:")),
    "seq2seq": (("source_column", "Source column:"), ("target_column", "Target column:")),
}
METRICS = {
    "question-answering": (("auto", "SQuAD exact match + F1"), ("squad_v2", "SQuAD v2 (unanswerable questions)"),
                           ("loss", "Eval loss only")),
    "seq2seq": (("rouge", "ROUGE-1/2/L"), ("bleu", "BLEU"), ("chrf", "chrF"), ("exact_match", "Exact match"),
                ("loss", "Eval loss only")),
    "causal-lm": (("loss", "Eval loss + perplexity"), ("rouge", "ROUGE-1/2/L (generates)"), ("bleu", "BLEU"),
                  ("chrf", "chrF"), ("exact_match", "Exact match")),
}


class TaskFieldsBox(QGroupBox):
    """The task-specific data fields; hidden for text classification. ``changed`` after each edit."""

    changed = Signal()

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__("Task settings", parent)
        self.state = state
        self._loading = False
        self.form = QFormLayout(self)
        self.columns: dict[str, QComboBox] = {}
        for fields in COLUMN_FIELDS.values():
            for name, label in fields:
                combo = QComboBox(self)
                combo.setToolTip(tip("data", name))
                combo.currentIndexChanged.connect(self._on_edit)
                self.form.addRow(label, combo)
                self.columns[name] = combo
        self.metric_combo = QComboBox(self)
        self.metric_combo.setToolTip(tip("data", "eval_metric"))
        self.metric_combo.currentIndexChanged.connect(self._on_edit)
        self.form.addRow("Eval metric:", self.metric_combo)
        self.rows = self._spin(0, 1_000_000, "generation_eval_rows", "Generate on N eval rows:")
        self.rows.setSpecialValueText("all")
        self.new_tokens = self._spin(1, 4096, "max_new_tokens", "Max new tokens:")
        self.stride = self._spin(1, 4096, "doc_stride", "Doc stride:")
        self.answer_len = self._spin(1, 512, "max_answer_length", "Longest answer (tokens):")
        self.fallback = QCheckBox("If the metric's package is missing, use eval loss", self)
        self.fallback.setToolTip(tip("data", "metric_fallback_to_loss"))
        self.fallback.toggled.connect(self._on_edit)
        self.form.addRow("", self.fallback)
        state.config_changed.connect(self._load)
        self._load(state.config)

    def refresh(self) -> None:
        """Show the current config again (e.g. after a new data preview brought new column names)."""
        self._load(self.state.config)

    def roles(self) -> dict[str, str]:
        """Column name -> role (question, context, answers, source, target) for the preview's headers."""
        task = self.state.config.task
        return {combo.currentText(): name.removesuffix("_column") for name, combo in self.columns.items()
                if any(name == f for f, _ in COLUMN_FIELDS.get(task, ())) and combo.currentText() not in ("", AUTO)}

    def _spin(self, lo: int, hi: int, name: str, label: str) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(lo, hi)
        spin.setToolTip(tip("data", name))
        spin.valueChanged.connect(self._on_edit)
        self.form.addRow(label, spin)
        return spin

    def _show(self, widget: QWidget, visible: bool) -> None:
        self.form.setRowVisible(widget, visible)

    def _load(self, cfg: Any) -> None:
        task, d = cfg.task, cfg.data
        self.setVisible(task in METRICS)
        if task not in METRICS:
            return
        self._loading = True
        columns = list(self.state.data_preview.columns) if self.state.data_preview is not None else []
        for name, combo in self.columns.items():
            self._show(combo, any(name == f for f, _ in COLUMN_FIELDS.get(task, ())))
            wanted = [AUTO, *columns]
            if [combo.itemText(i) for i in range(combo.count())] != wanted:
                combo.clear()
                combo.addItems(wanted)
            value = getattr(d, name)
            combo.setCurrentText(value if value in columns else AUTO)
        choices = METRICS[task]
        if [self.metric_combo.itemData(i) for i in range(self.metric_combo.count())] != [c for c, _ in choices]:
            self.metric_combo.clear()
            for value, label in choices:
                self.metric_combo.addItem(label, value)
        metric = d.eval_metric if d.eval_metric != "auto" or task == "question-answering" else choices[0][0]
        index = self.metric_combo.findData(metric)
        self.metric_combo.setCurrentIndex(index if index >= 0 else 0)
        generation = task in ("seq2seq", "causal-lm")
        for widget, value, visible in ((self.rows, d.generation_eval_rows, generation),
                                       (self.new_tokens, d.max_new_tokens, generation),
                                       (self.stride, d.doc_stride, task == "question-answering"),
                                       (self.answer_len, d.max_answer_length, task == "question-answering")):
            widget.setValue(value)
            self._show(widget, visible)
        self.fallback.setChecked(d.metric_fallback_to_loss)
        self._loading = False

    def _on_edit(self, *_: Any) -> None:
        if self._loading:
            return
        task = self.state.config.task
        changes: dict[str, Any] = {
            name: ("" if combo.currentText() == AUTO else combo.currentText())
            for name, combo in self.columns.items() if any(name == f for f, _ in COLUMN_FIELDS.get(task, ()))}
        changes.update(eval_metric=self.metric_combo.currentData() or "auto",
                       metric_fallback_to_loss=self.fallback.isChecked())
        if task == "question-answering":
            changes.update(doc_stride=self.stride.value(), max_answer_length=self.answer_len.value())
        else:
            changes.update(generation_eval_rows=self.rows.value(), max_new_tokens=self.new_tokens.value())
        self.state.update("data", **changes)
        self.changed.emit()
