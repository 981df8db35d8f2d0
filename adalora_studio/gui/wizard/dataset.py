"""Wizard page 2: the dataset — file (picker, drag-and-drop, demo), preview, column mapping, labels, eval split.

The page is a stack of sections in ``self.sections`` (file and preview, then columns beside labels and split);
another section (e.g. a data doctor) is added with :meth:`DatasetPage.add_section`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core import paths
from ...core.config import DATA_FORMATS, advise_config
from ..labels import for_gui
from . import jobs
from .data_doctor_view import DataDoctorView
from .data_format_options import DataFormatOptions
from .dataset_columns import NONE, ColumnsBox, reading_choices
from .dataset_split import LabelsSplitBox
from .jobs import Problem
from .page import InlineMessage, WizardPage, tip
from .preview_model import PreviewTableModel
from .recent_button import RecentButton
from .run_name import DEFAULT_NAMES, demo_name, run_name_for
from .state import WizardState
from .task_fields import TaskFieldsBox

FILE_FILTER = ("Data files (*.csv *.tsv *.json *.jsonl *.parquet *.xlsx *.txt *.gz *.bz2 *.xz *.zst);;"
               "All files (*)")
NAMED_FIELDS = ("data.label_column", "data.text_columns", "data.prompt_column", "data.response_column")
__all__ = ["DatasetPage", "NONE", "run_name_for"]


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
        self._checked_format = ("", "", "")  # (chat_format, template, text_mode) of the last data check
        self._shown_eval = (-1.0, -1.0)
        """(what the eval-fraction box shows, the config's value): a value the box cannot show (1.5 from a file)
        is kept as it is until the user changes the box, so it is reported, never clamped."""
        self.sections = QVBoxLayout(self.body)
        self.sections.addWidget(self._build_file_box(), 2)
        lower = QHBoxLayout()
        self.columns_box = ColumnsBox(self.body)
        self.split_box = LabelsSplitBox(self.body)
        lower.addWidget(self.columns_box, 1)
        lower.addWidget(self.split_box, 1)
        self.sections.addLayout(lower, 1)
        self.doctor_view = DataDoctorView(state, self.body)  # computed on the worker after each data check
        self.add_section(self.doctor_view, 1)
        self.task_fields = TaskFieldsBox(state, self.body)
        self.task_fields.changed.connect(self._on_mapping)
        lower.insertWidget(1, self.task_fields, 1)
        # The names tests and other code use (the boxes own the widgets).
        cb, sb = self.columns_box, self.split_box
        self.map_form, self.combos, self.combo_errors = cb.form, cb.combos, cb.combo_errors
        self.eval_spin, self.eval_file_edit, self.eval_file_button = cb.eval_spin, cb.eval_file_edit, \
            cb.eval_file_button
        self.eval_file_error, self.eval_advice, self.max_len_spin = cb.eval_file_error, cb.eval_advice, \
            cb.max_len_spin
        self.split_label, self.dist_label, self.warnings = sb.split_label, sb.dist_label, sb.warnings

        for combo in self.combos.values():
            combo.currentIndexChanged.connect(self._on_mapping)
        self.eval_spin.valueChanged.connect(self._on_mapping)
        self.eval_file_edit.editingFinished.connect(self._on_mapping)
        self.eval_file_button.clicked.connect(self._browse_eval)
        self.max_len_spin.valueChanged.connect(self._on_mapping)
        self._inspect_timer = QTimer(self, singleShot=True, interval=300)
        self._inspect_timer.timeout.connect(self._inspect)
        self.file_edit.editingFinished.connect(self._on_file)
        self.format_combo.currentIndexChanged.connect(self._on_file)
        self.browse_button.clicked.connect(self._browse)
        self.folder_button.clicked.connect(self._browse_folder)
        self.demo_button.clicked.connect(self.use_demo)
        state.config_changed.connect(self._on_config_changed)
        self._load(state.config)

    def _build_file_box(self) -> QGroupBox:
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
        self.format_options = DataFormatOptions(self.state, file_box)  # separator, sheet, layout, template
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
        return file_box

    def add_section(self, widget: QWidget, stretch: int = 0) -> None:
        """Add a section (a group box) below the columns and the split."""
        self.sections.addWidget(widget, stretch)

    # ------------------------------------------------------------------ loading from the config
    def _classification(self) -> bool:
        return self.state.config.task == "text-classification"

    def _load(self, cfg: Any) -> None:
        self._loading = True
        if self.file_edit.text() != cfg.data.train_file:
            self.file_edit.setText(cfg.data.train_file)
        self.format_combo.setCurrentText(cfg.data.format)
        self._set_eval_fraction(cfg.data.eval_fraction)
        self.eval_file_edit.setText(cfg.data.eval_file)
        self.max_len_spin.setValue(cfg.data.max_length)
        self.format_options.load(cfg)
        self._loading = False
        self._show_rows_for_task()
        self._on_file()

    def _on_config_changed(self, cfg: Any) -> None:
        task_changed = cfg.task != self._task
        if task_changed:
            self._task = cfg.task
            demos = {str(paths.demo_classification_file()), str(paths.demo_causal_lm_file()), str(paths.demo_qa_file())}
            if cfg.data.train_file in demos and cfg.data.train_file != str(self._demo_file()):
                self.use_demo()  # the other task's demo data: switch to this task's demo
                return
        if (cfg.data.train_file, cfg.data.format) != (self.file_edit.text().strip(), self.format_combo.currentText()):
            self._load(cfg)
            return
        self._show_rows_for_task()
        self._show_advice()
        if self._loading or self.state.data_preview is None:
            return
        d = cfg.data
        shown = (self.columns_box.texts(), self.combos["label"].currentText(), self.columns_box.mapped("prompt"),
                 self.columns_box.mapped("response"), self.eval_file_edit.text().strip(),
                 self._eval_fraction(), self.max_len_spin.value(), self._checked_format)
        wanted = (d.text_columns, d.label_column, d.prompt_column, d.response_column, d.eval_file,
                  d.eval_fraction, d.max_length, reading_choices(d))
        if shown != wanted or task_changed:
            # A loaded config or preset changed the mapping, or the task changed what the data must hold:
            # show it, then check the data again (a classification file is no causal-LM data, and vice versa).
            self._loading = True
            self._set_eval_fraction(d.eval_fraction)
            self.eval_file_edit.setText(d.eval_file)
            self.max_len_spin.setValue(d.max_length)
            self._loading = False
            self._fill_combos(self.state.data_preview)
            self._on_mapping()

    def _set_eval_fraction(self, value: float) -> None:
        self.eval_spin.setValue(value)
        self._shown_eval = (round(self.eval_spin.value(), 4), value)

    def _eval_fraction(self) -> float:
        shown = round(self.eval_spin.value(), 4)
        return self._shown_eval[1] if shown == self._shown_eval[0] else shown

    def _show_rows_for_task(self) -> None:
        self.format_options.show_preview(self.state.data_preview)
        self.columns_box.show_rows_for_task(self.state.config.task, self.state.data_preview,
                                            self.state.config.data.chat_format)
        self.doctor_view.setVisible(True)  # the doctor knows every task (QA windows, seq2seq source/target lengths)

    # ------------------------------------------------------------------ file choice
    def use_demo(self) -> None:
        """Fill in the bundled demo dataset for the current task."""
        self.file_edit.setText(str(self._demo_file()))
        self.format_combo.setCurrentText("auto")
        self._on_file()

    def _demo_file(self) -> Path:
        if self.state.config.task == "question-answering":
            return paths.demo_qa_file()
        return paths.demo_classification_file() if self._classification() else paths.demo_causal_lm_file()

    def _browse(self) -> None:
        start = str(Path(self.file_edit.text()).parent) if self.file_edit.text() else str(Path.home())
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
        old_file = self._preview_key[0] if self._preview_key else self.state.config.data.train_file
        self._preview_key = (path, fmt)
        self.state.update("data", train_file=path, format=fmt)
        self._rename_for(path, old_file)
        self._preview_problem = self._inspect_problem = None
        self.file_error.show_message(None)
        self.columns_box.clear_messages()
        self.split_box.clear()
        self.state.data_preview = None
        self._show_rows_for_task()
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

    def _rename_for(self, path: str, old_file: str) -> None:
        """Name the run after its data unless the user typed a name of their own."""
        name = self.state.config.name
        if path and (name in DEFAULT_NAMES or name == run_name_for(old_file) or name == demo_name(old_file)):
            self.state.update("", name=demo_name(path) or run_name_for(path))

    def _on_preview_error(self, message: str, detail: str) -> None:
        self._on_preview(Problem(message))

    def _on_preview(self, result: Any) -> None:
        if isinstance(result, Problem):
            self._preview_problem = result
            self.file_error.show_message(for_gui(result.message))
            self.preview_label.setText("")
            self.split_box.clear()
            self.complete_changed.emit()
            return
        self.state.data_preview = result
        self.table_model.set_preview(result)
        shown, n_cols = len(result.rows), len(result.columns)
        self.preview_label.setText(f"{result.format.upper()}, {result.n_rows:,} row{'' if result.n_rows == 1 else 's'}"
                                   f", {n_cols} column{'' if n_cols == 1 else 's'} (first {shown} shown).")
        self._show_rows_for_task()
        self._fill_combos(result)
        self.task_fields.refresh()
        self._on_mapping()
        self.table.resizeColumnsToContents()  # after the roles are in the header
        for col in range(self.table_model.columnCount()):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), 420))

    # ------------------------------------------------------------------ column mapping
    def _fill_combos(self, prev: Any) -> None:
        self._loading = True
        self.columns_box.fill(prev, self.state.config.data)
        self._loading = False

    def _on_mapping(self, *_: Any) -> None:
        if self._loading:
            return
        changes: dict[str, Any] = dict(eval_fraction=self._eval_fraction(),
                                       eval_file=self.eval_file_edit.text().strip(),
                                       max_length=self.max_len_spin.value())
        self.eval_spin.setEnabled(not changes["eval_file"])
        if self.state.data_preview is not None:
            changes.update(text_columns=self.columns_box.texts(), label_column=self.combos["label"].currentText(),
                           prompt_column=self.columns_box.mapped("prompt"),
                           response_column=self.columns_box.mapped("response"))
            roles = {**self.columns_box.roles(self.state.config.task), **self.task_fields.roles()}
            self.table_model.set_roles({k: v for k, v in roles.items() if k})
        self.state.update("data", **changes)
        self._checked_format = reading_choices(self.state.config.data)
        self._show_advice()
        if self.state.data_preview is not None:
            self._inspect_problem = None
            self.columns_box.clear_messages()
            self.split_box.clear("Checking the data with this mapping…")
            self.state.set_data_summary(None)
            self._inspect_timer.start()
        self.complete_changed.emit()

    def _show_advice(self) -> None:
        advice = [a for a in advise_config(self.state.config) if a.field == "data.eval_fraction"]
        self.eval_advice.show_message(advice[0].message if advice else None, "warning")

    def _inspect(self) -> None:
        self.columns_box.clear_messages()
        self.split_box.clear("Checking the data with this mapping…")
        self.state.submit("inspect", jobs.inspect, (self.state.config,), self._on_summary,
                          lambda message, detail: self._on_summary(Problem(message)))

    def _on_summary(self, result: Any) -> None:
        if isinstance(result, Problem):
            self._inspect_problem = self._place_problem(result)
            self.split_box.clear()
            self.complete_changed.emit()
            return
        self.state.set_data_summary(result)
        self.split_box.show_summary(result, self._classification())
        self.complete_changed.emit()

    def _place_problem(self, problem: Problem) -> Problem:
        """Show a core problem next to the control it names (a column, the eval file, a field), else under the
        file; returns it as the page reports it (with the GUI's labels)."""
        eval_file = self.state.config.data.eval_file
        if eval_file and (problem.field == "data.eval_file" or problem.message.startswith(eval_file)):
            problem = Problem(f"Eval file: {for_gui(problem.message)}", problem.column, problem.row, problem.field)
            self.eval_file_error.show_message(problem.message)
            return problem
        field = problem.field or next((k for k in NAMED_FIELDS if k in problem.message), "")  # "set data.x to …"
        problem = Problem(for_gui(problem.message), problem.column, problem.row, field)
        target = self.columns_box.target_for(problem.column, field)
        if target:
            self.combo_errors[target].show_message(problem.message)
        else:
            self.file_error.show_message(problem.message)
        return problem

    # ------------------------------------------------------------------ validation
    def problem(self) -> str | None:
        if not self.file_edit.text().strip():
            return "Choose a training data file, drop one here, or use the demo dataset."
        if self._preview_problem:
            return for_gui(self._preview_problem.message)
        if self.state.data_preview is None:
            return "Reading a preview of the data…"
        if self._inspect_problem:
            return self._inspect_problem.message
        if self.state.data_summary is None:
            return "Checking the data with this column mapping…"
        return None
