"""Re-planning after tokenisation drops rows: the peft schedule, the plan and the events must agree.

Half the causal-LM rows below have a prompt longer than ``max_length``, so tokenisation leaves no room for their
response and drops them; the session then re-plans with fewer rows. peft's AdaLoRA schedule (``tinit``,
``tfinal``, ``total_step``) must come from that final plan, or peft fixes the ranks at a different step than
the engine reports, or fails (``kthvalue(): selected number k out of range``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig
from adalora_studio.core.events import Finished, RanksUpdated, RunStarted
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401  (autouse fixture)

SHORT_PROMPT = "please write a short answer"
LONG_PROMPT = " ".join(["the word of the day is water and the answer is here"] * 5)  # 60 words > max_length 40
RESPONSE = "thanks for the question here is the answer"


def _rows_with_long_prompts(folder: Path, n_rows: int = 120) -> Path:
    """``n_rows`` prompt/response rows; every second prompt is longer than ``max_length`` 40."""
    path = folder / "mixed.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n_rows):
            prompt = LONG_PROMPT if i % 2 else f"{SHORT_PROMPT} {i % 10}"
            fh.write(json.dumps({"prompt": prompt, "response": RESPONSE}) + "\n")
    return path


def _config(model_dir: Path, train_file: Path, out_dir: Path) -> RunConfig:
    eval_file = train_file.with_name("eval.jsonl")
    eval_file.write_text("".join(json.dumps({"prompt": SHORT_PROMPT, "response": RESPONSE}) + "\n"
                                 for _ in range(4)), encoding="utf-8")
    return RunConfig(
        name="replan",
        task="causal-lm",
        model=ModelConfig(source="folder", path=str(model_dir)),
        data=DataConfig(train_file=str(train_file), eval_file=str(eval_file), max_length=40),
        budget=BudgetConfig(target_modules=("c_attn",), init_r=4, target_r=2, tinit=0.3, tfinal=0.3, delta_t=1),
        training=TrainingConfig(epochs=1.0, batch_size=4, learning_rate=5e-3, eval_every=0,
                                checkpoint_every=0, device="cpu", seed=3),
        output_dir=str(out_dir),
    )


def test_dropped_rows_replan_the_peft_schedule(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    """The issue's repro: 120 rows, half too long, batch 4, tinit 0.3, tfinal 0.3. It used to crash at step 6."""
    cfg = _config(tiny_gpt2_dir, _rows_with_long_prompts(tmp_path), tmp_path / "runs")
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished), events[-1]

    started = next(e for e in events if isinstance(e, RunStarted))
    plan = engine.session.plan
    assert started.n_train == plan.n_train == 60  # the 60 long-prompt rows were dropped
    assert started.total_steps == plan.total_steps == 15  # 60 rows / batch 4, not 120 / 4
    assert (started.tinit_steps, started.tfinal_steps) == (plan.tinit_steps, plan.tfinal_steps)

    saved = json.loads((Path(started.run_dir) / "adapter" / "adapter_config.json").read_text(encoding="utf-8"))
    assert saved["total_step"] == plan.total_steps
    assert saved["tinit"] == plan.tinit_steps
    assert saved["tfinal"] == plan.tfinal_steps

    # peft holds exactly the budget b(t) the events report, step by step, and ends at the target budget
    ranks = [e for e in events if isinstance(e, RanksUpdated)]
    assert [(e.step, e.total_rank) for e in ranks] == [(e.step, e.budget) for e in ranks]
    assert ranks[-1].phase == "final" and ranks[-1].total_rank == plan.target_r * len(plan.targets)


@pytest.mark.parametrize("n_rows", [120])
def test_no_rows_dropped_keeps_the_first_plan(tiny_gpt2_dir: Path, tmp_path: Path, n_rows: int) -> None:
    """Control: with every prompt short, nothing is dropped and the plan counts every row."""
    path = tmp_path / "short.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"{SHORT_PROMPT} {i % 10}", "response": RESPONSE}) + "\n"
                            for i in range(n_rows)), encoding="utf-8")
    engine = Engine(_config(tiny_gpt2_dir, path, tmp_path / "runs"))
    events = list(engine.events())
    assert isinstance(events[-1], Finished), events[-1]
    assert engine.session.plan.n_train == n_rows
    assert engine.session.plan.total_steps == n_rows // 4
