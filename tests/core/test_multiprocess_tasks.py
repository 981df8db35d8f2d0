"""Every method, reader and task under several processes (torchrun, 2 CPU processes, gloo), and what a launched run
shares with an in-process run of the same config.

Each launch is a real ``adalora-studio train`` under torchrun (the argv the app's launcher starts), a few optimizer
steps on tiny models. What 1 and 2 processes must share (see :func:`test_two_processes_match_one_at_the_same_global_
batch`): each process takes its own micro-batch of the same seeded order (accelerate shards the loader's batches
round-robin) and gradients are averaged over processes, so 2 processes x batch b take the optimizer steps of 1
process x batch 2b. With dropout off, losses, gradient norms, eval metrics and every rank pattern agree up to
floating-point summation order, as long as every batch is full: an epoch's last, partial batch is split unevenly
between the processes, and averaging per-process mean losses then weighs its examples unequally (as DDP does
everywhere), so the test's sizes fill every batch. With the same per-process batch (the same config) the runs
train on different batches and do not agree, by design.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig, with_section
from adalora_studio.core.events import EvalLogged, Finished, LogMessage, RanksUpdated, RunStarted, StepLogged
from adalora_studio.core.paths import demo_classification_file, demo_qa_file
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import bert_config, small_instructions_jsonl, torch_single_thread  # noqa: F401
from tests.core.multiprocess_fixtures import (
    Launched,
    adapter_rank_pattern,
    comparable,
    difference,
    final_pattern,
    launch,
)

CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} <eos> {% endfor %}"
                 "{% if add_generation_prompt %}assistant : {% endif %}")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mp-data")


@pytest.fixture(scope="module")
def tickets_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(demo_classification_file().open(encoding="utf-8")))[:72]


@pytest.fixture(scope="module")
def no_dropout_bert(tiny_bert_dir: Path, data_dir: Path) -> Path:
    """The tiny BERT without dropout: every process draws the same dropout masks for different examples, so only
    a dropout-free model can take the same steps with 1 and 2 processes."""
    folder = data_dir / "bert-no-dropout"
    shutil.copytree(tiny_bert_dir, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def _ok(run: Launched) -> Finished:
    """The run finished, wrote its folder once (one run_started, one Finished, one adapter and report) and no
    process warned that the ranks disagree."""
    finished = run.of(Finished)
    assert len(finished) == 1 and run.events[-1] is finished[0], run.events[-1]
    assert len(run.of(RunStarted)) == 1
    assert run.folder.read_status().state == "finished"
    assert (run.folder.adapter_dir / "adapter_config.json").is_file()
    assert [p.name for p in run.folder.path.glob("report*.json")] == ["report.json"]
    warnings = [e.message for e in run.of(LogMessage) if e.level == "warning"]
    assert not any("rank pattern" in w for w in warnings), warnings
    assert [p for p in run.folder.path.parent.iterdir() if p.is_dir()] == [run.folder.path]
    return finished[0]


# ------------------------------------------------------------------------------ issue 14: same events


@pytest.fixture(scope="module")
def xlsx_tickets(data_dir: Path, tickets_rows: list[dict[str, str]]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tickets"
    sheet.append(["text", "label"])
    for row in tickets_rows:
        sheet.append([row["text"], row["label"]])
    path = data_dir / "tickets.xlsx"
    book.save(path)
    return path


def _xlsx_config(model: Path, xlsx: Path, out: Path, batch_size: int) -> RunConfig:
    """AdaLoRA on the xlsx tickets: 48 training rows (6 full batches of 8 an epoch), 24 eval rows, 8 steps with
    the epoch boundary at step 6 and a mask step at every step of the budgeting phase."""
    cfg = bert_config(model, xlsx, out, max_steps=8, batch_size=batch_size, eval_every=4, warmup_ratio=0.25,
                      budget={"tinit": 0.25, "tfinal": 0.25, "delta_t": 1})
    return with_section(cfg, "data", eval_fraction=1 / 3)


@pytest.fixture(scope="module")
def in_process(no_dropout_bert: Path, xlsx_tickets: Path, tmp_path_factory: pytest.TempPathFactory) -> list:
    """The xlsx AdaLoRA config trained in this process (the engine's generator), batch 8."""
    out = tmp_path_factory.mktemp("in-process")
    events = list(Engine(_xlsx_config(no_dropout_bert, xlsx_tickets, out / "runs", 8)).events())
    assert isinstance(events[-1], Finished), events[-1]
    assert sum(1 for e in events if isinstance(e, RanksUpdated) and e.mask_step) >= 2
    return events


def test_launched_run_gives_the_in_process_events(in_process: list, no_dropout_bert: Path, xlsx_tickets: Path,
                                                 tmp_path: Path) -> None:
    """torchrun with 1 process, the same config: the same events in the same order, losses, gradient norms,
    learning rates, eval metrics and every allocation equal (up to 1e-6), the same final metrics."""
    run = launch(_xlsx_config(no_dropout_bert, xlsx_tickets, tmp_path / "runs", 8), tmp_path, 1)
    finished = _ok(run)
    assert not difference(comparable(run.events), comparable(in_process), rel=1e-6)
    assert finished.metrics == pytest.approx(in_process[-1].metrics, rel=1e-6)
    assert {k: tuple(v) for k, v in adapter_rank_pattern(run.folder).items()} == final_pattern(in_process)


def test_two_processes_match_one_at_the_same_global_batch(in_process: list, no_dropout_bert: Path,
                                                         xlsx_tickets: Path, tmp_path: Path) -> None:
    """2 processes x batch 4 against 1 process x batch 8 (the in-process run): the same plan, steps, losses
    (1e-4), eval metrics and rank pattern at every mask step; the saved adapter holds that pattern."""
    run = launch(_xlsx_config(no_dropout_bert, xlsx_tickets, tmp_path / "runs", 4), tmp_path, 2)
    finished = _ok(run)
    started = run.of(RunStarted)[0]
    assert started.config["training"]["batch_size"] == 4
    diff = difference(comparable(run.events), comparable(in_process), rel=1e-4)
    assert not diff, diff
    masks = [e for e in run.of(RanksUpdated) if e.mask_step]
    assert len(masks) >= 2 and any(not all(m.kept) for m in masks[-1].matrices)  # the allocator pruned
    assert {k: tuple(v) for k, v in adapter_rank_pattern(run.folder).items()} == final_pattern(run.events)
    assert finished.metrics == pytest.approx(in_process[-1].metrics, rel=1e-4)
    assert [e.step for e in run.of(EvalLogged)] == [4, 8]


# ------------------------------------------------------------------------------ issue 9: LoRA


@pytest.fixture(scope="module")
def semicolon_csv_gz(data_dir: Path, tickets_rows: list[dict[str, str]]) -> Path:
    """The tickets as Excel writes CSV in many locales (semicolons, quoted fields holding one), gzip-compressed."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["text", "label"])
    for i, row in enumerate(tickets_rows):
        writer.writerow([f"{row['text']}; case {i}" if i % 3 == 0 else row["text"], row["label"]])
    path = data_dir / "tickets.csv.gz"
    path.write_bytes(gzip.compress(text.getvalue().encode("utf-8")))
    return path


def test_lora_run_with_a_semicolon_csv_gz_on_two_processes(tiny_bert_dir: Path, semicolon_csv_gz: Path,
                                                           tmp_path: Path) -> None:
    cfg = bert_config(tiny_bert_dir, semicolon_csv_gz, tmp_path / "runs", max_steps=4, batch_size=8,
                      eval_every=2).replace(method="lora")
    run = launch(cfg, tmp_path, 2)
    finished = _ok(run)
    started = run.of(RunStarted)[0]
    assert started.n_train + started.n_eval == 72 and started.label_names  # every row of the compressed file
    assert [e.step for e in run.of(StepLogged)] == [1, 2, 3, 4]
    ranks = run.of(RanksUpdated)
    assert ranks and not any(e.mask_step for e in ranks)  # no allocator
    assert len({m.rank for e in ranks for m in e.matrices}) == 1  # one uniform rank throughout
    adapter = json.loads((run.folder.adapter_dir / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "LORA" and adapter["r"] == ranks[-1].matrices[0].rank
    assert {"accuracy", "macro_f1"} <= set(finished.metrics)
