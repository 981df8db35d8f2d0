"""Reading data files into memory-mapped Arrow datasets, with errors that name the file, row and column.

CSV/TSV (any of comma, semicolon, tab or pipe, detected), spreadsheets and text files go through
:mod:`readers` (pyarrow's streaming CSV reader, openpyxl) into Arrow files in a cache under :func:`paths.cache_dir`;
JSON/JSONL/Parquet go through the ``datasets`` builders into the same cache. Either way a large file is converted
once and then memory-mapped. Compressed files (``.csv.gz``, ``.jsonl.xz``, ...) are decompressed into the cache
first. When pyarrow refuses a CSV file, the :mod:`csv` module scans it to name the row and the problem.

Row numbers in messages count data rows from 1 as a person reading the file would: for CSV/TSV the header row is
not counted; for JSON Lines a row is a non-blank line.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths
from ..errors import DataError
from .diagnose import diagnose, root_message, utf8_error
from .readers import (
    check_columns,
    compression_of,
    csv_to_arrow,
    decompressed,
    first_line,
    inner_suffix,
    sniff_delimiter,
    txt_to_arrow,
    xlsx_to_arrow,
)

if TYPE_CHECKING:  # pragma: no cover
    import datasets

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "arrow", "xlsx", "txt")
"""Concrete formats :func:`load_table` reads (``auto`` picks one of these)."""

SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".xlsx": "xlsx", ".txt": "txt",
}
SUPPORTED_TEXT = ("CSV (.csv), TSV (.tsv, .tab), JSON (.json), JSON Lines (.jsonl, .ndjson), Parquet (.parquet, .pq), "
                  "Arrow (.arrow), Excel (.xlsx), plain text (.txt, causal LM) or a folder saved with datasets' "
                  "save_to_disk; text formats may be compressed (.gz, .bz2, .xz, .zst)")
_DISK_MARKERS = ("dataset_dict.json", "state.json", "dataset_info.json")


def detect_format(path: str | Path) -> str:
    """The format of ``path`` from its suffix (or ``arrow`` for a saved datasets folder).

    Raises :class:`DataError` for a missing path, a folder that is not a saved dataset, or an unknown suffix
    (the message lists what is supported).
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found; check the path or choose the file again", file=str(path))
    if path.is_dir():
        if any((path / marker).is_file() for marker in _DISK_MARKERS):
            return "arrow"
        raise DataError(
            "is a folder but not a dataset saved with datasets' save_to_disk (no dataset_info.json, state.json or "
            f"dataset_dict.json inside); choose a data file instead. Supported: {SUPPORTED_TEXT}",
            file=str(path),
        )
    fmt = SUFFIXES.get(inner_suffix(path))
    if fmt in ("parquet", "arrow", "xlsx") and compression_of(path):
        raise DataError(f"is a compressed {fmt} file; {fmt} files are compressed inside already, so decompress it "
                        "first", file=str(path))
    if fmt is None:
        suffix = "".join(path.suffixes[-2:]) if compression_of(path) else (path.suffix or "(no suffix)")
        raise DataError(
            f"unknown data format '{suffix}'. Supported: {SUPPORTED_TEXT}. Rename the file or set data.format.",
            file=str(path),
        )
    return fmt


def resolve_format(path: str | Path, fmt: str = "auto") -> str:
    """``fmt`` checked against :data:`FORMATS`, or detected when it is ``auto``."""
    if fmt == "auto":
        return detect_format(path)
    if fmt not in FORMATS:
        raise DataError(f"unknown data format '{fmt}'; use auto or one of: {', '.join(FORMATS)}", file=str(path))
    if not Path(path).exists():
        raise DataError("file not found; check the path or choose the file again", file=str(path))
    return fmt


def row_note(fmt: str) -> str:
    """How rows are counted in messages about a file of format ``fmt``."""
    if fmt in ("csv", "tsv", "xlsx"):
        return "rows are data rows counted from 1, the header row not counted"
    if fmt == "txt":
        return "rows are non-blank lines counted from 1"
    if fmt == "jsonl":
        return "rows are JSON lines counted from 1, blank lines not counted"
    return "rows are records counted from 1"


