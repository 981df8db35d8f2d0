"""The causal-LM side of :mod:`prepare`: reading rows as conversations, skipping unusable rows (counted and
named), the split, and tokenisation with the chat or plain template (or chunking plain text)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..config import RunConfig
from ..errors import DataError
from .arrowops import select_rows
from .chat import ChatLayout, detect_layout
from .chat_tokenize import chunk_text, row_problems, tokenize_conversations
from .columns import split_indices
from .load import row_note
from .prepare import DataSummary, PreparedData, _require, _Resolved, _row_list
from .templates import resolve_template
from .tokenize import finish_causal, too_long_indices

if TYPE_CHECKING:  # pragma: no cover
    import datasets

WARN_SHARE = 0.01
"""Skipped rows above this share of a file are a warning; below it, a note."""


def _first_row(table: datasets.Dataset) -> dict[str, Any]:
    return dict(table[0]) if len(table) else {}


def _skip_report(n_bad: int, n_rows: int, what: str) -> tuple[list[str], list[str]]:
    """(warnings, notes) for ``n_bad`` of ``n_rows`` rows skipped: a warning above 1%, else a note."""
    if not n_bad:
        return [], []
    share = n_bad / max(1, n_rows)
    line = f"{n_bad} of {n_rows} rows ({share:.1%}) were skipped: {what}"
    return ([line], []) if share > WARN_SHARE else ([], [line])


def _drop_bad(table: datasets.Dataset, layout: ChatLayout, path: str, fmt: str) -> tuple[Any, list[int], str]:
    """``table`` without its unusable rows, the kept rows' original indices, and a sentence about the rest."""
    bad, reason = row_problems(table, layout)
    if not bad:
        return table, list(range(len(table))), ""
    if len(bad) == len(table):
        raise DataError(f"no row is a usable conversation; the first: {reason} ({row_note(fmt)})", file=path, row=1,
                        column=layout.main_column)
    skip = set(bad)
    kept = [i for i in range(len(table)) if i not in skip]
    what = (f"{path}, column '{layout.main_column}', rows {_row_list(bad)} ({row_note(fmt)}); the first {reason}. "
            "Fix or remove those rows.")
    return select_rows(table, kept), kept, what


def resolve_causal(cfg: RunConfig, train: datasets.Dataset, eval_table: datasets.Dataset | None,
                   fmt: str) -> _Resolved:
    """Find the layout, check every row and split (no tokenizer needed)."""
    d = cfg.data
    path = d.train_file
    _require(train, path, [(c, f"data.{f}") for c, f in ((d.prompt_column, "prompt_column"),
                                                         (d.response_column, "response_column")) if c])
    if d.prompt_column and d.prompt_column == d.response_column:
        raise DataError("the prompt and response columns are the same; choose two different columns",
                        file=path, column=d.prompt_column)
    layout = detect_layout(train.column_names, _first_row(train), d.chat_format, d.prompt_column,
                           d.response_column, file=path)
    warnings: list[str] = []
    notes: list[str] = []
    skipped = 0
    parts = []
    for table, table_path in ((train, path), (eval_table, d.eval_file)):
        if table is None:
            continue
        _require(table, table_path, [(c, "the training file") for c in layout.columns if c])
        n_rows = len(table)
        table, kept, what = _drop_bad(table, layout, table_path, fmt)
        skipped += n_rows - len(kept)
        w, n = _skip_report(n_rows - len(kept), n_rows, what)
        warnings += w
        notes += n
        parts.append((table, table_path, kept))
    if eval_table is not None:
        (train_part, _, train_rows), (eval_part, _, eval_rows) = parts
        sources = ((path, train_rows), (d.eval_file, eval_rows))
    else:
        table, _, rows = parts[0]
        train_idx, eval_idx = split_indices(len(table), d.eval_fraction, cfg.training.seed)
        if not eval_idx:
            raise DataError("has a single usable row; add rows or set data.eval_file", file=path)
        train_part, eval_part = select_rows(table, train_idx), select_rows(table, eval_idx)
        sources = ((path, [rows[i] for i in train_idx]), (path, [rows[i] for i in eval_idx]))
    pr = layout.kind == "prompt-response"
    summary = DataSummary(n_train=len(train_part), n_eval=len(eval_part),
                          prompt_column=layout.columns[0] if pr else None,
                          response_column=layout.columns[1] if pr else None, task=cfg.task, format=fmt,
                          chat_format=layout.kind, chat_columns=layout.columns, skipped_rows=skipped,
                          warnings=tuple(warnings), notes=tuple(notes))
    return _Resolved(train_part, eval_part, summary, {}, sources, layout)


