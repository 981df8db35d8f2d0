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
from adalora_studio.core.events import EvalLogged, Finished, LogMessage, RanksUpdated, RunStarted, StepLogged, Stopped
from adalora_studio.core.paths import demo_classification_file
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import bert_config, torch_single_thread  # noqa: F401
from tests.core.multiprocess_fixtures import (
    Launched,
    adapter_rank_pattern,
    comparable,
    difference,
    final_pattern,
    launch,
    launch_and_stop,
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


def _ok(run: Launched, starts: int = 1) -> Finished:
    """The run finished, wrote its folder once (one run_started, one Finished, one adapter and report) and no
    process warned that the ranks disagree."""
    finished = run.of(Finished)
    assert len(finished) == 1 and run.events[-1] is finished[0], run.events[-1]
    assert len(run.of(RunStarted)) == starts
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


# ------------------------------------------------------------------------------ issue 11: chat data


@pytest.fixture(scope="module")
def chat_llama(tiny_llama_dir: Path, data_dir: Path) -> Path:
    """The tiny Llama with a chat template (in words its vocabulary holds, so the embeddings fit)."""
    from transformers import AutoTokenizer

    folder = data_dir / "llama-chat"
    shutil.copytree(tiny_llama_dir, folder)
    tok = AutoTokenizer.from_pretrained(str(folder))
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def messages_jsonl(data_dir: Path) -> Path:
    """OpenAI ``messages`` rows: system, then two user/assistant exchanges."""
    rows = [{"messages": [{"role": "system", "content": "be kind"},
                          {"role": "user", "content": f"question {i} about my order"},
                          {"role": "assistant", "content": "your order is on the way"},
                          {"role": "user", "content": "thanks"},
                          {"role": "assistant", "content": ["you are welcome", "happy to help"][i % 2]}]}
            for i in range(40)]
    path = data_dir / "chats.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("template", ["chat", "plain"])
def test_messages_chat_jsonl_trains_a_causal_lm_on_two_processes(chat_llama: Path, messages_jsonl: Path,
                                                                 tmp_path: Path, template: str) -> None:
    base = bert_config(chat_llama, messages_jsonl, tmp_path / "runs", max_steps=4, batch_size=4, eval_every=2)
    cfg = replace(base, task="causal-lm",
                  data=DataConfig(train_file=str(messages_jsonl), eval_fraction=0.2, max_length=48,
                                  template=template, chat_format="messages"),
                  budget=BudgetConfig(target_modules=("q_proj", "v_proj"), init_r=4, target_r=2, tinit=0.25,
                                      tfinal=0.25, delta_t=1))
    run = launch(cfg, tmp_path, 2)
    finished = _ok(run)
    assert run.of(RunStarted)[0].n_train == 32
    assert [e.step for e in run.of(EvalLogged)] == [2, 4]
    assert finished.metrics["perplexity"] > 1 and finished.metrics["eval_loss"] > 0
    report = json.loads((run.folder.path / "report.json").read_text())
    assert report["data"]["columns"] == {"chat": ["messages"]}  # the report read the chat layout too


# ------------------------------------------------------------------------------ issue 12: QA and seq2seq


@pytest.fixture(scope="module")
def qa_file(data_dir: Path) -> Path:
    """60 seeded questions whose answers are 10-word spans of 30- or 70-word contexts (the long ones take several
    windows), so even a barely trained model scores a non-zero F1 that depends on every question's windows."""
    import random

    from tests.tiny_models import word_list

    rng = random.Random(0)
    vocab = [w for w in word_list()[:400] if w.isalpha()]
    rows = []
    for i in range(60):
        words = [rng.choice(vocab) for _ in range(rng.choice([30, 30, 70]))]
        first = rng.randrange(0, len(words) - 12)
        answer, start = " ".join(words[first:first + 10]), len(" ".join(words[:first])) + (1 if first else 0)
        rows.append({"id": f"q{i}", "context": " ".join(words), "question": "what is the answer",
                     "answers": {"text": [answer], "answer_start": [start]}})
    path = data_dir / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_question_answering_on_two_processes(tiny_bert_dir: Path, qa_file: Path, tmp_path: Path) -> None:
    """EM/F1 from the windows gathered across processes equal the report's, which rank 0 computes alone from
    the same final model question by question: the gather kept every window, in order, once."""
    cfg = RunConfig(
        name="qa-mp", task="question-answering", model=ModelConfig(source="folder", path=str(tiny_bert_dir)),
        data=DataConfig(train_file=str(qa_file), max_length=48, doc_stride=12, eval_fraction=0.25),
        budget=BudgetConfig(target_modules=("query", "value"), init_r=4, target_r=2, tinit=0.25, tfinal=0.25,
                            delta_t=1),
        training=TrainingConfig(max_steps=4, batch_size=8, learning_rate=5e-3, device="cpu", seed=5, eval_every=2),
        output_dir=str(tmp_path / "runs"))
    run = launch(cfg, tmp_path, 2)
    finished = _ok(run)
    started = run.of(RunStarted)[0]
    assert started.n_eval > 15  # windows of the 15 eval questions: long contexts were split
    assert [e.step for e in run.of(EvalLogged)] == [2, 4]
    assert {"exact_match", "f1"} <= set(finished.metrics)
    report = json.loads((run.folder.path / "report.json").read_text())
    assert report["n_rows"] == 15 and report["metrics"]["f1"] > 5
    assert finished.metrics["exact_match"] == pytest.approx(report["metrics"]["exact_match"])
    assert finished.metrics["f1"] == pytest.approx(report["metrics"]["f1"])


@pytest.fixture(scope="module")
def pairs(data_dir: Path) -> Path:
    """Requests and replies that share most of their words, so a few steps give a non-zero ROUGE."""
    topics = "order delivery refund payment account password".split()
    rows = [{"prompt": f"where is my {topics[i % 6]} please help",
             "response": f"thanks for your message about the {topics[i % 6]}"} for i in range(40)]
    path = data_dir / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_seq2seq_with_rouge_on_two_processes(tiny_t5_dir: Path, pairs: Path, tmp_path: Path) -> None:
    """Every process generates the same capped eval rows (no gather): the logged ROUGE equals the report's, which
    rank 0 computes alone from the final model, and the eval loss is gathered from both processes."""
    cfg = RunConfig(
        name="seq2seq-mp", task="seq2seq", model=ModelConfig(source="folder", path=str(tiny_t5_dir)),
        data=DataConfig(train_file=str(pairs), source_column="prompt", target_column="response", max_length=48,
                        eval_fraction=0.2, eval_metric="rouge", generation_eval_rows=6, max_new_tokens=8),
        budget=BudgetConfig(target_modules=("q", "v"), init_r=4, target_r=2, tinit=0.25, tfinal=0.25, delta_t=1),
        training=TrainingConfig(max_steps=8, batch_size=2, learning_rate=0.1, warmup_ratio=0.0, device="cpu", seed=3,
                                eval_every=4),
        output_dir=str(tmp_path / "runs"))
    run = launch(cfg, tmp_path, 2)
    finished = _ok(run)
    assert [e.step for e in run.of(EvalLogged)] == [4, 8]
    assert {"rouge1", "rouge2", "rougeL", "perplexity"} <= set(finished.metrics), finished.metrics
    report = json.loads((run.folder.path / "report.json").read_text())
    assert report["metric"] == "rouge" and report["n_rows"] == 6 and report["metrics"]["rouge1"] > 5
    for key in ("rouge1", "rouge2", "rougeL"):
        assert finished.metrics[key] == pytest.approx(report["metrics"][key])


# ------------------------------------------------------------------------------ exact resume


def test_stop_and_resume_on_two_processes_is_exact(tiny_bert_dir: Path, tmp_path: Path,
                                                   semicolon_csv_gz: Path) -> None:
    """With dropout on (the model's and the adapter's), a 2-process run stopped mid-run and resumed takes the
    same steps as one that was never stopped: every process continues its own random stream."""
    import torch
    from safetensors.torch import load_file

    cfg = bert_config(tiny_bert_dir, semicolon_csv_gz, tmp_path / "runs", max_steps=12, batch_size=4,
                      budget={"lora_dropout": 0.1})
    full = launch(cfg.replace(output_dir=str(tmp_path / "full")), tmp_path, 2)
    _ok(full)
    stopped = launch_and_stop(cfg, tmp_path, 2, after_step=3)
    stop = stopped.of(Stopped)
    assert stop and 3 <= stop[0].step < 12, stopped.events[-1]
    resumed = launch(cfg, tmp_path, 2, resume=stopped.folder)
    _ok(resumed, starts=2)
    k = stop[0].step
    full_steps = {e.step: e for e in full.of(StepLogged)}
    after = [e for e in resumed.of(StepLogged) if e.step > k]
    assert [e.step for e in after] == list(range(k + 1, 13))
    for e in after:
        assert (e.task_loss, e.grad_norm) == (full_steps[e.step].task_loss, full_steps[e.step].grad_norm), e.step
    a = load_file(str(full.folder.adapter_dir / "adapter_model.safetensors"))
    b = load_file(str(resumed.folder.adapter_dir / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in a)