def resolve_delimiter(path: str | Path, fmt: str, delimiter: str = "auto") -> str:
    """``delimiter`` itself, or (``auto``) the separator detected in the start of a CSV/TSV file."""
    if delimiter != "auto":
        return delimiter
    return sniff_delimiter(decompressed(Path(path)), "\t" if fmt == "tsv" else ",")


def load_table(path: str | Path, fmt: str = "auto", delimiter: str = "auto", sheet: str = "") -> datasets.Dataset:
    """Load a data file or saved datasets folder as a memory-mapped :class:`datasets.Dataset`.

    ``delimiter`` (CSV/TSV: auto or the character) and ``sheet`` (xlsx: empty for the first) choose how the file
    is read. A ``DatasetDict`` folder yields its ``train`` split (an error lists the splits when there is none).
    Every problem raises :class:`DataError` naming the file and, where it applies, the row and column.
    """
    path = Path(path)
    fmt = resolve_format(path, fmt)
    if path.is_file():
        check_not_empty(path)
    try:
        ds = _load(path, fmt, delimiter, sheet)
    except DataError as exc:  # name the user's file, not the decompressed copy in the cache
        if exc.file and exc.file != str(path):
            raise DataError(exc.message, file=str(path), row=exc.row, column=exc.column) from None
        raise
    renames = {c: c.lstrip("\ufeff").strip() for c in ds.column_names if c != c.lstrip("\ufeff").strip()}
    if renames:
        ds = ds.rename_columns(renames)
    if ds.num_columns == 0:
        raise DataError("has no columns", file=str(path))
    if len(ds) == 0:
        raise DataError("has no data rows" + (" (only a header)" if fmt in ("csv", "tsv") else ""), file=str(path))
    return ds


# --------------------------------------------------------------------------------------------- checks


def check_not_empty(path: Path) -> None:
    """Raise :class:`DataError` if ``path`` is empty or holds only whitespace."""
    size = path.stat().st_size
    if size == 0:
        raise DataError("is empty (0 bytes); choose a file with data", file=str(path))
    with path.open("rb") as fh:
        head = fh.read(4096)
    if len(head) == size and not head.strip():
        raise DataError("holds only blank lines; choose a file with data", file=str(path))


def _raise_field_limit() -> None:
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


def csv_rows(path: Path, delimiter: str, source: Iterable[str] | None = None) -> Iterator[tuple[int, int, list[str]]]:
    """Yield ``(data_row, file_line, fields)`` for every non-blank row after the header, checking field counts.

    The header itself is yielded first as data_row 0. ``source`` replaces reading ``path`` (lines of its start,
    for the preview). Raises :class:`DataError` for ragged rows, unreadable quoting and undecodable bytes.
    """
    _raise_field_limit()
    fmt = "tsv" if delimiter == "\t" else "csv"
    kind = {"\t": "tab-separated", ";": "semicolon-separated", "|": "pipe-separated"}.get(delimiter, "comma-separated")
    line_num = 0
    try:
        with contextlib.ExitStack() as stack:
            if source is None:
                source = stack.enter_context(path.open("r", encoding="utf-8", newline=""))
            reader = csv.reader(source, delimiter=delimiter)
            header: list[str] | None = None
            data_row = 0
            for fields in reader:
                line_num = reader.line_num
                if not fields:
                    continue  # blank line: skipped, as pandas does
                if header is None:
                    header = fields
                    yield 0, reader.line_num, fields
                    continue
                data_row += 1
                if len(fields) != len(header):
                    few = "too few" if len(fields) < len(header) else "too many"
                    hint = ("a missing separator or an unclosed quote" if len(fields) < len(header)
                            else f"a value containing the separator that is not in double quotes ({kind} file)")
                    raise DataError(
                        f"has {len(fields)} fields but the header has {len(header)} ({few}); data row {data_row} "
                        f"(header not counted) ends on line {reader.line_num} of the file. Check it for {hint}.",
                        file=str(path), row=data_row,
                    )
                yield data_row, reader.line_num, fields
    except UnicodeDecodeError:
        error = utf8_error(path, fmt)
        if error is None:  # pragma: no cover - decoder and scanner agree
            raise
        raise error from None
    except csv.Error as exc:
        raise DataError(f"cannot be read as {fmt.upper()} after line {line_num} of the file: {exc}",
                        file=str(path)) from None


