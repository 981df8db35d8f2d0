"""Locating problems in data files: the first non-UTF-8 byte, a bad JSON line, mixed value types.

Used by :mod:`data_load` (before and after a failed conversion) and :mod:`data_preview`.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from ..errors import DataError

_CHUNK = 1 << 20


def find_bad_utf8(path: str | Path) -> tuple[int, int, str] | None:
    """The first undecodable byte of ``path`` as (byte offset, 1-based line, reason), or None if it is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    newlines = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                pending = len(exc.object) - len(chunk)  # bytes the decoder held back from earlier chunks
                bad = offset - pending + exc.start
                line = newlines + chunk[: max(0, exc.start - pending)].count(b"\n") + 1
                return bad, line, f"byte 0x{exc.object[exc.start]:02x}: {exc.reason}"
            if final:
                return None
            newlines += chunk.count(b"\n")
            offset += len(chunk)


def utf8_error(path: Path, fmt: str) -> DataError | None:
    """A :class:`DataError` locating the first non-UTF-8 byte in ``path``, or None when it decodes."""
    found = find_bad_utf8(path)
    if found is None:
        return None
    offset, line, reason = found
    row = line - 1 if fmt in ("csv", "tsv") else line
    where = f"line {line} of the file" + (f" (data row {row}, header not counted)" if fmt in ("csv", "tsv") else "")
    return DataError(
        f"is not UTF-8 text: {reason} at byte offset {offset}, {where}. Save the file as UTF-8 "
        "(e.g. in Excel: 'CSV UTF-8'; in an editor: encoding UTF-8) and try again.",
        file=str(path), row=row if row >= 1 else None,
    )


def root_message(exc: BaseException) -> str:
    """The first line of the innermost exception behind ``exc`` (at most 300 characters)."""
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen).strip().splitlines()
    return text[0][:300] if text else type(seen).__name__


def diagnose(path: Path, fmt: str, exc: BaseException) -> DataError:
    """Turn a loader failure into a :class:`DataError` that says where the problem is."""
    if fmt in ("csv", "tsv", "json", "jsonl"):
        error = utf8_error(path, fmt)
        if error is not None:
            return error
    if fmt in ("json", "jsonl"):
        error = _json_error(path)
        if error is not None:
            return error
    if fmt == "parquet":
        return DataError(f"is not a readable Parquet file: {root_message(exc)}", file=str(path))
    return DataError(f"cannot be read as {fmt.upper()}: {root_message(exc)}", file=str(path))


def _json_error(path: Path) -> DataError | None:
    """Locate a JSON / JSON Lines problem: a bad line, a non-object record, or mixed value types."""
    with path.open("r", encoding="utf-8") as fh:
        first = fh.read(1).lstrip()
    if first == "[" or first == "":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            return DataError(f"is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=str(path))
        records = data if isinstance(data, list) else []
        for i, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                return DataError(f"record {i} is {type(record).__name__}, expected an object like "
                                 '{"text": ..., "label": ...}', file=str(path), row=i)
        return _mixed_types(path, records) if records else None
    records = []
    row = 0
    with path.open("r", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            row += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                return DataError(f"line {line_no} is not valid JSON (column {exc.colno}: {exc.msg}); each line must "
                                 "be one JSON object", file=str(path), row=row)
            if not isinstance(record, dict):
                return DataError(f"line {line_no} is {type(record).__name__}, expected a JSON object like "
                                 '{"prompt": ..., "response": ...}', file=str(path), row=row)
            records.append(record)
    return _mixed_types(path, records)


def _mixed_types(path: Path, records: list[dict[str, Any]]) -> DataError | None:
    kinds: dict[str, tuple[str, int]] = {}
    for row, record in enumerate(records, start=1):
        for key, value in record.items():
            if value is None:
                continue
            kind = "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__
            if key not in kinds:
                kinds[key] = (kind, row)
            elif kinds[key][0] != kind:
                return DataError(
                    f"holds a {kind} here but a {kinds[key][0]} in row {kinds[key][1]}; give every row the same type "
                    "in a column (e.g. quote numbers used as labels)", file=str(path), row=row, column=key,
                )
    return None
