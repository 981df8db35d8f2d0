"""A fast look at a data file: the first rows, column summaries and guessed column roles.

Reads only the start of CSV/TSV/JSONL files (so it is quick on a 1 GB file) and estimates their row count from
the bytes per row seen; Parquet files give their exact row count from metadata; saved datasets are memory-mapped.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from .chat import ChatLayout, detect_layout
from .columns import (
    ColumnSummary,
    guess_label_column,
    guess_prompt_column,
    guess_response_column,
    guess_text_columns,
    is_missing,
    label_key,
    summarise_columns,
)
from .diagnose import utf8_error
from .load import check_not_empty, csv_rows, load_table, resolve_delimiter, resolve_format
from .readers import check_columns, decompressed, first_line, xlsx_sheets

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_SMALL_JSON = 64 * 1024 * 1024


@dataclass(frozen=True)
class DataPreview:
    """The first rows of a data file and what the studio guesses about its columns."""

    file: str
    format: str
    n_rows: int
    """Data rows in the file; an estimate when ``n_rows_is_estimate`` is true."""
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    """The first rows as dicts (column -> value, None where missing)."""
    summaries: tuple[ColumnSummary, ...]
    """Per-column summaries computed on ``rows``."""
    guess_text_columns: tuple[str, ...]
    guess_label_column: str | None
    guess_prompt_column: str | None
    guess_response_column: str | None
    label_counts: dict[str, int] = field(default_factory=dict)
    """Counts of the guessed label column in ``rows`` (a sample, not the whole file)."""
    n_rows_is_estimate: bool = False
    delimiter: str = ""
    """CSV/TSV: the separator used (detected, or as set in data.delimiter)."""
    sheets: tuple[str, ...] = ()
    """xlsx: the workbook's sheets (the one read is ``sheet``)."""
    sheet: str = ""
    layout: str = ""
    """How a causal-LM run would read the rows (e.g. "OpenAI messages ('messages')"); empty when none fits."""
    layout_kind: str = ""


def preview_data(path: str | Path, fmt: str = "auto", n_rows: int = 50, delimiter: str = "auto",
                 sheet: str = "") -> DataPreview:
    """Read the first ``n_rows`` rows of ``path`` and guess its text/label/prompt/response columns.

    ``delimiter`` and ``sheet`` are ``data.delimiter`` and ``data.sheet``; compressed files are decompressed
    into the cache first (once).
    """
    path = Path(path)
    fmt = resolve_format(path, fmt)
    if path.is_file():
        check_not_empty(path)
    try:
        return _preview(path, fmt, max(1, n_rows), delimiter, sheet)
    except DataError as exc:  # name the user's file, not the decompressed copy
        if exc.file and exc.file != str(path):
            raise DataError(exc.message, file=str(path), row=exc.row, column=exc.column) from None
        raise


def _preview(path: Path, fmt: str, n_rows: int, delimiter: str, sheet: str) -> DataPreview:
    plain = decompressed(path) if fmt not in ("arrow", "xlsx") else path
    used, sheets = "", tuple[str, ...]()
    if fmt in ("csv", "tsv"):
        used = resolve_delimiter(path, fmt, delimiter)
        check_columns(plain, used, first_line(plain))
        columns, rows, total, estimate = _head_csv(plain, used, n_rows)
    elif fmt == "jsonl" or (fmt == "json" and _looks_like_lines(plain)):
        columns, rows, total, estimate = _head_jsonl(plain, n_rows)
    elif fmt == "json" and plain.stat().st_size <= _SMALL_JSON:
        columns, rows, total, estimate = _head_json(plain, n_rows)
    elif fmt == "parquet":
        columns, rows, total, estimate = _head_parquet(plain, n_rows)
    else:
        if fmt == "xlsx":
            sheets = tuple(xlsx_sheets(path))
        ds = load_table(path, fmt, delimiter, sheet)
        head = ds.select(range(min(n_rows, len(ds))))
        columns, rows, total, estimate = list(ds.column_names), [dict(r) for r in head], len(ds), False
    if not rows:
        raise DataError("has no data rows", file=str(path))
    by_column = {c: [r.get(c) for r in rows] for c in columns}
    summaries = summarise_columns(by_column)
    label = guess_label_column(summaries, columns=by_column)
    text = guess_text_columns(summaries, exclude=[label] if label else [])
    counts: Counter[str] = Counter()
    if label is not None:
        for value in by_column[label]:
            if not is_missing(value):
                try:
                    counts[label_key(value)] += 1
                except ValueError:
                    counts[str(value)] += 1
    try:
        layout: ChatLayout | None = detect_layout(columns, rows[0])
    except DataError:
        layout = None
    return DataPreview(
        file=str(path), format=fmt, n_rows=total, columns=tuple(columns), rows=tuple(rows), summaries=summaries,
        guess_text_columns=text, guess_label_column=label, guess_prompt_column=guess_prompt_column(summaries),
        guess_response_column=guess_response_column(summaries), label_counts=dict(counts.most_common()),
        n_rows_is_estimate=estimate, delimiter=used, sheets=sheets, sheet=(sheet or sheets[0]) if sheets else "",
        layout=layout.describe() if layout else "", layout_kind=layout.kind if layout else "",
    )


def _estimate(size: int, used: int, seen: int, exhausted: bool) -> tuple[int, bool]:
    if exhausted or used <= 0 or seen == 0:
        return seen, False
    return max(seen, int(round(size / used * seen))), True


