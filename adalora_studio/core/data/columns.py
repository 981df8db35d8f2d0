"""Column statistics, column-role detection, label names and the seeded stratified split.

Plain Python and numpy only: these helpers work on a sample of rows (as columns of Python values) or on label
lists, so the preview (which never loads the whole file) and the full pipeline share one set of rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LABEL_NAMES = ("label", "labels", "class", "category", "intent", "target")
PROMPT_NAMES = ("prompt", "instruction", "input", "question")
RESPONSE_NAMES = ("response", "output", "answer", "completion")
PAIR_NAMES = (("sentence1", "sentence2"), ("premise", "hypothesis"), ("text_a", "text_b"), ("text1", "text2"),
              ("question1", "question2"), ("sentence_a", "sentence_b"))
MAX_CLASSES = 50
"""A column with more distinct values than this is never guessed to be the label column."""


@dataclass(frozen=True)
class ColumnSummary:
    """What a column looks like in a sample of rows."""

    name: str
    dtype: str
    """``string``, ``int``, ``float``, ``bool`` or ``other``."""
    n_missing: int
    """Missing (null) or blank values in the sample."""
    n_unique: int
    mean_length: float
    """Mean length in characters of the non-missing values as text."""
    examples: tuple[str, ...] = ()
    """Up to three distinct values, as text, shortened to 80 characters."""


def value_kind(value: Any) -> str:
    """The ``dtype`` word for one Python value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "other"


def is_missing(value: Any) -> bool:
    """True for None, NaN and blank strings."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def summarise_column(name: str, values: Sequence[Any]) -> ColumnSummary:
    """A :class:`ColumnSummary` of ``values`` (a sample of one column)."""
    present = [v for v in values if not is_missing(v)]
    kinds = {value_kind(v) for v in present}
    if kinds <= {"int", "float"} and "float" in kinds:
        dtype = "float"
    elif len(kinds) == 1:
        dtype = kinds.pop()
    else:
        dtype = "string" if "string" in kinds else ("other" if kinds else "string")
    texts = [str(v) for v in present]
    distinct: list[str] = []
    for text in texts:
        if text not in distinct:
            distinct.append(text)
        if len(distinct) == 3:
            break
    return ColumnSummary(
        name=name, dtype=dtype, n_missing=len(values) - len(present), n_unique=len(set(texts)),
        mean_length=sum(map(len, texts)) / len(texts) if texts else 0.0,
        examples=tuple(t if len(t) <= 80 else t[:77] + "..." for t in distinct),
    )


def summarise_columns(columns: Mapping[str, Sequence[Any]]) -> tuple[ColumnSummary, ...]:
    """Summaries of every column of a columnar sample, in column order."""
    return tuple(summarise_column(name, values) for name, values in columns.items())


def _by_name(summaries: Iterable[ColumnSummary], wanted: Sequence[str]) -> str | None:
    lower = {s.name.lower().strip(): s.name for s in summaries}
    for name in wanted:
        if name in lower:
            return lower[name]
    return None


def _integral(summary: ColumnSummary, values: Sequence[Any] | None = None) -> bool:
    if summary.dtype in ("int", "bool", "string"):
        return True
    if summary.dtype == "float" and values is not None:
        return all(float(v).is_integer() for v in values if not is_missing(v))
    return False


def guess_label_column(summaries: Sequence[ColumnSummary], exclude: Sequence[str] = (),
                       columns: Mapping[str, Sequence[Any]] | None = None) -> str | None:
    """A column named like a label, else the lowest-cardinality short column with 2..50 values."""
    pool = [s for s in summaries if s.name not in exclude]
    named = _by_name(pool, LABEL_NAMES)
    if named is not None:
        return named
    best: ColumnSummary | None = None
    for s in pool:
        n_present = 0 if columns is None else sum(not is_missing(v) for v in columns[s.name])
        limit = min(MAX_CLASSES, max(2, n_present // 2)) if columns is not None else MAX_CLASSES
        if not 2 <= s.n_unique <= limit:
            continue
        if s.dtype == "string" and s.mean_length > 40:
            continue
        if not _integral(s, None if columns is None else columns[s.name]):
            continue
        if best is None or s.n_unique < best.n_unique:
            best = s
    return best.name if best else None


def guess_text_columns(summaries: Sequence[ColumnSummary], exclude: Sequence[str] = ()) -> tuple[str, ...]:
    """A known sentence-pair, else the string column with the longest mean length (empty if there is none)."""
    names = {s.name.lower(): s.name for s in summaries if s.dtype == "string" and s.name not in exclude}
    for first, second in PAIR_NAMES:
        if first in names and second in names:
            return (names[first], names[second])
    strings = [s for s in summaries if s.dtype == "string" and s.name not in exclude]
    if not strings:
        return ()
    return (max(strings, key=lambda s: s.mean_length).name,)


def guess_prompt_column(summaries: Sequence[ColumnSummary]) -> str | None:
    """A column named prompt, instruction, input or question (in that order of preference)."""
    return _by_name(summaries, PROMPT_NAMES)


def guess_response_column(summaries: Sequence[ColumnSummary]) -> str | None:
    """A column named response, output, answer or completion (in that order of preference)."""
    return _by_name(summaries, RESPONSE_NAMES)


# ------------------------------------------------------------------------------------------------ labels


def label_key(value: Any) -> str:
    """The label name of one value: integers (also 3.0) as digits, text stripped. Raises ValueError otherwise."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        raise ValueError(f"{value!r} is a decimal number")
    if isinstance(value, str):
        return value.strip()
    raise ValueError(f"{value!r} is a {type(value).__name__}")


