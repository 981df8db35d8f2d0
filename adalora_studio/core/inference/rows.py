"""Evaluation rows for a report: the run's own evaluation split, or another file with the same column mapping.

A file without the run's columns, or with labels the model never saw, raises :class:`DataError` naming the file
and column; unseen labels are listed, and the rows holding them are only left out when the caller says so
(``known_labels_only``), and then counted in :attr:`EvalRows.left_out`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import DataError, StudioError
from .loaded import LoadedModel


class UnseenLabelsError(DataError):
    """The file holds labels the model never saw; :attr:`labels` lists them with their row counts."""

    def __init__(self, message: str, file: str, column: str, labels: dict[str, int]) -> None:
        super().__init__(message, file=file, column=column)
        self.labels = labels


@dataclass
class EvalRows:
    """Rows to evaluate, as text. Classification fills ``texts``/``labels``; causal LM and seq2seq
    ``texts``/``responses``; question answering from another file ``examples``. A QA or seq2seq run's own rows are
    left empty: the report reads them from the prepared data."""

    file: str
    texts: list[str] = field(default_factory=list)
    pairs: list[str] | None = None
    labels: list[int] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    """Unseen label -> rows left out (only with ``known_labels_only``)."""
    columns: dict[str, Any] = field(default_factory=dict)
    examples: list[Any] = field(default_factory=list)
    """Question answering from another file: its questions (``data.squad.QAExample``). Seq2seq rows are
    ``texts`` (sources) and ``responses`` (targets)."""


def run_eval_rows(loaded: LoadedModel) -> EvalRows:
    """The run's own evaluation rows, in the order (and split) the engine evaluated them."""
    from ..data import eval_table, label_key

    cfg = _config(loaded)
    where = cfg.data.eval_file or f"{cfg.data.train_file} (held-out rows)"
    if cfg.task in ("question-answering", "seq2seq"):  # the report reads these from the prepared data itself
        return EvalRows(where, columns={"task": cfg.task})
    table, summary = eval_table(cfg)
    data = table.to_dict()
    if cfg.task == "causal-lm" and summary.chat_format not in ("", "prompt-response"):
        from ..data import ChatLayout, exchanges  # messages, ShareGPT, Alpaca: the last exchange of each row

        prompts, responses = exchanges(ChatLayout(summary.chat_format, summary.chat_columns), data)
        return EvalRows(where, texts=prompts, responses=responses, columns={"chat": list(summary.chat_columns)})
    if cfg.task == "causal-lm":
        return EvalRows(where, texts=[str(v) for v in data[summary.prompt_column]],
                        responses=[str(v) for v in data[summary.response_column]],
                        columns={"prompt": summary.prompt_column, "response": summary.response_column})
    ids = {name: i for i, name in enumerate(loaded.label_names)}
    text = summary.text_columns
    return EvalRows(where, texts=[str(v) for v in data[text[0]]],
                    pairs=[str(v) for v in data[text[1]]] if len(text) > 1 else None,
                    labels=[ids[label_key(v)] for v in data[summary.label_column]],
                    columns={"text": list(text), "label": summary.label_column})


def file_eval_rows(loaded: LoadedModel, path: str | Path, known_labels_only: bool = False) -> EvalRows:
    """Rows of another file, read with the run's column mapping (see the module docstring for bad input)."""
    from ..data import load_table

    cfg = _config(loaded)
    if cfg.task in ("question-answering", "seq2seq"):
        from .task_rows import qa_file_rows, seq2seq_file_rows

        return qa_file_rows(cfg, path) if cfg.task == "question-answering" else seq2seq_file_rows(cfg, path)
    table = load_table(path, cfg.data.format, cfg.data.delimiter)
    data = table.to_dict()
    if cfg.task == "causal-lm" and (chat := _chat_rows(cfg, path, table, data)) is not None:
        return chat
    columns = _run_columns(cfg)
    if cfg.task == "causal-lm":
        prompt, response = columns["prompt"], columns["response"]
        _require(path, table.column_names, [prompt, response], "prompt/response")
        return EvalRows(str(path), texts=[str(v) for v in data[prompt]], responses=[str(v) for v in data[response]],
                        columns=columns)
    text, label = columns["text"], columns["label"]
    _require(path, table.column_names, [*text, label], "text/label")
    return _classification_rows(loaded, str(path), data, text, label, known_labels_only, columns)


