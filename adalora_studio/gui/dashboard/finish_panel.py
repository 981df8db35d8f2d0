"""What to do with a finished (or stopped) run: its final metrics and peak memory, where the adapter is (with Copy
path, since a file manager may not be there to open it), Open folder, the exports, and for an AdaLoRA run
"Compare with LoRA…" (train the matched plain-LoRA baseline and compare)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from ...core.compare import peak_text
from ...core.events import Finished
from .state import STATUS_FINISHED, DashboardState

METRIC_ORDER = ("accuracy", "macro_f1", "perplexity", "eval_loss")


def format_metrics(metrics: dict[str, float]) -> str:
    """``accuracy 0.9125 · macro_f1 0.897 · eval_loss 0.314`` (the usual ones first, 4 significant digits)."""
    names = [n for n in METRIC_ORDER if n in metrics] + sorted(n for n in metrics if n not in METRIC_ORDER)
    return " · ".join(f"{name} {metrics[name]:.4g}" for name in names)


class FinishPanel(QFrame):
    """Shown under the plots once a run has ended; buttons emit signals with the run folder."""

    export_lora = Signal(str)
    export_merged = Signal(str)
    export_csv = Signal(str)
    export_plots = Signal()
    report_requested = Signal(str)
    playground_requested = Signal(str)
    export_rank_config = Signal(str)
    """Export ranks for LoRA: the run's ranks as a peft LoraConfig and an Axolotl snippet."""
    export_gguf = Signal(str)
    compare_with_lora = Signal(str)
    """A finished AdaLoRA run to compare with plain LoRA at its final parameter count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.metrics_label = QLabel()
        self.metrics_label.setObjectName("finalMetrics")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy path")
        self.copy_button.setToolTip("Copy the folder's path to the clipboard")
        self.open_button = QPushButton("Open folder")
        self.open_button.setToolTip("Show the run folder in your file manager")
        self.lora_button = QPushButton("Export plain LoRA…")
        self.lora_button.setToolTip("Convert the AdaLoRA adapter to a standard LoRA adapter with per-module ranks")
        self.merged_button = QPushButton("Export merged model…")
        self.merged_button.setToolTip("Fold the adapter into a copy of the base model's weights")
        self.csv_button = QPushButton("Rank table CSV…")
        self.csv_button.setToolTip("Save the final rank of every matrix as a CSV table")
        self.plots_button = QPushButton("Plots PNG/SVG…")
        self.plots_button.setToolTip("Save every dashboard plot as PNG and SVG")
        self.report_button = QPushButton("Report card")
        self.report_button.setToolTip("Show the Report tab: accuracy per class, confusion matrix, confident "
                                      "mistakes or sample generations (report.json)")
        self.playground_button = QPushButton("Try it…")
        self.playground_button.setToolTip("Open the playground on this run: classify texts or generate")
        self.compare_button = QPushButton("Compare with LoRA…")
        self.compare_button.setToolTip("Did AdaLoRA help? Train plain LoRA on the same data, matched to this run's "
                                       "final parameter count (optionally more seeds), then compare the two")
        self.more_button = QPushButton("More exports")
        self.more_button.setToolTip("Hand the run on: its ranks for plain-LoRA tools, or the model as GGUF")
        more = QMenu(self.more_button)
        self.ranks_action = more.addAction("Export ranks for LoRA…")
        self.ranks_action.setToolTip("The ranks AdaLoRA found as a peft LoraConfig (rank_pattern, alpha_pattern) "
                                     "and an Axolotl snippet, to train a plain LoRA with them")
        self.gguf_action = more.addAction("Export GGUF…")
        self.gguf_action.setToolTip("Llama-family causal LMs: the merged model as GGUF (f16 or q8_0) and an "
                                    "Ollama Modelfile")
        self.more_button.setMenu(more)
        actions = QHBoxLayout()  # under the text, so long paths and the report line get the panel's full width;
        files = QHBoxLayout()  # two rows, so the buttons fit a laptop-wide window
        for row, buttons in ((actions, (self.report_button, self.playground_button, self.compare_button)),
                             (files, (self.copy_button, self.open_button, self.lora_button, self.merged_button,
                                      self.csv_button, self.plots_button, self.more_button))):
            for button in buttons:
                row.addWidget(button)
            row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.metrics_label)
        layout.addWidget(self.label)
        layout.addLayout(actions)
        layout.addLayout(files)
        self.run_dir = ""
        self.path = ""
        """The folder the label names (the adapter, the last checkpoint or the run folder)."""
        self.copy_button.clicked.connect(self.copy_path)
        self.open_button.clicked.connect(self.open_folder)
        self.lora_button.clicked.connect(lambda: self.export_lora.emit(self.run_dir))
        self.merged_button.clicked.connect(lambda: self.export_merged.emit(self.run_dir))
        self.csv_button.clicked.connect(lambda: self.export_csv.emit(self.run_dir))
        self.plots_button.clicked.connect(self.export_plots)
        self.report_button.clicked.connect(lambda: self.report_requested.emit(self.run_dir))
        self.playground_button.clicked.connect(lambda: self.playground_requested.emit(self.run_dir))
        self.compare_button.clicked.connect(lambda: self.compare_with_lora.emit(self.run_dir))
        self.ranks_action.triggered.connect(lambda: self.export_rank_config.emit(self.run_dir))
        self.gguf_action.triggered.connect(lambda: self.export_gguf.emit(self.run_dir))

    def refresh(self, state: DashboardState) -> None:
        """Show the final metrics and the adapter location (finished) or the checkpoint (stopped/failed)."""
        self.run_dir = state.run_dir
        finished = state.status == STATUS_FINISHED and isinstance(state.terminal, Finished)
        metrics = dict(state.terminal.metrics) if finished else (
            dict(state.last_eval.metrics, eval_loss=state.last_eval.eval_loss) if state.last_eval else {})
        if metrics:
            kind = "Final metrics" if finished else f"Last evaluation (step {state.last_eval.step})"
            self.metrics_label.setText(f"<b>{kind}</b>: {html.escape(format_metrics(metrics))}")
        else:
            self.metrics_label.setText("<b>No evaluation yet</b>")
        if finished and state.terminal.peak_memory_mb is not None:
            peak = peak_text(state.terminal.peak_memory_mb, state.terminal.peak_cuda_mb)
            self.metrics_label.setText(f"{self.metrics_label.text()} · <b>peak memory</b> {html.escape(peak)}")
        if finished:
            self.path = state.terminal.adapter_dir
            self.label.setText(f"<b>Adapter saved</b> to {html.escape(self.path)}")
        elif state.last_checkpoint:
            self.path = state.last_checkpoint
            self.label.setText(f"<b>Last checkpoint</b>: {html.escape(self.path)}")
        else:
            self.path = self.run_dir
            self.label.setText(f"Run folder: {html.escape(self.run_dir)}")
        for button in (self.lora_button, self.merged_button, self.csv_button, self.more_button):
            button.setEnabled(finished)
        self.open_button.setEnabled(bool(self.run_dir) and Path(self.run_dir).exists())
        self.copy_button.setEnabled(bool(self.path))
        from .report_summary import report_headline

        headline = report_headline(self.run_dir)
        self.report_button.setEnabled(bool(headline))
        self.playground_button.setEnabled(finished or bool(state.last_checkpoint))
        method = str((state.started.config if state.started else {}).get("method", "adalora"))
        self.compare_button.setVisible(method == "adalora")  # a LoRA run is already the baseline
        self.compare_button.setEnabled(finished)
        if headline:
            self.label.setText(f"{self.label.text()}<br>{headline}")

    def copy_path(self) -> str:
        """Copy the shown folder's path to the clipboard; returns it."""
        QGuiApplication.clipboard().setText(self.path)
        return self.path

    def open_folder(self) -> bool:
        """Open the run folder in the desktop's file manager; where there is none, say where it is instead."""
        opened = bool(self.run_dir) and QDesktopServices.openUrl(QUrl.fromLocalFile(self.run_dir))
        if not opened and self.run_dir:
            self.label.setText(f"No file manager answered. The run folder is {html.escape(self.run_dir)} "
                               "(<b>Copy path</b> copies it).")
            self.path = self.run_dir
        return opened
