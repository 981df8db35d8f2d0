"""The A/B queue in the GUI: the arms of a comparison run one after another on the one torch worker, each as an
ordinary run shown in the dashboard; the queue is visible (:class:`QueuePanel`) and can be stopped.

:class:`ComparisonRunner` drives :class:`adalora_studio.core.compare.ComparisonQueue` (the same queue the CLI's
``ab`` uses): it starts an arm with the window's own ``start_run`` (so the dashboard follows it), waits for the
worker's ``run_finished``, records the terminal event and starts the next arm. Nothing here touches torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from ...core.compare import Arm, ComparisonQueue
from ...core.config import RunConfig
from .sweep_plot import LiveSweep

STATE_MARKS = {"queued": "·", "running": "▶", "finished": "✓", "failed": "✗", "stopped": "■", "skipped": "–"}


class ComparisonRunner(QObject):
    """Runs one comparison's arms in order on ``worker`` through ``start_run(cfg) -> bool``."""

    changed = Signal()
    """The queue's states changed (an arm started or ended)."""
    done = Signal(object)
    """The :class:`ComparisonOutcome`, when no arm is left."""

    def __init__(self, worker: Any, start_run: Callable[[RunConfig], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.start_run = start_run
        self.queue: ComparisonQueue | None = None
        self.current: Arm | None = None
        worker.run_finished.connect(self._on_run_finished)

    @property
    def active(self) -> bool:
        """Whether a comparison is queued or running."""
        return self.queue is not None

    def start(self, cfg: RunConfig, seeds: int = 1, budgets: Sequence[int] = (), adopt: str = "") -> bool:
        """Queue the arms and start the first; False when a run or a comparison is already going. ``adopt``: a
        finished AdaLoRA run folder used as the first AdaLoRA arm (only its LoRA baseline trains)."""
        if self.active or self.worker.is_running:
            return False
        self.queue = ComparisonQueue(cfg, seeds, budgets)
        if adopt:
            self.queue.adopt(adopt)
        self.changed.emit()
        return self._next()

    def stop(self) -> None:
        """Stop the running arm (it checkpoints) and drop the arms not started yet."""
        if self.queue is None:
            return
        self.queue.stop()
        self.worker.request_stop()
        self.changed.emit()

    def rows(self) -> list[str]:
        """One line per arm: state mark, label, state."""
        if self.queue is None:
            return []
        return [f"{STATE_MARKS.get(self.queue.states[a.index], '?')} {a.label} — {self.queue.states[a.index]}"
                for a in self.queue.arms]

    def _next(self) -> bool:
        assert self.queue is not None
        item = self.queue.next()
        if item is None:
            return self._end()
        self.current, cfg = item
        self.changed.emit()
        if not self.start_run(cfg):
            self.queue.record(self.current, None)
            self.current = None
            self.queue.stop()
            return self._end()
        return True

    def _on_run_finished(self, terminal: Any) -> None:
        if self.queue is None or self.current is None:
            return
        self.queue.record(self.current, terminal)
        self.current = None
        self._next()

    def _end(self) -> bool:
        assert self.queue is not None
        outcome = self.queue.outcome
        self.changed.emit()
        self.queue = None
        self.done.emit(outcome)
        return False


class QueuePanel(QWidget):
    """The visible queue: one line per arm, a Stop button, Compare once arms have finished, and for a budget
    sweep the sweep plot, which gains each arm's point as the arm finishes."""

    compare_requested = Signal(list)

    def __init__(self, runner: ComparisonRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.last_run_dirs: list[str] = []
        lay = QVBoxLayout(self)
        self.title = QLabel("<b>A/B queue</b>: empty", self)
        self.title.setWordWrap(True)
        self.list = QListWidget(self)
        self.sweep = LiveSweep(self)
        self.sweep.hide()
        self._sweep_id = ""
        """The comparison the sweep plot shows."""
        lay.addWidget(self.title)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.sweep, 2)
        buttons = QHBoxLayout()
        self.stop_button = QPushButton("Stop queue", self)
        self.compare_button = QPushButton("Compare results", self)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.compare_button)
        lay.addLayout(buttons)
        self.stop_button.clicked.connect(runner.stop)
        self.compare_button.clicked.connect(lambda: self.compare_requested.emit(list(self.last_run_dirs)))
        runner.changed.connect(self.refresh)
        runner.done.connect(self._on_done)
        self.refresh()

    def refresh(self) -> None:
        """Redraw the arm list from the runner."""
        rows = self.runner.rows()
        if rows:
            self.list.clear()
            self.list.addItems(rows)
        queue = self.runner.queue
        if queue is not None:
            done = sum(s in ("finished", "failed", "stopped", "skipped") for s in queue.states.values())
            self.title.setText(f"<b>A/B queue</b> {queue.comparison_id}: {done} of {len(queue.arms)} arms done")
            self.last_run_dirs = list(queue.outcome.run_dirs)
            self._follow_sweep(queue)
        self.stop_button.setEnabled(self.runner.active)
        self.compare_button.setEnabled(len(self.last_run_dirs) >= 2)

    def _follow_sweep(self, queue: ComparisonQueue) -> None:
        """Show the sweep plot for a queue over two budgets or more, with a point for every finished arm."""
        if queue.comparison_id != self._sweep_id:
            self._sweep_id = queue.comparison_id
            self.sweep.reset()
            self.sweep.setVisible(len({a.target_r for a in queue.arms}) >= 2)
        if self.sweep.isVisibleTo(self):
            self.sweep.add_runs(queue.outcome.run_dirs)

    def _on_done(self, outcome: Any) -> None:
        self.last_run_dirs = list(outcome.run_dirs)
        problems = f"; {len(outcome.problems)} problem(s)" if outcome.problems else ""
        self.title.setText(f"<b>A/B queue</b> {outcome.comparison_id}: done, {len(outcome.run_dirs)} arms "
                           f"finished{problems}")
        self.list.setToolTip("\n".join(outcome.problems))
        self.stop_button.setEnabled(False)
        self.compare_button.setEnabled(len(self.last_run_dirs) >= 2)