def _check_text_once(path: Path, fmt: str) -> None:
    """Check a JSON / JSON Lines file before conversion, unless this exact file version passed before.

    UTF-8 only (pyarrow would silently replace bad bytes); JSON syntax errors are located after a failed load.
    """
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{fmt}".encode()).hexdigest()
    marker = paths.cache_dir() / "data-checks" / f"{key}.ok"
    if marker.exists():
        return
    error = utf8_error(path, fmt)
    if error is not None:
        raise error
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{path}\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------- loading


def _load(path: Path, fmt: str, delimiter: str, sheet: str) -> datasets.Dataset:
    import datasets

    if fmt == "arrow":
        return _load_arrow(path)
    if fmt == "xlsx":
        return datasets.Dataset.from_file(str(xlsx_to_arrow(path, sheet)))
    plain = decompressed(path)
    if plain != path:
        check_not_empty(plain)
    if fmt in ("csv", "tsv"):
        used = resolve_delimiter(path, fmt, delimiter)
        header = first_line(plain)
        check_columns(plain, used, header)
        names = next(csv.reader([header], delimiter=used), [])
        twice = sorted({n.strip() for n in names if [m.strip() for m in names].count(n.strip()) > 1})
        if twice:
            raise DataError(f"has the column name(s) {', '.join(map(repr, twice))} more than once in its header; "
                            "give every column its own name", file=str(plain), row=None, column=twice[0])
        return datasets.Dataset.from_file(str(csv_to_arrow(plain, used, _csv_problem)))
    if fmt == "txt":
        error = utf8_error(plain, fmt)
        if error is not None:
            raise error
        return datasets.Dataset.from_file(str(txt_to_arrow(plain)))
    if fmt in ("json", "jsonl"):
        _check_text_once(plain, fmt)
    return _load_with_builder(plain, fmt)


def _csv_problem(path: Path, delimiter: str) -> None:
    """Scan a CSV file pyarrow refused with the :mod:`csv` module; raises the precise error, if there is one."""
    for _row, _line, _fields in csv_rows(path, delimiter):
        pass


def _load_arrow(path: Path) -> datasets.Dataset:
    import datasets

    try:
        if path.is_file():
            return datasets.Dataset.from_file(str(path))
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001 - any failure here means "not a readable saved dataset"
        raise DataError(f"cannot be read as a saved dataset: {root_message(exc)}", file=str(path)) from exc
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise DataError(
                f"holds several splits ({', '.join(loaded)}) but no 'train' split; save the split you want to "
                "train on on its own, or name it 'train'", file=str(path),
            )
        return loaded["train"]
    return loaded


def _load_with_builder(path: Path, fmt: str) -> datasets.Dataset:
    import datasets

    builder = {"json": "json", "jsonl": "json", "parquet": "parquet"}[fmt]
    cache = paths.cache_dir() / "datasets"
    try:
        ds = datasets.load_dataset(builder, data_files=str(path), split="train", cache_dir=str(cache))
    except Exception as exc:  # noqa: BLE001 - diagnosed below and re-raised as a DataError
        raise diagnose(path, fmt, exc) from exc
    if fmt == "json" and len(ds) == 1:
        record = ds[0]
        lengths = {len(v) if isinstance(v, list) else -1 for v in record.values()}
        if len(lengths) == 1 and lengths.pop() > 1:  # {"text": [...], "label": [...]}: one column per key
            return datasets.Dataset.from_dict(record)
    return ds
