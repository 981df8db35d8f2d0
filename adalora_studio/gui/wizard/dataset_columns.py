"""The dataset page's "Columns" box: which column is the text, label, prompt or response, the eval split and the
token limit. Each control has its own message slot, so a problem shows next to the control it names."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .page import InlineMessage, tip

NONE = "(none)"
ROLE_ROWS = (("text", "Text column:", "text_columns"), ("text2", "Second text (pairs):", "text_columns"),
             ("label", "Label column:", "label_column"), ("prompt", "Prompt column:", "prompt_column"),
             ("response", "Response column:", "response_column"))
EVAL_FRACTION_RANGE = (0.01, 0.99)
"""The spin box accepts every fraction the config does (it never clamps silently); implausible ones are warned
about by ``core.config.advise_config`` right under it."""


def _with_message(parent: QWidget, control: QWidget | QHBoxLayout) -> tuple[QWidget, InlineMessage]:
    holder = QWidget(parent)
    lay = QVBoxLayout(holder)
    lay.setContentsMargins(0, 0, 0, 0)
    if isinstance(control, QHBoxLayout):
        lay.addLayout(control)
    else:
        lay.addWidget(control)
    message = InlineMessage(holder)
    lay.addWidget(message)
    return holder, message


class ColumnsBox(QGroupBox):
    """Column roles, eval fraction or eval file, max tokens."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Columns", parent)
        self.form = QFormLayout(self)
        self.combos: dict[str, QComboBox] = {}
        self.combo_errors: dict[str, InlineMessage] = {}
        self.rows: dict[str, QWidget] = {}
        for key, label, help_name in ROLE_ROWS:
            combo = QComboBox(self)
            combo.setToolTip(tip("data", help_name))
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            holder, message = _with_message(self, combo)
            self.form.addRow(label, holder)
            self.combos[key], self.combo_errors[key], self.rows[key] = combo, message, holder
        self.eval_spin = QDoubleSpinBox(self)
        self.eval_spin.setRange(*EVAL_FRACTION_RANGE)
        self.eval_spin.setSingleStep(0.05)
        self.eval_spin.setDecimals(2)
        self.eval_spin.setToolTip(tip("data", "eval_fraction"))
        holder, self.eval_advice = _with_message(self, self.eval_spin)
        self.form.addRow("Eval fraction:", holder)
        eval_row = QHBoxLayout()
        self.eval_file_edit = QLineEdit(self)
        self.eval_file_edit.setPlaceholderText("optional: a separate evaluation file")
        self.eval_file_edit.setToolTip(tip("data", "eval_file"))
        self.eval_file_button = QPushButton("Choose…", self)
        eval_row.addWidget(self.eval_file_edit, 1)
        eval_row.addWidget(self.eval_file_button)
        holder, self.eval_file_error = _with_message(self, eval_row)
        self.form.addRow("Eval file:", holder)
        self.max_len_spin = QSpinBox(self)
        self.max_len_spin.setRange(8, 32768)
        self.max_len_spin.setToolTip(tip("data", "max_length"))
        self.form.addRow("Max tokens:", self.max_len_spin)

    def show_rows_for_task(self, task: str) -> None:
        """Text/label rows for classification, prompt/response rows for causal LM (other tasks: neither)."""
        for key in ("text", "text2", "label"):
            self.form.setRowVisible(self.rows[key], task == "text-classification")
        for key in ("prompt", "response"):
            self.form.setRowVisible(self.rows[key], task == "causal-lm")

    def texts(self) -> tuple[str, ...]:
        """The chosen text columns (one, or two for pairs)."""
        return tuple(c for c in (self.combos["text"].currentText(), self.combos["text2"].currentText())
                     if c and c != NONE)

    def fill(self, prev: Any, d: Any) -> None:
        """Offer the preview's columns; keep the config's choices where they exist, else the preview's guesses.
        The caller blocks its mapping handler meanwhile."""
        columns = list(prev.columns)
        text = list(d.text_columns) if d.text_columns and set(d.text_columns) <= set(columns) else list(
            prev.guess_text_columns or ())
        choices = {
            "text": text[0] if text else "",
            "text2": text[1] if len(text) > 1 else NONE,
            "label": d.label_column if d.label_column in columns else (prev.guess_label_column or ""),
            "prompt": d.prompt_column if d.prompt_column in columns else (prev.guess_prompt_column or ""),
            "response": d.response_column if d.response_column in columns else (prev.guess_response_column or ""),
        }
        for key, combo in self.combos.items():
            combo.clear()
            if key == "text2":
                combo.addItems([NONE] + columns)
                combo.setCurrentText(choices[key] or NONE)
            else:
                combo.addItems(columns)
                combo.setCurrentIndex(columns.index(choices[key]) if choices[key] in columns else -1)

    def clear_messages(self) -> None:
        """Hide every problem shown next to a control."""
        for message in (*self.combo_errors.values(), self.eval_file_error):
            message.show_message(None)

    def target_for(self, column: str | None, field: str) -> str | None:
        """The role whose combo shows ``column`` (or whose config ``field`` it is), if that row is visible."""
        for key, combo in self.combos.items():
            if column and combo.currentText() == column and self.rows[key].isVisibleTo(self):
                return key
        return {"data.label_column": "label", "data.text_columns": "text", "data.prompt_column": "prompt",
                "data.response_column": "response"}.get(field)
