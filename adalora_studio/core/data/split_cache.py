"""The stratified train/eval split of a file, drawn once and kept in the data cache as memory-mapped Arrow files.

Each split is two Arrow IPC stream files under ``cache_dir()/splits`` (the train and the eval row numbers, one
uint64 ``indices`` column each, the layout of ``datasets``' own indices files), keyed by the dataset's Arrow files
(path, size, modification time), its row count, the label column and names, the seed, the eval fraction and
:data:`SPLIT_VERSION`. The datasets' indices mappings are those files, memory-mapped, so the split costs no heap
on any later validate, training or resume of the same file version; drawing it the first time uses file-backed
scratch arrays (:mod:`split_files`). The rows are exactly those of :func:`columns.split_arrays`. Writes are
atomic (a temporary file renamed into place). A dataset with no Arrow file under it (built in memory) is split
in memory as before.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import paths
from .arrowops import row_range
from .columns import split_arrays
from .split_files import Scratch, draw_eval_rows, fill_ids, id_dtype, train_rows

if TYPE_CHECKING:  # pragma: no cover
    import datasets

SPLIT_VERSION = "1"
"""Part of every split's cache key: raise it when the rows a split holds would change."""


@dataclass(frozen=True)
class Split:
    """A file's train and eval row numbers (sorted numpy arrays; views of the memory-mapped files when cached)."""

    train: Any
    eval: Any
    tables: tuple[Any, Any] | None = None
    """The memory-mapped indices tables (train, eval) the two arrays view; None when split in memory."""


def split_key(ds: datasets.Dataset, label_column: str, names: tuple[str, ...], fraction: float,
              seed: int) -> str | None:
    """The cache key of the split of ``ds``; None when ``ds`` has no Arrow file under it or already maps rows."""
    files = [f["filename"] for f in ds.cache_files]
    if not files or getattr(ds, "_indices", None) is not None:
        return None
    parts = [SPLIT_VERSION, str(len(ds)), label_column, "\x1f".join(names), repr(float(fraction)), str(int(seed))]
    for name in files:
        stat = os.stat(name)
        parts += [str(Path(name).resolve()), str(stat.st_size), str(stat.st_mtime_ns)]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:24]


def _paths(ds: datasets.Dataset, key: str) -> tuple[Path, Path]:
    stem = Path(ds.cache_files[0]["filename"]).stem[:40]
    folder = paths.cache_dir() / "splits"
    return folder / f"{stem}-{key}-train.arrow", folder / f"{stem}-{key}-eval.arrow"


def _write(path: Path, rows: Any, key: str) -> None:
    """``rows`` (an int64 or uint64 numpy array) as a one-batch Arrow stream file, written atomically."""
    import pyarrow as pa

    schema = pa.schema([("indices", pa.uint64())], metadata={"split_key": key})
    values = pa.Array.from_buffers(pa.uint64(), len(rows), [None, pa.py_buffer(rows)])  # no copy
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            writer.write_batch(pa.record_batch([values], schema=schema))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path, key: str, n_rows: int) -> Any:
    """The memory-mapped indices table of ``path`` if it is a whole split file of ``key`` (else None)."""
    import pyarrow as pa
    from datasets.table import MemoryMappedTable

    if not path.is_file():
        return None
    try:
        table = MemoryMappedTable.from_file(str(path))
    except (OSError, pa.ArrowException):
        return None
    column = table.column(0) if table.num_columns == 1 else None
    meta = table.schema.metadata or {}
    if (column is None or column.type != pa.uint64() or column.num_chunks != 1 or not len(column)
            or meta.get(b"split_key") != key.encode() or int(column[-1].as_py()) >= n_rows):
        return None
    return table


def _rows(table: Any) -> Any:
    return table.column(0).chunk(0).to_numpy(zero_copy_only=True)


def _load(ds: datasets.Dataset, key: str) -> Split | None:
    train_path, eval_path = _paths(ds, key)
    train, evaluation = _read(train_path, key, len(ds)), _read(eval_path, key, len(ds))
    if train is None or evaluation is None or len(train) + len(evaluation) != len(ds):
        return None
    return Split(_rows(train), _rows(evaluation), (train, evaluation))


def _draw(ds: datasets.Dataset, key: str, fraction: float, seed: int, id_chunks: Iterable[Any],
          n_classes: int) -> Split | None:
    """Draw the split of ``ds`` with file-backed scratch arrays and write it into the cache (None when it
    holds no eval rows: nothing is written)."""
    import numpy as np

    train_path, eval_path = _paths(ds, key)
    n_rows = len(ds)
    with Scratch(train_path.parent) as scratch:
        ids = scratch.array(n_rows, id_dtype(n_classes))
        fill_ids(id_chunks, ids)
        evaluation = draw_eval_rows(n_rows, fraction, seed, ids, n_classes, scratch)
        if not len(evaluation):
            return None
        train = scratch.array(n_rows - len(evaluation), np.int64)
        train_rows(n_rows, evaluation, train)
        _write(eval_path, evaluation, key)
        _write(train_path, train, key)
    return _load(ds, key)


def stratified_split(ds: datasets.Dataset, label_column: str, names: tuple[str, ...], fraction: float, seed: int,
                     id_chunks: Callable[[], Iterable[Any]]) -> Split:
    """The split of ``ds`` by its label ids (``id_chunks()``: every row's id into ``names``, in consecutive
    chunks), from the cache or drawn and cached; the rows of :func:`columns.split_arrays`."""
    import numpy as np

    key = split_key(ds, label_column, names, fraction, seed)
    if key is not None:
        try:
            split = _load(ds, key) or _draw(ds, key, fraction, seed, id_chunks(), len(names))
        except OSError:  # the cache cannot be written (full disk, read-only folder): split in memory
            split = None
        if split is not None:
            return split
    parts = list(id_chunks())
    ids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    train, evaluation = split_arrays(len(ds), fraction, seed, ids)
    return Split(train, evaluation)


def label_counts(id_chunks: Iterable[Any], n_classes: int, eval_rows: Any = None) -> tuple[Any, Any]:
    """Rows per class id over all rows, and among ``eval_rows`` (sorted row numbers; None: none), one chunk of
    ids at a time."""
    import numpy as np

    total = np.zeros(n_classes, np.int64)
    held = np.zeros(n_classes, np.int64)
    start = 0
    for ids in id_chunks:
        end = start + len(ids)
        total += np.bincount(ids, minlength=n_classes)[:n_classes]
        if eval_rows is not None and len(eval_rows):
            lo, hi = row_range(eval_rows, start, end)
            held += np.bincount(ids[eval_rows[lo:hi].astype(np.int64) - start], minlength=n_classes)[:n_classes]
        start = end
    return total, held

