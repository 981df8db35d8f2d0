"""Finished and stopped tiny runs for the inference, report and CLI tests (trained once per module)."""

from __future__ import annotations

import csv
from pathlib import Path

from adalora_studio.core.events import EvalLogged, Finished, Stopped, StopToken
from adalora_studio.core.paths import demo_classification_file
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import bert_config, small_instructions_jsonl


def split_tickets(folder: Path, n_train: int = 64, n_eval: int = 24) -> tuple[Path, Path]:
    """The demo tickets cut into a training file and a separate evaluation file."""
    rows = list(csv.DictReader(demo_classification_file().open(encoding="utf-8")))
    paths = []
    for name, part in (("train.csv", rows[:n_train]), ("eval.csv", rows[n_train:n_train + n_eval])):
        path = folder / name
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=["text", "label"])
            writer.writeheader()
            writer.writerows(part)
        paths.append(path)
    return paths[0], paths[1]


def finished_classification_run(model_dir: Path, folder: Path) -> tuple[Path, Finished, Path]:
    """(run folder, its Finished event, its eval file): tiny BERT trained 16 steps with a separate eval file."""
    train, evaluation = split_tickets(folder)
    cfg = bert_config(model_dir, train, folder / "runs", data={"eval_file": str(evaluation)})
    events = list(Engine(cfg).events())
    end = events[-1]
    assert isinstance(end, Finished), end
    return Path(end.run_dir), end, evaluation


def stopped_classification_run(model_dir: Path, folder: Path, stop_at: int = 8) -> tuple[Path, EvalLogged, Path]:
    """(run folder, the evaluation at the stop step, eval file): stopped right after an evaluation."""
    train, evaluation = split_tickets(folder)
    cfg = bert_config(model_dir, train, folder / "runs", eval_every=stop_at, checkpoint_every=0,
                      data={"eval_file": str(evaluation)})
    stop = StopToken()
    last_eval = None
    for event in Engine(cfg, stop).events():
        if isinstance(event, EvalLogged):
            last_eval = event
            stop.request_stop()
        end = event
    assert isinstance(end, Stopped) and last_eval is not None and last_eval.step == end.step
    return Path(folder / "runs").glob("*").__next__(), last_eval, evaluation


def finished_causal_run(model_dir: Path, folder: Path) -> Path:
    """A tiny GPT-2 causal-LM run (8 steps) on the demo instructions; returns its run folder."""
    from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig

    data = small_instructions_jsonl(folder, 24)
    cfg = RunConfig(
        name="causal-test", task="causal-lm", model=ModelConfig(source="folder", path=str(model_dir)),
        data=DataConfig(train_file=str(data), eval_fraction=0.25, max_length=48),
        budget=BudgetConfig(target_modules=("c_attn",), init_r=4, target_r=2, tinit=0.125, tfinal=0.25, delta_t=2),
        training=TrainingConfig(max_steps=8, batch_size=4, learning_rate=5e-3, device="cpu", seed=3,
                                eval_every=0, checkpoint_every=0),
        output_dir=str(folder / "runs"),
    )
    end = list(Engine(cfg).events())[-1]
    assert isinstance(end, Finished), end
    return Path(end.run_dir)
