"""core.data's cached split: drawn with file-backed scratch arrays it holds exactly the rows of ``split_arrays``
(resume depends on it), it is kept in the data cache as memory-mapped Arrow files that later calls reuse, and the
datasets built on it equal those ``select_rows`` builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from adalora_studio.core import paths
from adalora_studio.core.config import RunConfig, with_section
from adalora_studio.core.data import inspect_dataset
from adalora_studio.core.data import split_files as sf
from adalora_studio.core.data.arrowops import row_range, select_mapped, select_rows
from adalora_studio.core.data.columns import split_arrays
from adalora_studio.core.data.split_cache import label_counts, split_key, stratified_split
from adalora_studio.core.errors import DataError


def _file_split(tmp_path: Path, n: int, fraction: float, seed: int, ids: np.ndarray | None,
                n_classes: int) -> tuple[list[int], list[int]]:
    with sf.Scratch(tmp_path) as scratch:
        held = None
        if ids is not None:
            held = scratch.array(n, sf.id_dtype(n_classes))
            sf.fill_ids(sf.chunked(ids), held)
        evaluation = sf.draw_eval_rows(n, fraction, seed, held, n_classes, scratch)
        train = scratch.array(n - len(evaluation), np.int64)
        sf.train_rows(n, evaluation, train)
        result = train.tolist(), evaluation.tolist()
    assert not any(tmp_path.iterdir())  # the scratch folder is gone
    return result


CASES = [  # (rows, classes, fraction, seed, how the ids are drawn)
    (2, 2, 0.1, 42, "uniform"), (37, 6, 0.1, 42, "uniform"), (5001, 6, 0.2, 7, "uniform"),
    (300, 40, 0.25, 3, "singletons"), (150_001, 3, 0.1, 42, "skewed"), (70_000, 1, 0.5, 1, "uniform"),
    (20, 20, 0.1, 5, "all-single"), (1, 1, 0.1, 0, "uniform"), (1000, 300, 0.3, 9, "uniform"),
]


def _ids(n: int, classes: int, how: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + n)
    if how == "all-single":
        return rng.permutation(n).astype(np.int32)
    if how == "skewed":  # one class spans several chunks, another has one row
        ids = (rng.random(n) < 0.9).astype(np.int32)
        ids[n // 2] = 2
        return ids
    ids = rng.integers(0, classes, n).astype(np.int32)
    if how == "singletons":
        ids[ids >= classes // 2] = classes // 2 + np.arange(int((ids >= classes // 2).sum())) % (classes // 2)
        ids[:classes // 2] = np.arange(classes // 2)  # classes of a single row among larger ones
    return ids


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}x{c[1]}-{c[4]}" for c in CASES])
def test_file_backed_split_equals_split_arrays(tmp_path: Path, case: tuple) -> None:
    n, classes, fraction, seed, how = case
    ids = _ids(n, classes, how, seed)
    want_train, want_eval = split_arrays(n, fraction, seed, ids)
    assert _file_split(tmp_path, n, fraction, seed, ids, int(ids.max()) + 1) == (want_train.tolist(),
                                                                                  want_eval.tolist())
    plain_train, plain_eval = split_arrays(n, fraction, seed)  # no labels: one group of every row
    assert _file_split(tmp_path, n, fraction, seed, None, 1) == (plain_train.tolist(), plain_eval.tolist())


def test_row_range_and_label_counts() -> None:
    rows = np.array([0, 3, 3, 9, 12], np.uint64)
    assert row_range(rows, 3, 10) == (1, 4) and row_range(rows, 13, 20) == (5, 5)
    ids = np.random.default_rng(0).integers(0, 4, 1000).astype(np.int32)
    held = np.sort(np.random.default_rng(1).choice(1000, 90, replace=False)).astype(np.uint64)
    total, counted = label_counts([ids[:333], ids[333:700], ids[700:]], 5, held)
    assert total.tolist() == np.bincount(ids, minlength=5).tolist()
    assert counted.tolist() == np.bincount(ids[held.astype(np.int64)], minlength=5).tolist()


def _arrow_dataset(tmp_path: Path, labels: list[str]):
    import datasets

    path = tmp_path / "data.arrow"
    table = pa.table({"text": [f"row {i}" for i in range(len(labels))], "label": labels})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=7):
            writer.write_batch(batch)
    return datasets.Dataset.from_file(str(path))


def _ids_of(labels: list[str], names: tuple[str, ...]):
    def chunks():
        ids = np.array([names.index(v) for v in labels], np.int32)
        return [ids[:5], ids[5:]]
    return chunks


def test_split_is_cached_memory_mapped_and_reused(tmp_path: Path) -> None:
    from datasets.table import MemoryMappedTable

    labels = ["a"] * 30 + ["b"] * 12 + ["c"]
    ds, names = _arrow_dataset(tmp_path, labels), ("a", "b", "c")
    first = stratified_split(ds, "label", names, 0.25, 42, _ids_of(labels, names))
    want = split_arrays(len(labels), 0.25, 42, np.array([names.index(v) for v in labels]))
    assert first.train.tolist() == want[0].tolist() and first.eval.tolist() == want[1].tolist()
    assert first.tables is not None and all(isinstance(t, MemoryMappedTable) for t in first.tables)
    files = sorted(p.name for p in (paths.cache_dir() / "splits").iterdir())
    assert len(files) == 2 and files[0].endswith("-eval.arrow") and files[1].endswith("-train.arrow")

    def refuse():
        raise AssertionError("the cached split was drawn again")

    again = stratified_split(ds, "label", names, 0.25, 42, refuse)
    assert again.train.tolist() == first.train.tolist() and again.eval.tolist() == first.eval.tolist()
    for part, rows in zip(again.tables or (), (first.train, first.eval), strict=True):
        mapped, selected = select_mapped(ds, part), select_rows(ds, rows)
        assert mapped._fingerprint == selected._fingerprint and mapped[:] == selected[:]
    assert split_key(ds, "label", names, 0.25, 43) != split_key(ds, "label", names, 0.25, 42)
    assert split_key(ds, "label", names, 0.2, 42) != split_key(ds, "label", names, 0.25, 42)
    assert split_key(select_rows(ds, [0, 1]), "label", names, 0.25, 42) is None


def test_a_damaged_split_file_is_drawn_again(tmp_path: Path) -> None:
    labels = ["a", "b"] * 20
    ds, names = _arrow_dataset(tmp_path, labels), ("a", "b")
    first = stratified_split(ds, "label", names, 0.2, 1, _ids_of(labels, names)).train.tolist()
    train_file = next((paths.cache_dir() / "splits").glob("*-train.arrow"))
    whole = train_file.read_bytes()
    train_file.unlink()
    train_file.write_bytes(whole[:40])  # truncated (a new file: the first split's map still sees the old one)
    again = stratified_split(ds, "label", names, 0.2, 1, _ids_of(labels, names))
    assert again.train.tolist() == first and again.tables is not None
    assert train_file.read_bytes() == whole


def test_inspect_reuses_the_split_and_matches_the_in_memory_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    labels = [str(v) for v in rng.choice(["x", "y", "z"], 500, p=[0.6, 0.3, 0.1])] + ["lonely"]
    path = tmp_path / "s.csv"
    path.write_text("text,label\n" + "".join(f"text {i},{v}\n" for i, v in enumerate(labels)), encoding="utf-8")
    cfg = with_section(RunConfig(), "data", train_file=str(path), eval_fraction=0.2)
    first = inspect_dataset(cfg)
    assert len(list((paths.cache_dir() / "splits").glob("*.arrow"))) == 2
    second = inspect_dataset(cfg)
    assert first == second
    names = ("lonely", "x", "y", "z")
    ids = np.array([names.index(v) for v in labels])
    train, evaluation = split_arrays(len(ids), 0.2, cfg.training.seed, ids)
    assert (first.n_train, first.n_eval) == (len(train), len(evaluation))
    assert first.eval_label_counts == {n: int((ids[evaluation] == i).sum()) for i, n in enumerate(names)}
    assert first.label_counts == {n: int((ids[train] == i).sum()) for i, n in enumerate(names)}


def test_a_file_too_small_to_hold_out_rows_writes_no_split(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("text,label\none,a\ntwo,b\n", encoding="utf-8")
    with pytest.raises(DataError, match="too small to hold out"):
        inspect_dataset(with_section(RunConfig(), "data", train_file=str(path)))
    folder = paths.cache_dir() / "splits"
    assert not folder.exists() or not any(folder.iterdir())


def test_an_unwritable_cache_splits_in_memory(tmp_path: Path) -> None:
    labels = ["a", "b", "c"] * 10
    ds, names = _arrow_dataset(tmp_path, labels), ("a", "b", "c")
    paths.cache_dir().mkdir(parents=True, exist_ok=True)
    (paths.cache_dir() / "splits").write_text("a file where the folder should be", encoding="utf-8")
    split = stratified_split(ds, "label", names, 0.2, 4, _ids_of(labels, names))
    want = split_arrays(len(labels), 0.2, 4, np.array([names.index(v) for v in labels]))
    assert split.tables is None and split.eval.tolist() == want[1].tolist()
    with sf.Scratch(tmp_path / "data.arrow") as scratch:  # a file, not a folder: arrays in memory
        held = scratch.array(5, np.int64)
        held[:] = 7
        assert scratch.folder is None and held.tolist() == [7] * 5
