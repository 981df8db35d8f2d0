"""The main window: menus, and a stack of three pages — home, the new-fine-tune wizard, the run dashboard.

The wizard and the dashboard are built the first time they are needed (they pull in pyqtgraph), so the window
itself appears quickly. All torch work goes to the one :class:`~adalora_studio.gui.worker.TorchWorker`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QStackedWidget, QWidget

from ..app.identity import APP_ID
from ..app.settings import SettingsStore
from ..core import paths
from ..core.config import RunConfig
from ..core.errors import StudioError
from . import launched_run
from .adapter_viewer import open_adapter_dialog
from .close_guard import defer_close_for_work
from .compare.window_mixin import ComparisonsMixin
from .home import HomePage
from .run_queue import RunTracker
from .window_state import restore_window_state, save_window_state

log = logging.getLogger(__name__)

WINDOW_TITLE = "AdaLoRA Studio"
CLOSE_STOP, CLOSE_KEEP, CLOSE_CANCEL = "stop", "keep", "cancel"


class MainWindow(ComparisonsMixin, QMainWindow):
    """Home ▸ wizard ▸ dashboard, with File and Help menus."""

    first_shown = Signal()
    run_ended = Signal(object)
    """The terminal event of a run started from this window."""

    def __init__(self, store: SettingsStore | None = None, worker: Any = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(APP_ID)
        self.setWindowTitle(WINDOW_TITLE)
        self.store = store or SettingsStore()
        self._worker = worker
        self._wizard: Any = None
        self._dashboard: Any = None
        self._shown_once = False
        self._close_after_run = False
        self._about: Any = None
        self._worker_connected = False

        self.pages = QStackedWidget(self)
        self.home = HomePage(self.pages)
        self.pages.addWidget(self.home)
        self.setCentralWidget(self.pages)
        self.home.demo_requested.connect(self.start_demo)
        self.home.new_requested.connect(self.new_fine_tune)
        self.home.open_requested.connect(self.open_run_dialog)
        self.home.run_chosen.connect(self.open_run)
        self._build_menus()
        self.statusBar().showMessage("Ready.")
        self.runs = RunTracker(self)  # the "Running: …" button, runs queued behind the current one, tray notice
        self.resize(1180, 820)
        restore_window_state(self)

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = self._action(file_menu, "&New fine-tune…", QKeySequence.StandardKey.New, self.new_fine_tune)
        self.open_action = self._action(file_menu, "&Open run…", QKeySequence.StandardKey.Open, self.open_run_dialog)
        self.open_adapter_action = self._action(file_menu, "Open &adapter…", None, lambda: open_adapter_dialog(self))
        self.save_action = self._action(file_menu, "&Save config…", QKeySequence.StandardKey.Save,
                                        self.save_config_dialog)
        file_menu.addSeparator()
        self.home_action = self._action(file_menu, "&Home", None, self.show_home)
        self.playground_action = self._action(file_menu, "&Playground…", QKeySequence("Ctrl+P"), self.show_playground)
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", QKeySequence("Ctrl+Q"), self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        help_menu = self.menuBar().addMenu("&Help")
        self.help_action = self._action(help_menu, "&User guide", QKeySequence("F1"),
                                        self.show_help)
        self.about_action = self._action(help_menu, "&About AdaLoRA Studio", None, self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _action(self, menu: Any, text: str, shortcut: Any, slot: Any) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    # ------------------------------------------------------------------ lazily built parts
    @property
    def worker(self) -> Any:
        """The TorchWorker (its thread starts on first use; torch loads only inside its jobs)."""
        if self._worker is None:
            from .worker import TorchWorker

            self._worker = TorchWorker(self)
        return self._worker

    @property
    def wizard(self) -> Any:
        """The new-fine-tune wizard (built on first use)."""
        if self._wizard is None:
            from .wizard.wizard import Wizard

            self._wizard = Wizard(self.worker, self._initial_wizard_config(), self.pages)
            self._wizard.start_requested.connect(self._start_from_wizard)  # A/B when the baseline is ticked
            self._wizard.cancelled.connect(self.show_home)
            self._wizard.review_page.saved.connect(lambda p: self.statusBar().showMessage(f"Saved {p}", 8000))
            self.pages.addWidget(self._wizard)
            self._wizard.set_recent(self.store.settings.recent_models, self.store.settings.recent_datasets,
                                 self.store.settings.recent_output_dirs)
        return self._wizard

    @property
    def dashboard(self) -> Any:
        """The run dashboard (built on first use)."""
        if self._dashboard is None:
            from .dashboard import Dashboard

            self._dashboard = Dashboard(self.pages)
            self._dashboard.stop_requested.connect(self.stop_run)
            self._dashboard.resume_requested.connect(self.resume_run)
            for name in ("export_lora", "export_merged", "export_csv", "export_rank_config", "export_gguf"):
                getattr(self._dashboard, name).connect(lambda run_dir, kind=name: self.export_run(kind, run_dir))
            from .dashboard.report_view import ReportEvaluator

            self._dashboard.finish_panel.playground_requested.connect(self.show_playground)
            self._report_evaluator = ReportEvaluator(lambda: self.worker, self._dashboard.report_view)
            self._dashboard.report_shown.connect(
                lambda path: self.statusBar().showMessage(f"Evaluation report {path}: see the Report tab", 10000))
            self._dashboard.finish_panel.compare_with_lora.connect(self.compare_with_lora)  # ComparisonsMixin
            self.pages.addWidget(self._dashboard)
        return self._dashboard

    def _initial_wizard_config(self) -> RunConfig:
        from ..core.config import demo_config

        last = self.store.settings.last_wizard
        if last:
            try:
                return RunConfig.from_dict(last)
            except StudioError as exc:
                log.warning("ignoring the saved wizard values: %s", exc)
        return demo_config()

    # ------------------------------------------------------------------ navigation
    def show_home(self) -> None:
        """Show the home page (recent runs re-read)."""
        self.home.refresh()
        self.pages.setCurrentWidget(self.home)

    def new_fine_tune(self) -> None:
        """Open the wizard at its first page."""
        self.pages.setCurrentWidget(self.wizard)
        self.wizard.go_to(0)

    def edit_config(self, cfg: RunConfig) -> None:
        """Load ``cfg`` into the wizard and show its Review page."""
        self.pages.setCurrentWidget(self.wizard)
        self.wizard.set_config(cfg, page=len(self.wizard.pages) - 1)

    def open_run_dialog(self) -> None:
        """Ask for a run folder and replay it."""
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder", str(paths.runs_dir()))
        if folder:
            self.open_run(folder)

    def open_run(self, run_dir: str) -> None:
        """Show a run folder in the dashboard (replayed; followed while another process writes it)."""
        if self.running:
            self.runs.show_running(run_dir)
            return
        if not (Path(run_dir) / "run.json").is_file():
            self.notify(f"{run_dir} is not a run folder (it has no run.json).", warning=True)
            return
        try:
            self.dashboard.load_run(run_dir)
        except (StudioError, OSError) as exc:
            self.notify(f"Cannot open the run in {run_dir}:\n{exc}", warning=True)
            return
        self.pages.setCurrentWidget(self.dashboard)
        self.statusBar().showMessage(f"Opened {run_dir}")

    def save_config_dialog(self) -> None:
        """Save the config on screen (File ▸ Save config…): the shown run's on the dashboard, else the wizard's."""
        if self.runs.save_shown_run_config():
            return
        self.pages.setCurrentWidget(self.wizard)
        self.wizard.review_page.save_dialog()

    def show_playground(self, run_dir: str = "") -> None:
        """Try a trained run: the playground page (on ``run_dir`` when given)."""
        from .playground.open import open_playground

        open_playground(self, run_dir)

    def show_help(self) -> None:
        """Help ▸ User guide (F1)."""
        from .help import show_help

        self._help = show_help(self)

    def show_about(self) -> None:
        """Help ▸ About (versions, device, folders)."""
        from .about import show_about

        self._about = show_about(self, self._known_device(), self.worker)

    def _known_device(self) -> str | None:
        """The device as the worker already found it (so About need not import torch here), else None."""
        devices = self._wizard.state.devices if self._wizard is not None else None
        if devices:
            name = devices["cuda_name"] if devices["auto_device"] == "cuda" else devices["auto_device"].upper()
            return f"{name} (auto; {devices['threads']} CPU threads)"
        started = getattr(getattr(self._dashboard, "state", None), "started", None)
        return f"{started.device} ({started.precision}, in the current run)" if started is not None else None

    # ------------------------------------------------------------------ runs
    @property
    def running(self) -> bool:
        """Whether a run started from this window is in progress."""
        return (self._worker is not None and self._worker.is_running) or launched_run.active(self)

    def start_demo(self) -> None:
        """Try the demo: bundled model + demo data + the Quick demo budget, straight to training."""
        from ..core.config import demo_config
        from ..core.model import bundled_model_available

        if not bundled_model_available():
            from ..core.model import bundled_model_dir

            try:
                bundled_model_dir()
            except StudioError as exc:
                self.notify(f"The demo needs the bundled model. {exc}", warning=True)
                return
        self.start_run(demo_config())

    def start_run(self, cfg: RunConfig, resume_from: str | None = None) -> bool:
        """Start ``cfg`` on the worker and show the dashboard. False if a run is already going."""
        if self.running:  # one run at a time on the worker: this one waits its turn
            return self.runs.enqueue(cfg, resume_from)
        self._remember(cfg)
        if self._wizard is not None:
            self._wizard.set_recent(self.store.settings.recent_models, self.store.settings.recent_datasets,
                                 self.store.settings.recent_output_dirs)
        dashboard = self.dashboard
        if resume_from is None:
            dashboard.reset()
        self.pages.setCurrentWidget(dashboard)
        if cfg.training.processes > 1:  # child processes under torchrun, followed through the run folder
            return launched_run.start(self, cfg, resume_from)
        worker = self.worker
        if not self._worker_connected:
            worker.event.connect(dashboard.apply_event)
            worker.run_finished.connect(self._on_run_finished)
            self._worker_connected = True
        worker.start_run(cfg, resume_from=resume_from)
        self.statusBar().showMessage(f"Training {cfg.name}…")
        return True

    def resume_run(self, run_dir: str) -> None:
        """Continue a stopped or interrupted run from its latest checkpoint."""
        from ..core.runs import RunFolder

        try:
            cfg = RunFolder(run_dir).read_config()
        except StudioError as exc:
            self.notify(f"Cannot resume {run_dir}: {exc}", warning=True)
            return
        self.dashboard.reset()
        self.start_run(cfg, resume_from=run_dir)

    def stop_run(self) -> None:
        """Ask the run to stop after the current step (it writes a checkpoint)."""
        if not launched_run.stop(self) and self.running:
            self.worker.request_stop()
            self.statusBar().showMessage("Stopping: finishing the current step and saving a checkpoint…")

    def export_run(self, kind: str, run_dir: str) -> None:
        """Run an export of a finished run on the worker; report where it went."""
        from . import exports

        exports.start_export(self, kind, run_dir)

    def _on_run_finished(self, terminal: Any) -> None:
        kind = type(terminal).__name__
        finished = "Run finished." + (" Its evaluation report is in the Report tab."
                                      if self._dashboard is not None and self._dashboard.report_tab.present else "")
        self.statusBar().showMessage({"Finished": finished, "Stopped": "Run stopped; it can be resumed.",
                                      "Failed": "Run failed."}.get(kind, kind))
        if kind == "Failed":
            self.notify(getattr(terminal, "message", "The run failed."), warning=True,
                        detail=getattr(terminal, "detail", ""))
        self.home.refresh()
        self.run_ended.emit(terminal)
        if self._close_after_run:
            self._close_after_run = False
            self.close()

    def _remember(self, cfg: RunConfig) -> None:
        s = self.store.settings
        if cfg.model.source != "bundled":
            s.add_recent("models", cfg.model.path)
        s.add_recent("datasets", cfg.data.train_file)
        if cfg.output_dir:
            s.add_recent("output_dirs", cfg.output_dir)
        s.last_wizard = cfg.to_dict()
        self.store.save()

    # ------------------------------------------------------------------ window state and closing
    def ask_close_during_run(self) -> str:
        """Ask what to do with the run in progress: CLOSE_STOP, CLOSE_KEEP or CLOSE_CANCEL."""
        box = QMessageBox(QMessageBox.Icon.Question, WINDOW_TITLE, "A run is in progress.", parent=self)
        box.setObjectName("closeDuringRun")
        box.setInformativeText(
            "Stop: finish the current step, save a checkpoint you can resume from, then close.\n"
            "Keep going: training continues and the window is minimised; restore it from the taskbar to watch "
            "the run or see its results.\nCancel: keep the window open.")
        stop = box.addButton("Stop (checkpoint)", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep going", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        clicked = box.clickedButton()
        return CLOSE_STOP if clicked is stop else CLOSE_KEEP if clicked is keep else CLOSE_CANCEL

    def notify(self, text: str, warning: bool = False, detail: str = "") -> QMessageBox:
        """Tell the user something in a window-modal box that does not block the event loop (runs keep going)."""
        box = QMessageBox(QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information, WINDOW_TITLE, text,
                          parent=self)
        box.setObjectName("notice")
        if detail:
            box.setDetailedText(detail)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(text.splitlines()[0], 15000)
        return box

    def shutdown_worker(self, timeout_ms: int = 30_000) -> bool:
        """Join the worker thread (after the event loop ended; a run still going is asked to stop first, queued
        jobs run to their end). False if it was still busy after ``timeout_ms`` (the worker logs what)."""
        return self._worker is None or self._worker.shutdown(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        if self.running:
            choice = self.ask_close_during_run()
            if choice == CLOSE_CANCEL:
                event.ignore()
                return
            if choice == CLOSE_STOP:
                self._close_after_run = True
                self.stop_run()
                event.ignore()
                return
            save_window_state(self)
            self.showMinimized()
            self.statusBar().showMessage("Training continues; close the window again once the run has ended.")
            event.ignore()
            return
        if defer_close_for_work(self, self._worker, event):
            return
        save_window_state(self)
        if self._wizard is not None:
            self.store.settings.last_wizard = self._wizard.config.to_dict()
        self.store.save()
        if self._worker is not None and not self._worker.is_running:
            self.shutdown_worker(5000)
        event.accept()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self._after_first_show)

    def _after_first_show(self) -> None:
        self.first_shown.emit()
        if self.store.problem:
            box = QMessageBox(QMessageBox.Icon.Warning, WINDOW_TITLE, self.store.problem, parent=self)
            box.setObjectName("settingsProblem")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.statusBar().showMessage("Settings were reset to defaults (the old file was unreadable).")