def _convert(values: list[str | None]) -> list[Any]:
    """CSV text to int/float when a whole sample column is numeric, as the full loader would read it."""
    present = [v for v in values if v is not None]
    if present and all(_INT.match(v) for v in present):
        return [None if v is None else int(v) for v in values]
    if present and all(_FLOAT.match(v) for v in present):
        return [None if v is None else float(v) for v in values]
    return values


def _head_csv(path: Path, delimiter: str, n: int) -> tuple[list[str], list[dict[str, Any]], int, bool]:
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(_budget(n))  # enough for n ordinary rows; a long file is not read further
    complete = len(head) == size
    header: list[str] = []
    raw: list[list[str]] = []
    header_end = used = counted = 0
    for data_row, end, fields in csv_rows_from_bytes(path, head, delimiter, complete=complete):
        if data_row == 0:
            header = [h.lstrip("\ufeff").strip() for h in fields]
            header_end = end
            continue
        counted, used = data_row, end
        if len(raw) < n:
            raw.append(fields)
    columns = {name: _convert([row[i] if row[i] != "" else None for row in raw]) for i, name in enumerate(header)}
    rows = [{name: columns[name][j] for name in header} for j in range(len(raw))]
    total, estimate = _estimate(size - header_end, used - header_end, counted, complete)
    return header, rows, total, estimate


def _budget(n: int) -> int:
    return n * 4096 + (1 << 20)


def csv_rows_from_bytes(path: Path, head: bytes, delimiter: str,
                        complete: bool) -> Iterator[tuple[int, int, list[str]]]:
    """Like :func:`data_load.csv_rows` over the first bytes of a file, yielding each row's end as a byte offset.

    An incomplete last line (cut by the read limit) is dropped.
    """
    if not complete:
        head = head[: head.rfind(b"\n") + 1]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        error = utf8_error(path, "tsv" if delimiter == "\t" else "csv")
        raise (error or DataError("is not UTF-8 text", file=str(path))) from None
    ends: list[int] = [0]

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            ends.append(ends[-1] + len(line.encode("utf-8")))
            yield line

    for data_row, _line, fields in csv_rows(path, delimiter, lines()):
        yield data_row, ends[-1], fields


def _looks_like_lines(path: Path) -> bool:
    with path.open("rb") as fh:
        start = fh.read(1024).lstrip()
    return start.startswith(b"{")


def _head_jsonl(path: Path, n: int) -> tuple[list[str], list[dict[str, Any]], int, bool]:
    size = path.stat().st_size
    budget = _budget(n)
    rows: list[dict[str, Any]] = []
    used = counted = 0
    with path.open("rb") as fh:
        for line_no, line in enumerate(fh, start=1):
            if used + len(line) > budget and len(rows) == n:
                break
            used += len(line)
            if not line.strip():
                continue
            counted += 1
            if len(rows) == n:
                continue  # only counted, for the row estimate
            try:
                record = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                raise (utf8_error(path, "jsonl") or DataError("is not UTF-8 text", file=str(path))) from None
            except json.JSONDecodeError as exc:
                raise DataError(f"line {line_no} is not valid JSON (column {exc.colno}: {exc.msg}); each line must "
                                "be one JSON object", file=str(path), row=counted) from None
            if not isinstance(record, dict):
                raise DataError(f"line {line_no} is {type(record).__name__}, expected a JSON object",
                                file=str(path), row=counted)
            rows.append(record)
    columns: list[str] = []
    for record in rows:
        columns += [k for k in record if k not in columns]
    rows = [{c: r.get(c) for c in columns} for r in rows]
    total, estimate = _estimate(size, used, counted, used >= size)
    return columns, rows, total, estimate


def _head_json(path: Path, n: int) -> tuple[list[str], list[dict[str, Any]], int, bool]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise utf8_error(path, "json") or DataError("is not UTF-8 text", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                        file=str(path)) from None
    lengths = {len(v) if isinstance(v, list) else -1 for v in data.values()} if isinstance(data, dict) else set()
    if len(lengths) == 1 and min(lengths) > 1:  # one list per column, as load_table reads it
        total = min(lengths)
        data = [{k: v[i] for k, v in data.items()} for i in range(min(n, total))]
    elif isinstance(data, list):
        total = len(data)
    elif isinstance(data, dict):
        data, total = [data], 1  # a single record
    else:
        raise DataError("must hold a list of objects (one per row) or an object of equal-length lists",
                        file=str(path))
    rows = []
    for i, record in enumerate(data[:n], start=1):
        if not isinstance(record, dict):
            raise DataError(f"record {i} is {type(record).__name__}, expected an object", file=str(path), row=i)
        rows.append(record)
    columns: list[str] = []
    for record in rows:
        columns += [k for k in record if k not in columns]
    return columns, [{c: r.get(c) for c in columns} for r in rows], total, False


def _head_parquet(path: Path, n: int) -> tuple[list[str], list[dict[str, Any]], int, bool]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(str(path))
        batch = next(pf.iter_batches(batch_size=n), None)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise DataError(f"is not a readable Parquet file: {exc}", file=str(path)) from exc
    columns = list(pf.schema_arrow.names)
    rows = batch.to_pylist() if batch is not None else []
    return columns, rows, pf.metadata.num_rows, False
