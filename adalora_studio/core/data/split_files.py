"""The seeded stratified train/eval split drawn with file-backed scratch arrays, so memory does not grow with the
rows.

:func:`draw_split` gives exactly the rows of :func:`columns.split_arrays` (the same classes in the same order,
the same random draws: ``Generator.permutation(n)`` is ``arange(n)`` shuffled in place, and the shuffle is done
here in place on a memory-mapped ``arange``). Every array over the rows (label ids, each class's rows, the
permutation, the eval and train rows) lives in a memory-mapped scratch file; only one chunk of rows is held in
memory at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .arrowops import row_range

CHUNK = 1 << 16
"""Rows handled at once by the chunked loops."""


class Scratch:
    """Memory-mapped numpy arrays in a temporary folder under ``parent``, removed on exit (arrays in memory
    where the folder cannot be written)."""

    def __init__(self, parent: Path) -> None:
        self.folder: Path | None = None
        self.arrays: list[Any] = []
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix=f".scratch-{os.getpid()}-", dir=parent))
        except OSError:
            pass

    def array(self, n: int, dtype: Any) -> Any:
        """A writable array of ``n`` items (zeros), backed by a new file (a plain ndarray view of the map). The
        file's space is reserved first, so a full disk gives an array in memory instead (a write into a sparse
        mapped file on a full disk would kill the process with SIGBUS)."""
        import numpy as np

        if n == 0 or self.folder is None:
            return np.zeros(n, dtype)
        path = self.folder / f"{len(self.arrays)}.bin"
        try:
            with path.open("wb") as fh:
                size = n * np.dtype(dtype).itemsize
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(fh.fileno(), 0, size)
                else:  # pragma: no cover - Windows and macOS
                    fh.truncate(size)
            mapped = np.memmap(path, dtype=dtype, mode="r+", shape=(n,))
        except OSError:
            path.unlink(missing_ok=True)
            return np.zeros(n, dtype)
        self.arrays.append(mapped)
        return mapped.view(np.ndarray)  # type(x) is np.ndarray: numpy's fast in-place shuffle applies

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.arrays.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def id_dtype(n_classes: int) -> Any:
    """The smallest signed integer dtype that holds ids ``0..n_classes - 1``."""
    import numpy as np

    for dtype in (np.int8, np.int16, np.int32):
        if n_classes <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _grouped(ids: Any, counts: Any, scratch: Scratch) -> Any:
    """Every row number ordered by class, ascending within each class (a stable counting sort by chunks)."""
    import numpy as np

    grouped = scratch.array(len(ids), np.int64)
    cursor = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        order = np.argsort(part, kind="stable")
        per_class = np.bincount(part, minlength=len(counts))
        at = 0
        for c in np.flatnonzero(per_class):
            k = int(per_class[c])
            grouped[cursor[c]:cursor[c] + k] = order[at:at + k] + start
            cursor[c] += k
            at += k
    return grouped


def _draw(group: Any, size: int, take: int, rng: Any, scratch: Scratch, out: Any) -> None:
    """``out[:take] = group[rng.permutation(size)[:take]]`` (``group`` None: the rows themselves)."""
    import numpy as np

    perm = scratch.array(size, np.int64)
    for start in range(0, size, CHUNK):
        perm[start:start + CHUNK] = np.arange(start, min(size, start + CHUNK))
    rng.shuffle(perm)
    for start in range(0, take, CHUNK):
        picked = perm[start:min(take, start + CHUNK)]
        out[start:start + len(picked)] = picked if group is None else group[picked]


def _take(size: int, fraction: float) -> int:
    return 0 if size < 2 else min(size - 1, max(1, int(round(fraction * size))))


def draw_eval_rows(n_rows: int, fraction: float, seed: int, ids: Any, n_classes: int, scratch: Scratch) -> Any:
    """The eval rows of the split, sorted (a scratch int64 array). ``ids``: each row's class id in
    ``0..n_classes - 1`` (None: no labels, one group of every row)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if ids is None:
        evaluation = scratch.array(_take(n_rows, fraction), np.int64)
        if len(evaluation):
            _draw(None, n_rows, len(evaluation), rng, scratch, evaluation)
        evaluation.sort()
        return evaluation
    counts = np.zeros(n_classes, np.int64)
    for part in chunked(ids):  # bincount converts its input to int64: one chunk at a time
        counts += np.bincount(part, minlength=n_classes)
    takes = [_take(int(c), fraction) for c in counts]
    evaluation = scratch.array(sum(takes), np.int64)
    grouped = _grouped(ids, counts, scratch) if len(evaluation) else None
    at = first = 0
    for c, size in enumerate(int(c) for c in counts):
        if takes[c]:
            group = grouped[first:first + size]  # type: ignore[index]
            _draw(group, size, takes[c], rng, scratch, evaluation[at:at + takes[c]])
            at += takes[c]
        first += size
    evaluation.sort()
    return evaluation


def train_rows(n_rows: int, evaluation: Any, out: Any) -> None:
    """Fill ``out`` with the rows ``0..n_rows - 1`` not in the sorted ``evaluation``, ascending, by chunks."""
    import numpy as np

    at = 0
    for start in range(0, n_rows, CHUNK):
        end = min(n_rows, start + CHUNK)
        lo, hi = row_range(evaluation, start, end)
        keep = np.ones(end - start, bool)
        keep[evaluation[lo:hi] - start] = False
        kept = np.flatnonzero(keep) + start
        out[at:at + len(kept)] = kept
        at += len(kept)


def fill_ids(id_chunks: Iterable[Any], out: Any) -> None:
    """Copy consecutive chunks of label ids into ``out``."""
    at = 0
    for part in id_chunks:
        out[at:at + len(part)] = part
        at += len(part)


def chunked(values: Any) -> Iterator[Any]:
    """Consecutive slices of :data:`CHUNK` items of an array (views, no copy)."""
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
