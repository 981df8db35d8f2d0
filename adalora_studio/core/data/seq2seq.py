"""Seq2seq data (BART, T5): a source and a target column, tokenised for ``AutoModelForSeq2SeqLM``.

The source is the encoder input (cut at ``data.max_length`` tokens); the target becomes ``labels`` (cut there
too, padding -100), and the model builds its decoder inputs from them. Empty targets are refused, naming the
file, row and column (checked with the causal LM's prompt/response checks, see ``prepare._resolve``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..config import RunConfig
from ..errors import DataError
from .columns import ColumnSummary, _by_name

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from .prepare import DataSummary, PreparedData

SOURCE_NAMES = ("source", "document", "article", "input", "text", "prompt", "question", "src")
TARGET_NAMES = ("target", "summary", "highlights", "output", "response", "answer", "tgt")


def resolve_seq2seq_columns(cfg: RunConfig, table: datasets.Dataset,
                            summaries: Sequence[ColumnSummary]) -> tuple[str, str]:
    """The source and target columns: the configured ones (checked) or the first of the usual names."""
    d, path = cfg.data, cfg.data.train_file
    for name, field in ((d.source_column, "source_column"), (d.target_column, "target_column")):
        if name and name not in table.column_names:
            raise DataError(f"has no column '{name}' (from data.{field}); available columns: "
                            f"{', '.join(table.column_names)}", file=path, column=name)
    source = d.source_column or _by_name(summaries, SOURCE_NAMES)
    target = d.target_column or _by_name([s for s in summaries if s.name != source], TARGET_NAMES)
    for found, field, what in ((source, "source_column", "source"), (target, "target_column", "target")):
        if found is None:
            raise DataError(f"could not find a {what} column; set data.{field} to one of the columns: "
                            f"{', '.join(table.column_names)}", file=path)
    assert source is not None and target is not None
    if source == target:
        raise DataError("the source and target columns are the same; choose two different columns", file=path,
                        column=source)
    return source, target


def resolve_seq2seq(cfg: RunConfig, train: datasets.Dataset, eval_table: datasets.Dataset | None, fmt: str) -> Any:
    """Columns, checks (no empty source or target, naming file/row/column) and the seeded split of a seq2seq run."""
    from .columns import summarise_columns
    from .prepare import _SAMPLE_ROWS, DataSummary, _check_filled, _require, _Resolved

    d, path = cfg.data, cfg.data.train_file
    summaries = summarise_columns(train.select(range(min(_SAMPLE_ROWS, len(train)))).to_dict())
    source, target = resolve_seq2seq_columns(cfg, train, summaries)
    for table, table_path in ((train, path), (eval_table, d.eval_file)):
        if table is None:
            continue
        _require(table, table_path, [(source, "the training file"), (target, "the training file")])
        _check_filled(table, source, table_path, fmt, "source text")
        _check_filled(table, target, table_path, fmt, "target text (seq2seq targets cannot be empty)")
    train_part, eval_part = split_seq2seq(cfg, train, eval_table)
    summary = DataSummary(n_train=len(train_part), n_eval=len(eval_part), source_column=source, target_column=target,
                          task=cfg.task, format=fmt)
    return _Resolved(train_part, eval_part, summary, {})


def split_seq2seq(cfg: RunConfig, train: datasets.Dataset,
                  eval_table: datasets.Dataset | None) -> tuple[datasets.Dataset, datasets.Dataset]:
    """The training and evaluation parts: the two files, or the seeded hold-out of the training file."""
    from .columns import split_indices

    if eval_table is not None:
        return train, eval_table
    train_idx, eval_idx = split_indices(len(train), cfg.data.eval_fraction, cfg.training.seed)
    if not eval_idx:
        raise DataError("has a single row; add rows or set data.eval_file", file=cfg.data.train_file)
    return train.select(train_idx), train.select(eval_idx)


def encode_seq2seq(tokenizer: Any, sources: Sequence[Any], targets: Sequence[Any], max_length: int) -> dict[str, Any]:
    """``input_ids``/``attention_mask`` of the sources and ``labels`` of the targets, each cut at ``max_length``."""
    out = dict(tokenizer([str(t) for t in sources], truncation=True, max_length=max_length))
    out["labels"] = tokenizer(text_target=[str(t) for t in targets], truncation=True, max_length=max_length)[
        "input_ids"]
    return out


def tokenize_seq2seq(cfg: RunConfig, tokenizer: Any, train: datasets.Dataset, evaluation: datasets.Dataset,
                     summary: DataSummary) -> PreparedData:
    """Tokenise both parts: ``input_ids``/``attention_mask`` from the source, ``labels`` from the target."""
    from .prepare import PreparedData

    source, target, max_length = summary.source_column or "", summary.target_column or "", cfg.data.max_length

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        return encode_seq2seq(tokenizer, batch[source], batch[target], max_length)

    train_ds, eval_ds = (t.map(encode, batched=True, remove_columns=t.column_names, desc="Tokenising")
                         for t in (train, evaluation))
    summary = dataclasses.replace(summary, n_train=len(train_ds), n_eval=len(eval_ds))
    return PreparedData(train=train_ds, eval=eval_ds, summary=summary)


def seq2seq_collator(tokenizer: Any) -> Any:
    """Pads sources with the pad token and labels with -100 (transformers' ``DataCollatorForSeq2Seq``)."""
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, return_tensors="pt")
