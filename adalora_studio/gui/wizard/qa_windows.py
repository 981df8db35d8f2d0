"""Question answering trains on windows (contexts longer than ``data.max_length`` are split with doc stride), so
the budget page and its schedule advice plan from the window count, as ``validate`` and the engine do.

The windows are counted on the worker (:func:`data_jobs.qa_windows`, reusing the doctor's tokenizer and its
count when it measured every question); until the count arrives, or when it cannot be made, the plan counts
questions and says it is an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer

from .data_jobs import qa_windows, windows_key
from .jobs import Problem
from .state import WizardState

QA = "question-answering"
ESTIMATING = "Estimating: counting the windows long contexts are split into…"


@dataclass(frozen=True)
class WindowCount:
    """The training windows of one data set-up (``key``: :func:`data_jobs.windows_key`), or why there are none."""

    key: tuple[str, ...]
    windows: int | None = None
    """Training windows (features the engine trains on); None while counting or when they could not be counted."""
    questions: int = 0
    note: str = ESTIMATING
    """"" when ``windows`` is the count; else why the plan counts questions."""


def planning_rows(state: WizardState) -> tuple[int, str]:
    """The training rows to plan from (windows for question answering, once counted) and a note ("" when exact)."""
    n = state.data_summary.n_train
    if state.config.task != QA:
        return n, ""
    count = state.qa_windows
    if count is None or count.key != windows_key(state.config):
        return n, ESTIMATING
    return (n, count.note) if count.windows is None else (count.windows, "")


def steps_text(state: WizardState, plan: Any) -> str:
    """The budget page's line on the run's length: steps, the rows they come from, and the budget schedule."""
    n_rows, note = planning_rows(state)
    n = len(plan.targets)
    if state.config.task != QA:
        rows = f"{n_rows:,} training rows"
    elif note:
        rows = f"counted from {n_rows:,} training questions"
    else:
        rows = (f"{n_rows:,} training windows from {state.data_summary.n_train:,} questions, doc stride "
                f"{state.config.data.doc_stride}")
    text = (f"{'≈' if note else ''}{plan.total_steps:,} optimizer steps ({plan.steps_per_epoch:,} per epoch, {rows})."
            f" Budget {plan.init_r * n:,} → {plan.target_r * n:,} triplets over {n} matrices; pruning every "
            f"{plan.delta_t} steps between step {plan.tinit_steps} and {plan.total_steps - plan.tfinal_steps}.")
    return f"{note}\n{text}" if note else text


class WindowCounter(QObject):
    """Asks the worker for the window count whenever a question-answering data set-up was checked and its count
    is not known yet; records it in ``state.qa_windows`` (the GUI thread never tokenises)."""

    def __init__(self, state: WizardState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._key: tuple[str, ...] | None = None
        # after the doctor's request (400 ms), so a doctor that measures every question counts them first
        self._timer = QTimer(self, singleShot=True, interval=500)
        self._timer.timeout.connect(self._check)
        for signal in (state.config_changed, state.model_info_changed, state.data_summary_changed):
            signal.connect(lambda *_a: self._timer.start())
        self._timer.start()

    def _check(self) -> None:
        cfg = self.state.config
        if cfg.task != QA or self.state.data_summary is None:
            return  # nothing to count, or the data is being checked again (the count is kept by its key)
        key = windows_key(cfg)
        if key == self._key:
            return
        self._key = key
        questions = self.state.data_summary.n_train
        self.state.set_qa_windows(WindowCount(key, questions=questions))
        self.state.submit("qa-windows", qa_windows, (cfg,), lambda result: self._on_count(key, questions, result),
                          lambda message, _detail: self._on_count(key, questions, Problem(message)))

    def _on_count(self, key: tuple[str, ...], questions: int, result: Any) -> None:
        if isinstance(result, Problem):
            note = f"Approximate: the windows could not be counted ({result.message})."
            self.state.set_qa_windows(WindowCount(key, None, questions, note))
            return
        self.state.set_qa_windows(WindowCount(key, result[0], result[1], ""))
