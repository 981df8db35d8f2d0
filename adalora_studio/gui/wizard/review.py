"""Wizard page 5: what will run, the config file exactly as it will be saved, the CLI equivalent."""

from __future__ import annotations

import html
import shlex
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core import paths
from ...core.config import save_config, validate_config
from ...core.errors import StudioError
from .page import InlineMessage, WizardPage, human_count
from .state import WizardState


def cli_command(config_file: str) -> str:
    """The shell command that runs a saved config headless."""
    return f"adalora-studio train {shlex.quote(config_file)}"


class ReviewPage(WizardPage):
    """Summary, config JSON, Save config…, Copy CLI command."""

    title = "Review"
    subtitle = "This is what will run. The same file runs from the command line."
    saved = Signal(str)
    """A config file was written (its path)."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.saved_path: str = ""
        lay = QHBoxLayout(self.body)
        left = QVBoxLayout()
        summary_box = QGroupBox("Summary", self.body)
        sl = QVBoxLayout(summary_box)
        self.summary = QLabel("", summary_box)
        self.summary.setWordWrap(True)
        sl.addWidget(self.summary)
        sl.addStretch(1)
        left.addWidget(summary_box, 1)
        self.errors = InlineMessage(self.body)
        left.addWidget(self.errors)
        from ..compare.baseline_option import BaselineOption

        self.baseline = BaselineOption(self.body)  # "Also train a LoRA baseline at the same budget"
        left.addWidget(self.baseline)
        lay.addLayout(left, 2)

        right = QVBoxLayout()
        cfg_box = QGroupBox("Config file", self.body)
        cl = QVBoxLayout(cfg_box)
        self.json_view = QPlainTextEdit(cfg_box)
        self.json_view.setReadOnly(True)
        self.json_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.json_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        cl.addWidget(self.json_view, 1)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save config…", cfg_box)
        self.copy_button = QPushButton("Copy CLI command", cfg_box)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        cl.addLayout(buttons)
        self.cli_label = QLabel("", cfg_box)
        self.cli_label.setWordWrap(True)
        cl.addWidget(self.cli_label)
        right.addWidget(cfg_box, 1)
        lay.addLayout(right, 3)

        self.save_button.clicked.connect(self.save_dialog)
        self.copy_button.clicked.connect(self.copy_command)
        state.config_changed.connect(lambda _cfg: self.refresh())
        self.refresh()

    def entered(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Re-render the summary and JSON from the state."""
        cfg = self.state.config
        self.json_view.setPlainText(cfg.to_json())
        problems = [str(e) for e in validate_config(cfg)] + [p for p in (self._folder_problem(),) if p]
        self.errors.show_message("<br>".join(html.escape(p) for p in problems) if problems else None)
        info, summary = self.state.model_info, self.state.data_summary
        bundled = cfg.model.source == "bundled"
        model = "all-MiniLM-L6-v2 (bundled)" if bundled else f"{cfg.model.source}: {cfg.model.path}"
        if info is not None:
            model += f" — {info.architecture}, {human_count(info.n_params)} parameters"
        rows = [("Task", cfg.task), ("Model", model), ("Data", cfg.data.train_file)]
        if summary is not None:
            labels = f", {len(summary.label_names)} labels" if summary.label_names else ""
            rows.append(("Rows", f"{summary.n_train:,} train, {summary.n_eval:,} eval{labels}"))
        b = cfg.budget
        if b.budget_mode == "ranks":
            budget = f"init_r {b.init_r} → target_r {b.target_r}"
        else:
            unit = "% of model parameters" if b.budget_mode == "percent" else " parameters"
            budget = f"{b.budget_value:g}{unit} kept"
        rows.append(("Budget", f"{budget}; tinit {b.tinit:g}, tfinal {b.tfinal:g}, ΔT {b.delta_t}"))
        rows.append(("Matrices", ", ".join(b.target_modules) if b.target_modules else "the model's default set"))
        t = cfg.training
        length = f"{t.max_steps} steps" if t.max_steps else f"{t.epochs:g} epochs"
        rows.append(("Training", f"{length}, batch {t.batch_size} × {t.grad_accum}, lr {t.learning_rate:g} "
                                 f"({t.scheduler}), seed {t.seed}, device {t.device}, precision {t.precision}"))
        rows.append(("Run folder", str(Path(cfg.output_dir or paths.runs_dir()) / f"{cfg.name}-<time>")))
        self.summary.setText("<table cellspacing=4>" + "".join(
            f"<tr><td valign=top><b>{k}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>")
        self.cli_label.setText(f"CLI: <code>{html.escape(cli_command(self._config_file()))}</code>"
                               + ("" if self.saved_path else " (save the config first)"))
        self.complete_changed.emit()

    def save_to(self, path: str) -> None:
        """Write the config to ``path`` (JSON, or YAML for .yaml/.yml)."""
        try:
            save_config(self.state.config, path)
        except (OSError, StudioError) as exc:
            self.errors.show_message(f"Could not save {path}: {exc}")
            return
        self.saved_path = path
        self.refresh()
        self.saved.emit(path)

    def save_dialog(self) -> None:
        """Ask where to save the config, then save it."""
        start = self.saved_path or str(paths.data_dir() / f"{self.state.config.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save run config", start, "Run config (*.json *.yaml *.yml)")
        if path:
            self.save_to(path)

    def copy_command(self) -> None:
        """Copy ``adalora-studio train <file>`` to the clipboard (the saved file, else a placeholder name)."""
        QGuiApplication.clipboard().setText(cli_command(self._config_file()))
        self.cli_label.setText(self.cli_label.text() + " — copied.")

    def _config_file(self) -> str:
        return self.saved_path or f"{self.state.config.name}.json"

    def problem(self) -> str | None:
        problems = validate_config(self.state.config)
        return str(problems[0]) if problems else self._folder_problem()

    def _folder_problem(self) -> str | None:
        """The runs folder must be writable and hold the run's checkpoints and adapter (checked, not assumed)."""
        from ...core.training.disk import output_folder_problem
        from .budget import compute_plan

        cfg, info, summary = self.state.config, self.state.model_info, self.state.data_summary
        trainable = 0
        if info is not None and summary is not None:
            try:
                trainable = compute_plan(cfg, summary.n_train, info)[0].trainable_init
            except StudioError:
                pass  # the budget page shows that problem; the folder is still checked
        problem = output_folder_problem(cfg, trainable)
        return f"output_dir: {problem}" if problem else None
