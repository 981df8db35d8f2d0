"""Exact resume, evaluation of the masked model versus the reloaded adapter, and a GPT-2 (Conv1D) causal-LM run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from adalora_studio.core.adalora import read_rank_pattern
from adalora_studio.core.events import EvalLogged, Finished, RanksUpdated, RunStarted, StepLogged, Stopped, StopToken
from adalora_studio.core.runs import RunFolder, read_run_events
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    small_instructions_jsonl,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_classification_csv(tmp_path_factory.mktemp("data"))


def _trainable(engine: Engine) -> dict:
    return {n: p.detach().clone() for n, p in engine.session.peft_model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("stop_at", [5, 7], ids=["mid-epoch", "epoch-end"])
def test_resume_mid_budget_ends_exactly_like_the_uninterrupted_run(
        tiny_bert_dir: Path, tickets: Path, tmp_path: Path, stop_at: int) -> None:
    """7 steps per epoch, dropout on, grad_accum 1: stopped at step 5 (mid-epoch) or 7 (epoch end), resumed."""
    import torch

    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=16, eval_every=4)
    full = Engine(cfg)
    full_events = list(full.events())
    assert isinstance(full_events[-1], Finished)

    stop = StopToken()
    first = Engine(cfg, stop)
    for event in first.events():
        if isinstance(event, StepLogged) and event.step == stop_at:
            stop.request_stop()
    assert isinstance(event, Stopped) and event.step == stop_at
    run_dir = Path(event.checkpoint).parents[1]
    assert read_rank_pattern(first.session.peft_model) is not None  # stopped mid-budget (masks at 4, 6, ...)

    resumed = Engine(None, resume_from=run_dir)
    resumed_events = list(resumed.events())
    assert isinstance(resumed_events[-1], Finished), resumed_events[-1]
    started = next(e for e in resumed_events if isinstance(e, RunStarted))
    assert started.resumed_from_step == stop_at

    assert read_rank_pattern(resumed.session.peft_model) == read_rank_pattern(full.session.peft_model)
    a, b = _trainable(full), _trainable(resumed)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # the resumed run continues the schedule: same losses and budgets from the stop onwards
    full_steps = {e.step: e.task_loss for e in full_events if isinstance(e, StepLogged)}
    res_steps = {e.step: e.task_loss for e in resumed_events if isinstance(e, StepLogged)}
    assert min(res_steps) == stop_at + 1
    assert all(res_steps[s] == full_steps[s] for s in res_steps)
    full_budgets = [(e.step, e.budget, e.total_rank) for e in full_events if isinstance(e, RanksUpdated)]
    res_budgets = [(e.step, e.budget, e.total_rank) for e in resumed_events if isinstance(e, RanksUpdated)]
    assert set(res_budgets) <= set(full_budgets)
    # one event log for the whole run, both sessions in order
    log = read_run_events(run_dir)
    assert sum(isinstance(e, RunStarted) for e in log) == 2 and isinstance(log[-1], Finished)


def test_resume_of_a_finished_run_is_refused(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=8)
    events = list(Engine(cfg).events())
    again = list(Engine(None, resume_from=events[0].run_dir).events())
    assert len(again) == 1 and "already finished" in again[0].message


def test_eval_with_the_mask_equals_the_reloaded_adapters_eval(tiny_bert_dir: Path, tickets: Path,
                                                             tmp_path: Path) -> None:
    """No final phase (tfinal 0): the last mask is at step 16 and the optimizer regrows masked values in
    steps 17-18, so only an evaluation with the mask re-applied matches what the saved adapter gives."""
    import torch
    from peft import PeftModel

    from adalora_studio.core.adalora import rank_mask_applied
    from adalora_studio.core.data import make_collator, prepare_data
    from adalora_studio.core.model import load_model_and_tokenizer
    from adalora_studio.core.training import evaluate, make_eval_loader

    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=19,
                      budget={"tinit": 0.1, "tfinal": 0.0, "delta_t": 4})
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished)
    final_eval = [e for e in events if isinstance(e, EvalLogged)][-1]
    model = engine.session.peft_model
    before = _trainable(engine)
    with rank_mask_applied(model) as regrown:
        assert regrown > 0  # the test would pass trivially otherwise
    assert all(torch.equal(before[n], p) for n, p in _trainable(engine).items())  # training state untouched

    labels = json.loads(RunFolder(events[0].run_dir).labels_json.read_text())["label_names"]
    base, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task, labels)
    reloaded = PeftModel.from_pretrained(base, events[-1].adapter_dir)
    loader = make_eval_loader(prepare_data(cfg, tokenizer).eval, make_collator(cfg.task, tokenizer), 8)
    result = evaluate(reloaded, loader, cfg.task)
    assert result.loss == pytest.approx(final_eval.eval_loss, abs=1e-5)
    assert result.metrics == pytest.approx(final_eval.metrics, abs=1e-6)
    assert events[-1].metrics["eval_loss"] == final_eval.eval_loss


def test_gpt2_conv1d_causal_lm_run(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from peft import PeftModel

    from adalora_studio.core.config import BudgetConfig, DataConfig
    from adalora_studio.core.model import load_model_and_tokenizer

    base_cfg = bert_config(tiny_gpt2_dir, tmp_path, tmp_path / "runs", max_steps=10, batch_size=4)
    cfg = replace(base_cfg, task="causal-lm",
                  data=DataConfig(train_file=str(small_instructions_jsonl(tmp_path)), eval_fraction=0.2,
                                  max_length=48),
                  budget=BudgetConfig(target_modules=("c_attn",), init_r=4, target_r=2, tinit=0.1, tfinal=0.3,
                                      delta_t=2))
    events = list(Engine(cfg).events())
    assert isinstance(events[-1], Finished), events[-1]
    started = events[0]
    assert isinstance(started, RunStarted) and started.n_matrices == 2
    ppl = events[-1].metrics["perplexity"]
    assert 1.0 < ppl < 1e6
    final = [e for e in events if isinstance(e, RanksUpdated)][-1]
    assert final.total_rank == 2 * 2 and {m.matrix_type for m in final.matrices} == {"qkv"}
    folder = RunFolder(started.run_dir)
    rows = list(csv.DictReader(folder.ranks_csv.open()))
    assert [int(r["rank"]) for r in rows] == [m.rank for m in final.matrices]
    base, _ = load_model_and_tokenizer(cfg.model, cfg.task)
    reloaded = PeftModel.from_pretrained(base, folder.adapter_dir)
    saved = {k.split(".lora_E")[0]: sum(v) for k, v in reloaded.peft_config["default"].rank_pattern.items()}
    assert sorted(saved.values()) == sorted(m.rank for m in final.matrices)


def test_a_run_held_by_another_program_is_not_touched(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    from adalora_studio.core.runs import RunLock

    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=8)
    stop = StopToken()
    stop.request_stop()  # stops before the first step, with a checkpoint at step 0
    events = list(Engine(cfg, stop).events())
    assert isinstance(events[-1], Stopped) and events[-1].step == 0
    folder = RunFolder(events[0].run_dir)
    n_events = len(read_run_events(folder.path))
    with RunLock(folder, app="gui"):
        again = list(Engine(None, resume_from=folder.path).events())
    assert len(again) == 1 and "in use" in again[0].message
    assert folder.read_status().state == "stopped" and len(read_run_events(folder.path)) == n_events


def test_a_resume_that_fails_its_checks_is_logged_in_the_run(tiny_bert_dir: Path, tmp_path: Path) -> None:
    """The data file moved: the Failed event reaches the run's events.jsonl and status, the checkpoint stays,
    and once the file is back the resume works."""
    import shutil

    from adalora_studio.core.events import Failed

    data = small_classification_csv(tmp_path)
    cfg = bert_config(tiny_bert_dir, data, tmp_path / "runs", max_steps=8)
    stop = StopToken()
    first = []
    for event in Engine(cfg, stop).events():
        first.append(event)
        if isinstance(event, StepLogged) and event.step == 3:
            stop.request_stop()
    assert isinstance(first[-1], Stopped) and first[-1].step == 3
    folder = RunFolder(first[0].run_dir)
    moved = tmp_path / "moved.csv"
    shutil.move(data, moved)

    failed = list(Engine(None, resume_from=folder.path).events())
    assert len(failed) == 1 and isinstance(failed[0], Failed)
    assert str(data) in failed[0].message and failed[0].step == 3
    logged = read_run_events(folder.path)
    assert logged[-1] == failed[0]
    status = folder.read_status()
    assert status.state == "failed" and status.step == 3 and str(data) in status.message
    assert status.info["checkpoint"] == first[-1].checkpoint and Path(first[-1].checkpoint).is_dir()
    assert not folder.lock_file.exists()

    shutil.move(moved, data)
    resumed = list(Engine(None, resume_from=folder.path).events())
    assert isinstance(resumed[-1], Finished), resumed[-1]
    assert isinstance(read_run_events(folder.path)[-1], Finished)
