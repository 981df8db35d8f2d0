"""Reading data files into memory-mapped Arrow datasets, with errors that name the file, row and column.

CSV/TSV/JSON/JSONL/Parquet files go through the ``datasets`` builders into a cache under
:func:`paths.cache_dir`, so a large file is converted once and then memory-mapped. Before that, CSV/TSV files are
scanned with the :mod:`csv` module (once per file version; the result is remembered in the cache) because pandas
either reports ragged rows cryptically or, for rows with too few fields, not at all.

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
from typing import TYPE_CHECKING, Any

from .. import paths
from ..errors import DataError
from .diagnose import diagnose, root_message, utf8_error

if TYPE_CHECKING:  # pragma: no cover
    import datasets

FORMATS = ("csv", "tsv", "json", "jsonl", "parquet", "arrow")
"""Concrete formats :func:`load_table` reads (``auto`` picks one of these)."""

SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow",
}
SUPPORTED_TEXT = ("CSV (.csv), TSV (.tsv, .tab), JSON (.json), JSON Lines (.jsonl, .ndjson), Parquet (.parquet, .pq), "
                  "Arrow (.arrow) or a folder saved with datasets' save_to_disk")
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
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        suffix = path.suffix or "(no suffix)"
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
    if fmt in ("csv", "tsv"):
        return "rows are data rows counted from 1, the header row not counted"
    if fmt == "jsonl":
        return "rows are JSON lines counted from 1, blank lines not counted"
    return "rows are records counted from 1"


def load_table(path: str | Path, fmt: str = "auto") -> datasets.Dataset:
    """Load a data file or saved datasets folder as a memory-mapped :class:`datasets.Dataset`.

    A ``DatasetDict`` folder yields its ``train`` split (an error lists the splits when there is none).
    Every problem raises :class:`DataError` naming the file and, where it applies, the row and column.
    """
    path = Path(path)
    fmt = resolve_format(path, fmt)
    if path.is_file():
        check_not_empty(path)
    if fmt == "arrow":
        ds = _load_arrow(path)
    else:
        if fmt in ("csv", "tsv", "json", "jsonl"):
            _check_text_once(path, fmt)
        ds = _load_with_builder(path, fmt)
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
    kind = "tab-separated" if fmt == "tsv" else "comma-separated"
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


def _quick_csv_count(path: Path, delimiter: str) -> int | None:
    """Data rows of a well-formed CSV/TSV (-1: no header), or None when a row or byte is wrong."""
    _raise_field_limit()
    try:
        with path.open("r", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            width = -1
            rows = -1
            for fields in reader:
                if fields:
                    if rows < 0:
                        width, rows = len(fields), 0
                    elif len(fields) != width:
                        return None
                    else:
                        rows += 1
            return rows
    except (UnicodeDecodeError, csv.Error):
        return None


def _check_text_once(path: Path, fmt: str) -> None:
    """Check a text file before conversion, unless this exact file version passed before.

    CSV/TSV: every row through :func:`csv_rows` (field counts, quoting, UTF-8). JSON/JSON Lines: UTF-8 only
    (pyarrow would silently replace bad bytes); JSON syntax errors are located after a failed load.
    """
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{fmt}".encode()).hexdigest()
    marker = paths.cache_dir() / "data-checks" / f"{key}.ok"
    if marker.exists():
        return
    if fmt in ("csv", "tsv"):
        delimiter = "\t" if fmt == "tsv" else ","
        n_rows = _quick_csv_count(path, delimiter)
        if n_rows is None:  # something is wrong: the slower scan finds and names it
            n_rows = -1
            for n_rows, _line, _fields in csv_rows(path, delimiter):  # noqa: B007 (the count is the last value)
                pass
        if n_rows < 0:
            raise DataError("holds only blank lines; choose a file with data", file=str(path))
        if n_rows == 0:
            raise DataError("has a header row but no data rows", file=str(path))
    else:
        error = utf8_error(path, fmt)
        if error is not None:
            raise error
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{path}\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------- loading


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

    builder = {"csv": "csv", "tsv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet"}[fmt]
    kwargs: dict[str, Any] = {}
    if fmt in ("csv", "tsv"):
        # Only empty fields are missing: text such as "None" or "NA" stays text.
        kwargs = {"sep": "\t" if fmt == "tsv" else ",", "keep_default_na": False, "na_values": [""]}
    cache = paths.cache_dir() / "datasets"
    try:
        ds = datasets.load_dataset(builder, data_files=str(path), split="train", cache_dir=str(cache), **kwargs)
    except Exception as exc:  # noqa: BLE001 - diagnosed below and re-raised as a DataError
        if fmt in ("csv", "tsv"):  # rows were checked; pandas guessed a column type that a later chunk breaks
            return _load_csv_as_strings(path, fmt, kwargs, cache)
        raise diagnose(path, fmt, exc) from exc
    if fmt == "json" and len(ds) == 1:
        record = ds[0]
        lengths = {len(v) if isinstance(v, list) else -1 for v in record.values()}
        if len(lengths) == 1 and lengths.pop() > 1:  # {"text": [...], "label": [...]}: one column per key
            return datasets.Dataset.from_dict(record)
    return ds


def _load_csv_as_strings(path: Path, fmt: str, kwargs: dict[str, Any], cache: Path) -> datasets.Dataset:
    """Retry a CSV whose column types differ between chunks, reading every column as text."""
    import datasets

    header = next(csv_rows(path, kwargs["sep"]))[2]
    features = datasets.Features({name.lstrip("\ufeff"): datasets.Value("string") for name in header})
    try:
        return datasets.load_dataset("csv", data_files=str(path), split="train", cache_dir=str(cache),
                                     features=features, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise diagnose(path, fmt, exc) from exc


