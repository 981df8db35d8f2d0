"""Evaluation rows of another file for question-answering and seq2seq runs, read with the run's column mapping.

Question answering: SQuAD JSON, or a flat file with the run's question, context and answers columns; every answer
is checked against its context (:func:`data.squad.read_qa_file`). Seq2seq: the run's source and target columns,
none empty. Bad input raises :class:`DataError` naming the file, the row and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import DataError, StudioError
from .rows import EvalRows, _require

_SPLIT_ANSWERS = "answer_text+answer_start"
"""The answers "column" of a flat file holding one answer per row in two plain columns."""


def _resolved(cfg: RunConfig) -> Any:
    """The run's data summary (its columns as resolved from its training data)."""
    from ..data import inspect_dataset

    try:
        return inspect_dataset(cfg)
    except StudioError as exc:
        raise DataError(f"the run's columns were detected from its training data, which cannot be read now ({exc}); "
                        "set the columns in run.json") from exc


def qa_columns(cfg: RunConfig) -> tuple[str, str, str]:
    """The run's (question, context, answers) columns: as configured, else as read from its training data."""
    d = cfg.data
    if d.question_column and d.context_column and d.answers_column:
        return d.question_column, d.context_column, d.answers_column
    s = _resolved(cfg)
    return s.question_column or "question", s.context_column or "context", s.answers_column or "answers"


def seq2seq_columns(cfg: RunConfig) -> tuple[str, str]:
    """The run's (source, target) columns: as configured, else as resolved from its training data."""
    d = cfg.data
    if d.source_column and d.target_column:
        return d.source_column, d.target_column
    s = _resolved(cfg)
    return s.source_column or "", s.target_column or ""


def qa_file_rows(cfg: RunConfig, path: str | Path) -> EvalRows:
    """The questions of ``path`` (``EvalRows.examples``), read with the run's columns and checked."""
    from ..data import load_table
    from ..data.squad import QAColumns, is_squad_json, read_qa_file

    question, context, answers = qa_columns(cfg)
    if not is_squad_json(Path(path)):  # SQuAD JSON has fixed keys; a flat file needs the run's columns
        table = load_table(path, cfg.data.format, cfg.data.delimiter)
        wanted = [question, context, *(["answer_text", "answer_start"] if answers == _SPLIT_ANSWERS else [answers])]
        _require(path, table.column_names, wanted, "question/context/answers")
    examples, used, _ = read_qa_file(path, cfg.data.format, QAColumns(question, context, answers),
                                     allow_no_answer=cfg.data.eval_metric == "squad_v2")
    return EvalRows(str(path), examples=examples,
                    columns={"question": used.question, "context": used.context, "answers": used.answers})


def seq2seq_file_rows(cfg: RunConfig, path: str | Path) -> EvalRows:
    """The (source, target) rows of ``path``, read with the run's columns; no source or target may be empty."""
    from ..data import load_table, resolve_format
    from ..data.prepare import _check_filled

    source, target = seq2seq_columns(cfg)
    table = load_table(path, cfg.data.format, cfg.data.delimiter)
    _require(path, table.column_names, [source, target], "source/target")
    fmt = resolve_format(Path(path), cfg.data.format)
    _check_filled(table, source, str(path), fmt, "source text")
    _check_filled(table, target, str(path), fmt, "target text (seq2seq targets cannot be empty)")
    data = table.select_columns([source, target])[:]
    return EvalRows(str(path), texts=[str(v) for v in data[source]], responses=[str(v) for v in data[target]],
                    columns={"source": source, "target": target})


def seq2seq_eval_loss(loaded: Any, dataset: Any, batch_size: int) -> float:
    """Mean loss per target token of a tokenised seq2seq ``dataset`` (teacher forcing, as the engine computes it)."""
    import torch
    import torch.nn.functional as F

    from ..adalora import unwrap_base
    from ..data.seq2seq import seq2seq_collator

    collate = seq2seq_collator(loaded.tokenizer)
    device = next(loaded.model.parameters()).device
    shift = unwrap_base(loaded.model).prepare_decoder_input_ids_from_labels
    total, count = 0.0, 0
    for lo in range(0, len(dataset), max(1, batch_size)):
        batch = collate([dataset[i] for i in range(lo, min(lo + batch_size, len(dataset)))])
        batch = {k: v.to(device) for k, v in batch.items()}
        labels = batch.pop("labels")  # the model is given decoder inputs, not labels: the loss is computed here
        with torch.no_grad():
            logits = loaded.model(**batch, decoder_input_ids=shift(labels=labels)).logits.float()
        total += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100,
                                       reduction="sum").item())
        count += int((labels != -100).sum().item())
    return total / count if count else float("nan")
