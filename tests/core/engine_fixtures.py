"""Shared helpers for the engine, ranks and checkpoint tests: small configs, a peft AdaLoRA model built by hand."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig
from adalora_studio.core.paths import demo_causal_lm_file, demo_classification_file

BERT_TARGETS = ("query", "value")


@pytest.fixture(scope="module", autouse=True)
def torch_single_thread():
    """One torch thread while a module of these tests runs (restored after).

    The tiny models gain nothing from a second thread, and on a shared, oversubscribed machine OpenMP threads
    spinning at barriers made the same run up to 60x slower.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def small_classification_csv(folder: Path, n_rows: int = 72) -> Path:
    """The first ``n_rows`` rows of the bundled demo tickets (every label present)."""
    rows = list(csv.DictReader(demo_classification_file().open(encoding="utf-8")))
    path = folder / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(rows[:n_rows])
    return path


def small_instructions_jsonl(folder: Path, n_rows: int = 40) -> Path:
    """The first ``n_rows`` prompt/response pairs of the bundled demo."""
    lines = demo_causal_lm_file().read_text(encoding="utf-8").splitlines()[:n_rows]
    path = folder / "instructions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bert_config(model_dir: Path, train_file: Path, out_dir: Path, **training: Any) -> RunConfig:
    """A tiny-BERT classification run: 2 layers x (query, value) = 4 matrices, init_r 4 -> target_r 2."""
    budget = training.pop("budget", {})
    data = training.pop("data", {})
    t = {"max_steps": 16, "batch_size": 8, "learning_rate": 5e-3, "eval_every": 0, "checkpoint_every": 0,
         "device": "cpu", "seed": 7, "warmup_ratio": 0.1, **training}
    b = {"target_modules": BERT_TARGETS, "init_r": 4, "target_r": 2, "tinit": 0.125, "tfinal": 0.25,
         "delta_t": 2, **budget}
    return RunConfig(
        name="engine-test",
        task="text-classification",
        model=ModelConfig(source="folder", path=str(model_dir)),
        data=DataConfig(train_file=str(train_file), eval_fraction=0.25, max_length=32, **data),
        budget=BudgetConfig(**b),
        training=TrainingConfig(**t),
        output_dir=str(out_dir),
    )


def hand_built_adalora(model_dir: Path, total_step: int = 20, init_r: int = 4, target_r: int = 2,
                       tinit: int = 2, tfinal: int = 4, delta_t: int = 2, seed: int = 0) -> Any:
    """A peft AdaLoRA classification model on tiny BERT, built directly with peft (no engine code)."""
    import torch
    from peft import AdaLoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(seed)
    base = AutoModelForSequenceClassification.from_pretrained(str(model_dir), num_labels=3)
    cfg = AdaLoraConfig(task_type="SEQ_CLS", target_modules=list(BERT_TARGETS), init_r=init_r, target_r=target_r,
                        tinit=tinit, tfinal=tfinal, deltaT=delta_t, total_step=total_step, lora_alpha=8)
    return get_peft_model(base, cfg)


def random_batch(model: Any, n: int = 6, length: int = 10, seed: int = 0) -> dict[str, Any]:
    """A random classification batch for ``model``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    vocab = model.config.vocab_size
    return {
        "input_ids": torch.randint(5, vocab, (n, length), generator=g),
        "attention_mask": torch.ones(n, length, dtype=torch.long),
        "labels": torch.randint(0, model.config.num_labels, (n,), generator=g),
    }


def train_by_hand(model: Any, steps: int, start: int = 0, lr: float = 1e-2) -> Any:
    """A few optimizer steps with update_and_allocate on random batches; returns the optimizer."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr)
    for i in range(start, start + steps):
        out = model(**random_batch(model, seed=i))
        out.loss.backward()
        opt.step()
        model.base_model.update_and_allocate(i)
        opt.zero_grad()
    return opt