def _chat_rows(cfg: RunConfig, path: str | Path, table: Any, data: dict[str, list[Any]]) -> EvalRows | None:
    """A messages / ShareGPT / Alpaca file as its rows' last exchanges; None for prompt/response files."""
    from ..data import detect_layout, exchanges

    d = cfg.data
    if d.prompt_column and d.response_column:
        return None
    try:
        layout = detect_layout(table.column_names, dict(table[0]) if len(table) else {}, d.chat_format, file=str(path))
    except DataError:
        return None  # no conversation layout: the prompt/response path explains what is missing
    if layout.kind in ("prompt-response", "text"):
        return None
    try:
        prompts, responses = exchanges(layout, data)
    except DataError as exc:
        raise DataError(exc.message, file=str(path), row=exc.row, column=exc.column) from None
    return EvalRows(str(path), texts=prompts, responses=responses, columns={"chat": list(layout.columns)})


def _classification_rows(loaded: LoadedModel, path: str, data: dict[str, list[Any]], text: list[str], label: str,
                         known_labels_only: bool, columns: dict[str, Any]) -> EvalRows:
    from ..data import label_key

    ids = {name: i for i, name in enumerate(loaded.label_names)}
    keys = []
    for i, value in enumerate(data[label]):
        try:
            keys.append(label_key(value))
        except ValueError as exc:
            raise DataError(f"label {exc}; labels must be categories the model knows", file=path, row=i + 1,
                            column=label) from None
    unseen = Counter(k for k in keys if k not in ids)
    if unseen and not known_labels_only:
        listed = ", ".join(f"{k!r} ({n} rows)" for k, n in sorted(unseen.items()))
        raise UnseenLabelsError(f"holds labels the model never saw: {listed}. The model knows: "
                                f"{', '.join(loaded.label_names)}. Evaluate on the known labels only "
                                "(--known-labels-only) or fix the file.", path, label, dict(unseen))
    keep = [i for i, k in enumerate(keys) if k in ids]
    if not keep:
        raise DataError("has no row with a label the model knows", file=path, column=label)
    return EvalRows(path, texts=[str(data[text[0]][i]) for i in keep],
                    pairs=[str(data[text[1]][i]) for i in keep] if len(text) > 1 else None,
                    labels=[ids[keys[i]] for i in keep], left_out=dict(unseen), columns=columns)


def _require(path: str | Path, available: list[str], wanted: list[str], what: str) -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        raise DataError(f"has no column '{missing[0]}' (the run's {what} columns are {', '.join(wanted)}); "
                        f"available columns: {', '.join(available)}. Rename the columns to match the run.",
                        file=str(path), column=missing[0])


def _config(loaded: LoadedModel) -> RunConfig:
    if loaded.config is None:
        raise DataError(f"{loaded.path} is a bare adapter folder: evaluation needs its run folder (run.json holds "
                        "the column mapping)")
    return loaded.config


def _run_columns(cfg: RunConfig) -> dict[str, Any]:
    """The run's column mapping: as configured, else as resolved from its training data."""
    d = cfg.data
    if cfg.task == "causal-lm" and d.prompt_column and d.response_column:
        return {"prompt": d.prompt_column, "response": d.response_column}
    if cfg.task != "causal-lm" and d.text_columns and d.label_column:
        return {"text": list(d.text_columns), "label": d.label_column}
    from ..data import inspect_dataset

    try:
        s = inspect_dataset(cfg)
    except StudioError as exc:
        raise DataError(f"the run's columns were detected from its training data, which cannot be read now ({exc}); "
                        "set the columns in run.json") from exc
    if cfg.task == "causal-lm":
        return {"prompt": s.prompt_column, "response": s.response_column}
    return {"text": list(s.text_columns), "label": s.label_column}
