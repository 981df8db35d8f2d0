"""core.data's chunked Arrow work: duplicates, fingerprints, takes and label ids computed one record batch at a
time give the same answers as whole-table Python over many chunks, unsorted mappings and nulls."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from adalora_studio.core.data.arrowops import (
    SortedCodes,
    blank_rows,
    chunk_fingerprints,
    label_id_array,
    select_rows,
    take_rows,
)
from adalora_studio.core.data.columns import split_arrays
from adalora_studio.core.data.doctor import count_duplicates
from adalora_studio.core.errors import DataError


def _dataset(rows: list[dict], chunk: int):
    import datasets

    table = pa.Table.from_pylist(rows)
    return datasets.Dataset(pa.Table.from_batches(table.to_batches(max_chunksize=chunk)))


def _rows(rng: random.Random, n: int) -> list[dict]:
    stems = ["", "a", "abc", "hello world", "x" * 17, "the same long prefix for every row here, then "]
    out = []
    for _ in range(n):
        text = rng.choice(stems) + (str(rng.randrange(n)) if rng.random() < 0.7 else "")
        out.append({"text": None if rng.random() < 0.02 else text, "n": rng.randrange(5)})
    return out


def _brute(train, evaluation, columns: list[str]) -> tuple[int, str]:
    def key(row: dict) -> tuple[str, ...]:
        return tuple("" if row[c] is None else str(row[c]) for c in columns)

    seen = {key(r) for r in train}
    hits = [key(r) for r in evaluation if key(r) in seen]
    return len(hits), (" | ".join(hits[0]) if hits else "")


@pytest.mark.parametrize("case", range(12))
def test_count_duplicates_matches_a_python_set(case: int) -> None:
    rng = random.Random(case)
    n = rng.randrange(2, 1500)
    base = _dataset(_rows(rng, n), rng.choice([7, 100, 5000]))
    order = list(range(n))
    rng.shuffle(order)
    cut = max(1, n // 5)
    if case % 3 == 0:  # the split of one file: sorted mappings
        train, evaluation = select_rows(base, sorted(order[cut:])), select_rows(base, sorted(order[:cut]))
    elif case % 3 == 1:  # unsorted mappings
        train, evaluation = select_rows(base, order[cut:]), select_rows(base, order[:cut])
    else:  # an eval file of its own
        train, evaluation = base, _dataset(_rows(rng, rng.randrange(1, 400)), 33)
    for columns in (["text"], ["text", "n"], ["n"]):
        assert count_duplicates(train, evaluation, columns) == _brute(train, evaluation, columns)


def test_fingerprints_of_a_subset_equal_those_of_the_whole() -> None:
    values = pa.array(["", "a", "abcdefgh", "abcdefghi", "x" * 40, None, "ü" * 9, "tail end!"])
    whole = chunk_fingerprints(values)
    assert (chunk_fingerprints(values, np.array([7, 0, 3])) == whole[[7, 0, 3]]).all()
    assert (chunk_fingerprints(values.cast(pa.large_string())) == whole).all()
    assert (chunk_fingerprints(values.slice(2)) == whole[2:]).all()
    assert len(set(whole[[0, 1, 2, 3, 4, 6, 7]].tolist())) == 7


def test_sorted_codes_and_take_rows() -> None:
    rng = np.random.default_rng(0)
    hay = np.sort(rng.integers(0, 2**63, 5000).astype(np.uint64))
    needles = np.concatenate([hay[::7], rng.integers(0, 2**63, 3000).astype(np.uint64)])
    assert (SortedCodes(hay).contains(needles) == np.isin(needles, hay)).all()
    assert not SortedCodes(hay[:0]).contains(needles).any()
    table = _dataset(_rows(random.Random(1), 500), 37).data.table
    rows = np.array([5, 499, 0, 37, 36, 5])
    assert take_rows(table, rows).to_pylist() == table.take(pa.array(rows)).to_pylist()


def test_blank_rows_and_label_ids_count_rows_across_chunks() -> None:
    ds = _dataset([{"label": v} for v in ["a", " ", "b", None, "a ", "c", ""] * 3], 4)
    assert blank_rows(ds.data.table.column("label")).tolist() == [1, 3, 6, 8, 10, 13, 15, 17, 20]
    ids = label_id_array(ds, "label", "f.csv", "note", ("a", "b"))
    assert ids.tolist()[:7] == [0, -1, 1, -1, 0, -1, -1]
    floats = _dataset([{"label": float(i % 3)} for i in range(20)] + [{"label": 2.5}], 6)
    with pytest.raises(DataError) as err:
        label_id_array(floats, "label", "f.csv", "note", ("0", "1", "2"))
    assert err.value.row == 21 and "2.5" in err.value.message


def _split_reference(n_rows: int, fraction: float, seed: int, label_ids) -> tuple[np.ndarray, np.ndarray]:
    """The split as written before it was made lean on memory (every group at once, rng.permutation(group))."""
    rng = np.random.default_rng(seed)
    ids = np.asarray(label_ids)
    eval_rows = []
    for group in [np.flatnonzero(ids == c) for c in np.unique(ids)]:
        if len(group) >= 2:
            take = min(len(group) - 1, max(1, int(round(fraction * len(group)))))
            eval_rows.append(rng.permutation(group)[:take])
    chosen = np.sort(np.concatenate(eval_rows)) if eval_rows else np.zeros(0, np.int64)
    keep = np.ones(n_rows, bool)
    keep[chosen] = False
    return np.flatnonzero(keep), chosen


@pytest.mark.parametrize("n", [2, 37, 5001])
def test_split_is_unchanged_so_resume_sees_the_same_rows(n: int) -> None:
    ids = np.random.default_rng(n).integers(0, 6, n).astype(np.int32)
    for got, want in zip(split_arrays(n, 0.1, 42, ids), _split_reference(n, 0.1, 42, ids), strict=True):
        assert got.tolist() == want.tolist()
