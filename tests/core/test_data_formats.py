"""core.data readers: any delimiter, compressed files, xlsx, txt; each to the right row count, bad input named."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import sys
from pathlib import Path

import pytest

from adalora_studio.core.config import RunConfig, with_section
from adalora_studio.core.data import inspect_dataset, load_table, preview_data, sniff_delimiter, xlsx_sheets
from adalora_studio.core.errors import DataError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def delimited(sep: str, n: int = 9) -> str:
    """A header and n rows whose text quotes the separator (and, in row 2, a newline)."""
    labels = ["red", "green", "blue"]
    rows = [f'"item {i}{sep} with the separator{chr(10) if i == 2 else ""} inside"{sep}{labels[i % 3]}'
            for i in range(n)]
    return f"text{sep}label\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_every_delimiter_is_detected_and_reads_every_row(tmp_path: Path, sep: str) -> None:
    path = write(tmp_path / "data.csv", delimited(sep))
    assert sniff_delimiter(path) == sep
    ds = load_table(path)
    assert ds.column_names == ["text", "label"] and len(ds) == 9
    assert ds[0]["text"] == f"item 0{sep} with the separator inside" and ds[2]["text"].count("\n") == 1
    preview = preview_data(path)
    assert preview.delimiter == sep and preview.n_rows == 9 and preview.columns == ("text", "label")
    summary = inspect_dataset(with_section(RunConfig(), "data", train_file=str(path)))
    assert summary.delimiter == sep and summary.n_train + summary.n_eval == 9


def test_delimiter_override_that_leaves_one_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "excel.csv", delimited(";"))
    with pytest.raises(DataError) as info:
        load_table(path, delimiter=",")
    message = str(info.value)
    assert str(path) in message and "single column 'text;label'" in message and "data.delimiter to ';'" in message
    assert info.value.column == "data.delimiter"
    with pytest.raises(DataError, match="single column"):
        preview_data(path, delimiter=",")


def test_ragged_semicolon_row_names_row_and_separator(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "text;label\nfine;a\nalso fine;b\nbroken;x;y\n")
    with pytest.raises(DataError) as info:
        load_table(path)
    assert info.value.row == 3 and "semicolon-separated" in str(info.value)


def _compress(path: Path, kind: str, data: bytes) -> Path:
    opener = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
    with opener(path, "wb") as fh:
        fh.write(data)
    return path


@pytest.mark.parametrize("name,kind", [("d.csv.gz", "gz"), ("d.csv.bz2", "bz2"), ("d.jsonl.gz", "gz"),
                                       ("d.jsonl.xz", "xz"), ("d.json.gz", "gz")])
def test_compressed_files_read_to_the_right_row_count(tmp_path: Path, name: str, kind: str) -> None:
    rows = [{"text": f"row {i}, with a comma", "label": ["a", "b"][i % 2]} for i in range(7)]
    if ".csv" in name:
        body = "text,label\n" + "".join(f'"{r["text"]}",{r["label"]}\n' for r in rows)
    elif ".jsonl" in name:
        body = "".join(json.dumps(r) + "\n" for r in rows)
    else:
        body = json.dumps(rows)
    path = _compress(tmp_path / name, kind, body.encode())
    ds = load_table(path)
    assert len(ds) == 7 and ds[3]["text"] == "row 3, with a comma"
    assert preview_data(path).n_rows == 7


def test_corrupt_compressed_file_is_named(tmp_path: Path) -> None:
    good = gzip.compress(b"text,label\n" + b"some words,a\n" * 2000)
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError) as info:
        load_table(path)
    assert info.value.file == str(path) and "corrupt or truncated gzip" in str(info.value)


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_xlsx_first_sheet_by_default_and_sheet_choice(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx", {
        "Tickets": [["text", "label"], *[[f"ticket {i}; urgent, maybe", ["x", "y"][i % 2]] for i in range(6)]],
        "Other": [["prompt", "response"], ["hi", "hello"], ["bye", "goodbye"]],
    })
    assert xlsx_sheets(path) == ["Tickets", "Other"]
    ds = load_table(path)
    assert len(ds) == 6 and ds[0]["text"] == "ticket 0; urgent, maybe"
    other = load_table(path, sheet="Other")
    assert other.column_names == ["prompt", "response"] and len(other) == 2
    preview = preview_data(path)
    assert preview.sheets == ("Tickets", "Other") and preview.sheet == "Tickets" and preview.n_rows == 6
    with pytest.raises(DataError, match="has no sheet 'Nope'; its sheets are: Tickets, Other"):
        load_table(path, sheet="Nope")


def test_xlsx_with_an_empty_first_sheet_is_named(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "empty.xlsx", {"Sheet1": [], "Data": [["text", "label"], ["a", "b"]]})
    with pytest.raises(DataError) as info:
        load_table(path)
    message = str(info.value)
    assert str(path) in message and "sheet 'Sheet1' (the first sheet) is empty" in message and "Data" in message


def test_xlsx_without_openpyxl_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(DataError) as info:
        load_table(path)
    assert "pip install" in str(info.value) and "openpyxl" in str(info.value) and str(path) in str(info.value)


def test_txt_reads_one_row_per_non_blank_line(tmp_path: Path) -> None:
    path = write(tmp_path / "book.txt", "first line, with a comma\n\nsecond line\tand a tab\nthird | line\n")
    ds = load_table(path)
    assert ds.column_names == ["text"] and ds["text"] == ["first line, with a comma", "second line\tand a tab",
                                                         "third | line"]
    gz = _compress(tmp_path / "book.txt.gz", "gz", path.read_bytes())
    assert len(load_table(gz)) == 3


def test_dates_in_a_csv_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path / "dated.csv", "text,label\n" + "".join(f"note {i},2024-01-0{1 + i % 2}\n" for i in range(8)))
    ds = load_table(path)
    assert ds[0]["label"] == "2024-01-01"
    summary = inspect_dataset(with_section(RunConfig(), "data", train_file=str(path), label_column="label"))
    assert summary.label_names == ("2024-01-01", "2024-01-02")
