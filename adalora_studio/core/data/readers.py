"""Readers for the files people export: any-delimiter CSV, compressed files, spreadsheets and plain text.

Each reader converts its file once into a memory-mapped Arrow file in :func:`paths.cache_dir` (keyed by the
file's path, size, modification time and the reading options) and returns that file's path; conversion streams,
so memory does not grow with the file. Writes are atomic (a temporary file renamed into place), so processes
of a multi-process run that convert the same file at once each end up with a whole file.

- CSV/TSV go through pyarrow's streaming CSV reader, over a memory map of the file (the reader reads up to 32
  blocks ahead; mapped, those are file pages rather than heap). When it refuses a file, the :mod:`csv` module
  scans it to name the row (see :func:`load.csv_rows`).
- ``.gz``, ``.bz2``, ``.xz`` (and ``.zst`` with the ``zstandard`` package) are decompressed into the cache
  first; a corrupt file names the file and how far it could be read.
- ``.xlsx`` through openpyxl (the ``xlsx`` extra), first sheet unless ``data.sheet`` names one.
- ``.txt``: one row per non-blank line in a ``text`` column.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import lzma
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import paths
from ..errors import DataError

COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
"""Compressed-file suffixes read (the inner suffix gives the format: ``data.csv.gz`` is CSV)."""
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
XLSX_INSTALL = "pip install 'adalora-studio[xlsx]' (or: pip install openpyxl)"
_READER_VERSION = "1"
_BLOCK = 1 << 20
"""Bytes of CSV per block read: the streaming reader holds a few blocks at a time, whatever the file size."""
_SNIFF_BYTES = 1 << 16


def compression_of(path: str | Path) -> str | None:
    """The compression named by ``path``'s last suffix (``gzip``, ``bz2``, ``xz``, ``zstd``), or None."""
    return COMPRESSIONS.get(Path(path).suffix.lower())


def inner_suffix(path: str | Path) -> str:
    """The suffix that names the format: ``.csv`` for ``data.csv.gz`` as for ``data.csv``."""
    p = Path(path)
    if compression_of(p):
        p = Path(p.stem)
    return p.suffix.lower()


def _cache_key(path: Path, *options: str) -> str:
    stat = path.stat()
    text = "|".join((str(path.resolve()), str(stat.st_size), str(stat.st_mtime_ns), _READER_VERSION, *options))
    return hashlib.sha1(text.encode()).hexdigest()[:24]