def sort_label_names(names: Iterable[str]) -> tuple[str, ...]:
    """Label names in id order: numerically when every name is an integer, else as sorted strings."""
    unique = set(names)
    try:
        return tuple(sorted(unique, key=int))
    except ValueError:
        return tuple(sorted(unique))


# ------------------------------------------------------------------------------------------------- split


def split_indices(n_rows: int, fraction: float, seed: int,
                  label_ids: Sequence[int] | None = None) -> tuple[list[int], list[int]]:
    """Seeded (stratified when ``label_ids`` is given) train/eval row indices, each sorted ascending.

    Every class with at least two rows gives ``round(fraction * count)`` rows to eval (at least one, never all);
    a class with a single row stays in train. Without labels, ``round(fraction * n_rows)`` rows (at least one
    when there are two or more rows). The same arguments always give the same split.
    """
    train, evaluation = split_arrays(n_rows, fraction, seed, label_ids)
    return train.tolist(), evaluation.tolist()


def _groups(n_rows: int, label_ids: Sequence[int] | Any) -> Any:
    """The row positions of each class in ascending class order (all rows when there are no labels), one class at
    a time so that only one class's positions are held at once."""
    import numpy as np

    if label_ids is None:
        yield np.arange(n_rows)
        return
    ids = np.asarray(label_ids)
    if ids.dtype.kind in "iu" and len(ids) and int(ids.min()) >= 0:
        classes = np.flatnonzero(np.bincount(ids))  # np.unique without sorting a copy of every row's id
    else:
        classes = np.unique(ids)
    for c in classes:
        yield np.flatnonzero(ids == c)


def split_arrays(n_rows: int, fraction: float, seed: int, label_ids: Sequence[int] | Any = None) -> tuple[Any, Any]:
    """:func:`split_indices` as two sorted numpy int64 arrays (the same split, without Python lists)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    eval_rows = []
    for group in _groups(n_rows, label_ids):
        if len(group) < 2:
            continue
        take = min(len(group) - 1, max(1, int(round(fraction * len(group)))))
        eval_rows.append(group[rng.permutation(len(group))[:take]])  # the same draws as rng.permutation(group)
    chosen = np.sort(np.concatenate(eval_rows)) if eval_rows else np.zeros(0, np.int64)
    in_train = np.ones(n_rows, dtype=bool)
    in_train[chosen] = False
    return np.flatnonzero(in_train).astype(np.int64, copy=False), chosen.astype(np.int64, copy=False)
