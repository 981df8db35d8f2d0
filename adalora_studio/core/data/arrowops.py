"""Whole-column work with Arrow compute instead of Python loops, so a million rows cost milliseconds.

``datasets`` keeps a split (``Dataset.select``) as the file's table plus an indices mapping; these helpers apply
that mapping with pyarrow's ``take`` and give ``select`` a fingerprint from the index bytes (``datasets`` would
otherwise pickle the whole index list to hash it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import datasets


def select_rows(ds: datasets.Dataset, indices: Sequence[int] | Any) -> datasets.Dataset:
    """``ds.select(indices)``, built directly as the same table with a new indices mapping (``datasets``' own
    ``select`` converts and hashes the index list in Python), fingerprinted from the indices' bytes. A numpy
    int64 or uint64 array is used in place (no copy)."""
    import datasets
    import numpy as np
    import pyarrow as pa

    array = np.asarray(indices)
    if array.dtype == np.int64:
        array = np.ascontiguousarray(array).view(np.uint64)  # a negative index becomes huge: refused below
    elif array.dtype != np.uint64:
        array = np.asarray(array, dtype=np.uint64)
    array = np.ascontiguousarray(array)
    digest = _digest(ds)
    digest.update(array.data.cast("B"))
    if len(array) and int(array.max()) >= len(ds):
        raise IndexError(f"row {int(array.max())} is out of range for {len(ds)} rows")
    mapped = pa.array(array, pa.uint64())
    current = getattr(ds, "_indices", None)
    if current is not None:
        mapped = current.column(0).take(mapped)
    return datasets.Dataset(ds.data, info=ds.info.copy(), split=ds.split,
                            indices_table=pa.table({"indices": mapped}), fingerprint=digest.hexdigest())


def _digest(ds: datasets.Dataset) -> Any:
    return hashlib.sha1(str(getattr(ds, "_fingerprint", "")).encode())


def select_mapped(ds: datasets.Dataset, indices: Any) -> datasets.Dataset:
    """:func:`select_rows` with a ready indices table (a ``datasets`` table of one uint64 column, e.g. a
    memory-mapped split file) used as it is: the same rows and fingerprint as ``select_rows`` of its values,
    nothing copied. ``ds`` must not map its rows already; the indices must be in range (not checked here)."""
    import datasets

    if getattr(ds, "_indices", None) is not None:
        raise ValueError("select_mapped needs a dataset without an indices mapping")
    digest = _digest(ds)
    for chunk in indices.column(0).chunks:
        data = chunk.buffers()[1]
        digest.update(memoryview(data)[chunk.offset * 8:(chunk.offset + len(chunk)) * 8])
    return datasets.Dataset(ds.data, info=ds.info.copy(), split=ds.split, indices_table=indices,
                            fingerprint=digest.hexdigest())


def release_unused() -> None:
    """Hand back to the system the memory Arrow's default pool holds but no longer uses (pyarrow's mimalloc pool
    keeps freed pages, in 2 MiB huge pages, for later allocations), e.g. after a pass over a whole file."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def column_array(ds: datasets.Dataset, column: str) -> Any:
    """Column ``column`` of ``ds`` (its indices mapping applied) as a ``pyarrow.ChunkedArray`` (no copy when
    ``ds`` has no mapping: the memory-mapped data is used in place)."""
    values = ds.data.table.column(column)
    indices = getattr(ds, "_indices", None)
    if indices is not None:
        values = values.take(indices.column(0))
    return values


def chunks(values: Any) -> Iterator[tuple[int, Any]]:
    """``(first row, chunk)`` for each chunk of an Arrow array or chunked array (no copy)."""
    import pyarrow as pa

    start = 0
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        yield start, chunk
        start += len(chunk)


def _words_at(data: Any, pos: Any) -> Any:
    """The 8 bytes of ``data`` from each byte position in ``pos`` as little-endian numbers (zeros past the end).

    Read through a strided view of ``data`` itself (no copy of the text); only the last 8 bytes are padded."""
    import numpy as np

    n = len(data)
    k = min(n, 8)
    tail = np.zeros(16, np.uint8)
    tail[:k] = data[n - k:]
    tail_words = np.ndarray(shape=(9,), dtype="<u8", buffer=tail, strides=(1,))
    out = np.empty(len(pos), np.uint64)
    near = pos > n - 8
    if n >= 8:
        view = np.ndarray(shape=(n - 7,), dtype="<u8", buffer=data, strides=(1,))
        far = ~near
        out[far] = view[pos[far]]
    out[near] = tail_words[pos[near] - (n - k)]
    return out


