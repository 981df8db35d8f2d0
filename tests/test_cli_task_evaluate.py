"""`evaluate RUN_DIR --data OTHER_FILE` for question-answering and seq2seq runs: the run's column mapping, a new
report beside the first (never overwriting it), EM/F1 or ROUGE with eval loss, the worst examples, bad input named."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_INVALID, EXIT_OK, main
from adalora_studio.core.config import TrainingConfig
from adalora_studio.core.events import EvalLogged, Finished
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import small_instructions_jsonl, torch_single_thread  # noqa: F401
from tests.core.test_new_tasks_engine import qa_config
from tests.core.test_seq2seq_engine import seq2seq_config


def _run(cfg) -> tuple[Path, EvalLogged]:
    events = list(Engine(cfg.replace(training=TrainingConfig(max_steps=4, batch_size=16, device="cpu", seed=2,
                                                             eval_every=4))).events())
    assert isinstance(events[-1], Finished), events[-1]
    return Path(events[-1].run_dir), [e for e in events if isinstance(e, EvalLogged)][-1]


@pytest.fixture(scope="module")
def qa_run(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from adalora_studio.core.paths import demo_qa_file

    tmp = tmp_path_factory.mktemp("qa-eval")
    lines = demo_qa_file().read_text(encoding="utf-8").splitlines()[:60]
    train = tmp / "train.jsonl"
    train.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return (*_run(qa_config(tiny_bert_dir, train, tmp / "runs")), tmp)


@pytest.fixture(scope="module")
def s2s_run(tiny_t5_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("s2s-eval")
    return (*_run(seq2seq_config(tiny_t5_dir, small_instructions_jsonl(tmp, n_rows=30), tmp / "runs")), tmp)


def _own_eval_questions(run_dir: Path) -> list:
    from adalora_studio.core.data.qa_prepare import split_qa
    from adalora_studio.core.runs import RunFolder

    return split_qa(RunFolder.open(run_dir).read_config())[1]


def _qa_csv(path: Path, examples: list, starts: dict[int, int] | None = None) -> Path:
    """The questions as a flat CSV (answers as JSON text in a cell); ``starts`` moves some answers' offsets."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "context", "question", "answers"])
        for i, e in enumerate(examples):
            first = (starts or {}).get(i, e.answer_starts[0])
            w.writerow([e.id, e.context, e.question, json.dumps({"text": list(e.answer_texts),
                                                                 "answer_start": [first, *e.answer_starts[1:]]})])
    return path


def test_qa_evaluate_other_file_reproduces_the_runs_em_f1_in_a_new_report(qa_run, capsys) -> None:  # noqa: ANN001
    run_dir, last_eval, tmp = qa_run
    first = (run_dir / "report.json").read_bytes()
    other = _qa_csv(tmp / "other.csv", _own_eval_questions(run_dir))
    assert main(["evaluate", str(run_dir), "--data", str(other), "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"metrics", "worst_examples", "n_rows"}
    assert out["n_rows"] == len(_own_eval_questions(run_dir))
    for key in ("exact_match", "f1"):  # the same questions as the run's own evaluation: the same scores
        assert math.isclose(out["metrics"][key], last_eval.metrics[key], abs_tol=1e-9), key
    worst = out["worst_examples"]
    assert worst and [w["f1"] for w in worst] == sorted(w["f1"] for w in worst)
    assert all(isinstance(w["row"], int) and w["row"] >= 1 for w in worst)
    assert (run_dir / "report.json").read_bytes() == first and (run_dir / "report-2.json").is_file()
    report = json.loads((run_dir / "report-2.json").read_text(encoding="utf-8"))
    assert report["origin"] == "post-hoc" and report["data"]["file"] == str(other)
    assert report["data"]["columns"] == {"question": "question", "context": "context", "answers": "answers"}
    assert main(["evaluate", str(run_dir), "--data", str(other)]) == EXIT_OK
    text = capsys.readouterr().out
    assert "exact_match" in text and "Worst examples" in text and "report-3.json" in text


def test_qa_bad_files_are_named(qa_run, capsys) -> None:  # noqa: ANN001
    run_dir, _, tmp = qa_run
    questions = _own_eval_questions(run_dir)[:3]
    moved = _qa_csv(tmp / "moved.csv", questions, starts={1: questions[1].answer_starts[0] + 1})
    assert main(["evaluate", str(run_dir), "--data", str(moved)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "moved.csv" in err and "row 2" in err and "answers" in err and "does not start at character" in err
    renamed = tmp / "renamed.jsonl"
    renamed.write_text("".join(json.dumps({"passage": e.context, "question": e.question, "answers": {
        "text": list(e.answer_texts), "answer_start": list(e.answer_starts)}}) + "\n" for e in questions))
    assert main(["evaluate", str(run_dir), "--data", str(renamed)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "renamed.jsonl" in err and "column 'context'" in err and "passage" in err


def test_seq2seq_evaluate_other_file_rouge_loss_and_worst_rows(s2s_run, capsys) -> None:  # noqa: ANN001
    run_dir, last_eval, tmp = s2s_run
    rows = [{"prompt": f"Explain item {i}.", "response": f"Item {i} is a word."} for i in range(9)]
    other = tmp / "other.csv"
    with other.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["prompt", "response"])
        w.writeheader()
        w.writerows(rows)
    assert main(["evaluate", str(run_dir), "--data", str(other), "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert {"rouge1", "rouge2", "rougeL", "eval_loss"} <= set(out["metrics"])
    assert out["n_rows"] == 6  # data.generation_eval_rows of the run, as during training
    assert math.isfinite(out["metrics"]["eval_loss"]) and out["metrics"]["eval_loss"] > 0
    worst = out["worst_examples"]
    assert [w["score"] for w in worst] == sorted(w["score"] for w in worst)
    assert {w["row"] for w in worst} <= set(range(1, 7))
    from adalora_studio.core.model import load_tokenizer
    from adalora_studio.core.runs import RunFolder

    tok = load_tokenizer(RunFolder.open(run_dir).read_config().model)  # references are the decoded target tokens
    assert all(w["reference"] == tok.decode(tok(text_target=rows[w["row"] - 1]["response"])["input_ids"],
                                            skip_special_tokens=True).strip() for w in worst)
    assert (run_dir / "report.json").is_file() and (run_dir / "report-2.json").is_file()
    empty = tmp / "empty.csv"
    empty.write_text("prompt,response\nExplain one.,One.\nExplain two.,\n", encoding="utf-8")
    assert main(["evaluate", str(run_dir), "--data", str(empty)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "empty.csv" in err and "row 2" in err and "response" in err and "target" in err
    other_cols = tmp / "cols.csv"
    other_cols.write_text("source,target\na,b\n", encoding="utf-8")
    assert main(["evaluate", str(run_dir), "--data", str(other_cols)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "cols.csv" in err and "column 'prompt'" in err and "source/target" in err


def test_seq2seq_eval_loss_equals_the_engines_on_its_own_rows(s2s_run) -> None:  # noqa: ANN001
    from adalora_studio.core.inference import evaluate_run

    run_dir, last_eval, _ = s2s_run
    report, path = evaluate_run(run_dir, write=False)
    assert path is None
    assert math.isclose(report["metrics"]["eval_loss"], last_eval.eval_loss, rel_tol=1e-5)
    assert math.isclose(report["metrics"]["rouge1"], last_eval.metrics["rouge1"], abs_tol=1e-9)
