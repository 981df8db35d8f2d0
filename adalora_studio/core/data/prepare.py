"""Datasets for a run: loading, preview, column mapping, checks, the seeded split and tokenisation.

Everything goes through the ``datasets`` library, so data is memory-mapped Arrow (converted once into a cache
under :func:`paths.cache_dir`). Problems a user can fix raise :class:`DataError` naming the file and, where it
applies, the row (1-based data row; for CSV/TSV the header is not counted) and the column.

Helpers live in ``data_load`` (files -> Arrow), ``data_columns`` (detection, labels, split), ``data_preview``
and ``data_tokenize``; this module ties them to a :class:`RunConfig`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import RunConfig
from ..errors import DataError
from .arrowops import (
    blank_rows,
    column_array,
    distinct_labels,
    label_id_array,
    label_id_chunks,
    release_unused,
    select_mapped,
    select_rows,
)
from .columns import (
    ColumnSummary,
    guess_label_column,
    guess_text_columns,
    label_key,
    sort_label_names,
    summarise_columns,
)
from .load import load_table, resolve_delimiter, resolve_format, row_note
from .split_cache import Split, label_counts, stratified_split
from .tokenize import (
    tokenize_classification,
)

if TYPE_CHECKING:  # pragma: no cover
    import datasets


_SAMPLE_ROWS = 2000
_LIST_ROWS = 5


@dataclass(frozen=True)
class DataSummary:
    """What a run will train on. ``label_counts`` count the training rows (after the eval hold-out)."""

    n_train: int
    n_eval: int
    label_names: tuple[str, ...] = ()
    """Class names in label-id order (classification); empty for causal LM."""
    label_counts: dict[str, int] = field(default_factory=dict)
    text_columns: tuple[str, ...] = ()
    label_column: str | None = None
    prompt_column: str | None = None
    response_column: str | None = None
    warnings: tuple[str, ...] = ()
    """Things worth knowing that do not stop the run (each one a sentence naming what to change)."""
    eval_label_counts: dict[str, int] = field(default_factory=dict)
    task: str = "text-classification"
    format: str = ""
    delimiter: str = ""
    """The CSV/TSV separator used (detected or chosen); empty for other formats."""
    chat_format: str = ""
    """Causal LM: the row layout read (messages, sharegpt, alpaca, prompt-response or text)."""
    chat_columns: tuple[str, ...] = ()
    template: str = ""
    """Causal LM, after tokenisation: chat (the tokenizer's template) or plain."""
    skipped_rows: int = 0
    """Rows left out (not usable, or no trainable token left within max_length); named in warnings or notes."""
    notes: tuple[str, ...] = ()
    """Facts worth a line that are not warnings (e.g. under 1% of rows skipped)."""
    question_column: str | None = None
    context_column: str | None = None
    answers_column: str | None = None
    source_column: str | None = None
    target_column: str | None = None


@dataclass(frozen=True)
class PreparedData:
    """Tokenised train and eval datasets (columns input_ids, attention_mask, labels; token_type_ids for BERT)."""

    train: datasets.Dataset
    eval: datasets.Dataset
    summary: DataSummary
    eval_examples: Any = None
    """Question answering: the eval questions (``QAExample``) the eval features' ``example_index`` points into."""


@dataclass
class _Resolved:
    """The loaded tables, resolved columns and split of one config (internal)."""

    train_table: datasets.Dataset
    eval_table: datasets.Dataset
    summary: DataSummary
    label_to_id: dict[str, int]
    sources: tuple[tuple[str, list[int]], ...] = ()
    """Per part (train, eval): the file it came from and each example's 0-based row there (for messages)."""
    layout: Any = None
    """Causal LM: the :class:`chat.ChatLayout` of the rows."""


def inspect_dataset(cfg: RunConfig) -> DataSummary:
    """Load and check the data of ``cfg`` and describe the split, without a tokenizer. Raises :class:`DataError`."""
    if cfg.task == "question-answering":
        from .qa_prepare import inspect_qa

        return inspect_qa(cfg)
    return _resolve(cfg).summary


def prepare_data(cfg: RunConfig, tokenizer: Any) -> PreparedData:
    """Load, check, split and tokenise the data of ``cfg`` (no padding; see :func:`make_collator`).

    Causal LM pairs longer than ``data.max_length`` are cut there and reported in ``summary.warnings``; when
    every pair is too long this raises :class:`DataError`.
    """
    if cfg.task == "question-answering":
        from .qa_prepare import prepare_qa

        return prepare_qa(cfg, tokenizer)
    resolved = _resolve(cfg)
    if cfg.task == "seq2seq":
        from .seq2seq import tokenize_seq2seq

        return tokenize_seq2seq(cfg, tokenizer, resolved.train_table, resolved.eval_table, resolved.summary)
    if cfg.task == "causal-lm":
        return _prepare_causal(cfg, tokenizer, resolved)
    summary = resolved.summary
    train, evaluation = (
        tokenize_classification(table, tokenizer, summary.text_columns, summary.label_column or "",
                                resolved.label_to_id, cfg.data.max_length, label_key)
        for table in (resolved.train_table, resolved.eval_table)
    )
    return PreparedData(train=train, eval=evaluation, summary=summary)


def _prepare_causal(cfg: RunConfig, tokenizer: Any, resolved: _Resolved) -> PreparedData:
    from .prepare_causal import prepare_causal

    return prepare_causal(cfg, tokenizer, resolved)


# ---------------------------------------------------------------------------------------------- resolving


def _resolve(cfg: RunConfig) -> _Resolved:
    d = cfg.data
    if not d.train_file.strip():
        raise DataError("no training data chosen; set data.train_file to a data file")
    train_path = Path(d.train_file)
    train = load_table(train_path, d.format, d.delimiter, d.sheet)
    fmt = resolve_format(train_path, d.format)
    eval_table = load_table(Path(d.eval_file), d.format, d.delimiter, d.sheet) if d.eval_file else None
    if cfg.task == "causal-lm":
        from .prepare_causal import resolve_causal

        resolved = resolve_causal(cfg, train, eval_table, fmt)
    elif cfg.task == "seq2seq":
        from .seq2seq import resolve_seq2seq

        resolved = resolve_seq2seq(cfg, train, eval_table, fmt)
    else:
        sample = train.select(range(min(_SAMPLE_ROWS, len(train)))).to_dict()
        resolved = _resolve_classification(cfg, train, eval_table, summarise_columns(sample), sample, fmt)
    if fmt in ("csv", "tsv"):
        resolved.summary = dataclasses.replace(resolved.summary, delimiter=resolve_delimiter(train_path, fmt,
                                                                                                d.delimiter))
    release_unused()  # what the conversion and the whole-file checks freed
    return resolved


def _require(table: datasets.Dataset, path: str, columns: list[tuple[str, str]]) -> None:
    """Raise if a configured column (name, config field) is missing from ``table``."""
    for name, source in columns:
        if name not in table.column_names:
            raise DataError(f"is not in the file (it is set in {source}); available columns: "
                            f"{', '.join(table.column_names)}", file=path, column=name)


def _not_found(what: str, setting: str, table: datasets.Dataset, path: str) -> DataError:
    return DataError(f"could not find {what}; set {setting} to one of the columns: {', '.join(table.column_names)}",
                     file=path)


def _row_list(rows: list[int]) -> str:
    """1-based row numbers of 0-based ``rows``, the first few then '...'."""
    return ", ".join(str(i + 1) for i in rows[:_LIST_ROWS]) + (", ..." if len(rows) > _LIST_ROWS else "")


def _blank_rows(table: datasets.Dataset, column: str) -> list[int]:
    """0-based indices of rows whose ``column`` is missing or blank."""
    return [int(i) for i in blank_rows(column_array(table, column))]


def _check_filled(table: datasets.Dataset, column: str, path: str, fmt: str, what: str) -> None:
    rows = blank_rows(column_array(table, column))
    if len(rows):
        listed = ", ".join(str(int(i) + 1) for i in rows[:_LIST_ROWS]) + (", ..." if len(rows) > _LIST_ROWS else "")
        plural = "row has" if len(rows) == 1 else "rows have"
        raise DataError(f"{len(rows)} {plural} no {what} (rows {listed}; {row_note(fmt)}). "
                        "Fill them in or remove those rows.", file=path, row=int(rows[0]) + 1, column=column)


def _label_names(table: datasets.Dataset, column: str, path: str, fmt: str) -> list[str]:
    """The distinct label names of ``column``, after refusing blank labels."""
    _check_filled(table, column, path, fmt, "label")
    return distinct_labels(table, column, path, row_note(fmt))


def _label_ids(table: datasets.Dataset, column: str, path: str, fmt: str, names: tuple[str, ...]) -> Any:
    return label_id_array(table, column, path, row_note(fmt), names)


def _counts(counts: Any, names: tuple[str, ...]) -> dict[str, int]:
    """``counts`` (rows per class id) by class name."""
    return {n: int(counts[i]) for i, n in enumerate(names)}


def _split(train: datasets.Dataset, label: str, path: str, fmt: str, names: tuple[str, ...],
           cfg: RunConfig) -> tuple[Split, datasets.Dataset, datasets.Dataset]:
    """The seeded stratified split of ``train`` (cached next to the file's Arrow data) and its two parts."""
    def ids() -> Any:
        return label_id_chunks(train, label, path, row_note(fmt), names)

    split = stratified_split(train, label, names, cfg.data.eval_fraction, cfg.training.seed, ids)
    if not len(split.eval):
        raise DataError("is too small to hold out evaluation rows (every class has a single row); add rows or "
                        "set data.eval_file", file=path)
    if split.tables is not None:
        return split, select_mapped(train, split.tables[0]), select_mapped(train, split.tables[1])
    return split, select_rows(train, split.train), select_rows(train, split.eval)


def _resolve_classification(cfg: RunConfig, train: datasets.Dataset, eval_table: datasets.Dataset | None,
                            summaries: tuple[ColumnSummary, ...], sample: dict[str, list[Any]], fmt: str) -> _Resolved:
    d = cfg.data
    path = d.train_file
    _require(train, path, [(c, "data.text_columns") for c in d.text_columns]
             + ([(d.label_column, "data.label_column")] if d.label_column else []))
    label = d.label_column or guess_label_column(summaries, exclude=d.text_columns, columns=sample)
    text = tuple(d.text_columns) or guess_text_columns(summaries, exclude=[label] if label else [])
    if not text:
        raise _not_found("a text column (a column holding text)", "data.text_columns", train, path)
    if label is None:
        raise _not_found("a label column (named label, class, category, intent or target, or one with few distinct "
                         "values)", "data.label_column", train, path)
    if label in text:
        raise DataError("is set both as a text column and as the label column; choose different "
                        "columns", file=path, column=label)
    for column in text:
        _check_filled(train, column, path, fmt, "text")
    names = sort_label_names(_label_names(train, label, path, fmt))
    if len(names) < 2:
        raise DataError(f"the label column has only one class ('{names[0]}'); classification needs at least two "
                        "classes. Check data.label_column.", file=path, column=label)
    label_to_id = {name: i for i, name in enumerate(names)}
    warnings: list[str] = []
    if eval_table is not None:
        eval_path = d.eval_file
        _require(eval_table, eval_path, [(c, "the training file") for c in (*text, label)])
        for column in text:
            _check_filled(eval_table, column, eval_path, fmt, "text")
        unseen = sorted(set(_label_names(eval_table, label, eval_path, fmt)) - set(names))
        eval_ids = _label_ids(eval_table, label, eval_path, fmt, names)
        if unseen:
            first = int((eval_ids < 0).argmax())
            raise DataError(f"holds labels that never occur in the training file: {', '.join(map(repr, unseen))}. "
                            f"Training labels: {', '.join(names)}. Add training rows for them or remove them.",
                            file=eval_path, row=first + 1, column=label)
        train_part, eval_part = train, eval_table
        train_counts = _counts(label_counts(label_id_chunks(train, label, path, row_note(fmt), names), len(names))[0],
                               names)
        eval_counts = _counts(label_counts([eval_ids], len(names))[0], names)
    else:
        split, train_part, eval_part = _split(train, label, path, fmt, names, cfg)
        total, held = label_counts(label_id_chunks(train, label, path, row_note(fmt), names), len(names), split.eval)
        eval_counts, train_counts = _counts(held, names), _counts(total - held, names)
        single = [n for n in names if train_counts[n] + eval_counts[n] == 1]
        if single:
            warnings.append(f"{len(single)} class(es) have a single row and are only trained on, never evaluated: "
                            f"{', '.join(single[:_LIST_ROWS])}{', ...' if len(single) > _LIST_ROWS else ''}.")
    summary = DataSummary(
        n_train=len(train_part), n_eval=len(eval_part), label_names=names,
        label_counts={n: train_counts[n] for n in names}, text_columns=text, label_column=label,
        warnings=tuple(warnings), eval_label_counts={n: eval_counts[n] for n in names},
        task=cfg.task, format=fmt,
    )
    return _Resolved(train_part, eval_part, summary, label_to_id)
