"""Wizard page 1: the task and the base model, with the model's adaptable matrices discovered off the GUI thread."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ...core.config import ModelConfig
from . import jobs
from .bundled_models import bundled_model_for, bundled_problem, bundled_text, gguf_start_dir, is_bundled_choice
from .page import InlineMessage, WizardPage, human_count, tip
from .recent_button import RecentButton
from .state import WizardState

BUNDLED_TEXT = (
    "<b>all-MiniLM-L6-v2</b>, a 22.7M-parameter BERT sentence encoder (6 layers, hidden size 384), bundled "
    "with AdaLoRA Studio and usable offline. Small enough to fine-tune on a laptop CPU in minutes."
)
TASK_TEXT = {
    "text-classification": "Sort texts into labels (e.g. support tickets by topic).",
    "causal-lm": "Teach a language model to continue prompts with the responses in your data.",
    "question-answering": "Find the answer to a question as a span of a passage (SQuAD-style data).",
    "seq2seq": "Turn a source text into a target text with an encoder-decoder model (BART, T5).",
}


class _HubProbe(QObject):
    """Checks in a short-lived thread whether the hub can be reached; reports on the GUI thread.

    The probe has no parent and is kept alive (in :data:`_LIVE_PROBES`) until its answer was delivered, so the
    thread always emits on a live object, however slowly the network answers. Its ``done`` signal is connected
    to a method of the page: Qt drops that connection when the page is deleted, so a late answer reaches nobody
    (it used to be a child of the page, which the thread could emit on while the page was being deleted).
    """

    done = Signal(object)  # str reason or None

    def start(self) -> None:
        _LIVE_PROBES.add(self)
        self.done.connect(self._finished)
        threading.Thread(target=self._probe, daemon=True, name="hub-probe").start()

    def _probe(self) -> None:
        self.done.emit(jobs.hub_unavailable_reason())

    def _finished(self, _reason: object) -> None:
        _LIVE_PROBES.discard(self)
        self.deleteLater()


_LIVE_PROBES: set[_HubProbe] = set()
"""Probes whose thread has not answered yet (owned here, not by a page)."""


class TaskModelPage(WizardPage):
    """Task (classification / causal LM) and model source (bundled, folder, GGUF, hub)."""

    title = "Task & model"
    subtitle = "What should the model learn, and which model should learn it?"

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self._error: str | None = None
        self._loading = False
        self._model_key: tuple[ModelConfig, str] | None = None
        self._hub_reason: str | None = "checking whether the model hub can be reached…"
        lay = QVBoxLayout(self.body)

        task_box = QGroupBox("Task", self.body)
        task_lay = QVBoxLayout(task_box)
        self.task_group = QButtonGroup(self)
        self.task_buttons: dict[str, QRadioButton] = {}
        for task, label in (("text-classification", "Text classification"), ("causal-lm", "Causal language model"),
                            ("question-answering", "Question answering"), ("seq2seq", "Sequence to sequence")):
            button = QRadioButton(f"{label} — {TASK_TEXT[task]}", task_box)
            button.setToolTip(tip("", "task"))
            self.task_group.addButton(button)
            self.task_buttons[task] = button
            task_lay.addWidget(button)
        lay.addWidget(task_box)

        src_box = QGroupBox("Model", self.body)
        grid = QGridLayout(src_box)
        grid.setColumnStretch(1, 1)
        self.source_group = QButtonGroup(self)
        self.source_buttons: dict[str, QRadioButton] = {}
        for row, (source, label) in enumerate((("bundled", "Bundled"), ("folder", "Local folder"),
                                               ("gguf", "GGUF file"), ("hub", "Hub id"))):
            button = QRadioButton(label, src_box)
            button.setToolTip(tip("model", "source"))
            self.source_group.addButton(button)
            self.source_buttons[source] = button
            grid.addWidget(button, row, 0, Qt.AlignmentFlag.AlignTop)
        self.bundled_label = QLabel(BUNDLED_TEXT, src_box)
        self.bundled_label.setWordWrap(True)
        grid.addWidget(self.bundled_label, 0, 1, 1, 2)
        self.folder_edit = QLineEdit(src_box)
        self.folder_edit.setPlaceholderText("A folder with config.json, tokenizer and *.safetensors")
        self.folder_button = QPushButton("Choose folder…", src_box)
        self.recent_button = RecentButton(src_box)
        self.recent_menu = self.recent_button.recent_menu
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.recent_button)
        grid.addLayout(folder_row, 1, 1)
        grid.addWidget(self.folder_button, 1, 2)
        self.gguf_edit = QLineEdit(src_box)
        self.gguf_edit.setPlaceholderText("A .gguf model file")
        self.gguf_button = QPushButton("Choose file…", src_box)
        grid.addWidget(self.gguf_edit, 2, 1)
        grid.addWidget(self.gguf_button, 2, 2)
        self.hub_edit = QLineEdit(src_box)
        self.hub_edit.setPlaceholderText("organisation/model, e.g. bert-base-uncased")
        grid.addWidget(self.hub_edit, 3, 1, 1, 2)
        self.hub_note = InlineMessage(src_box)
        grid.addWidget(self.hub_note, 4, 1, 1, 2)
        for edit in (self.folder_edit, self.gguf_edit, self.hub_edit):
            edit.setToolTip(tip("model", "path"))
        self.source_error = InlineMessage(src_box)
        grid.addWidget(self.source_error, 5, 0, 1, 3)
        lay.addWidget(src_box)

        info_box = QGroupBox("What AdaLoRA can adapt in this model", self.body)
        form = QFormLayout(info_box)
        self.arch_label = QLabel("—", info_box)
        self.params_label = QLabel("—", info_box)
        self.matrices_label = QLabel("—", info_box)
        self.matrices_label.setWordWrap(True)
        self.matrices_label.setTextFormat(Qt.TextFormat.RichText)
        form.addRow("Architecture:", self.arch_label)
        form.addRow("Parameters:", self.params_label)
        form.addRow("Adaptable matrices:", self.matrices_label)
        lay.addWidget(info_box)
        lay.addStretch(1)

        self._discover_timer = QTimer(self, singleShot=True, interval=350)
        self._discover_timer.timeout.connect(self._discover)
        self.task_group.buttonToggled.connect(self._on_edit)
        self.source_group.buttonToggled.connect(self._on_edit)
        for edit in (self.folder_edit, self.gguf_edit, self.hub_edit):
            edit.textEdited.connect(self._on_edit)
        self.folder_button.clicked.connect(self._choose_folder)
        self.gguf_button.clicked.connect(self._choose_gguf)
        probe = _HubProbe()  # no parent: it outlives the page if the network is slow
        probe.done.connect(self._on_hub_probe)
        probe.start()
        self._show_hub_state()
        self._load(state.config)
        state.config_changed.connect(self._on_config_changed)

    # ------------------------------------------------------------------ config <-> widgets
    def _load(self, cfg: Any) -> None:
        self._loading = True
        self.task_buttons.get(cfg.task, self.task_buttons["text-classification"]).setChecked(True)
        source = "bundled" if is_bundled_choice(cfg.model, cfg.task) else cfg.model.source
        self.source_buttons.get(source, self.source_buttons["bundled"]).setChecked(True)
        edit = {"folder": self.folder_edit, "gguf": self.gguf_edit, "hub": self.hub_edit}.get(source)
        if edit is not None and edit.text() != cfg.model.path:
            edit.setText(cfg.model.path)
        self._loading = False
        self._sync_enabled()
        if source == "bundled" and self._model_cfg() != cfg.model:  # "bundled" means this task's bundled model
            self.state.update("", model=self._model_cfg())
        self._model_key = None
        self._discover_timer.start()

    def _on_config_changed(self, cfg: Any) -> None:
        if (cfg.task, cfg.model) != (self._task(), self._model_cfg()):
            self._load(cfg)

    def _task(self) -> str:
        return next((t for t, b in self.task_buttons.items() if b.isChecked()), "text-classification")

    def _source(self) -> str:
        return next((s for s, b in self.source_buttons.items() if b.isChecked()), "bundled")

    def _model_cfg(self) -> ModelConfig:
        source = self._source()
        path = {"folder": self.folder_edit, "gguf": self.gguf_edit, "hub": self.hub_edit}.get(source)
        old = self.state.config.model
        if source == "bundled":
            return bundled_model_for(self._task(), old)
        return dataclasses.replace(old, source=source, path=path.text().strip() if path else "")

    def _on_edit(self, *_: Any) -> None:
        if self._loading:
            return
        self._sync_enabled()
        self.state.update("", task=self._task(), model=self._model_cfg())
        self._discover_timer.start()

    def _sync_enabled(self) -> None:
        source = self._source()
        self.bundled_label.setText(bundled_text(self._task()))
        self.folder_edit.setEnabled(source == "folder")
        self.recent_button.setEnabled(bool(self.recent_menu.actions()))
        self.folder_button.setEnabled(source == "folder")
        self.gguf_edit.setEnabled(source == "gguf")
        self.gguf_button.setEnabled(source == "gguf")
        self.hub_edit.setEnabled(source == "hub" and self._hub_reason is None)

    def set_recent(self, models: list[str]) -> None:
        """Offer recently used model folders, .gguf files and hub ids in the "Recent" menu."""
        self.recent_button.set_items(models, self._use_recent)

    def _use_recent(self, path: str) -> None:
        source = "gguf" if path.lower().endswith(".gguf") else "folder" if Path(path).is_dir() else "hub"
        {"gguf": self.gguf_edit, "folder": self.folder_edit, "hub": self.hub_edit}[source].setText(path)
        self.source_buttons[source].setChecked(True)
        self._on_edit()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)
            self._on_edit()

    def _choose_gguf(self) -> None:
        start = gguf_start_dir(self.gguf_edit.text())
        file, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", start, "GGUF models (*.gguf)")
        if file:
            self.gguf_edit.setText(file)
            self._on_edit()

    # ------------------------------------------------------------------ hub reachability
    def _on_hub_probe(self, reason: str | None) -> None:
        if not isValid(self):  # the page was deleted while the probe ran
            return
        self._hub_reason = reason
        self._show_hub_state()
        self._sync_enabled()
        self.complete_changed.emit()

    def _show_hub_state(self) -> None:
        if self._hub_reason:
            self.hub_note.show_message(f"Hub models are unavailable: {self._hub_reason}.", "info")
        else:
            self.hub_note.show_message(None)

    # ------------------------------------------------------------------ discovery (worker)
    def _discover(self) -> None:
        model_cfg, task = self._model_cfg(), self._task()
        key = (model_cfg, task)
        if key == self._model_key:
            return
        self._model_key = key
        self._error = None
        self.source_error.show_message(None)
        self.state.set_model_info(None)
        self._show_info(None)
        if model_cfg.source != "bundled" and not model_cfg.path:
            self.complete_changed.emit()
            return
        if model_cfg.source == "hub" and self._hub_reason:
            self.complete_changed.emit()
            return
        self.arch_label.setText("Reading the model's configuration…")
        self.state.submit("describe", jobs.describe, (model_cfg, task), self._on_info, self._on_error)
        self.complete_changed.emit()

    def _on_info(self, info: Any) -> None:
        self._show_info(info)
        self.state.set_model_info(info)
        self.complete_changed.emit()

    def _on_error(self, message: str, detail: str) -> None:
        self._error = message
        self.source_error.show_message(message)
        self.arch_label.setText("—")
        self.complete_changed.emit()

    def _show_info(self, info: Any) -> None:
        if info is None:
            for label in (self.arch_label, self.params_label, self.matrices_label):
                label.setText("—")
            return
        self.arch_label.setText(f"{info.architecture} ({info.model_type}, {info.n_layers} layers)")
        self.params_label.setText(f"{info.n_params:,} ({human_count(info.n_params)})")
        counts = Counter(m.matrix_type for m in info.matrices)
        shapes: dict[str, str] = {}
        for m in info.matrices:
            shapes.setdefault(m.matrix_type, f"{m.in_features}→{m.out_features}")
        default = {m.matrix_type for m in info.matrices if m.module in set(info.default_targets)}
        parts = [f"{'<b>' if t in default else ''}{t}{'</b>' if t in default else ''} ×{n} ({shapes[t]})"
                 for t, n in counts.items()]
        self.matrices_label.setText(
            f"{len(info.matrices)} matrices: " + ", ".join(parts) + "<br><i>Bold: adapted by default.</i>")

    # ------------------------------------------------------------------ validation
    def problem(self) -> str | None:
        model_cfg = self._model_cfg()
        if bundled_problem(model_cfg, self._task()):
            return bundled_problem(model_cfg, self._task())
        if model_cfg.source == "folder" and not model_cfg.path:
            return "Choose a model folder."
        if model_cfg.source == "gguf" and not model_cfg.path:
            return "Choose a .gguf model file."
        if model_cfg.source == "gguf" and not model_cfg.path.lower().endswith(".gguf"):
            return "A GGUF model path must end in .gguf."
        if model_cfg.source == "hub" and self._hub_reason:
            return f"Hub models are unavailable: {self._hub_reason}."
        if model_cfg.source == "hub" and not model_cfg.path:
            return "Type a hub id such as organisation/model."
        if self._error:
            return self._error
        if self.state.model_info is None:
            return "Reading the model's configuration…"
        return None
