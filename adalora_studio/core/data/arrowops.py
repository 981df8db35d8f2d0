"""Whole-column work with Arrow compute instead of Python loops, so a million rows cost milliseconds.

``datasets`` keeps a split (``Dataset.select``) as the file's table plus an indices mapping; these helpers apply
that mapping with pyarrow's ``take`` and give ``select`` a fingerprint from the index bytes (``datasets`` would
otherwise pickle the whole index list to hash it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import datasets


def select_rows(ds: datasets.Dataset, indices: Sequence[int] | Any) -> datasets.Dataset:
    """``ds.select(indices)``, built directly as the same table with a new indices mapping (``datasets``' own
    ``select`` converts and hashes the index list in Python), fingerprinted from the indices' bytes."""
    import datasets
    import numpy as np
    import pyarrow as pa

    array = np.asarray(indices, dtype=np.uint64)
    fingerprint = hashlib.sha1(str(getattr(ds, "_fingerprint", "")).encode() + array.tobytes()).hexdigest()
    if len(array) and int(array.max()) >= len(ds):
        raise IndexError(f"row {int(array.max())} is out of range for {len(ds)} rows")
    mapped = pa.array(array, pa.uint64())
    current = getattr(ds, "_indices", None)
    if current is not None:
        mapped = current.column(0).take(mapped)
    return datasets.Dataset(ds.data, info=ds.info.copy(), split=ds.split,
                            indices_table=pa.table({"indices": mapped}), fingerprint=fingerprint)


def column_array(ds: datasets.Dataset, column: str) -> Any:
    """Column ``column`` of ``ds`` (its indices mapping applied) as a ``pyarrow.ChunkedArray`` (no copy when
    ``ds`` has no mapping: the memory-mapped data is used in place)."""
    values = ds.data.table.column(column)
    indices = getattr(ds, "_indices", None)
    if indices is not None:
        values = values.take(indices.column(0))
    return values


def _words(data: Any) -> Any:
    """``w[i]`` = the 8 bytes of ``data`` from byte ``i`` as one little-endian number (a strided view, no copy)."""
    import numpy as np

    padded = np.concatenate([data, np.zeros(8, np.uint8)])
    return np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))


def fingerprints(values: Any) -> Any:
    """A 64-bit number per string (its byte length mixed with 8 bytes from its start, middle and end), computed
    from Arrow's buffers in numpy. Equal strings have equal fingerprints; unequal ones mostly differ."""
    import numpy as np
    import pyarrow as pa

    parts = []
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        chunk = chunk.cast(pa.large_string()) if not pa.types.is_large_string(chunk.type) else chunk
        _validity, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
        words = _words(np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8))
        start, end = offsets[:-1], offsets[1:]
        length = end - start
        short = length < 8
        keep = np.where(short, (np.uint64(1) << (8 * np.minimum(length, 7)).astype(np.uint64)) - np.uint64(1),
                        np.uint64(0xFFFFFFFFFFFFFFFF))
        head = words[start] & keep
        tail = np.where(short, np.uint64(0), words[np.maximum(end - 8, start)])
        middle = np.where(length >= 16, words[start + length // 2 - 4], np.uint64(0))
        code = length.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        code ^= head * np.uint64(0xBF58476D1CE4E5B9)
        code ^= (tail * np.uint64(0x94D049BB133111EB)) ^ (middle * np.uint64(0xD6E8FEB86659FD93))
        parts.append(code)
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def in_sorted(needles: Any, haystack: Any) -> Any:
    """A boolean mask: which of ``needles`` occur in ``haystack`` (numpy, by sorting; no hash table)."""
    import numpy as np

    ordered = np.sort(haystack)
    if not len(ordered):
        return np.zeros(len(needles), bool)
    at = np.minimum(np.searchsorted(ordered, needles), len(ordered) - 1)
    return ordered[at] == needles


def base_and_rows(ds: datasets.Dataset) -> tuple[Any, Any]:
    """The table under ``ds`` (no indices mapping applied) and the numpy row numbers ``ds`` picks from it."""
    import numpy as np

    indices = getattr(ds, "_indices", None)
    rows = indices.column(0).to_numpy() if indices is not None else np.arange(len(ds))
    return ds.data.table, rows


def same_table(a: Any, b: Any) -> bool:
    """True when two Arrow tables share their data (the splits of one file): same rows, same first buffer."""
    if a is b:
        return True
    if a.num_rows != b.num_rows or a.num_columns != b.num_columns or a.num_columns == 0:
        return False
    ca, cb = a.column(0), b.column(0)
    if ca.num_chunks != cb.num_chunks or ca.num_chunks == 0:
        return bool(ca.num_chunks == cb.num_chunks == 0)
    bufs_a, bufs_b = ca.chunk(0).buffers(), cb.chunk(0).buffers()
    return all((x is None and y is None) or (x is not None and y is not None and x.address == y.address)
               for x, y in zip(bufs_a, bufs_b, strict=False))


def blank_mask(values: Any) -> Any:
    """True where a value is missing, or (text) empty or only whitespace."""
    import pyarrow.compute as pc

    blank = pc.is_null(values)
    if is_text(values):
        blank = pc.or_(blank, pc.or_(pc.equal(pc.binary_length(values), 0), pc.utf8_is_space(values)))
    return pc.fill_null(blank, True)


def is_text(array: Any) -> bool:
    """True for Arrow string columns."""
    import pyarrow as pa

    return bool(pa.types.is_string(array.type) or pa.types.is_large_string(array.type))


def label_key_array(ds: datasets.Dataset, column: str, path: str, note: str) -> Any:
    """The label name of every row as an Arrow string array (the rules of :func:`columns.label_key`): text
    stripped, integers (also 3.0) as digits, booleans as true/false. Raises :class:`DataError` naming the first
    row whose label is a decimal number or not a category. Missing values must have been refused before."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .columns import label_key

    values = column_array(ds, column)
    if is_text(values):
        return pc.utf8_trim_whitespace(values)
    if pa.types.is_boolean(values.type) or pa.types.is_integer(values.type):
        return pc.cast(values, pa.string())
    if pa.types.is_floating(values.type):
        integral = pc.fill_null(pc.equal(pc.floor(values), values), True)
        if not pc.all(integral).as_py():
            row = pc.indices_nonzero(pc.invert(integral))[0].as_py()
            raise DataError(f"label {values[row].as_py()!r} is a decimal number; a classification label must be a "
                            f"category (text or a whole number). ({note})", file=path, row=row + 1, column=column)
        return pc.cast(pc.cast(values, pa.int64()), pa.string())
    keys = []
    for i, value in enumerate(values.to_pylist()):
        try:
            keys.append(label_key(value))
        except ValueError as exc:
            raise DataError(f"label {exc}; a classification label must be a category (text or a whole number). "
                            f"({note})", file=path, row=i + 1, column=column) from None
    return pa.array(keys, pa.string())


def label_ids(keys: Any, names: Sequence[str]) -> Any:
    """``keys`` as a numpy array of indices into ``names`` (-1 where a key is not among them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pc.index_in(keys, value_set=pa.array(list(names), pa.string()))
    return pc.fill_null(ids, -1).to_numpy(zero_copy_only=False)
