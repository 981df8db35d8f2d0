"""Playground views of the question-answering and seq2seq tasks, and their worker jobs.

QA: a context and a question give the answer span, highlighted in the context, with its score and probability.
Seq2seq: a source gives the generated target (greedy). Both show two sides when "Compare with" names another run
of the task (A/B) or the base model (base vs tuned), each answered by its own worker job. The jobs run in the
TorchWorker thread and return plain dicts; the views only show them. :func:`attach_task_views` adds both views
to a :class:`PlaygroundPage`.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

BASE_CHOICE = "__base__"
"""The "Compare with" choice of the base model (the tuned run with its adapter switched off)."""
HIGHLIGHT = "#ffd54f"


def qa_job(cache: Any, path: str, question: str, context: str, base: bool = False) -> dict[str, Any]:
    """The answer span of ``question`` in ``context`` with the run's window settings (``base``: adapter off)."""
    from ...core.inference import answer_loaded

    a = answer_loaded(cache.get(path), question, context, base=base)
    return {"text": a.text, "start": a.start_char, "end": a.end_char, "score": a.score, "probability": a.probability,
            "context": context, "base": base}


def seq2seq_job(cache: Any, path: str, source: str, max_new_tokens: int, base: bool = False) -> dict[str, Any]:
    """The generated target of ``source`` (``base``: adapter off)."""
    from ...core.inference import target_loaded

    return {"source": source, "text": target_loaded(cache.get(path), source, max_new_tokens, base=base),
            "base": base}


class AnswerPane(QGroupBox):
    """One side's answer: the context with the answer's characters highlighted, and its text and score."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.context = QTextEdit()
        self.context.setReadOnly(True)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.context, 1)
        layout.addWidget(self.result)

    def show_answer(self, answer: dict[str, Any]) -> None:
        """The context with the answer highlighted (nothing highlighted for "no answer")."""
        self.context.setPlainText(answer["context"])
        if not answer["text"]:
            self.result.setText(f"No answer in this passage (score {answer['score']:.2f}, "
                                f"p {answer['probability']:.0%}).")
            return
        mark = QTextCharFormat()
        mark.setBackground(QColor(HIGHLIGHT))
        cursor = QTextCursor(self.context.document())
        cursor.setPosition(answer["start"])
        cursor.setPosition(answer["end"], QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(mark)
        self.result.setText(f"<b>{html.escape(answer['text'])}</b> — characters {answer['start']}–{answer['end']}, "
                            f"score {answer['score']:.2f} (start + end logits), p {answer['probability']:.0%}")

    def highlighted_at(self, position: int) -> bool:
        """Whether the character at ``position`` of the shown context is highlighted."""
        cursor = QTextCursor(self.context.document())
        cursor.setPosition(position + 1)
        return bool(cursor.charFormat().background().color().name() == HIGHLIGHT)


class QAView(QWidget):
    """Context and question in; for each side (the run, and the run or base model it is compared with) the answer
    highlighted in the context, with its score."""

    answer_requested = Signal(str, str)  # question, context

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = QPlainTextEdit()
        self.context.setPlaceholderText("Paste a passage (the context) here.")
        self.question = QLineEdit()
        self.question.setPlaceholderText("Ask a question about the passage")
        self.button = QPushButton("Answer")
        self.sides = [AnswerPane("A"), AnswerPane("B")]
        row = QHBoxLayout()
        row.addWidget(QLabel("Question:"))
        row.addWidget(self.question, 1)
        row.addWidget(self.button)
        panes = QHBoxLayout()
        for pane in self.sides:
            panes.addWidget(pane, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Context:"))
        layout.addWidget(self.context, 1)
        layout.addLayout(row)
        layout.addLayout(panes, 2)
        self.button.clicked.connect(self._ask)
        self.question.returnPressed.connect(self._ask)

    def set_sides(self, titles: list[str]) -> None:
        """Name the sides shown (one or two); a second side is hidden when there is none."""
        for pane, title in zip(self.sides, [*titles, ""], strict=False):
            pane.setTitle(title)
            pane.setVisible(bool(title))

    def _ask(self) -> None:
        question, context = self.question.text().strip(), self.context.toPlainText()
        if question and context.strip():
            for pane in self.sides:
                pane.context.clear()
                pane.result.setText("Answering…")
            self.answer_requested.emit(question, context)

    def show_answer(self, side: int, answer: dict[str, Any]) -> None:
        """Show one side's answer (0: A, 1: B)."""
        self.sides[side].show_answer(answer)


