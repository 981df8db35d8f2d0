"""The dataset page's "Columns" box: which column is the text, label, prompt or response, the eval split and the
token limit. Each control has its own message slot, so a problem shows next to the control it names.

For causal LM the box says which row layout (``data.chat_format``) the rows are read with: a conversation layout
(OpenAI messages, ShareGPT, plain text) has no columns to map, Alpaca maps instruction/input/output, and
prompt/response (or no layout found) maps the prompt and response columns."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
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
CONVERSATIONS = ("messages", "sharegpt", "text")
"""Layouts whose rows are read whole: no prompt or response column applies."""
LAYOUT_NAMES = {"messages": "OpenAI messages", "sharegpt": "ShareGPT conversations", "alpaca": "Alpaca",
                "prompt-response": "prompt/response", "text": "plain text"}
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
        self.layout_label = QLabel("", self)
        self.layout_label.setObjectName("chatLayout")
        self.layout_label.setWordWrap(True)
        self.layout_label.setToolTip(tip("data", "chat_format"))
        self.input_label = QLabel("", self)
        self.input_label.setWordWrap(True)
        self.conversation = False
        """The rows are read whole (a conversation layout): the prompt and response columns do not apply."""
        self.alpaca_input: str | None = None
        """Alpaca: its input column ("" when the file has none); None for every other layout."""
        for key, label, help_name in ROLE_ROWS:
            if key == "prompt":
                self.form.addRow("Chat format:", self.layout_label)
            elif key == "response":
                self.form.addRow("Input column:", self.input_label)
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
        self.eval_file_edit.setPlaceholderText("optional")  # the tooltip says more; a narrow box shows it whole
        self.eval_file_edit.setMinimumWidth(self.eval_file_edit.fontMetrics().horizontalAdvance("optional") + 16)
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

    def show_rows_for_task(self, task: str, preview: Any = None, chat_format: str = "auto") -> None:
        """Text/label rows for classification; for causal LM, the row layout the preview's rows are read with and
        the columns it maps: none for a conversation layout, instruction/input/output for Alpaca, else
        prompt/response."""
        causal = task == "causal-lm"
        layout, line = layout_line(preview, chat_format)
        inputs = [c for c in (preview.columns if preview else ()) if c.lower().strip() == "input"]
        input_column = inputs[0] if inputs else ""
        self.conversation = causal and layout in CONVERSATIONS
        alpaca = causal and layout == "alpaca"
        self.alpaca_input = input_column if alpaca else None
        for key in ("text", "text2", "label"):
            self.form.setRowVisible(self.rows[key], task == "text-classification")
        for key in ("prompt", "response"):
            self.form.setRowVisible(self.rows[key], causal and not self.conversation)
        self.form.setRowVisible(self.layout_label, causal and bool(line))
        self.form.setRowVisible(self.input_label, alpaca)
        self.layout_label.setText(line)
        self.input_label.setText(f"'{input_column}', joined to the instruction when not empty" if input_column
                                 else "none (optional)")
        for key, names in (("prompt", ("Instruction column:", "Prompt column:")),
                           ("response", ("Output column:", "Response column:"))):
            label = self.form.labelForField(self.rows[key])
            if isinstance(label, QLabel):
                label.setText(names[0] if alpaca else names[1])

    def mapped(self, key: str) -> str:
        """The column chosen for ``key`` ("prompt" or "response"): empty when the layout reads rows whole."""
        return "" if self.conversation else self.combos[key].currentText()

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

    def roles(self, task: str) -> dict[str, str]:
        """Column -> the role the preview table marks it with, for the columns chosen now."""
        if task == "text-classification":
            return {**{c: "text" for c in self.texts()}, self.combos["label"].currentText(): "label"}
        if task == "causal-lm" and self.alpaca_input is not None:
            return {self.mapped("prompt"): "instruction", self.alpaca_input: "input", self.mapped("response"): "output"}
        if task == "causal-lm":
            return {self.mapped("prompt"): "prompt", self.mapped("response"): "response"}
        return {}

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


def reading_choices(d: Any) -> tuple[str, str, str]:
    """The data section's reading choices a data check depends on: (chat_format, template, text_mode)."""
    return d.chat_format, d.template, d.text_mode


def layout_line(preview: Any, chat_format: str) -> tuple[str, str]:
    """(the layout rows are read with, one line saying so) for a preview and ``data.chat_format``.

    The layout is the chosen one, or with ``auto`` the one detected in the preview ("" when none was found)."""
    if preview is None:
        return "", ""
    detected = preview.layout_kind
    if chat_format != "auto":
        found = f"detected: {preview.layout}" if detected else "nothing detected"
        return chat_format, f"{LAYOUT_NAMES.get(chat_format, chat_format)}, as set in “Rows are:” ({found})."
    if not detected:
        return "", "No conversation columns detected: choose the prompt and response columns, or set “Rows are:”."
    if detected in CONVERSATIONS:
        what = "trained on whole" if detected == "text" else "a whole conversation"
        return detected, f"Detected {preview.layout}: each row is {what}, so no columns to map."
    return detected, f"Detected {preview.layout}."
