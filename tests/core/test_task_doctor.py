"""The dataset doctor for question answering and seq2seq on hand-made files with known figures, and ``validate``
counting question-answering steps from windows, as the engine trains.

The tiny models' tokenizer is word-level (one token per known word), so every length below is counted by hand:
a QA pair is ``[CLS] question [SEP] context [SEP]``; a seq2seq source or target is its words and ``<eos>``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig
from adalora_studio.core.data import count_train_windows, run_doctor
from adalora_studio.core.errors import DataError
from adalora_studio.core.model import load_tokenizer
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401

WORDS = "water tree city farm river ship town rock fire king".split()
QUESTION = "who is it ?"  # 4 tokens; with max_length 24 a window holds 24 - 4 - 3 = 17 context tokens


def _context(n: int, answer: str, at: int) -> tuple[str, int]:
    """``n`` words with ``answer`` (its words counted in ``n``) starting at word ``at``; its character start."""
    k = len(answer.split())
    words = [WORDS[i % len(WORDS)] for i in range(n - k)]
    words[at:at] = answer.split()
    text = " ".join(words)
    return text, len(" ".join(words[:at])) + (1 if at else 0)


def _qa_row(n: int, answer: str, at: int) -> dict:
    context, start = _context(n, answer, at)
    assert context[start:start + len(answer)] == answer
    return {"context": context, "question": QUESTION, "answers": {"text": [answer], "answer_start": [start]}}


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _qa_cfg(model_dir: Path, train: Path, out: Path, eval_file: Path | None = None, **training) -> RunConfig:
    return RunConfig(
        name="qa-doctor", task="question-answering", model=ModelConfig(source="folder", path=str(model_dir)),
        data=DataConfig(train_file=str(train), eval_file=str(eval_file or ""), max_length=24, doc_stride=4,
                        eval_fraction=0.25),
        budget=BudgetConfig(target_modules=("query", "value"), init_r=4, target_r=2, tinit=0.1, tfinal=0.2,
                            delta_t=1),
        training=TrainingConfig(**{"batch_size": 4, "device": "cpu", "seed": 1, **training}), output_dir=str(out))


def test_qa_doctor_counts_windows_lengths_and_lost_answers(tiny_bert_dir: Path, tmp_path: Path) -> None:
    long_answer = " ".join(["mother"] * 18)  # 18 tokens: wider than a 17-token window, lost
    rows = [_qa_row(10, "king", 3),            # 10 context tokens: 17 in all, one window
            _qa_row(30, "river", 20),          # 37 tokens: windows at context tokens 0-16, 13-29 (stride 4)
            _qa_row(43, "ship", 40),           # 50 tokens: three windows (0-16, 13-29, 26-42)
            _qa_row(40, long_answer, 5)]       # 47 tokens: three windows, none holds the answer
    train = _jsonl(tmp_path / "train.jsonl", rows)
    evaluation = _jsonl(tmp_path / "eval.jsonl", [rows[0], _qa_row(12, "fire", 2)])  # the first one is a duplicate
    cfg = _qa_cfg(tiny_bert_dir, train, tmp_path / "runs", evaluation)
    report = run_doctor(cfg, load_tokenizer(cfg.model))
    assert (report.sample_rows, report.total_rows, report.max_length, report.doc_stride) == (4, 4, 24, 4)
    assert sorted(lo for lo, _hi, n in report.bins for _ in range(n)) == sorted(
        lo for lo, hi, _n in report.bins for length in (17, 37, 50, 47) if lo <= length < hi)
    assert report.share_truncated == 0.75  # three of four questions are longer than one window
    assert report.windows == ((1, 1), (2, 1), (3, 2)) and report.n_windows == 9
    assert report.answers_lost == 1 and report.lost_example.startswith("row 4 ")
    assert report.no_answer_windows == 9 - 1 - 1 - 1  # each answered question's answer sits in one window only
    assert report.duplicates == 1
    assert any(trained and text.split() == ["king"] for text, trained in report.preview)  # the answer is marked
    lines = "\n".join(report.lines())
    assert "9 windows for 4 questions" in lines and "1 of 4 answers fit in no window" in lines
    with pytest.raises(DataError) as info:  # training (and validate) refuse the lost answer, naming its row
        from adalora_studio.core.training import validate_run

        validate_run(cfg)
    assert info.value.row == 4 and info.value.column == "answers" and "fits in no window" in str(info.value)
    with pytest.raises(DataError) as counted:  # the plan's window count refuses it with training's message
        count_train_windows(cfg, load_tokenizer(cfg.model))
    assert (counted.value.row, str(counted.value)) == (4, str(info.value))


def test_seq2seq_doctor_lengths_truncation_empty_targets_and_overlap(tiny_t5_dir: Path, tmp_path: Path) -> None:
    sources = ["water tree", "water tree city farm", "a b c d e f g h", "one two three four five six seven eight "
               "nine ten eleven"]
    targets = ["king", "ship town", "fire rock king water tree city farm river ship", ""]
    train = tmp_path / "train.csv"
    with train.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "target"])
        w.writerows(zip(sources, targets, strict=True))
    evaluation = _jsonl(tmp_path / "eval.jsonl", [{"source": "water tree", "target": "x"},
                                                  {"source": "new words", "target": "y"}])
    cfg = RunConfig(name="s2s-doctor", task="seq2seq", model=ModelConfig(source="folder", path=str(tiny_t5_dir)),
                    data=DataConfig(train_file=str(train), eval_file=str(evaluation), source_column="source",
                                    target_column="target", max_length=8),
                    training=TrainingConfig(device="cpu"), output_dir=str(tmp_path / "runs"))
    report = run_doctor(cfg, load_tokenizer(cfg.model))
    # sources: 3, 5, 9, 12 tokens (words + <eos>); targets: 2, 3, 10, 1 (the empty one is <eos> alone)
    assert report.sample_rows == 4 and report.share_truncated == 0.5 and report.target_share_truncated == 0.25
    assert sum(n for *_, n in report.bins) == sum(n for *_, n in report.target_bins) == 4
    assert [lo for lo, hi, n in report.target_bins for _ in range(n)] == sorted(
        lo for lo, hi, _n in report.target_bins for length in (2, 3, 10, 1) if lo <= length < hi)
    assert report.empty_targets == 1 and report.empty_target_example == f"{train} row 4"
    assert report.duplicates == 1 and report.duplicate_example == "water tree"
    assert report.suggested_max_length == 16  # 95% of the 8 lengths (12 at the top) fit in 16
    lines = "\n".join(report.lines())
    assert "50.0% of sources and 25.0% of targets are longer than max_length" in lines and "Targets: 1 empty" in lines
    with pytest.raises(DataError) as info:  # validate refuses the empty target as training does
        from adalora_studio.core.training import validate_run

        validate_run(cfg, doctor=True)
    assert info.value.row == 4 and info.value.column == "target"


def _long_contexts(path: Path) -> Path:
    """12 questions on 6 contexts of 10 to 60 tokens: 1 to 5 windows each at max_length 24, doc stride 4."""
    rows = []
    for c in range(6):
        n = 10 + 10 * c
        for q in range(2):
            rows.append(_qa_row(n, "king" if q else "fire", (n - 2) * q))
    return _jsonl(path, rows)


def test_validate_counts_qa_steps_from_windows_as_the_engine_trains(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from adalora_studio.core.data import inspect_dataset, prepare_data
    from adalora_studio.core.events import Finished, StepLogged
    from adalora_studio.core.training import Engine, validate_run

    cfg = _qa_cfg(tiny_bert_dir, _long_contexts(tmp_path / "qa.jsonl"), tmp_path / "runs", epochs=2.0, max_steps=0,
                  log_every=1, eval_every=1000)
    report = validate_run(cfg)
    questions = inspect_dataset(cfg).n_train
    windows = len(prepare_data(cfg, load_tokenizer(cfg.model)).train)
    assert windows > questions  # long contexts split into several windows
    assert report.data.n_train == windows
    assert count_train_windows(cfg, load_tokenizer(cfg.model)) == (windows, questions)  # the wizard's count
    assert report.plan.total_steps == 2 * -(-windows // 4) != 2 * -(-questions // 4)
    assert any("training windows" in line for line in report.lines())
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished), events[-1]
    steps = [e.step for e in events if isinstance(e, StepLogged)]
    assert steps == list(range(1, report.plan.total_steps + 1))  # every optimizer step the run performed
    peft_cfg = engine.session.peft_model.peft_config["default"]  # the budget schedule peft runs on
    assert (peft_cfg.total_step, peft_cfg.tinit, peft_cfg.tfinal) == (
        report.plan.total_steps, report.plan.tinit_steps, report.plan.tfinal_steps)
    assert engine.session.plan.total_steps == report.plan.total_steps
