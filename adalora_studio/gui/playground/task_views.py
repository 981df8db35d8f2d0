"""Playground views of the question-answering and seq2seq tasks, and their worker jobs.

QA: a context and a question give the answer span, highlighted in the context, with its score and probability.
Seq2seq: a source gives the generated target (greedy). The jobs run in the TorchWorker thread and return plain
dicts; the views only show them. :func:`attach_task_views` adds both views to a :class:`PlaygroundPage`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
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

HIGHLIGHT = "#ffd54f"


def qa_job(cache: Any, path: str, question: str, context: str) -> dict[str, Any]:
    """The answer span of ``question`` in ``context`` with the run's window settings."""
    from ...core.inference import answer_question

    loaded = cache.get(path)
    d = loaded.config.data if loaded.config is not None else None
    kwargs = {"max_length": d.max_length, "doc_stride": d.doc_stride, "max_answer_length": d.max_answer_length,
              "allow_null": d.eval_metric == "squad_v2"} if d is not None else {}
    a = answer_question(loaded.model, loaded.tokenizer, question, context, **kwargs)
    return {"text": a.text, "start": a.start_char, "end": a.end_char, "score": a.score, "probability": a.probability,
            "context": context}


def seq2seq_job(cache: Any, path: str, source: str, max_new_tokens: int) -> dict[str, Any]:
    """The generated target of ``source``."""
    from ...core.inference import generate_text

    loaded = cache.get(path)
    max_length = loaded.config.data.max_length if loaded.config is not None else 512
    return {"source": source, "text": generate_text(loaded.model, loaded.tokenizer, source, "seq2seq",
                                                    max_length=max_length, max_new_tokens=max_new_tokens)}


class QAView(QWidget):
    """Context and question in; the answer highlighted in the context, with its score."""

    answer_requested = Signal(str, str)  # question, context

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = QTextEdit()
        self.context.setAcceptRichText(False)
        self.context.setPlaceholderText("Paste a passage (the context) here.")
        self.question = QLineEdit()
        self.question.setPlaceholderText("Ask a question about the passage")
        self.button = QPushButton("Answer")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Question:"))
        row.addWidget(self.question, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Context:"))
        layout.addWidget(self.context, 1)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self.button.clicked.connect(self._ask)
        self.question.returnPressed.connect(self._ask)

    def _ask(self) -> None:
        question, context = self.question.text().strip(), self.context.toPlainText()
        if question and context.strip():
            self.result.setText("Answering…")
            self.answer_requested.emit(question, context)

    def show_answer(self, answer: dict[str, Any]) -> None:
        """Highlight the answer's characters in the context and show its text and score."""
        cursor = QTextCursor(self.context.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.setCharFormat(QTextCharFormat())
        if self.context.toPlainText() != answer["context"]:
            self.result.setText("The context changed while answering; ask again.")
            return
        if not answer["text"]:
            self.result.setText(f"No answer in this passage (score {answer['score']:.2f}, "
                                f"p {answer['probability']:.0%}).")
            return
        mark = QTextCharFormat()
        mark.setBackground(QColor(HIGHLIGHT))
        cursor.setPosition(answer["start"])
        cursor.setPosition(answer["end"], QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(mark)
        self.result.setText(f"<b>{answer['text']}</b> — characters {answer['start']}–{answer['end']}, score "
                            f"{answer['score']:.2f} (start + end logits), p {answer['probability']:.0%}")


class Seq2SeqView(QWidget):
    """A source in; its generated target out (greedy)."""

    generate_requested = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QPlainTextEdit()
        self.source.setPlaceholderText("Source text")
        self.target = QPlainTextEdit()
        self.target.setReadOnly(True)
        self.target.setPlaceholderText("The generated target appears here.")
        self.max_new = QSpinBox()
        self.max_new.setRange(1, 2048)
        self.max_new.setValue(64)
        self.button = QPushButton("Generate")
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
        layout.addWidget(self.target, 1)
        self.button.clicked.connect(self._go)

    def _go(self) -> None:
        if self.source.toPlainText().strip():
            self.target.setPlainText("Generating…")
            self.generate_requested.emit(self.source.toPlainText(), self.max_new.value())

    def show_result(self, result: dict[str, Any]) -> None:
        """Show the generated target."""
        self.target.setPlainText(result["text"])


class TaskViews:
    """The QA and seq2seq views of one playground page, and the jobs behind them."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.qa = QAView()
        self.seq2seq = Seq2SeqView()
        page.views.addWidget(self.qa)
        page.views.addWidget(self.seq2seq)
        self.qa.answer_requested.connect(self._answer)
        self.seq2seq.generate_requested.connect(self._generate)

    def show_for(self, info: dict[str, Any]) -> None:
        """Switch the page to this task's view when the loaded run is QA or seq2seq."""
        view = {"question-answering": self.qa, "seq2seq": self.seq2seq}.get(info["task"])
        if view is not None:
            self.page.views.setCurrentWidget(view)

    def _submit(self, fn: Any, *args: Any) -> Any:
        jobs = self.page.jobs
        return jobs.worker.submit(fn, jobs.cache, self.page.current["path"], *args)

    def _answer(self, question: str, context: str) -> Any:
        if not self.page.current:
            return None
        job = self._submit(qa_job, question, context)
        job.succeeded.connect(self.qa.show_answer)
        job.failed.connect(self.page._on_failed)
        return job

    def _generate(self, source: str, max_new_tokens: int) -> Any:
        if not self.page.current:
            return None
        job = self._submit(seq2seq_job, source, max_new_tokens)
        job.succeeded.connect(self.seq2seq.show_result)
        job.failed.connect(self.page._on_failed)
        return job


def attach_task_views(page: Any) -> TaskViews:
    """Add the QA and seq2seq views to ``page`` (a PlaygroundPage)."""
    return TaskViews(page)
