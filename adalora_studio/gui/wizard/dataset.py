"""Wizard page 2: the dataset — file (picker, drag-and-drop, demo), preview, column mapping, labels, eval split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core import paths
from ...core.config import DATA_FORMATS
from . import jobs
from .data_doctor_view import DataDoctorView
from .data_format_options import DataFormatOptions
from .jobs import Problem
from .page import InlineMessage, WizardPage, tip
from .preview_model import PreviewTableModel
from .recent_button import RecentButton
from .state import WizardState
from .task_fields import TaskFieldsBox

FILE_FILTER = ("Data files (*.csv *.tsv *.json *.jsonl *.parquet *.xlsx *.txt *.gz *.bz2 *.xz *.zst);;"
               "All files (*)")
NONE = "(none)"


class DatasetPage(WizardPage):
    """Choose the training data and say which columns mean what."""

    title = "Dataset"
    subtitle = "Choose your data and check how it will be read. Drop a file anywhere on this page."

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.setAcceptDrops(True)
        self._preview_problem: Problem | None = None
        self._inspect_problem: Problem | None = None
        self._preview_key: tuple[str, str] | None = None
        self._loading = False
        self._task = state.config.task
        lay = QVBoxLayout(self.body)

        file_box = QGroupBox("Data file", self.body)
        file_lay = QVBoxLayout(file_box)
        row = QHBoxLayout()
        self.file_edit = QLineEdit(file_box)
        self.file_edit.setPlaceholderText("CSV, TSV, JSON, JSONL, Parquet or a saved datasets folder")
        self.file_edit.setToolTip(tip("data", "train_file"))
        self.browse_button = QPushButton("Choose file…", file_box)
        self.folder_button = QPushButton("Folder…", file_box)
        self.folder_button.setToolTip("A dataset saved with datasets' save_to_disk")
        self.demo_button = QPushButton("Use demo dataset", file_box)
        self.format_combo = QComboBox(file_box)
        self.format_combo.addItems(DATA_FORMATS)
        self.format_combo.setToolTip(tip("data", "format"))
        self.recent_button = RecentButton(file_box)
        self.recent_menu = self.recent_button.recent_menu
        for w in (self.file_edit, self.recent_button, self.browse_button, self.folder_button, self.demo_button,
                  self.format_combo):
            row.addWidget(w)
        row.setStretch(0, 1)
        file_lay.addLayout(row)
        self.file_error = InlineMessage(file_box)
        file_lay.addWidget(self.file_error)
        self.format_options = DataFormatOptions(state, file_box)  # separator, sheet, layout, template
        self.format_options.reread.connect(lambda: (setattr(self, "_preview_key", None), self._on_file()))
        file_lay.addWidget(self.format_options)
        self.table_model = PreviewTableModel(self)
        self.table = QTableView(file_box)
        self.table.setModel(self.table_model)
        self.table.setMinimumHeight(150)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        file_lay.addWidget(self.table, 1)
        self.preview_label = QLabel("", file_box)
        file_lay.addWidget(self.preview_label)
        lay.addWidget(file_box, 2)

        lower = QHBoxLayout()
        map_box = QGroupBox("Columns", self.body)
        self.map_form = QFormLayout(map_box)
        self.combos: dict[str, QComboBox] = {}
        self.combo_errors: dict[str, InlineMessage] = {}
        for key, label, help_name in (("text", "Text column:", "text_columns"), ("text2", "Second text (pairs):",
                                      "text_columns"), ("label", "Label column:", "label_column"),
                                      ("prompt", "Prompt column:", "prompt_column"),
                                      ("response", "Response column:", "response_column")):
            combo = QComboBox(map_box)
            combo.setToolTip(tip("data", help_name))
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._on_mapping)
            message = InlineMessage(map_box)
            holder = QWidget(map_box)
            hl = QVBoxLayout(holder)
            hl.setContentsMargins(0, 0, 0, 0)
            hl.addWidget(combo)
            hl.addWidget(message)
            self.map_form.addRow(label, holder)
            self.combos[key] = combo
            self.combo_errors[key] = message
        self.eval_spin = QDoubleSpinBox(map_box)
        self.eval_spin.setRange(0.01, 0.9)
        self.eval_spin.setSingleStep(0.05)
        self.eval_spin.setDecimals(2)
        self.eval_spin.setToolTip(tip("data", "eval_fraction"))
        self.eval_spin.valueChanged.connect(self._on_mapping)
        self.map_form.addRow("Eval fraction:", self.eval_spin)
        eval_row = QHBoxLayout()
        self.eval_file_edit = QLineEdit(map_box)
        self.eval_file_edit.setPlaceholderText("optional: a separate evaluation file")
        self.eval_file_edit.setToolTip(tip("data", "eval_file"))
        self.eval_file_button = QPushButton("Choose…", map_box)
        eval_row.addWidget(self.eval_file_edit, 1)
        eval_row.addWidget(self.eval_file_button)
        self.map_form.addRow("Eval file:", eval_row)
        self.eval_file_edit.editingFinished.connect(self._on_mapping)
        self.eval_file_button.clicked.connect(self._browse_eval)
        self.max_len_spin = QSpinBox(map_box)
        self.max_len_spin.setRange(8, 32768)
        self.max_len_spin.setToolTip(tip("data", "max_length"))
        self.max_len_spin.valueChanged.connect(self._on_mapping)
        self.map_form.addRow("Max tokens:", self.max_len_spin)
        lower.addWidget(map_box, 1)

        dist_box = QGroupBox("Labels and split", self.body)
        dist_lay = QVBoxLayout(dist_box)
        self.split_label = QLabel("—", dist_box)
        self.split_label.setWordWrap(True)
        self.dist_label = QLabel("", dist_box)
        self.dist_label.setTextFormat(Qt.TextFormat.RichText)
        self.dist_label.setWordWrap(True)
        self.warnings = InlineMessage(dist_box)
        dist_lay.addWidget(self.split_label)
        dist_lay.addWidget(self.dist_label)
        dist_lay.addWidget(self.warnings)
        dist_lay.addStretch(1)
        lower.addWidget(dist_box, 1)
        lay.addLayout(lower, 1)
        self.doctor_view = DataDoctorView(state, self.body)  # computed on the worker after each data check
        lay.addWidget(self.doctor_view, 1)
        self.task_fields = TaskFieldsBox(state, self.body)
        self.task_fields.changed.connect(self._on_mapping)
        lower.insertWidget(1, self.task_fields, 1)

        self._inspect_timer = QTimer(self, singleShot=True, interval=300)
        self._inspect_timer.timeout.connect(self._inspect)
        self.file_edit.editingFinished.connect(self._on_file)
        self.format_combo.currentIndexChanged.connect(self._on_file)
        self.browse_button.clicked.connect(self._browse)
        self.folder_button.clicked.connect(self._browse_folder)
        self.demo_button.clicked.connect(self.use_demo)
        state.config_changed.connect(self._on_config_changed)
        self._load(state.config)

    # ------------------------------------------------------------------ loading from the config
    def _classification(self) -> bool:
        return self.state.config.task == "text-classification"

    def _load(self, cfg: Any) -> None:
        self._loading = True
        if self.file_edit.text() != cfg.data.train_file:
            self.file_edit.setText(cfg.data.train_file)
        self.format_combo.setCurrentText(cfg.data.format)
        self.eval_spin.setValue(cfg.data.eval_fraction)
        self.eval_file_edit.setText(cfg.data.eval_file)
        self.max_len_spin.setValue(cfg.data.max_length)
        self.format_options.load(cfg)
        self._loading = False
        self._show_rows_for_task()
        self._on_file()

    def _on_config_changed(self, cfg: Any) -> None:
        if cfg.task != self._task:
            self._task = cfg.task
            demos = {str(paths.demo_classification_file()), str(paths.demo_causal_lm_file()), str(paths.demo_qa_file())}
            if cfg.data.train_file in demos and cfg.data.train_file != str(self._demo_file()):
                self.use_demo()  # the other task's demo data: switch to this task's demo
                return
        if (cfg.data.train_file, cfg.data.format) != (self.file_edit.text().strip(), self.format_combo.currentText()):
            self._load(cfg)
            return
        self._show_rows_for_task()
        if self._loading or self.state.data_preview is None:
            return
        d = cfg.data
        texts = tuple(c for c in (self.combos["text"].currentText(), self.combos["text2"].currentText())
                      if c and c != NONE)
        shown = (texts, self.combos["label"].currentText(), self.combos["prompt"].currentText(),
                 self.combos["response"].currentText(), self.eval_file_edit.text().strip(),
                 round(self.eval_spin.value(), 4), self.max_len_spin.value())
        wanted = (d.text_columns, d.label_column, d.prompt_column, d.response_column, d.eval_file,
                  d.eval_fraction, d.max_length)
        if shown != wanted:  # a loaded config or preset changed the mapping: show it, then re-check the data
            self._loading = True
            self.eval_spin.setValue(d.eval_fraction)
            self.eval_file_edit.setText(d.eval_file)
            self.max_len_spin.setValue(d.max_length)
            self._loading = False
            self._fill_combos(self.state.data_preview)
            self._on_mapping()

    def _show_rows_for_task(self) -> None:
        self.format_options.show_preview(self.state.data_preview)
        cls = self._classification()
        for key in ("text", "text2", "label"):
            self.map_form.setRowVisible(self.combos[key].parentWidget(), cls)
        for key in ("prompt", "response"):
            self.map_form.setRowVisible(self.combos[key].parentWidget(), self.state.config.task == "causal-lm")
        # the dataset doctor knows classification and causal LM only (QA/seq2seq: not yet)
        self.doctor_view.setVisible(self.state.config.task in ("text-classification", "causal-lm"))

    # ------------------------------------------------------------------ file choice
    def use_demo(self) -> None:
        """Fill in the bundled demo dataset for the current task."""
        demo = self._demo_file()
        self.file_edit.setText(str(demo))
        self.format_combo.setCurrentText("auto")
        self._on_file()

    def _demo_file(self) -> Path:
        if self.state.config.task == "question-answering":
            return paths.demo_qa_file()
        return paths.demo_classification_file() if self._classification() else paths.demo_causal_lm_file()

    def _browse(self) -> None:
        start = str(Path(self.file_edit.text()).parent) if self.file_edit.text() else ""
        file, _ = QFileDialog.getOpenFileName(self, "Choose training data", start, FILE_FILTER)
        if file:
            self.file_edit.setText(file)
            self._on_file()

    def _browse_eval(self) -> None:
        start = self.eval_file_edit.text() or str(Path(self.file_edit.text()).parent)
        file, _ = QFileDialog.getOpenFileName(self, "Choose evaluation data", start, FILE_FILTER)
        if file:
            self.eval_file_edit.setText(file)
            self._on_mapping()

    def set_recent(self, files: list[str]) -> None:
        """Offer recently used data files in the "Recent" menu."""
        self.recent_button.set_items(files, lambda p: (self.file_edit.setText(p), self._on_file()))

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a saved dataset folder", self.file_edit.text())
        if folder:
            self.file_edit.setText(folder)
            self._on_file()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.file_edit.setText(urls[0].toLocalFile())
            self._on_file()
            event.acceptProposedAction()

    def _on_file(self, *_: Any) -> None:
        if self._loading:
            return
        path, fmt = self.file_edit.text().strip(), self.format_combo.currentText()
        if (path, fmt) == self._preview_key:
            return
        self._preview_key = (path, fmt)
        self.state.update("data", train_file=path, format=fmt)
        self._preview_problem = None
        self.file_error.show_message(None)
        self.state.data_preview = None
        self.state.set_data_summary(None)
        self.table_model.set_preview(None)
        if not path:
            self.preview_label.setText("")
            self.complete_changed.emit()
            return
        self.preview_label.setText("Reading a preview…")
        self.state.submit("preview", jobs.preview, (path, fmt, *self.format_options.options(path)), self._on_preview,
                          self._on_preview_error)
        self.complete_changed.emit()

    def _on_preview_error(self, message: str, detail: str) -> None:
        self._on_preview(Problem(message))

    def _on_preview(self, result: Any) -> None:
        self.format_options.show_preview(None if isinstance(result, Problem) else result)
        if isinstance(result, Problem):
            self._preview_problem = result
            self.file_error.show_message(result.message)
            self.preview_label.setText("")
            self.complete_changed.emit()
            return
        self.state.data_preview = result
        self.table_model.set_preview(result)
        self.table.resizeColumnsToContents()
        for col in range(self.table_model.columnCount()):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), 420))
        shown = len(result.rows)
        self.preview_label.setText(f"{result.format.upper()}, {result.n_rows:,} rows, {len(result.columns)} columns"
                                   f" (first {shown} shown).")
        self._fill_combos(result)
        self.task_fields.refresh()
        self._on_mapping()

    # ------------------------------------------------------------------ column mapping
    def _fill_combos(self, prev: Any) -> None:
        d = self.state.config.data
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
        self._loading = True
        for key, combo in self.combos.items():
            combo.clear()
            if key == "text2":
                combo.addItems([NONE] + columns)
                combo.setCurrentText(choices[key] or NONE)
            else:
                combo.addItems(columns)
                combo.setCurrentIndex(columns.index(choices[key]) if choices[key] in columns else -1)
        self._loading = False

    def _on_mapping(self, *_: Any) -> None:
        if self._loading:
            return
        texts = tuple(c for c in (self.combos["text"].currentText(), self.combos["text2"].currentText())
                      if c and c != NONE)
        changes: dict[str, Any] = dict(eval_fraction=round(self.eval_spin.value(), 4),
                                       eval_file=self.eval_file_edit.text().strip(),
                                       max_length=self.max_len_spin.value())
        self.eval_spin.setEnabled(not changes["eval_file"])
        if self.state.data_preview is not None:
            changes.update(text_columns=texts, label_column=self.combos["label"].currentText(),
                           prompt_column=self.combos["prompt"].currentText(),
                           response_column=self.combos["response"].currentText())
            roles = {c: "text" for c in texts} if self._classification() else {}
            if self._classification() and changes["label_column"]:
                roles[changes["label_column"]] = "label"
            if self.state.config.task == "causal-lm":
                roles.update({changes["prompt_column"]: "prompt", changes["response_column"]: "response"})
            roles.update(self.task_fields.roles())
            self.table_model.set_roles({k: v for k, v in roles.items() if k})
        self.state.update("data", **changes)
        if self.state.data_preview is not None:
            self._inspect_problem = None
            self.state.set_data_summary(None)
            self._inspect_timer.start()
        self.complete_changed.emit()

    def _inspect(self) -> None:
        for msg in self.combo_errors.values():
            msg.show_message(None)
        self.split_label.setText("Checking the data with this mapping…")
        self.state.submit("inspect", jobs.inspect, (self.state.config,), self._on_summary,
                          lambda message, detail: self._on_summary(Problem(message)))

    def _on_summary(self, result: Any) -> None:
        if isinstance(result, Problem):
            self._inspect_problem = result
            self._place_problem(result)
            self.split_label.setText("—")
            self.dist_label.setText("")
            self.complete_changed.emit()
            return
        self.state.set_data_summary(result)
        self.split_label.setText(f"{result.n_train:,} training rows, {result.n_eval:,} evaluation rows.")
        self._show_distribution(result.label_counts)
        self.warnings.show_message("<br>".join(result.warnings) if result.warnings else None, "warning")
        self.complete_changed.emit()

    def _place_problem(self, problem: Problem) -> None:
        """Show a core problem next to the control it names (the column, or the field), else under the file."""
        target = None
        for key, combo in self.combos.items():
            if problem.column and combo.currentText() == problem.column and combo.isVisibleTo(self):
                target = key
                break
        field_keys = {"data.label_column": "label", "data.text_columns": "text", "data.prompt_column": "prompt",
                      "data.response_column": "response"}
        target = target or field_keys.get(problem.field)
        if target:
            self.combo_errors[target].show_message(problem.message)
        else:
            self.file_error.show_message(problem.message)

    def _show_distribution(self, counts: dict[str, int] | None) -> None:
        if not counts:
            self.dist_label.setText("")
            return
        top = max(counts.values())
        total = sum(counts.values())
        rows = "".join(
            f"<tr><td>{name}</td><td align='right'>&nbsp;{n:,}&nbsp;</td>"
            f"<td><span style='color:#268bd2'>{'█' * max(1, round(20 * n / top))}</span>"
            f" {100 * n / total:.0f}%</td></tr>"
            for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:20])
        more = f"<br>… and {len(counts) - 20} more labels" if len(counts) > 20 else ""
        self.dist_label.setText(f"<table>{rows}</table>{more}")

    # ------------------------------------------------------------------ validation
    def problem(self) -> str | None:
        if not self.file_edit.text().strip():
            return "Choose a training data file, drop one here, or use the demo dataset."
        if self._preview_problem:
            return self._preview_problem.message
        if self.state.data_preview is None:
            return "Reading a preview of the data…"
        if self._inspect_problem:
            return self._inspect_problem.message
        if self.state.data_summary is None:
            return "Checking the data with this column mapping…"
        return None
