"""Question-answering data: SQuAD JSON and flat files, answer checks, doc-stride windows mapped back to characters."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from adalora_studio.core.config import DataConfig, ModelConfig, RunConfig, TrainingConfig
from adalora_studio.core.data import inspect_dataset, prepare_data
from adalora_studio.core.data.qa_tokenize import QACollator, tokenize_qa
from adalora_studio.core.data.squad import QAExample, read_qa_file
from adalora_studio.core.errors import DataError
from adalora_studio.core.metrics import best_span
from adalora_studio.core.paths import demo_qa_file

CONTEXT = ("the river runs past the old mill . " * 6) + "the town was founded by marco in the year 1851 . " + (
    "people walk along the river . " * 6)
ANSWER = "marco"


def _squad_json(path: Path, answer_start: int | None = None) -> Path:
    start = CONTEXT.index(ANSWER) if answer_start is None else answer_start
    data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": CONTEXT, "qas": [{"id": "q1", "question": "who founded the town ?",
                                      "answers": [{"text": ANSWER, "answer_start": start}]}]},
        {"context": "a second short context about the sea .", "qas": [
            {"id": "q2", "question": "what is it about ?", "answers": [{"text": "the sea", "answer_start": 29}]}]},
    ]}]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_squad_json_and_flat_files_read_the_same(tmp_path: Path) -> None:
    from_json, cols, fmt = read_qa_file(_squad_json(tmp_path / "s.json"), "auto", None, False)
    assert fmt == "squad-json" and [e.id for e in from_json] == ["q1", "q2"]
    csv_path = tmp_path / "s.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "context", "question", "answers"])
        for e in from_json:
            w.writerow([e.id, e.context, e.question,
                        json.dumps({"text": list(e.answer_texts), "answer_start": list(e.answer_starts)})])
    flat_csv, _, _ = read_qa_file(csv_path, "auto", None, False)
    plain = tmp_path / "s.jsonl"
    plain.write_text("".join(json.dumps({"passage": e.context, "query": e.question, "answer_text": e.answer_texts[0],
                                         "answer_start": e.answer_starts[0]}) + "\n" for e in from_json))
    flat_plain, plain_cols, _ = read_qa_file(plain, "auto", None, False)
    strip = [(e.context, e.question, e.answer_texts, e.answer_starts) for e in from_json]
    assert [(e.context, e.question, e.answer_texts, e.answer_starts) for e in flat_csv] == strip
    assert [(e.context, e.question, e.answer_texts, e.answer_starts) for e in flat_plain] == strip
    assert (plain_cols.context, plain_cols.question) == ("passage", "query")


def test_answer_start_that_does_not_match_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_qa_file(_squad_json(tmp_path / "bad.json", answer_start=3), "auto", None, False)
    err = info.value
    assert err.file.endswith("bad.json") and err.row == 1 and err.column == "answers"
    assert "does not start at character 3" in str(err) and f"occurs at character {CONTEXT.index(ANSWER)}" in str(err)
    flat = tmp_path / "bad.jsonl"
    rows = [{"context": "one two three", "question": "q ?", "answers": {"text": ["two"], "answer_start": [4]}},
            {"context": "one two three", "question": "q ?", "answers": {"text": ["three"], "answer_start": [2]}}]
    flat.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError) as info:
        read_qa_file(flat, "auto", None, False)
    assert info.value.row == 2 and info.value.column == "answers" and "JSON lines counted from 1" in str(info.value)


def test_missing_answer_needs_squad_v2(tmp_path: Path) -> None:
    flat = tmp_path / "v2.jsonl"
    flat.write_text(json.dumps({"context": "a b c", "question": "q ?", "answers": {"text": [], "answer_start": []}}))
    with pytest.raises(DataError, match="squad_v2"):
        read_qa_file(flat, "auto", None, False)
    examples, _, _ = read_qa_file(flat, "auto", None, True)
    assert examples[0].answer_texts == ()


def _windows(tokenizer, examples, max_length=24, stride=6):
    return tokenize_qa(examples, tokenizer, max_length, stride, "f.json", "answers", keep_offsets=True)


def test_doc_stride_span_maps_back_to_the_right_characters() -> None:
    from tests.tiny_models import make_tokenizer

    tok = make_tokenizer("bert")
    start = CONTEXT.index(ANSWER)
    ex = QAExample("q1", CONTEXT, "who founded the town ?", (ANSWER,), (start,), 1)
    cols = _windows(tok, [ex])
    n = len(cols["input_ids"])
    assert n > 3  # the context was split into several overlapping windows
    holding = [i for i in range(n) if cols["start_positions"][i] > 0]
    assert holding  # at least one window holds the answer; the others point at [CLS]
    for i in holding:
        s, e = cols["start_positions"][i], cols["end_positions"][i]
        offsets = cols["offset_mapping"][i]
        assert CONTEXT[offsets[s][0]:offsets[e][1]] == ANSWER
    # logits that pick the labelled tokens give back exactly the answer's characters
    windows = []
    for i in range(n):
        length = len(cols["input_ids"][i])
        starts, ends = [0.0] * length, [0.0] * length
        starts[cols["start_positions"][i]] += 5.0
        ends[cols["end_positions"][i]] += 5.0
        windows.append((starts, ends, cols["offset_mapping"][i]))
    pred = best_span(CONTEXT, windows)
    assert (pred.text, pred.start_char, pred.end_char) == (ANSWER, start, start + len(ANSWER))
    # the collator pads the model inputs and leaves offsets out
    batch = QACollator(tok)([{k: v[i] for k, v in cols.items()} for i in range(3)])
    assert {"input_ids", "attention_mask", "start_positions", "end_positions"} <= set(batch)
    assert not {"offset_mapping", "example_index"} & set(batch)


def test_answer_longer_than_the_window_is_named() -> None:
    from tests.tiny_models import make_tokenizer

    long_answer = "the town was founded by marco in the year 1851"
    ex = QAExample("q7", CONTEXT, "who ?", (long_answer,), (CONTEXT.index(long_answer),), 7)
    with pytest.raises(DataError) as info:
        _windows(make_tokenizer("bert"), [ex], max_length=14, stride=3)
    assert info.value.row == 7 and info.value.column == "answers" and "fits in no window" in str(info.value)


def test_demo_qa_data_prepares_with_a_split_by_context(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from adalora_studio.core.model import load_model_and_tokenizer

    cfg = RunConfig(task="question-answering", model=ModelConfig(source="folder", path=str(tiny_bert_dir)),
                    data=DataConfig(train_file=str(demo_qa_file()), max_length=64, doc_stride=16),
                    training=TrainingConfig(device="cpu"))
    summary = inspect_dataset(cfg)
    assert summary.n_train + summary.n_eval == 360 and summary.context_column == "context"
    _, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task)
    data = prepare_data(cfg, tokenizer)
    assert len(data.train) > summary.n_train  # long contexts became several windows
    eval_contexts = {e.context for e in data.eval_examples}
    rows = [json.loads(line) for line in demo_qa_file().read_text().splitlines()]
    assert all(r["context"] not in eval_contexts for r in rows if r["id"] not in {e.id for e in data.eval_examples})
    assert any("windows" in w for w in data.summary.warnings)
