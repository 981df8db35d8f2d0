"""Question answering and seq2seq through the whole engine: metrics, exact resume, plain-LoRA export, the ETA,
and a missing metric package."""

from __future__ import annotations

from pathlib import Path

import pytest

from adalora_studio.core.adalora import read_rank_pattern
from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig, with_section
from adalora_studio.core.errors import ConfigError
from adalora_studio.core.events import EvalLogged, Finished, RunStarted, StepLogged, Stopped, StopToken
from adalora_studio.core.paths import demo_qa_file
from adalora_studio.core.training import Engine
from adalora_studio.core.training.task_eval import eval_eta, remaining_evals, run_metric
from tests.core.engine_fixtures import small_instructions_jsonl, torch_single_thread  # noqa: F401
from tests.core.test_seq2seq_engine import seq2seq_config


@pytest.fixture(scope="module")
def qa_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 120 demo questions (40 contexts; every fifth one long)."""
    lines = demo_qa_file().read_text(encoding="utf-8").splitlines()[:120]
    path = tmp_path_factory.mktemp("qa") / "qa.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_instructions_jsonl(tmp_path_factory.mktemp("data"), n_rows=40)


def qa_config(model_dir: Path, train_file: Path, out_dir: Path, **training) -> RunConfig:
    t = {"max_steps": 12, "batch_size": 16, "learning_rate": 5e-3, "device": "cpu", "seed": 5, "eval_every": 6,
         **training}
    return RunConfig(
        name="qa-test", task="question-answering", model=ModelConfig(source="folder", path=str(model_dir)),
        data=DataConfig(train_file=str(train_file), max_length=48, doc_stride=12, eval_fraction=0.2),
        budget=BudgetConfig(target_modules=("query", "value"), init_r=4, target_r=2, tinit=0.1, tfinal=0.2,
                            delta_t=2, lora_dropout=0.1),
        training=TrainingConfig(**t), output_dir=str(out_dir))


def _config(task: str, request: pytest.FixtureRequest, tmp_path: Path) -> RunConfig:
    if task == "question-answering":
        return qa_config(request.getfixturevalue("tiny_bert_dir"), request.getfixturevalue("qa_file"), tmp_path)
    return seq2seq_config(request.getfixturevalue("tiny_t5_dir"), request.getfixturevalue("pairs"), tmp_path,
                          max_steps=12, eval_every=6)


def _trainable(engine: Engine) -> dict:
    return {n: p.detach().clone() for n, p in engine.session.peft_model.named_parameters() if p.requires_grad}


def test_qa_run_reports_exact_match_and_f1(tiny_bert_dir: Path, qa_file: Path, tmp_path: Path) -> None:
    events = list(Engine(qa_config(tiny_bert_dir, qa_file, tmp_path)).events())
    assert isinstance(events[-1], Finished), events[-1]
    evals = [e for e in events if isinstance(e, EvalLogged)]
    assert [e.step for e in evals] == [6, 12]
    assert {"exact_match", "f1"} <= set(evals[-1].metrics) and evals[-1].metrics["f1"] >= evals[-1].metrics[
        "exact_match"]
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.n_train > 96  # windows, not questions: long contexts were split


@pytest.mark.parametrize("task", ["question-answering", "seq2seq"])
def test_resume_is_exact(task: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    import torch

    cfg = _config(task, request, tmp_path)
    full = Engine(cfg)
    full_events = list(full.events())
    assert isinstance(full_events[-1], Finished), full_events[-1]
    stop = StopToken()
    first = Engine(cfg, stop)
    for event in first.events():
        if isinstance(event, StepLogged) and event.step == 5:
            stop.request_stop()
    assert isinstance(event, Stopped) and event.step == 5
    resumed = Engine(None, resume_from=Path(event.checkpoint).parents[1])
    resumed_events = list(resumed.events())
    assert isinstance(resumed_events[-1], Finished), resumed_events[-1]
    assert read_rank_pattern(resumed.session.peft_model) == read_rank_pattern(full.session.peft_model)
    a, b = _trainable(full), _trainable(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)
    assert resumed_events[-1].metrics == full_events[-1].metrics


@pytest.mark.parametrize("task", ["question-answering", "seq2seq"])
def test_plain_lora_export_gives_the_same_outputs(task: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel

    from adalora_studio.core.adalora import rank_mask_applied
    from adalora_studio.core.data import make_collator
    from adalora_studio.core.export import export_as_lora
    from adalora_studio.core.model import load_model_and_tokenizer

    cfg = _config(task, request, tmp_path)
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished)
    out = export_as_lora(events[-1].run_dir, tmp_path / "lora")
    s = engine.session
    collate = make_collator(task, s.tokenizer)
    batch = collate([s.eval_dataset[i] for i in range(min(8, s.n_eval))])
    if task == "question-answering":
        batch = {k: v for k, v in batch.items() if k not in ("start_positions", "end_positions")}
    torch.manual_seed(123)  # a fresh head must not matter: the QA head travels in modules_to_save
    base, _ = load_model_and_tokenizer(cfg.model, task)
    lora = PeftModel.from_pretrained(base, str(out)).eval()
    live = s.peft_model.eval()
    with torch.no_grad(), rank_mask_applied(live):
        want = live(**batch)
        got = lora(**batch)
    key = "start_logits" if task == "question-answering" else "logits"
    assert (getattr(want, key) - getattr(got, key)).abs().max().item() < 1e-5
    if task == "question-answering":
        assert (want.end_logits - got.end_logits).abs().max().item() < 1e-5


def test_remaining_evals_and_their_eta() -> None:
    assert remaining_evals(0, 12, 6, 99) == 2  # at 6, and the final one at 12
    assert remaining_evals(6, 12, 6, 99) == 1
    assert remaining_evals(5, 20, 0, 7) == 3  # epoch ends at 7 and 14, then the final one
    assert remaining_evals(12, 12, 6, 99) == 0
    assert eval_eta(0, 12, 6, 99, eval_s=3.0, n_evals=1) == 6.0
    assert eval_eta(0, 12, 6, 99, eval_s=0.0, n_evals=0) == 0.0


def test_generation_cost_is_in_the_eta(tiny_t5_dir: Path, pairs: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow generation (0.4 s per eval) shows up in the ETA of the steps after the first evaluation."""
    import time

    from adalora_studio.core.inference import generation_eval

    real = generation_eval.generate_ids

    def slow(*args, **kwargs):
        time.sleep(0.4)
        return real(*args, **kwargs)

    monkeypatch.setattr(generation_eval, "generate_ids", slow)
    cfg = seq2seq_config(tiny_t5_dir, pairs, tmp_path, max_steps=9, eval_every=3)
    events = list(Engine(cfg).events())
    assert isinstance(events[-1], Finished)
    steps = {e.step: e.eta_s for e in events if isinstance(e, StepLogged)}
    # after the eval at step 3, two evaluations remain (6 and the final 9): at least 2 x 0.4 s
    assert steps[4] >= 0.8 and steps[7] >= 0.4
    assert steps[2] < 0.8 or steps[2] < steps[4]