def cached(path: Path, kind: str, options: tuple[str, ...], build: Callable[[Path], None],
           suffix: str = ".arrow") -> Path:
    """The cache file for ``path`` converted by ``build`` (called with a temporary path only when missing)."""
    folder = paths.cache_dir() / "converted"
    target = folder / f"{path.stem[:40]}-{kind}-{_cache_key(path, kind, *options)}{suffix}"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{target.name}.{os.getpid()}.tmp"
    try:
        build(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


# ------------------------------------------------------------------------------------------ compression


def _open_compressed(path: Path, compression: str) -> Any:
    """A binary reader of the decompressed bytes."""
    if compression == "gzip":
        return gzip.open(path, "rb")
    if compression == "bz2":
        return bz2.open(path, "rb")
    if compression == "xz":
        return lzma.open(path, "rb")
    try:
        import zstandard
    except ImportError:
        raise DataError("is zstd-compressed; install the zstandard package (pip install zstandard) or decompress "
                        "it first", file=str(path)) from None
    return zstandard.ZstdDecompressor().stream_reader(path.open("rb"))


def decompressed(path: Path) -> Path:
    """A cached, decompressed copy of ``path`` (same inner suffix). Raises :class:`DataError` if it is corrupt."""
    compression = compression_of(path)
    if compression is None:
        return path

    def build(tmp: Path) -> None:
        written = 0
        try:
            with _open_compressed(path, compression) as src, tmp.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
                    written += len(chunk)
        except DataError:
            raise
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise DataError(f"is a corrupt or truncated {compression} file ({exc}); it could be read only up to "
                            f"{written:,} decompressed bytes. Download or compress it again.", file=str(path)) from None
        if written == 0:
            raise DataError(f"decompresses ({compression}) to an empty file; choose a file with data", file=str(path))

    return cached(path, "unpacked", (compression,), build, suffix=inner_suffix(path))


# -------------------------------------------------------------------------------------------- delimiter


def _split_counts(lines: list[str], delimiter: str) -> list[int]:
    import csv

    return [len(fields) for fields in csv.reader(lines, delimiter=delimiter) if fields]


def sniff_delimiter(path: Path, default: str = ",") -> str:
    """The separator of a delimited text file: of comma, semicolon, tab and pipe, the one that splits the header
    into most columns with every sampled row having as many fields; ``default`` when none splits the header."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    complete = len(head) < _SNIFF_BYTES
    text = head.decode("utf-8", errors="replace")
    if not complete and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    lines = text.splitlines(keepends=True)
    best, best_score = default, (0, 0)
    for delimiter in CANDIDATE_DELIMITERS:
        counts = _split_counts(lines, delimiter)
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts)
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def check_columns(path: Path, delimiter: str, header_line: str) -> None:
    """Raise when ``delimiter`` leaves one column although another separator would split the header."""
    if _split_counts([header_line], delimiter)[:1] != [1]:
        return
    for other in CANDIDATE_DELIMITERS:
        n = (_split_counts([header_line], other) or [1])[0]
        if other != delimiter and n > 1:
            raise DataError(
                f"reads as a single column '{header_line.strip()[:60]}' with the "
                f"{DELIMITER_NAMES.get(delimiter, repr(delimiter))} separator, but its header splits into {n} columns "
                f"with the {DELIMITER_NAMES[other]} separator; set data.delimiter to {other!r} (or auto)",
                file=str(path), column="data.delimiter")


def first_line(path: Path) -> str:
    """The first non-blank line of a text file (undecodable bytes replaced)."""
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        for line in fh:
            if line.strip():
                return line
    return ""


# ------------------------------------------------------------------------------------------------- CSV


def _write_stream(tmp: Path, schema: Any, batches: Iterator[Any]) -> None:
    import pyarrow as pa

    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)


@contextlib.contextmanager
def _csv_reader(path: Path, delimiter: str, column_types: dict[str, Any] | None = None) -> Iterator[Any]:
    """pyarrow's streaming CSV reader over a memory map of ``path``: its background read-ahead (up to 32 blocks)
    then holds views of the file's pages, which the kernel can drop, rather than copies on the heap."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with contextlib.ExitStack() as stack:
        try:
            source: Any = stack.enter_context(pa.memory_map(str(path)))
        except OSError:  # a file that cannot be mapped is read as before
            source = str(path)
        reader = pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(block_size=_BLOCK),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(null_values=[""], strings_can_be_null=True,
                                                quoted_strings_can_be_null=True, column_types=column_types),
        )
        stack.callback(reader.close)
        yield reader


def _convert_csv(path: Path, delimiter: str, tmp: Path) -> None:
    """Stream ``path`` into the Arrow file ``tmp`` with the column types pyarrow infers from the first block,
    dates and times kept as text (as the rest of the studio, and pandas, read them)."""
    import pyarrow as pa

    with _csv_reader(path, delimiter) as reader:
        dates = {f.name: pa.string() for f in reader.schema if pa.types.is_temporal(f.type)}
        if not dates:
            _check_utf8(reader.schema)
            _write_stream(tmp, reader.schema, iter(reader))
            return
    with _csv_reader(path, delimiter, dates) as reader:
        _check_utf8(reader.schema)
        _write_stream(tmp, reader.schema, iter(reader))


def _check_utf8(schema: Any) -> None:
    import pyarrow as pa

    if any(pa.types.is_binary(f.type) for f in schema):  # pyarrow's type for non-UTF-8 text
        raise pa.ArrowInvalid("invalid UTF-8")