def chunk_fingerprints(chunk: Any, rows: Any = None) -> Any:
    """A 64-bit number per string of one Arrow string array (``rows``: only those 0-based positions), from its
    byte length mixed with 8 bytes from its start, middle and end, computed from Arrow's buffers in numpy
    without copying the text. Equal strings have equal fingerprints; unequal ones mostly differ."""
    import numpy as np
    import pyarrow as pa

    wide = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
    _validity, offsets_buf, data_buf = chunk.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)[chunk.offset:chunk.offset + len(chunk)
                                                                                 + 1]
    at = np.arange(len(chunk)) if rows is None else np.asarray(rows, dtype=np.int64)
    start, end = offsets[at].astype(np.int64), offsets[at + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    length = end - start
    short = length < 8
    keep = np.where(short, (np.uint64(1) << (8 * np.minimum(length, 7)).astype(np.uint64)) - np.uint64(1),
                    np.uint64(0xFFFFFFFFFFFFFFFF))
    head = _words_at(data, start) & keep
    tail = np.where(short, np.uint64(0), _words_at(data, np.maximum(end - 8, start)))
    middle = np.where(length >= 16, _words_at(data, np.maximum(start + length // 2 - 4, start)), np.uint64(0))
    code = length.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    code ^= head * np.uint64(0xBF58476D1CE4E5B9)
    code ^= (tail * np.uint64(0x94D049BB133111EB)) ^ (middle * np.uint64(0xD6E8FEB86659FD93))
    return code


def fingerprints(values: Any) -> Any:
    """:func:`chunk_fingerprints` of every string of an Arrow array or chunked array, as one numpy array."""
    import numpy as np

    parts = [chunk_fingerprints(chunk) for _start, chunk in chunks(values)]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


class SortedCodes:
    """A sorted set of 64-bit fingerprints to test many needles against, one batch at a time: a screen on the
    top bits (about eight slots per code, at most 2**22) answers most needles at once, and only the rest are
    looked up by binary search."""

    SCREEN_BITS = 22

    def __init__(self, ordered: Any) -> None:
        import numpy as np

        self.ordered = ordered
        bits = min(self.SCREEN_BITS, max(10, int(len(ordered)).bit_length() + 3))
        self.shift = np.uint64(64 - bits)
        self.screen = np.zeros(1 << bits, bool)
        for start in range(0, len(ordered), 1 << 16):  # by chunks: ``ordered`` may be a memory-mapped array
            self.screen[ordered[start:start + (1 << 16)] >> self.shift] = True

    def contains(self, needles: Any) -> Any:
        """Which of ``needles`` (a numpy uint64 array) are in the set."""
        import numpy as np

        out = np.zeros(len(needles), bool)
        maybe = np.flatnonzero(self.screen[needles >> self.shift]) if len(self.ordered) else ()
        if len(maybe):
            sub = needles[maybe]
            at = np.minimum(np.searchsorted(self.ordered, sub), len(self.ordered) - 1)
            out[maybe] = self.ordered[at] == sub
        return out


def row_range(rows: Any, start: int, end: int) -> tuple[int, int]:
    """Where the rows ``start <= row < end`` lie in the sorted numpy array ``rows``: ``(lo, hi)``. The bounds
    are searched in ``rows``' own dtype (a list of Python ints would make numpy convert a uint64 ``rows`` into a
    float64 copy of every row on each call)."""
    import numpy as np

    lo, hi = np.searchsorted(rows, np.array([start, end], dtype=rows.dtype))
    return int(lo), int(hi)


def take_rows(table: Any, rows: Any, pool: Any = None) -> Any:
    """``table.take(rows)`` one record batch at a time (pyarrow's own ``take`` on a chunked column concatenates
    every chunk first, a copy of the whole column), in the order of ``rows``; ``pool``: the Arrow memory pool of
    the result (None: the default)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = np.asarray(rows, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    parts = []
    start = 0
    for batch in table.to_batches():
        lo, hi = row_range(ordered, start, start + batch.num_rows)
        if hi > lo:
            parts.append(pc.take(batch, pa.array(ordered[lo:hi] - start), memory_pool=pool))
        start += batch.num_rows
    taken = pa.Table.from_batches(parts, schema=table.schema)
    return pc.take(taken, pa.array(np.argsort(order, kind="stable")), memory_pool=pool)


def base_and_rows(ds: datasets.Dataset) -> tuple[Any, Any]:
    """The table under ``ds`` (no indices mapping applied) and the numpy row numbers ``ds`` picks from it
    (None: every row, in order)."""
    import numpy as np

    indices = getattr(ds, "_indices", None)
    if indices is None:
        return ds.data.table, None
    column = indices.column(0)
    if column.num_chunks == 1 and column.null_count == 0:  # the usual case: a view of the mapping, no copy
        return ds.data.table, column.chunk(0).to_numpy(zero_copy_only=True)
    return ds.data.table, column.to_numpy().astype(np.uint64, copy=False)


def blank_mask(values: Any) -> Any:
    """True where a value is missing, or (text) empty or only whitespace (computed chunk by chunk)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def one(chunk: Any) -> Any:
        blank = pc.is_null(chunk)
        if is_text(chunk):
            blank = pc.or_(blank, pc.or_(pc.equal(pc.binary_length(chunk), 0), pc.utf8_is_space(chunk)))
        return pc.fill_null(blank, True)

    if not isinstance(values, pa.ChunkedArray):
        return one(values)
    return pa.chunked_array([one(chunk) for chunk in values.chunks], pa.bool_())


def blank_rows(values: Any) -> Any:
    """0-based positions (a numpy int64 array) of the missing or blank values of an Arrow (chunked) array."""
    import numpy as np
    import pyarrow.compute as pc

    found = [pc.indices_nonzero(blank_mask(chunk)).to_numpy().astype(np.int64) + start
             for start, chunk in chunks(values)]
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def is_text(array: Any) -> bool:
    """True for Arrow string columns."""
    import pyarrow as pa

    return bool(pa.types.is_string(array.type) or pa.types.is_large_string(array.type))


def _chunk_label_keys(values: Any, start: int, column: str, path: str, note: str) -> Any:
    """Label names of one chunk (see :func:`label_key_chunks`); ``start`` is its first row, for messages."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .columns import label_key

    if is_text(values):
        return pc.utf8_trim_whitespace(values)
    if pa.types.is_boolean(values.type) or pa.types.is_integer(values.type):
        return pc.cast(values, pa.string())
    if pa.types.is_floating(values.type):
        integral = pc.fill_null(pc.equal(pc.floor(values), values), True)
        if not pc.all(integral).as_py():
            row = pc.indices_nonzero(pc.invert(integral))[0].as_py()
            raise DataError(f"label {values[row].as_py()!r} is a decimal number; a classification label must be a "
                            f"category (text or a whole number). ({note})", file=path, row=start + row + 1,
                            column=column)
        return pc.cast(pc.cast(values, pa.int64()), pa.string())
    keys = []
    for i, value in enumerate(values.to_pylist()):
        try:
            keys.append(label_key(value))
        except ValueError as exc:
            raise DataError(f"label {exc}; a classification label must be a category (text or a whole number). "
                            f"({note})", file=path, row=start + i + 1, column=column) from None
    return pa.array(keys, pa.string())


def label_key_chunks(ds: datasets.Dataset, column: str, path: str, note: str) -> Iterator[Any]:
    """The label name of every row, one Arrow string array per chunk of the column (the rules of
    :func:`columns.label_key`): text stripped, integers (also 3.0) as digits, booleans as true/false. Raises
    :class:`DataError` naming the first row whose label is a decimal number or not a category. Missing values
    must have been refused before."""
    for start, chunk in chunks(column_array(ds, column)):
        yield _chunk_label_keys(chunk, start, column, path, note)


def distinct_labels(ds: datasets.Dataset, column: str, path: str, note: str) -> list[str]:
    """The distinct label names of ``column`` (unordered), computed chunk by chunk."""
    import pyarrow.compute as pc

    seen: set[str] = set()
    for keys in label_key_chunks(ds, column, path, note):
        seen.update(str(k) for k in pc.unique(keys).to_pylist())
    return list(seen)


def label_id_chunks(ds: datasets.Dataset, column: str, path: str, note: str, names: Sequence[str]) -> Iterator[Any]:
    """Every row's label as an index into ``names`` (-1 where a label is not among them), one numpy int32 array
    per chunk of the column, in row order."""
    for keys in label_key_chunks(ds, column, path, note):
        yield label_ids(keys, names)


def label_id_array(ds: datasets.Dataset, column: str, path: str, note: str, names: Sequence[str]) -> Any:
    """Every row's label as an index into ``names`` (a numpy int32 array; -1 where a label is not among them)."""
    import numpy as np

    ids = np.empty(len(ds), np.int32)
    at = 0
    for part in label_id_chunks(ds, column, path, note, names):
        ids[at:at + len(part)] = part
        at += len(part)
    return ids


def label_ids(keys: Any, names: Sequence[str]) -> Any:
    """``keys`` as a numpy array of indices into ``names`` (-1 where a key is not among them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pc.index_in(keys, value_set=pa.array(list(names), pa.string()))
    return pc.fill_null(ids, -1).to_numpy(zero_copy_only=False)
