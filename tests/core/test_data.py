"""core.data: formats, loading errors that name file/row/column, preview and column detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.core.config import RunConfig, with_section
from adalora_studio.core.data import detect_format, inspect_dataset, load_table, preview_data
from adalora_studio.core.data.columns import (
    guess_label_column,
    guess_prompt_column,
    guess_response_column,
    guess_text_columns,
    summarise_columns,
)
from adalora_studio.core.errors import DataError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def classification(train: Path, **data: object) -> RunConfig:
    return with_section(RunConfig(), "data", train_file=str(train), **data)


def causal(train: Path, **data: object) -> RunConfig:
    return with_section(RunConfig(task="causal-lm"), "data", train_file=str(train), **data)


def tickets(n: int = 12) -> str:
    labels = ["billing", "shipping", "account"]
    return "text,label\n" + "".join(f"message number {i} about things,{labels[i % 3]}\n" for i in range(n))


# ------------------------------------------------------------------------------------------------ formats


@pytest.mark.parametrize("name, fmt", [("a.csv", "csv"), ("a.TSV", "tsv"), ("a.tab", "tsv"), ("a.json", "json"),
                                       ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.parquet", "parquet"),
                                       ("a.arrow", "arrow")])
def test_detect_format_by_suffix(tmp_path: Path, name: str, fmt: str) -> None:
    assert detect_format(write(tmp_path / name, "x")) == fmt


def test_detect_format_unknown_suffix_lists_supported(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        detect_format(write(tmp_path / "notes.docx", "hello"))
    message = str(info.value)
    assert "notes.docx" in message and "'.docx'" in message
    for supported in (".csv", ".tsv", ".jsonl", ".parquet", "save_to_disk"):
        assert supported in message


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_table(tmp_path / "nope.csv")
    assert info.value.file.endswith("nope.csv") and "not found" in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "nope.csv"))


def test_plain_folder_is_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a dataset saved"):
        detect_format(tmp_path)


# ------------------------------------------------------------------------------------------ loading errors


@pytest.mark.parametrize("text, phrase", [("", "empty"), ("\n \n\n", "blank"), ("text,label\n", "no data rows")])
def test_empty_files(tmp_path: Path, text: str, phrase: str) -> None:
    path = write(tmp_path / "empty.csv", text)
    with pytest.raises(DataError, match=phrase) as info:
        load_table(path)
    assert info.value.file == str(path) and str(info.value).startswith(str(path))


def test_undecodable_bytes_give_offset_row_and_suggest_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    body = "text,label\nfine row,a\nanother,b\ncaf\xe9 au lait,a\n"
    path.write_bytes(body.encode("latin-1"))
    with pytest.raises(DataError) as info:
        load_table(path)
    err = info.value
    offset = body.encode("latin-1").index(b"\xe9")
    assert err.row == 3 and err.file == str(path)
    assert f"byte offset {offset}" in str(err) and "0xe9" in str(err)
    assert "line 4" in str(err) and "header not counted" in str(err) and "UTF-8" in str(err)


def test_undecodable_bytes_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"prompt": "a", "response": "b"}\n{"prompt": "\xff", "response": "c"}\n')
    with pytest.raises(DataError) as info:
        load_table(path)
    assert info.value.row == 2 and "byte offset 45" in str(info.value)
    assert str(info.value).startswith(f"{path}, row 2")


@pytest.mark.parametrize("bad_line, fields, phrase", [("too,many,fields,a", 4, "too many"), ("lonely", 1, "too few")])
def test_ragged_csv_row_is_located(tmp_path: Path, bad_line: str, fields: int, phrase: str) -> None:
    path = write(tmp_path / "ragged.csv", f"text,label\nok one,a\n\nok two,b\n{bad_line}\nok three,a\n")
    with pytest.raises(DataError) as info:
        load_table(path)
    err = info.value
    assert err.row == 3 and err.file == str(path)  # the blank line is not a data row
    assert str(err).startswith(f"{path}, row 3")
    assert f"has {fields} fields but the header has 2" in str(err) and phrase in str(err)
    assert "line 5 of the file" in str(err) and "header not counted" in str(err)


def test_ragged_tsv_row(tmp_path: Path) -> None:
    path = write(tmp_path / "data.tsv", "text\tlabel\nhello there\ta\nsplit\tin\tthree\n")
    with pytest.raises(DataError) as info:
        load_table(path)
    assert info.value.row == 2 and "tab-separated" in str(info.value)
    assert str(info.value).startswith(f"{path}, row 2")


def test_bad_jsonl_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", '{"prompt": "a", "response": "b"}\n\n{"prompt": "a", "response": \n')
    with pytest.raises(DataError) as info:
        load_table(path)
    assert info.value.row == 2 and "line 3 is not valid JSON" in str(info.value)


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = write(tmp_path / "list.jsonl", '{"prompt": "a", "response": "b"}\n["a", "b"]\n')
    with pytest.raises(DataError, match="line 2 is list, expected a JSON object"):
        load_table(path)


def test_damaged_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DataError, match="not a readable Parquet file") as info:
        load_table(path)
    assert info.value.file == str(path)


def test_dataset_dict_uses_train_or_lists_splits(tmp_path: Path) -> None:
    import datasets

    part = datasets.Dataset.from_dict({"text": ["a b", "c d"], "label": [0, 1]})
    datasets.DatasetDict({"train": part, "test": part}).save_to_disk(str(tmp_path / "with_train"))
    assert detect_format(tmp_path / "with_train") == "arrow"
    assert len(load_table(tmp_path / "with_train")) == 2
    datasets.DatasetDict({"validation": part, "test": part}).save_to_disk(str(tmp_path / "no_train"))
    with pytest.raises(DataError) as info:
        load_table(tmp_path / "no_train")
    assert "validation" in str(info.value) and "test" in str(info.value) and "'train'" in str(info.value)


def test_csv_keeps_none_and_na_as_text_and_drops_a_bom(tmp_path: Path) -> None:
    ds = load_table(write(tmp_path / "words.csv", "\ufefftext,label\nNone,a\nNA,b\nnull,a\n"))
    assert ds.column_names == ["text", "label"] and ds["text"][:] == ["None", "NA", "null"]
    assert preview_data(tmp_path / "words.csv").columns == ("text", "label")


# --------------------------------------------------------------------------------- column and label errors


def test_missing_text_rows_are_listed(tmp_path: Path) -> None:
    path = write(tmp_path / "gaps.csv", "text,label\nhello,a\n,b\nworld,a\n   ,b\nagain,a\n")
    with pytest.raises(DataError) as info:
        inspect_dataset(classification(path))
    err = info.value
    assert err.row == 2 and err.column == "text" and err.file == str(path)
    assert "2 rows have no text" in str(err) and "rows 2, 4" in str(err) and "header row not counted" in str(err)
    assert str(err).startswith(f"{path}, row 2, column 'text'")


def test_missing_response_in_jsonl(tmp_path: Path) -> None:
    rows = [{"prompt": "p1", "response": "r1"}, {"prompt": "p2", "response": None}, {"prompt": "p3", "response": "r"}]
    path = write(tmp_path / "pairs.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    summary = inspect_dataset(causal(path))  # the row is skipped, counted and named, never dropped silently
    assert summary.skipped_rows == 1 and summary.n_train + summary.n_eval == 2
    (warning,) = summary.warnings
    assert "1 of 3 rows (33.3%) were skipped" in warning
    assert f"{path}, column 'response', rows 2 (rows are JSON lines" in warning and "'response' is empty" in warning


def test_missing_configured_column_lists_available(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", tickets())
    with pytest.raises(DataError) as info:
        inspect_dataset(classification(path, label_column="intent"))
    err = info.value
    assert err.column == "intent" and "data.label_column" in str(err) and "available columns: text, label" in str(err)
    with pytest.raises(DataError, match="'body'.*data.text_columns"):
        inspect_dataset(classification(path, text_columns=("body",)))
    with pytest.raises(DataError, match="'question'.*available columns: text, label"):
        inspect_dataset(causal(path, prompt_column="question"))


def test_single_class_label_column(tmp_path: Path) -> None:
    path = write(tmp_path / "one.csv", "text,label\nhello,spam\nworld,spam\nagain,spam\n")
    with pytest.raises(DataError) as info:
        inspect_dataset(classification(path))
    assert info.value.column == "label" and "only one class ('spam')" in str(info.value)
    assert str(info.value).startswith(f"{path}, column 'label'")


def test_missing_label_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "nolabel.csv", "text,label\nhello,a\nworld,\nagain,b\n")
    with pytest.raises(DataError) as info:
        inspect_dataset(classification(path))
    assert (info.value.row, info.value.column) == (2, "label") and "no label" in str(info.value)
    assert str(info.value).startswith(f"{path}, row 2, column 'label'")


def test_decimal_labels_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "scores.csv", "text,label\nhello,1\nworld,0.5\nagain,2\n")
    with pytest.raises(DataError) as info:
        inspect_dataset(classification(path))
    assert (info.value.row, info.value.column) == (2, "label") and "decimal" in str(info.value)


def test_eval_labels_unseen_in_training_are_named(tmp_path: Path) -> None:
    train = write(tmp_path / "train.csv", tickets())
    evaluation = write(tmp_path / "eval.csv", "text,label\nfine,billing\nwho knows,refunds\nhm,warranty\n")
    with pytest.raises(DataError) as info:
        inspect_dataset(classification(train, eval_file=str(evaluation)))
    err = info.value
    assert err.file == str(evaluation) and err.column == "label" and err.row == 2
    assert "'refunds'" in str(err) and "'warranty'" in str(err)
    assert str(err).startswith(f"{evaluation}, row 2, column 'label'")


def test_eval_file_missing_a_column(tmp_path: Path) -> None:
    train = write(tmp_path / "train.csv", tickets())
    evaluation = write(tmp_path / "eval.csv", "body,label\nfine,billing\n")
    with pytest.raises(DataError) as info:
        inspect_dataset(classification(train, eval_file=str(evaluation)))
    assert info.value.file == str(evaluation) and info.value.column == "text"


def test_no_training_file() -> None:
    with pytest.raises(DataError, match="data.train_file"):
        inspect_dataset(RunConfig())


# ------------------------------------------------------------------------------------------------ detection


def test_detection_text_is_longest_string_and_label_by_name() -> None:
    cols = {"id": [1, 2, 3, 4], "title": ["a", "bb", "c", "d"],
            "body": ["a long text", "more words here", "x y z", "and so on"], "Category": ["x", "y", "x", "y"]}
    summaries = summarise_columns(cols)
    assert guess_label_column(summaries, columns=cols) == "Category"
    assert guess_text_columns(summaries, exclude=["Category"]) == ("body",)


def test_detection_low_cardinality_label_without_a_known_name() -> None:
    cols = {"sentence": [f"sentence number {i} is here" for i in range(20)], "id": list(range(20)),
            "sentiment": ["pos", "neg", "neutral", "pos"] * 5}
    summaries = summarise_columns(cols)
    assert guess_label_column(summaries, columns=cols) == "sentiment"
    assert guess_text_columns(summaries, exclude=["sentiment"]) == ("sentence",)


def test_detection_prompt_response_and_pairs() -> None:
    summaries = summarise_columns({"Instruction": ["do x"], "context": ["c"], "Output": ["done"]})
    assert (guess_prompt_column(summaries), guess_response_column(summaries)) == ("Instruction", "Output")
    pairs = summarise_columns({"premise": ["a man sleeps"], "hypothesis": ["a person rests"], "label": [1]})
    assert guess_text_columns(pairs, exclude=["label"]) == ("premise", "hypothesis")


# --------------------------------------------------------------------------------------------------- preview


def test_preview_of_demo_csv() -> None:
    from adalora_studio.core import paths

    preview = preview_data(paths.demo_classification_file(), n_rows=20)
    assert preview.format == "csv" and preview.columns == ("text", "label") and len(preview.rows) == 20
    assert preview.n_rows == 1200 and not preview.n_rows_is_estimate
    assert preview.guess_text_columns == ("text",) and preview.guess_label_column == "label"
    assert sum(preview.label_counts.values()) == 20
    assert [s.name for s in preview.summaries] == ["text", "label"]


def test_preview_reads_only_the_start_of_a_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import adalora_studio.core.data.preview as data_preview

    monkeypatch.setattr(data_preview, "_budget", lambda n: 64 * 1024)
    row = "a customer message of moderate length for the estimate,billing\n"
    path = write(tmp_path / "big.csv", "text,label\n" + row * 20000)
    preview = preview_data(path, n_rows=10)
    assert len(preview.rows) == 10 and preview.n_rows_is_estimate
    assert abs(preview.n_rows - 20000) <= 200


def test_preview_jsonl_parquet_and_ragged_head(tmp_path: Path) -> None:
    import datasets

    rows = [{"prompt": f"question {i}", "response": f"answer {i}"} for i in range(30)]
    jsonl = write(tmp_path / "pairs.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    preview = preview_data(jsonl, n_rows=5)
    assert preview.n_rows == 30 and preview.rows[0] == rows[0]
    assert (preview.guess_prompt_column, preview.guess_response_column) == ("prompt", "response")
    parquet = tmp_path / "pairs.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(parquet))
    preview = preview_data(parquet, n_rows=5)
    assert preview.format == "parquet" and preview.n_rows == 30 and len(preview.rows) == 5
    ragged = write(tmp_path / "ragged.csv", "text,label\nok,a\nnot,ok,at all\n")
    with pytest.raises(DataError) as info:
        preview_data(ragged)
    assert info.value.row == 2


def test_preview_converts_numeric_csv_columns(tmp_path: Path) -> None:
    reviews = ["great product really,5", "bad,1", "ok i guess,3", "fine,", "loved it,5", "awful service,1",
               "would buy again,5", "meh,3"]
    path = write(tmp_path / "num.csv", "review,stars\n" + "\n".join(reviews) + "\n")
    preview = preview_data(path)
    assert [r["stars"] for r in preview.rows] == [5, 1, 3, None, 5, 1, 5, 3]
    assert preview.guess_label_column == "stars" and preview.guess_text_columns == ("review",)


# ------------------------------------------------------------------------------------------- other formats


def test_tsv_json_and_arrow_files_load(tmp_path: Path) -> None:
    import datasets

    tsv = load_table(write(tmp_path / "d.tsv", 'text\tlabel\nhello, "world"\ta\nbye\tb\n'))
    assert tsv["text"][:] == ['hello, "world"', "bye"]
    records = load_table(write(tmp_path / "rows.json", '[{"text": "a", "label": 1}, {"text": "b", "label": 2}]'))
    columnar = load_table(write(tmp_path / "cols.json", '{"text": ["a", "b"], "label": [1, 2]}'))
    assert records.to_dict() == columnar.to_dict() == {"text": ["a", "b"], "label": [1, 2]}
    datasets.Dataset.from_dict({"text": ["x", "y"], "label": [0, 1]}).save_to_disk(str(tmp_path / "saved"))
    arrow_file = next((tmp_path / "saved").glob("*.arrow"))
    assert load_table(arrow_file)["text"][:] == ["x", "y"]
    assert preview_data(tmp_path / "saved").rows == ({"text": "x", "label": 0}, {"text": "y", "label": 1})


def test_changed_file_is_read_again(tmp_path: Path) -> None:
    import os

    path = write(tmp_path / "c.csv", "text,label\nfirst,a\n")
    assert load_table(path)["text"][:] == ["first"]
    write(path, "text,label\nsecond,b\nthird,a\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert load_table(path)["text"][:] == ["second", "third"]
    write(path, "text,label\nbroken,row,now\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 2 * 10**9))
    with pytest.raises(DataError, match="has 3 fields"):
        load_table(path)


def test_csv_column_type_changing_after_the_first_chunk_reads_as_text(tmp_path: Path) -> None:
    body = "".join(f"row {i},{i % 3}\n" for i in range(10_005)) + "odd row,other\n"  # pandas reads 10,000 per chunk
    ds = load_table(write(tmp_path / "mixed.csv", "text,label\n" + body))
    assert len(ds) == 10_006 and ds[0]["label"] == "0" and ds[-1]["label"] == "other"


def test_bad_byte_offset_across_read_chunks(tmp_path: Path) -> None:
    from adalora_studio.core.data.diagnose import find_bad_utf8

    path = tmp_path / "long.csv"
    head = b"a" * ((1 << 20) - 1) + "\u00e9".encode() + b"\n"  # the two-byte character straddles the 1 MiB chunk
    path.write_bytes(head + b"ok\xff\n")
    assert find_bad_utf8(path) == (len(head) + 2, 2, "byte 0xff: invalid start byte")
    path.write_bytes(head)
    assert find_bad_utf8(path) is None
