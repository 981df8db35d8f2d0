"""The playground page: pick a run (finished, or stopped: its last checkpoint) or an adapter folder, optionally a
second run to compare, then classify or generate. Every model call is a worker job (:mod:`.jobs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .classify_view import ClassifyView
from .generate_view import GenerateView
from .jobs import PlaygroundJobs
from .task_views import BASE_CHOICE

_COMPARABLE_BASE = ("question-answering", "seq2seq")
"""Tasks whose "Compare with" offers nothing (one side), the base model, or another run."""


class PlaygroundPage(QWidget):
    """Run pickers on top, the classification or generation view below, a status line at the bottom."""

    back_requested = Signal()
    loaded = Signal(dict)
    """A model finished loading (its description); for tests and the status bar."""
    results_shown = Signal()
    generation_done = Signal()

    def __init__(self, worker: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = PlaygroundJobs(worker, self)
        self.run_combo = QComboBox()
        self.run_combo.setMinimumWidth(320)
        self.other_combo = QComboBox()
        self.other_combo.setMinimumWidth(240)
        self.open_button = QPushButton("Open adapter folder…")
        self.refresh_button = QPushButton("Refresh")
        self.back_button = QPushButton("Back")
        top = QHBoxLayout()
        top.addWidget(QLabel("Run:"))
        top.addWidget(self.run_combo, 2)
        top.addWidget(self.open_button)
        top.addWidget(QLabel("Compare with:"))
        top.addWidget(self.other_combo, 2)
        top.addWidget(self.refresh_button)
        top.addWidget(self.back_button)
        self.classify = ClassifyView()
        self.generate = GenerateView()
        self.empty = QLabel("Pick a finished or stopped run, or open an adapter folder.")
        self.views = QStackedWidget()
        for w in (self.empty, self.classify, self.generate):
            self.views.addWidget(w)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.status)
        self.current: dict[str, Any] | None = None
        self._runs: list[tuple[str, str, str]] = []
        self._seed = 0
        self._streams: dict[int, Any] = {}
        self._pending = 0
        self.run_combo.activated.connect(lambda _i: self.choose(self.run_combo.currentData()))
        self.open_button.clicked.connect(self._open_adapter)
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.back_button.clicked.connect(self.back_requested)
        self.classify.predict_requested.connect(self.predict)
        self.classify.score_requested.connect(self.score_rows)
        self.classify.rows_shown.connect(self.results_shown)  # after the table's last chunk is in
        self.generate.generate_requested.connect(self.start_generation)
        self.generate.stop_requested.connect(self.stop_generation)
        self.jobs.piece.connect(self._on_piece)
        from .task_views import attach_task_views

        self.task_views = attach_task_views(self)  # question answering and seq2seq

    # ------------------------------------------------------------------ choosing
    def refresh_runs(self, runs_dir: str | Path | None = None) -> None:
        """List finished and stopped runs (newest first); reading run folders is cheap and torch-free."""
        from ...core.runs import list_runs

        self._runs = [(r.name, str(r.path), r.task) for r in list_runs(runs_dir)
                      if r.status in ("finished", "stopped")]
        self._fill()

    def set_runs(self, runs: list[tuple[str, str, str]]) -> None:
        """(name, path, task) of the runs to offer."""
        self._runs = list(runs)
        self._fill()

    def _fill(self) -> None:
        keep = self.run_combo.currentData()
        self.run_combo.clear()
        for name, path, task in self._runs:
            self.run_combo.addItem(f"{name}  ({task}, {Path(path).name})", path)
        index = self.run_combo.findData(keep)
        if index >= 0:
            self.run_combo.setCurrentIndex(index)
        self._fill_other()

    def _fill_other(self) -> None:
        task = self.current["task"] if self.current else ""
        self.other_combo.clear()
        self.other_combo.addItem("Base model" if task == "causal-lm" else "— none —",
                                 BASE_CHOICE if task == "causal-lm" else None)
        if task in _COMPARABLE_BASE:
            self.other_combo.addItem("Base model (adapter off)", BASE_CHOICE)
        mine = self.current["path"] if self.current else None
        for name, path, run_task in self._runs:
            if path != mine and run_task == task:
                self.other_combo.addItem(f"{name}  ({Path(path).name})", path)

    def _open_adapter(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open an adapter folder (adapter_config.json)")
        if folder:
            self.choose(folder)

    def choose(self, path: str | None) -> Any:
        """Load the model of ``path`` on the worker (reused if it is already loaded); returns the job."""
        if not path:
            return None
        self._say(f"Loading {Path(path).name}…")
        job = self.jobs.load(path)
        job.succeeded.connect(self._on_loaded)
        job.failed.connect(self._on_failed)
        return job

    def _on_loaded(self, info: dict[str, Any]) -> None:
        self.current = info
        index = self.run_combo.findData(info["path"])
        if index < 0:  # an adapter folder opened from disk
            self.run_combo.addItem(f"{info['name']}  (adapter folder)", info["path"])
            index = self.run_combo.count() - 1
        self.run_combo.setCurrentIndex(index)
        self._fill_other()
        self.views.setCurrentWidget(self.generate if info["task"] == "causal-lm" else self.classify)
        self.task_views.show_for(info)
        self.generate.right_box.setTitle(f"Tuned: {info['name']}")
        self._say(f"{info['name']}: {info['task']}, loaded from its {info['source']}.")
        self.loaded.emit(info)

    # ------------------------------------------------------------------ classification
    def _other(self) -> str | None:
        data = self.other_combo.currentData()
        return data if data and data != BASE_CHOICE else None

    def predict(self, texts: list[str]) -> None:
        if not self.current:
            return
        paths = [self.current["path"]] + ([self._other()] if self._other() else [])
        names = [f"A · {self.current['name']}"] + (
            [f"B · {self.other_combo.currentText().split('  (')[0]}"] if self._other() else [])
        results: dict[int, list[dict[str, Any]]] = {}
        self._say("Predicting…")
        for i, path in enumerate(paths):
            job = self.jobs.predict(path, texts)
            job.succeeded.connect(lambda preds, i=i: self._collect(results, i, preds, names))
            job.failed.connect(self._on_failed)

    def _collect(self, results: dict[int, Any], i: int, preds: list[dict[str, Any]], names: list[str]) -> None:
        results[i] = preds
        if len(results) == len(names):
            self.classify.show_predictions([(names[k], results[k]) for k in range(len(names))])
            notes = sum(1 for p in results[0] if p.get("note"))
            self._say(f"{len(results[0])} text(s) classified" + (f"; {notes} truncated (see the notes)" if notes
                                                                 else "."))
            self.results_shown.emit()

    def score_rows(self, n: int) -> None:
        if not self.current:
            return
        self._seed += 1
        other = self._other()
        job = self.jobs.score_rows(self.current["path"], n, self._seed, other)
        name = f"B · {self.other_combo.currentText().split('  (')[0]}" if other else ""
        job.succeeded.connect(lambda rows: (self._say(
            f"{len(rows)} random validation rows scored; "
            f"{sum(r['true'] == r['predicted'] for r in rows)} correct."), self.classify.show_rows(rows, name)))
        job.failed.connect(self._on_failed)
        self._say("Scoring validation rows…")

    # ------------------------------------------------------------------ generation
    def start_generation(self, prompt: str) -> None:
        if not self.current:
            return
        settings = self.generate.settings()
        other = self._other()
        left_path, left_base = (other, False) if other else (self.current["path"], True)
        self.generate.left_box.setTitle(self.other_combo.currentText().split("  (")[0] if other else "Base model")
        self.generate.left.clear()
        self.generate.right.clear()
        self.generate.note.setText("")
        self.generate.set_running(True)
        self._pending = 2
        for pane, path, base in ((self.generate.left, left_path, left_base),
                                 (self.generate.right, self.current["path"], False)):
            stream, job = self.jobs.generate(path, prompt, settings, base)
            self._streams[stream] = pane
            job.succeeded.connect(self._on_generated)
            job.failed.connect(lambda m, d: (self._on_failed(m, d), self._on_generated({})))
        self._say("Generating…")

    def _on_piece(self, stream: int, text: str) -> None:
        pane = self._streams.get(stream)
        if pane is not None:
            pane.moveCursor(pane.textCursor().MoveOperation.End)
            pane.insertPlainText(text)

    def _on_generated(self, result: dict[str, Any]) -> None:
        if result.get("note"):
            self.generate.note.setText(f"⚠ {result['note']}")
        self._pending -= 1
        if self._pending <= 0:
            self.generate.set_running(False)
            ended = result.get("ended", "")
            self._say("Stopped." if ended == "stopped" else "Done.")
            self.generation_done.emit()

    def stop_generation(self) -> None:
        self.jobs.stop()
        self._say("Stopping…")

    # ------------------------------------------------------------------ status
    def _on_failed(self, message: str, _detail: str = "") -> None:
        self.status.setStyleSheet("color: #c0392b;")
        self.status.setText(message)

    def _say(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)