def tokenize_part(cfg: RunConfig, table: datasets.Dataset, tokenizer: Any, layout: ChatLayout,
                  template: str) -> datasets.Dataset:
    """One split tokenised as training sees it (with ``_full_length``), cut at ``data.max_length``."""
    if layout.kind == "text" and cfg.data.text_mode == "chunks":
        return chunk_text(table, tokenizer, layout.columns[0], cfg.data.max_length)
    return tokenize_conversations(table, tokenizer, layout, template, cfg.data.max_length)


def prepare_causal(cfg: RunConfig, tokenizer: Any, resolved: _Resolved) -> PreparedData:
    """Tokenise both splits; report rows cut at, or left out by, ``data.max_length`` (file, rows, column)."""
    summary, layout = resolved.summary, resolved.layout
    max_length = cfg.data.max_length
    template = resolve_template(cfg.data.template, tokenizer)
    parts = []
    too_long = dropped = 0
    long_rows: dict[str, list[int]] = {}
    for i, table in enumerate((resolved.train_table, resolved.eval_table)):
        ds = tokenize_part(cfg, table, tokenizer, layout, template)
        if i < len(resolved.sources) and not (layout.kind == "text" and cfg.data.text_mode == "chunks"):
            file, rows = resolved.sources[i]
            long_rows.setdefault(file, []).extend(rows[j] for j in too_long_indices(ds, max_length))
        ds, n_long, n_dropped = finish_causal(ds, max_length)
        parts.append(ds)
        too_long += n_long
        dropped += n_dropped
    train, evaluation = parts
    warnings, notes = list(summary.warnings), list(summary.notes)
    if tokenizer.eos_token_id is None and template == "plain":
        warnings.append("the tokenizer has no end-of-sequence token, so responses are not marked as finished; "
                        "the model may not learn where to stop")
    total = summary.n_train + summary.n_eval
    column = layout.main_column
    if too_long and too_long == total and dropped == total:
        raise DataError(f"every row's assistant turns start after data.max_length ({max_length} tokens), so nothing "
                        "is left to learn from; raise data.max_length", file=cfg.data.train_file, column=column)
    if too_long:
        where = "; ".join(f"{file}: rows {_row_list(sorted(rows))}" for file, rows in long_rows.items() if rows)
        where = f" ({where}; {row_note(summary.format)})" if where else ""
        left_out = (f"; {dropped} of them have every assistant turn cut off (no trained token left) and were left "
                    "out" if dropped else "")
        warnings.append(f"{too_long} of {total} examples in column '{column}' are longer than data.max_length "
                        f"({max_length} tokens) and were cut at {max_length} tokens{left_out}{where}. Raise "
                        "data.max_length to keep them whole.")
    if len(train) == 0 or len(evaluation) == 0:
        raise DataError(f"no {'training' if len(train) == 0 else 'evaluation'} examples are left after leaving out "
                        f"those with every assistant turn past {max_length} tokens; raise data.max_length",
                        file=cfg.data.train_file, column=column)
    summary = dataclasses.replace(summary, n_train=len(train), n_eval=len(evaluation), warnings=tuple(warnings),
                                  notes=tuple(notes), template=template, skipped_rows=summary.skipped_rows + dropped)
    return PreparedData(train=train, eval=evaluation, summary=summary)