class Seq2SeqView(QWidget):
    """A source in; each side's generated target out (greedy)."""

    generate_requested = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QPlainTextEdit()
        self.source.setPlaceholderText("Source text")
        self.max_new = QSpinBox()
        self.max_new.setRange(1, 2048)
        self.max_new.setValue(64)
        self.button = QPushButton("Generate")
        self.boxes: list[QGroupBox] = []
        self.targets: list[QPlainTextEdit] = []
        panes = QHBoxLayout()
        for title in ("A", "B"):
            box, target = QGroupBox(title), QPlainTextEdit()
            target.setReadOnly(True)
            target.setPlaceholderText("The generated target appears here.")
            QVBoxLayout(box).addWidget(target)
            panes.addWidget(box, 1)
            self.boxes.append(box)
            self.targets.append(target)
        self.target = self.targets[0]
        row = QHBoxLayout()
        row.addWidget(QLabel("Max new tokens:"))
        row.addWidget(self.max_new)
        row.addStretch(1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Source:"))
        layout.addWidget(self.source, 1)
        layout.addLayout(row)
        layout.addWidget(QLabel("Generated target:"))
        layout.addLayout(panes, 1)
        self.button.clicked.connect(self._go)

    def set_sides(self, titles: list[str]) -> None:
        """Name the sides shown (one or two)."""
        for box, title in zip(self.boxes, [*titles, ""], strict=False):
            box.setTitle(title)
            box.setVisible(bool(title))

    def _go(self) -> None:
        if self.source.toPlainText().strip():
            for target in self.targets:
                target.setPlainText("Generating…")
            self.generate_requested.emit(self.source.toPlainText(), self.max_new.value())

    def show_result(self, side: int, result: dict[str, Any]) -> None:
        """Show one side's generated target (0: A, 1: B)."""
        self.targets[side].setPlainText(result["text"])


class TaskViews:
    """The QA and seq2seq views of one playground page, and the jobs behind them. Side A is the chosen run; side B
    is the run picked in "Compare with", or the base model (the same run with its adapter off)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.qa = QAView()
        self.seq2seq = Seq2SeqView()
        page.views.addWidget(self.qa)
        page.views.addWidget(self.seq2seq)
        self.qa.answer_requested.connect(self._answer)
        self.seq2seq.generate_requested.connect(self._generate)
        page.other_combo.currentIndexChanged.connect(lambda _i: self._name_sides())

    def show_for(self, info: dict[str, Any]) -> None:
        """Switch the page to this task's view when the loaded run is QA or seq2seq."""
        view = {"question-answering": self.qa, "seq2seq": self.seq2seq}.get(info["task"])
        if view is not None:
            self.page.views.setCurrentWidget(view)
            self._name_sides()

    def sides(self) -> list[tuple[str, str, bool]]:
        """(title, run path, base model?) of each side: A, then B when something is picked to compare with."""
        page = self.page
        if not page.current:
            return []
        out = [(f"A · {page.current['name']}", page.current["path"], False)]
        data = page.other_combo.currentData()
        if data == BASE_CHOICE:
            out.append(("B · Base model (adapter off)", page.current["path"], True))
        elif data:
            out.append((f"B · {page.other_combo.currentText().split('  (')[0]}", data, False))
        return out

    def _name_sides(self) -> None:
        titles = [t for t, _p, _b in self.sides()]
        self.qa.set_sides(titles)
        self.seq2seq.set_sides(titles)

    def _submit_sides(self, fn: Any, show: Any, *args: Any) -> list[Any]:
        jobs, out = self.page.jobs, []
        self._name_sides()
        for side, (_title, path, base) in enumerate(self.sides()):
            job = jobs.worker.submit(fn, jobs.cache, path, *args, base)
            job.succeeded.connect(lambda result, side=side: show(side, result))
            job.failed.connect(self.page._on_failed)
            out.append(job)
        return out

    def _answer(self, question: str, context: str) -> list[Any]:
        """Ask each side; returns their jobs (A first)."""
        return self._submit_sides(qa_job, self.qa.show_answer, question, context) if self.page.current else []

    def _generate(self, source: str, max_new_tokens: int) -> list[Any]:
        """Generate on each side; returns their jobs (A first)."""
        if not self.page.current:
            return []
        return self._submit_sides(seq2seq_job, self.seq2seq.show_result, source, max_new_tokens)


def attach_task_views(page: Any) -> TaskViews:
    """Add the QA and seq2seq views to ``page`` (a PlaygroundPage)."""
    return TaskViews(page)