def csv_to_arrow(path: Path, delimiter: str, on_error: Callable[[Path, str], None]) -> Path:
    """``path`` as a cached Arrow file. ``on_error(path, delimiter)`` must raise a precise :class:`DataError`
    (it is called when pyarrow refuses the file); if it returns, the file is read again with every column as text
    (pyarrow guessed a column type from the first block that a later block breaks)."""
    import pyarrow as pa

    def build(tmp: Path) -> None:
        try:
            _convert_csv(path, delimiter, tmp)
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
            on_error(path, delimiter)
        with _csv_reader(path, delimiter) as reader:
            names = reader.schema.names
        with _csv_reader(path, delimiter, {name: pa.string() for name in names}) as reader:
            _write_stream(tmp, reader.schema, iter(reader))

    return cached(path, "csv", (delimiter,), build)


# ------------------------------------------------------------------------------------------- spreadsheet


def _openpyxl(path: Path) -> Any:
    try:
        import openpyxl
    except ImportError:
        raise DataError(f"is a spreadsheet; reading .xlsx files needs openpyxl. Install it with: {XLSX_INSTALL}",
                        file=str(path)) from None
    return openpyxl


def xlsx_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook, in order."""
    openpyxl = _openpyxl(path)
    try:
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile/KeyError/InvalidFileException alike
        raise DataError(f"is not a readable .xlsx workbook ({type(exc).__name__}: {exc})", file=str(path)) from None
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value.strip() if isinstance(value, str) and not value.strip() else value
    return str(value)  # dates, times, decimals: as text


def _sheet_columns(path: Path, sheet: str) -> tuple[str, dict[str, list[Any]]]:
    openpyxl = _openpyxl(path)
    try:
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"is not a readable .xlsx workbook ({type(exc).__name__}: {exc})", file=str(path)) from None
    try:
        name = sheet or book.sheetnames[0]
        if name not in book.sheetnames:
            raise DataError(f"has no sheet '{sheet}'; its sheets are: {', '.join(book.sheetnames)}",
                            file=str(path), column="data.sheet")
        rows = (r for r in book[name].iter_rows(values_only=True) if any(_cell(v) not in (None, "") for v in r))
        header = next(rows, None)
        where = f"sheet '{name}'" + (" (the first sheet)" if not sheet else "")
        if header is None:
            raise DataError(f"{where} is empty; put a header row and data rows on it, or set data.sheet to another "
                            f"sheet ({', '.join(book.sheetnames)})", file=str(path), column="data.sheet")
        names = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
        columns: dict[str, list[Any]] = {n: [] for n in names}
        for row in rows:
            for i, n in enumerate(names):
                columns[n].append(_cell(row[i]) if i < len(row) else None)
        if not columns[names[0]]:
            raise DataError(f"{where} has a header row but no data rows", file=str(path), column="data.sheet")
        return name, columns
    finally:
        book.close()


def xlsx_to_arrow(path: Path, sheet: str = "") -> Path:
    """Sheet ``sheet`` (empty: the first) of ``path`` as a cached Arrow file; mixed-type columns become text."""
    import pyarrow as pa

    def build(tmp: Path) -> None:
        _name, columns = _sheet_columns(path, sheet)
        arrays = {}
        for name, values in columns.items():
            try:
                arrays[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
        table = pa.table(arrays)
        _write_stream(tmp, table.schema, iter(table.to_batches()))

    return cached(path, "xlsx", (sheet,), build)


# ---------------------------------------------------------------------------------------------- plain text


def txt_to_arrow(path: Path) -> Path:
    """A ``.txt`` file as a cached Arrow file with one ``text`` row per non-blank line (line ends removed)."""
    import pyarrow as pa

    schema = pa.schema([("text", pa.string())])

    def batches() -> Iterator[Any]:
        chunk: list[str] = []
        with path.open("r", encoding="utf-8", newline="") as fh:
            for line in fh:
                text = line.rstrip("\r\n")
                if text.strip():
                    chunk.append(text)
                if len(chunk) >= 65536:
                    yield pa.record_batch([pa.array(chunk, pa.string())], schema=schema)
                    chunk = []
        if chunk:
            yield pa.record_batch([pa.array(chunk, pa.string())], schema=schema)

    def build(tmp: Path) -> None:
        _write_stream(tmp, schema, batches())

    return cached(path, "txt", (), build)
