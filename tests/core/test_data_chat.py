"""core.data chat layouts and templates: loss only on assistant turns, the rendered preview, the doctor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adalora_studio.core.config import RunConfig, with_section
from adalora_studio.core.data import (
    IGNORE_INDEX,
    detect_layout,
    inspect_dataset,
    make_collator,
    prepare_data,
    render_tokens,
    run_doctor,
    suggest_max_length,
)
from adalora_studio.core.errors import DataError

TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|> {% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant {% endif %}")


@pytest.fixture()
def plain_tokenizer() -> Any:
    from tests.tiny_models import make_tokenizer

    return make_tokenizer("gpt2")


@pytest.fixture()
def chat_tokenizer() -> Any:
    from tests.tiny_models import make_tokenizer

    tok = make_tokenizer("gpt2")
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tok.add_tokens(["assistant"])
    tok.chat_template = TEMPLATE
    return tok


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def conversation(i: int) -> dict[str, Any]:
    return {"messages": [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": f"question {i}"},
        {"role": "assistant", "content": "good answer"},
        {"role": "user", "content": "thanks"},
        {"role": "assistant", "content": "you are awesome"},
    ]}


def causal(path: Path, **data: object) -> RunConfig:
    data.setdefault("max_length", 64)
    return with_section(RunConfig(task="causal-lm"), "data", train_file=str(path), **data)


def trained_text(tokenizer: Any, ids: list[int], labels: list[int]) -> list[str]:
    return [text for text, trained in render_tokens(ids, labels, tokenizer) if trained]


def test_layouts_are_detected() -> None:
    assert detect_layout(["messages"], conversation(0)).kind == "messages"
    share = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    assert detect_layout(["id", "conversations"], share).kind == "sharegpt"
    alpaca = detect_layout(["instruction", "input", "output"])
    assert alpaca.kind == "alpaca" and alpaca.columns == ("instruction", "input", "output")
    assert detect_layout(["prompt", "response"]).kind == "prompt-response"
    assert detect_layout(["text"]).kind == "text"
    with pytest.raises(DataError, match="data.chat_format is 'sharegpt'"):
        detect_layout(["prompt", "response"], choice="sharegpt")


def test_chat_template_puts_loss_only_on_assistant_turns(tmp_path: Path, chat_tokenizer: Any) -> None:
    path = jsonl(tmp_path / "chat.jsonl", [conversation(i) for i in range(10)])
    data = prepare_data(causal(path), chat_tokenizer)
    assert data.summary.template == "chat" and data.summary.chat_format == "messages"
    example = data.train[0]
    assert trained_text(chat_tokenizer, example["input_ids"], example["labels"]) == [
        "good answer <|im_end|>", "you are awesome <|im_end|>"]
    masked = [t for t, trained in render_tokens(example["input_ids"], example["labels"], chat_tokenizer)
              if not trained]
    assert masked[0].startswith("<|im_start|>") and "be kind" in masked[0] and "assistant" in masked[0]
    assert masked[1] == "<|im_start|> user thanks <|im_end|> <|im_start|> assistant"


def test_plain_template_masks_prompts_and_trains_response_and_eos(tmp_path: Path, plain_tokenizer: Any) -> None:
    rows = [{"conversations": [{"from": "human", "value": f"question {i}"}, {"from": "gpt", "value": "good answer"}]}
            for i in range(10)]
    data = prepare_data(causal(jsonl(tmp_path / "share.jsonl", rows)), plain_tokenizer)
    assert data.summary.template == "plain" and data.summary.chat_format == "sharegpt"
    example = data.train[0]
    eos = plain_tokenizer.eos_token_id
    assert example["input_ids"][-1] == eos and example["labels"][-1] == eos
    assert trained_text(plain_tokenizer, example["input_ids"], example["labels"]) == ["good answer <eos>"]
    n_prompt = sum(1 for x in example["labels"] if x == IGNORE_INDEX)
    assert plain_tokenizer.decode(example["input_ids"][:n_prompt]) == "question 0"


def test_template_choice_can_be_overridden(tmp_path: Path, chat_tokenizer: Any, plain_tokenizer: Any) -> None:
    path = jsonl(tmp_path / "chat.jsonl", [conversation(i) for i in range(6)])
    assert prepare_data(causal(path, template="plain"), chat_tokenizer).summary.template == "plain"
    with pytest.raises(DataError, match="no chat template"):
        prepare_data(causal(path, template="chat"), plain_tokenizer)


def test_alpaca_joins_a_non_empty_input(tmp_path: Path, plain_tokenizer: Any) -> None:
    rows = [{"instruction": "translate", "input": "hello" if i % 2 else "", "output": "good day"} for i in range(8)]
    data = prepare_data(causal(jsonl(tmp_path / "alpaca.jsonl", rows)), plain_tokenizer)
    texts = {plain_tokenizer.decode([t for t, x in zip(e["input_ids"], e["labels"], strict=True) if x == IGNORE_INDEX])
             for e in [*data.train, *data.eval]}
    assert texts == {"translate", "translate hello"}


def test_preview_equals_what_the_collator_feeds(tmp_path: Path, chat_tokenizer: Any) -> None:
    path = jsonl(tmp_path / "chat.jsonl", [conversation(i) for i in range(10)])
    cfg = causal(path, max_length=20)  # cuts the second assistant turn
    data = prepare_data(cfg, chat_tokenizer)
    report = run_doctor(cfg, chat_tokenizer)
    batch = make_collator("causal-lm", chat_tokenizer)([data.train[0], data.train[1]])
    width = int(batch["attention_mask"][0].sum())
    fed = render_tokens(batch["input_ids"][0][:width].tolist(), batch["labels"][0][:width].tolist(), chat_tokenizer)
    assert list(report.preview) == fed and len(fed) >= 2 and any(trained for _t, trained in fed)


def test_rows_without_an_assistant_turn_are_skipped_and_named(tmp_path: Path, plain_tokenizer: Any) -> None:
    rows = [conversation(i) for i in range(8)]
    rows[3] = {"messages": [{"role": "user", "content": "hello"}]}
    path = jsonl(tmp_path / "chat.jsonl", rows)
    summary = inspect_dataset(causal(path))
    assert summary.skipped_rows == 1 and summary.n_train + summary.n_eval == 7
    (warning,) = summary.warnings  # 1 of 8 is above 1%
    assert f"{path}, column 'messages', rows 4" in warning and "no assistant turn" in warning


def test_every_assistant_turn_cut_off_is_named(tmp_path: Path, plain_tokenizer: Any) -> None:
    rows = [{"prompt": f"question {i}", "response": "good answer"} for i in range(10)]
    rows[6] = {"prompt": " ".join(["question"] * 40), "response": "good answer"}
    path = jsonl(tmp_path / "pairs.jsonl", rows)
    data = prepare_data(causal(path, max_length=16), plain_tokenizer)
    (warning,) = data.summary.warnings
    assert "column 'response'" in warning and "1 of them have every assistant turn cut off" in warning
    assert f"{path}: rows 7" in warning and data.summary.skipped_rows == 1


def test_text_chunks_for_continued_pretraining(tmp_path: Path, plain_tokenizer: Any) -> None:
    path = tmp_path / "book.txt"
    path.write_text("\n".join(f"the book line {i} is here" for i in range(30)) + "\n", encoding="utf-8")
    lines = prepare_data(causal(path), plain_tokenizer)
    assert lines.summary.chat_format == "text" and lines.summary.n_train + lines.summary.n_eval == 30
    chunks = prepare_data(causal(path, text_mode="chunks", max_length=16), plain_tokenizer)
    blocks = [*chunks.train["input_ids"], *chunks.eval["input_ids"]]
    assert all(len(b) <= 16 for b in blocks) and sum(map(len, blocks)) == 30 * 7  # 6 words + eos a line; no start token
    assert all(e["labels"] == e["input_ids"] for e in chunks.train)


def test_doctor_figures_on_a_hand_made_file(tmp_path: Path, plain_tokenizer: Any) -> None:
    # 20 rows: 16 of 3 words (+ [CLS]-less gpt2 tokenizer: 3 tokens), 4 of 12 words; labels 15 'a' / 5 'b'.
    rows = ["text,label"] + [f"short text {i},a" for i in range(15)] + ["short text 99,b"]
    rows += [f"{'word ' * 11}{i},b" for i in range(4)]
    path = tmp_path / "hand.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    evaluation = tmp_path / "eval.csv"
    evaluation.write_text("text,label\nshort text 3,a\nshort text 4,a\nnew text here,b\n", encoding="utf-8")
    cfg = with_section(RunConfig(), "data", train_file=str(path), eval_file=str(evaluation), max_length=8)
    report = run_doctor(cfg, plain_tokenizer)
    assert report.sample_rows == 20 and report.total_rows == 20
    assert report.share_truncated == pytest.approx(4 / 20)
    assert report.label_counts == {"a": 15, "b": 5}
    assert report.duplicates == 2 and report.duplicate_example == "short text 3"
    assert sum(n for _lo, _hi, n in report.bins) == 20
    assert report.suggested_max_length == 16  # the 95% quantile is a 12-token row
    assert any("largest/smallest class 3.0x" in line for line in report.lines())


def test_suggested_max_length_covers_95_percent() -> None:
    assert suggest_max_length([10] * 95 + [500] * 5) == 16
    assert suggest_max_length([10] * 94 + [500] * 6) == 504


def test_duplicates_within_one_split_file_match_a_python_count(tmp_path: Path, plain_tokenizer: Any) -> None:
    from adalora_studio.core.data.doctor import count_duplicates
    from adalora_studio.core.data.prepare import _resolve

    texts = [f"message {i % 23} about the order" for i in range(60)] + ["x" * k for k in range(1, 20)]
    path = tmp_path / "dups.csv"
    path.write_text("text,label\n" + "".join(f"{t},{'ab'[i % 2]}\n" for i, t in enumerate(texts)), encoding="utf-8")
    resolved = _resolve(with_section(RunConfig(), "data", train_file=str(path), eval_fraction=0.3))
    train = set(resolved.train_table["text"])
    expected = sum(t in train for t in resolved.eval_table["text"])
    n, example = count_duplicates(resolved.train_table, resolved.eval_table, ["text"])
    assert n == expected > 0 and example in train


def test_alpaca_wins_over_its_own_columns_set_as_prompt_and_response() -> None:
    columns = ["instruction", "input", "output"]
    assert detect_layout(columns, prompt_column="instruction", response_column="output").kind == "alpaca"
    assert detect_layout(columns, prompt_column="input", response_column="output").kind == "prompt-response"


def test_generate_uses_the_template_the_run_trained_with(chat_tokenizer: Any, plain_tokenizer: Any) -> None:
    from types import SimpleNamespace

    from adalora_studio.core.inference.generate import prompt_ids
    from adalora_studio.core.inference.loaded import LoadedModel

    model = SimpleNamespace(config=SimpleNamespace(max_position_embeddings=256))
    chat = LoadedModel(model=model, tokenizer=chat_tokenizer, task="causal-lm", config=RunConfig(task="causal-lm"))
    ids, _note = prompt_ids(chat, "thanks", 8)
    assert chat_tokenizer.decode(ids) == "<|im_start|> user thanks <|im_end|> <|im_start|> assistant"
    plain = LoadedModel(model=model, tokenizer=plain_tokenizer, task="causal-lm", config=RunConfig(task="causal-lm"))
    assert prompt_ids(plain, "thanks", 8)[0] == plain_tokenizer("thanks\n")["input_ids"]


def test_exchanges_take_the_last_assistant_turn_and_the_user_turn_before_it() -> None:
    from adalora_studio.core.data import ChatLayout, exchanges

    columns = {"messages": [conversation(0)["messages"]]}
    assert exchanges(ChatLayout("messages", ("messages",)), columns) == (["thanks"], ["you are awesome"])
    alpaca = {"instruction": ["translate"], "input": ["hello"], "output": ["good day"]}
    assert exchanges(ChatLayout("alpaca", ("instruction", "input", "output")), alpaca) == (
        ["translate\n\nhello"], ["good day"])


def test_evaluate_reads_another_chat_file_as_last_exchanges(tmp_path: Path, plain_tokenizer: Any) -> None:
    from adalora_studio.core.inference.loaded import LoadedModel
    from adalora_studio.core.inference.rows import file_eval_rows

    loaded = LoadedModel(model=None, tokenizer=plain_tokenizer, task="causal-lm", config=causal(tmp_path / "x.jsonl"))
    good = jsonl(tmp_path / "other.jsonl", [conversation(i) for i in range(3)])
    rows = file_eval_rows(loaded, good)
    assert rows.texts == ["thanks"] * 3 and rows.responses == ["you are awesome"] * 3
    bad = jsonl(tmp_path / "bad.jsonl", [conversation(0), {"messages": [{"role": "user", "content": "hi"}]}])
    with pytest.raises(DataError) as info:
        file_eval_rows(loaded, bad)
    assert (info.value.file, info.value.row, info.value.column) == (str(bad), 2, "messages")
    assert "no assistant turn" in str(info.value)