def test_missing_metric_package_says_how_to_install(tiny_t5_dir: Path, pairs: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rouge_score" else real(name, *a))
    cfg = seq2seq_config(tiny_t5_dir, pairs, tmp_path)
    with pytest.raises(ConfigError) as info:
        run_metric(cfg)
    assert info.value.field == "data.eval_metric" and "pip install rouge-score" in str(info.value)
    events = list(Engine(cfg).events())
    assert "pip install rouge-score" in events[-1].message  # refused before training, never silent
    fallback = with_section(cfg, "data", metric_fallback_to_loss=True)
    assert run_metric(fallback)[0] == "loss"
    events = list(Engine(fallback.replace(training=TrainingConfig(max_steps=3, batch_size=8, device="cpu"))).events())
    assert isinstance(events[-1], Finished)
    assert any("eval loss alone" in getattr(e, "message", "") for e in events)
    assert "rouge1" not in events[-1].metrics and "eval_loss" in events[-1].metrics


@pytest.mark.parametrize("task", ["question-answering", "seq2seq"])
def test_report_after_the_run_and_evaluate(task: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from adalora_studio.app.inference_commands import report_lines
    from adalora_studio.core.inference import evaluate_run, latest_report

    cfg = _config(task, request, tmp_path).replace(training=TrainingConfig(max_steps=4, batch_size=16,
                                                                           device="cpu", eval_every=4))
    events = list(Engine(cfg).events())
    assert isinstance(events[-1], Finished), events[-1]
    found = latest_report(events[-1].run_dir)
    assert found is not None, [getattr(e, "message", "") for e in events]
    report = found[1]
    wanted = {"exact_match", "f1"} if task == "question-answering" else {"exact_match", "rouge1", "rougeL"}
    assert wanted <= set(report["metrics"]) and report["worst_examples"] and report["n_rows"] > 0
    if task == "question-answering":  # the same EM/F1 as the engine's own final evaluation
        assert report["metrics"]["f1"] == pytest.approx(events[-1].metrics["f1"], abs=1e-6)
    again, path = evaluate_run(events[-1].run_dir)
    assert path is not None and again["metrics"] == report["metrics"]
    assert any("Worst examples" in line for line in report_lines(again))
    _commands_answer(task, events[-1].run_dir)


def _commands_answer(task: str, run_dir: str) -> None:
    """``predict --context`` on a QA run and ``generate`` on a seq2seq run."""
    import io
    import json

    from adalora_studio.app.inference_commands import run_generate, run_predict

    out = io.StringIO()
    if task == "question-answering":
        context = "Saltmere lies on the banks of the Amber. It was founded in 1901 by Ada Kellner."
        run_predict(run_dir, ["Who founded Saltmere?"], True, out, context=context)
        (answer,) = json.loads(out.getvalue())
        assert context[answer["start"]:answer["end"]] == answer["answer"]
    else:
        run_generate(run_dir, "Define a bug.", 5, False, True, out)
        assert set(json.loads(out.getvalue())) == {"source", "text"}
