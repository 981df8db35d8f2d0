"""Reading extractive question-answering data: SQuAD JSON, and flat CSV/TSV/JSONL/Parquet tables.

SQuAD JSON is ``{"data": [{"paragraphs": [{"context": ..., "qas": [{"id", "question", "answers": [{"text",
"answer_start"}], "is_impossible"?}]}]}]}`` (v1.1 and v2.0). A flat table has a context, a question and an
answers column holding ``{"text": [...], "answer_start": [...]}`` per row (a struct, or that JSON as text in a
CSV cell), or two plain columns ``answer_text`` and ``answer_start`` with one answer per row.

Every answer is checked against its context: ``context[answer_start:answer_start + len(text)] == text``. A row
numbers questions from 1 in file order (for SQuAD JSON: the n-th question of the file, its id named too).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from .load import load_table, resolve_format, row_note

QUESTION_NAMES = ("question", "query", "questions")
CONTEXT_NAMES = ("context", "passage", "paragraph", "document", "text")
ANSWERS_NAMES = ("answers", "answer")


@dataclass(frozen=True)
class QAExample:
    """One question about one context, with its gold answers (empty for a SQuAD v2 unanswerable question)."""

    id: str
    context: str
    question: str
    answer_texts: tuple[str, ...]
    answer_starts: tuple[int, ...]
    row: int
    """1-based question number in its file (for messages)."""


@dataclass(frozen=True)
class QAColumns:
    """The columns (or SQuAD JSON keys) an example was read from."""

    question: str
    context: str
    answers: str


def is_squad_json(path: Path) -> bool:
    """Whether ``path`` is a SQuAD-style JSON file (a top-level object with a ``data`` list of articles)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    return head.startswith(b"{") and b'"data"' in head[:4096] and b"[" in head


def read_qa_file(path: str | Path, fmt: str, columns: QAColumns | None, allow_no_answer: bool) -> tuple[
        list[QAExample], QAColumns, str]:
    """Read and check the examples of one file; return them, the columns used and the resolved format."""
    path = Path(path)
    if is_squad_json(path):
        examples = _read_squad_json(path)
        used, fmt_name = QAColumns("question", "context", "answers"), "squad-json"
    else:
        table = load_table(path, fmt)
        fmt_name = resolve_format(path, fmt)
        used = columns if columns and all((columns.question, columns.context, columns.answers)) else _guess(
            table.column_names, columns, str(path))
        examples = _read_flat(table, used, str(path), fmt_name)
    for ex in examples:
        _check_example(ex, str(path), used, fmt_name, allow_no_answer)
    if not examples:
        raise DataError("holds no questions", file=str(path))
    return examples, used, fmt_name


def _guess(names: Sequence[str], given: QAColumns | None, path: str) -> QAColumns:
    lower = {n.lower(): n for n in names}

    def pick(explicit: str, candidates: Sequence[str], field: str) -> str:
        if explicit:
            if explicit not in names:
                raise DataError(f"has no column '{explicit}' (from data.{field}); available columns: "
                                f"{', '.join(names)}", file=path, column=explicit)
            return explicit
        for c in candidates:
            if c in lower:
                return lower[c]
        if field == "answers_column" and "answer_text" in lower and "answer_start" in lower:
            return "answer_text+answer_start"
        raise DataError(f"could not find the {field.split('_')[0]} column; set data.{field} to one of the columns: "
                        f"{', '.join(names)}", file=path)

    g = given or QAColumns("", "", "")
    return QAColumns(pick(g.question, QUESTION_NAMES, "question_column"),
                     pick(g.context, CONTEXT_NAMES, "context_column"),
                     pick(g.answers, ANSWERS_NAMES, "answers_column"))


def _read_squad_json(path: Path) -> list[QAExample]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"is not valid SQuAD JSON: {exc}", file=str(path)) from exc
    out: list[QAExample] = []
    for article in data.get("data", []):
        for paragraph in article.get("paragraphs", []):
            context = paragraph.get("context", "")
            for qa in paragraph.get("qas", []):
                row = len(out) + 1
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                try:
                    texts = tuple(str(a["text"]) for a in answers)
                    starts = tuple(int(a["answer_start"]) for a in answers)
                except (KeyError, TypeError, ValueError) as exc:
                    raise DataError(f"question {qa.get('id', row)!r}: each answer needs 'text' and a whole-number "
                                    f"'answer_start' ({exc})", file=str(path), row=row, column="answers") from None
                out.append(QAExample(str(qa.get("id", row)), str(context), str(qa.get("question", "")), texts,
                                     starts, row))
    return out


def parse_answers(value: Any) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """``(texts, starts)`` from an answers cell: a {text, answer_start} mapping, its JSON text, or a list of
    {text, answer_start} mappings. Raises ValueError describing what is wrong."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {"text": [], "answer_start": []}
    if isinstance(value, list):
        value = {"text": [a["text"] for a in value], "answer_start": [a["answer_start"] for a in value]}
    if not isinstance(value, dict) or "text" not in value or "answer_start" not in value:
        raise ValueError("expected {\"text\": [...], \"answer_start\": [...]}")
    texts, starts = value["text"], value["answer_start"]
    if isinstance(texts, str):
        texts, starts = [texts], [starts]
    if len(texts) != len(starts):
        raise ValueError(f"{len(texts)} answer texts but {len(starts)} answer_start values")
    return tuple(str(t) for t in texts), tuple(int(s) for s in starts)


def _read_flat(table: Any, cols: QAColumns, path: str, fmt: str) -> list[QAExample]:
    data = table.to_dict()
    ids = data.get("id") or [str(i + 1) for i in range(len(table))]
    out: list[QAExample] = []
    for i in range(len(table)):
        try:
            if cols.answers == "answer_text+answer_start":
                texts, starts = parse_answers({"text": data["answer_text"][i], "answer_start": data["answer_start"][i]})
            else:
                texts, starts = parse_answers(data[cols.answers][i])
        except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read the answers: {exc} ({row_note(fmt)})", file=path, row=i + 1,
                            column=cols.answers) from None
        out.append(QAExample(str(ids[i]), str(data[cols.context][i] or ""), str(data[cols.question][i] or ""),
                             texts, starts, i + 1))
    return out


def _check_example(ex: QAExample, path: str, cols: QAColumns, fmt: str, allow_no_answer: bool) -> None:
    note = "questions counted from 1 in file order" if fmt == "squad-json" else row_note(fmt)
    if not ex.context.strip():
        raise DataError(f"has an empty context ({note})", file=path, row=ex.row, column=cols.context)
    if not ex.question.strip():
        raise DataError(f"has an empty question ({note})", file=path, row=ex.row, column=cols.question)
    if not ex.answer_texts and not allow_no_answer:
        raise DataError(f"question {ex.id!r} has no answer; for SQuAD v2 data with unanswerable questions set "
                        f"data.eval_metric to squad_v2 ({note})", file=path, row=ex.row, column=cols.answers)
    for text, start in zip(ex.answer_texts, ex.answer_starts, strict=True):
        found = ex.context[start:start + len(text)] if start >= 0 else ""
        if found != text:
            near = ex.context.find(text)
            hint = f"; the text occurs at character {near}" if near >= 0 else "; the text does not occur in the context"
            raise DataError(f"question {ex.id!r}: answer {text!r} does not start at character {start} of the context "
                            f"(found {found!r} there{hint}) ({note})", file=path, row=ex.row, column=cols.answers)
