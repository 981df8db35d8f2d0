"""Wizard page 5: what will run, the config file exactly as it will be saved, the CLI equivalent, a measured
check of time and memory (Check resources) and the cluster hand-off (Export launch files…)."""

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
from ...core.config import advise_config, load_config, save_config, validate_config
from ...core.errors import StudioError
from ..labels import for_gui
from .launch_export import LaunchExport
from .page import InlineMessage, WizardPage, human_count
from .qa_windows import planning_rows
from .resource_check import ResourceCheck
from .state import WizardState


def cli_command(config_file: str) -> str:
    """The shell command that runs a saved config headless (the file's absolute path, so it runs anywhere)."""
    return f"adalora-studio train {shlex.quote(str(Path(config_file).expanduser().resolve()))}"


def configs_dir() -> Path:
    """Where "Copy CLI command" saves a config that was not saved yet."""
    return paths.data_dir() / "configs"


class ReviewPage(WizardPage):
    """Summary, config JSON, Save config…, Copy CLI command."""

    title = "Review"
    subtitle = "This is what will run. The same file runs from the command line."
    saved = Signal(str)
    """A config file was written (its path)."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self._saved_path = ""
        self._saved_config: object = None
        lay = QHBoxLayout(self.body)
        lay.addLayout(self._build_left(), 2)
        lay.addLayout(self._build_config_box(), 3)
        self.save_button.clicked.connect(self.save_dialog)
        self.copy_button.clicked.connect(self.copy_command)
        state.config_changed.connect(lambda _cfg: self.refresh())
        state.windows_changed.connect(lambda _count: self.refresh())
        self.refresh()

    def _build_left(self) -> QVBoxLayout:
        """Summary, problems, the LoRA baseline option, advice and Check resources."""
        from ..compare.baseline_option import BaselineOption

        left = QVBoxLayout()
        summary_box = QGroupBox("Summary", self.body)
        sl = QVBoxLayout(summary_box)
        self.summary = QLabel("", summary_box)
        self.summary.setWordWrap(True)
        sl.addWidget(self.summary)
        sl.addStretch(1)
        left.addWidget(summary_box)
        self.errors = InlineMessage(self.body)
        left.addWidget(self.errors)
        self.baseline = BaselineOption(self.body)  # "Also train a LoRA baseline at the same budget"
        left.addWidget(self.baseline)
        self.advice = InlineMessage(self.body)
        self.advice.setObjectName("reviewAdvice")
        left.addWidget(self.advice)
        self.resources = ResourceCheck(self.state, self.body)
        left.addWidget(self.resources)
        left.addStretch(1)
        return left

    def _build_config_box(self) -> QVBoxLayout:
        """The config file as it will be saved, Save config…, Copy CLI command; the launch files under it (the
        config view gives up the height they need: it scrolls)."""
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
        self.launch_export = LaunchExport(self.state, self.body)
        right.addWidget(self.launch_export)
        return right

    def _windows(self) -> str:
        """Question answering: the training windows the engine trains on (what the step count comes from)."""
        if self.state.config.task != "question-answering":
            return ""
        n_windows, note = planning_rows(self.state)
        if note:
            return " questions (training windows not counted yet: the step count is approximate)"
        return f" questions; {n_windows:,} training windows after doc stride {self.state.config.data.doc_stride}"

    def entered(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Re-render the summary and JSON from the state."""
        cfg = self.state.config
        self.json_view.setPlainText(cfg.to_json())
        problems = [for_gui(str(e)) for e in validate_config(cfg)] + [p for p in (self._folder_problem(),) if p]
        self.errors.show_message("<br>".join(html.escape(p) for p in problems) if problems else None)
        advice = advise_config(cfg)
        self.advice.show_message("<br>".join(html.escape(for_gui(str(a))) for a in advice) if advice else None,
                                 "warning")
        info, summary = self.state.model_info, self.state.data_summary
        bundled = cfg.model.source == "bundled"
        model = "all-MiniLM-L6-v2 (bundled)" if bundled else f"{cfg.model.source}: {cfg.model.path}"
        if info is not None and getattr(info, "task", "") not in ("", cfg.task):
            info = None  # discovered for the other task: not what will run
        if info is not None:
            model += f" — {info.architecture}, {human_count(info.n_params)} parameters"
        rows = [("Task", cfg.task), ("Model", model), ("Data", cfg.data.train_file)]
        if summary is not None:
            n = len(summary.label_names) if cfg.task == "text-classification" else 0
            labels = f", {n} label{'' if n == 1 else 's'}" if n else ""
            rows.append(("Rows", f"{summary.n_train:,} train, {summary.n_eval:,} eval{labels}{self._windows()}"))
        b = cfg.budget
        if b.budget_mode == "ranks":
            budget = f"init_r {b.init_r} → target_r {b.target_r}"
        else:
            unit = "% of model parameters" if b.budget_mode == "percent" else " parameters"
            budget = f"{b.budget_value:g}{unit} kept"
        rows.append(("Budget", f"{budget}; tinit {b.tinit:g}, tfinal {b.tfinal:g}, ΔT {b.delta_t}"))
        rows.append(("Matrices", ", ".join(b.target_modules) if b.target_modules else "the model's default set"))
        t = cfg.training
        length = (f"{t.max_steps} step{'' if t.max_steps == 1 else 's'}" if t.max_steps
                  else f"{t.epochs:g} epoch{'' if t.epochs == 1 else 's'}")
        rows.append(("Training", f"{length}, batch {t.batch_size} × {t.grad_accum}, lr {t.learning_rate:g} "
                                 f"({t.scheduler}), seed {t.seed}, device {t.device}, precision {t.precision}"))
        rows.append(("Run folder", str(Path(cfg.output_dir or paths.runs_dir()) / f"{cfg.name}-<time>")))
        self.summary.setText("<table cellspacing=4>" + "".join(
            f"<tr><td valign=top><b>{k}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>")
        self._show_cli()
        self.complete_changed.emit()

    @property
    def saved_path(self) -> str:
        """The config file last saved (or opened); '' if none."""
        return self._saved_path

    @saved_path.setter
    def saved_path(self, path: str) -> None:
        # Remember the config as it is in that file: the CLI command is shown only while the wizard still
        # describes exactly that file.
        self._saved_path = path
        self._saved_config = self.state.config if path else None
        self._show_cli()

    @property
    def saved_is_current(self) -> bool:
        """Whether :attr:`saved_path` holds exactly the config the wizard shows now."""
        return bool(self.saved_path) and self._saved_config == self.state.config

    def _show_cli(self) -> None:
        if self.saved_is_current:
            self.cli_label.setText(f"CLI: <code>{html.escape(cli_command(self.saved_path))}</code>")
        elif self.saved_path:
            self.cli_label.setText(f"CLI: the wizard changed since {html.escape(self.saved_path)} was saved. "
                                   "<b>Copy CLI command</b> saves the current config again first.")
        else:
            self.cli_label.setText("CLI: not saved yet. <b>Copy CLI command</b> saves the config to "
                                   f"{html.escape(str(configs_dir()))} first, or use <b>Save config…</b>.")

    def save_to(self, path: str) -> None:
        """Write the config to ``path`` (JSON, or YAML for .yaml/.yml)."""
        try:
            save_config(self.state.config, path)
        except (OSError, StudioError) as exc:
            self.errors.show_message(f"Could not save {path}: {exc}")
            return
        self.saved_path = str(Path(path).expanduser().resolve())
        self.refresh()
        self.saved.emit(self.saved_path)

    def save_dialog(self) -> None:
        """Ask where to save the config, then save it."""
        start = self.saved_path or str(paths.data_dir() / f"{self.state.config.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save run config", start, "Run config (*.json *.yaml *.yml)")
        if path:
            self.save_to(path)

    def copy_command(self) -> str:
        """Copy ``adalora-studio train <file>`` to the clipboard, where ``<file>`` holds exactly the config shown:
        the saved file if it is current, else the config is saved first (again to the same file, or to
        :func:`configs_dir`). Returns the command copied ('' if saving failed)."""
        if not self.saved_is_current:
            target = self.saved_path or str(configs_dir() / f"{self.state.config.name or 'run'}.json")
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self.save_to(target)
            if not self.saved_is_current:
                return ""
            check = load_config(self.saved_path)
            if check != self.state.config:  # the file must run exactly what the wizard shows
                self.errors.show_message(f"{self.saved_path} does not read back as the config shown.")
                return ""
        command = cli_command(self.saved_path)
        QGuiApplication.clipboard().setText(command)
        self.cli_label.setText(self.cli_label.text() + " — copied.")
        return command

    def problem(self) -> str | None:
        problems = validate_config(self.state.config)
        return for_gui(str(problems[0])) if problems else self._folder_problem()

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
        return for_gui(f"output_dir: {problem}") if problem else None
