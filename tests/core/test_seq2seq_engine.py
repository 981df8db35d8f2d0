"""Seq2seq (T5/BART) through the engine: equal to a hand-written peft loop, empty targets, generation evaluation."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from adalora_studio.core.adalora import read_rank_pattern
from adalora_studio.core.config import BudgetConfig, DataConfig, ModelConfig, RunConfig, TrainingConfig
from adalora_studio.core.errors import DataError
from adalora_studio.core.events import EvalLogged, Finished, StepLogged
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import small_instructions_jsonl, torch_single_thread  # noqa: F401


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_instructions_jsonl(tmp_path_factory.mktemp("data"), n_rows=40)


def seq2seq_config(model_dir: Path, train_file: Path, out_dir: Path, **training) -> RunConfig:
    data = training.pop("data", {})
    t = {"max_steps": 10, "batch_size": 8, "learning_rate": 5e-3, "device": "cpu", "seed": 3, "warmup_ratio": 0.1,
         **training}
    return RunConfig(
        name="seq2seq-test", task="seq2seq", model=ModelConfig(source="folder", path=str(model_dir)),
        data=DataConfig(train_file=str(train_file), source_column="prompt", target_column="response", max_length=48,
                        eval_fraction=0.2, eval_metric="rouge", generation_eval_rows=6, max_new_tokens=6, **data),
        budget=BudgetConfig(target_modules=("q", "v"), init_r=4, target_r=2, tinit=0.1, tfinal=0.2, delta_t=2),
        training=TrainingConfig(**t), output_dir=str(out_dir))


def _reference_loop(cfg):
    """A minimal AdaLoRA seq2seq loop in plain torch + peft (the pattern of tests/core/test_engine.py)."""
    import numpy as np
    import torch
    from peft import AdaLoraConfig, get_peft_model
    from torch.utils.data import DataLoader, RandomSampler
    from transformers import DataCollatorForSeq2Seq, get_linear_schedule_with_warmup

    from adalora_studio.core.adalora import make_plan
    from adalora_studio.core.data import inspect_dataset, prepare_data
    from adalora_studio.core.model import describe_model, load_model_and_tokenizer

    t, b = cfg.training, cfg.budget
    summary = inspect_dataset(cfg)
    plan = make_plan(cfg, summary.n_train, describe_model(cfg.model, cfg.task))
    random.seed(t.seed)
    np.random.seed(t.seed)
    torch.manual_seed(t.seed)
    model, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task)
    model = get_peft_model(model, AdaLoraConfig(
        task_type="SEQ_2_SEQ_LM", target_modules=[m.module for m in plan.targets], init_r=b.init_r,
        target_r=b.target_r, tinit=plan.tinit_steps, tfinal=plan.tfinal_steps, deltaT=b.delta_t, beta1=b.beta1,
        beta2=b.beta2, orth_reg_weight=b.orth_reg_weight, lora_alpha=b.lora_alpha, lora_dropout=b.lora_dropout,
        total_step=plan.total_steps))
    data = prepare_data(cfg, tokenizer)
    params = [p for p in model.parameters() if p.requires_grad]
    lora_ab = [(n, p) for n, p in model.base_model.model.named_parameters() if "lora_A" in n or "lora_B" in n]
    opt = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)
    sched = get_linear_schedule_with_warmup(opt, math.ceil(t.warmup_ratio * plan.total_steps), plan.total_steps)
    generator = torch.Generator()
    collate = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, return_tensors="pt")
    loader = DataLoader(data.train, batch_size=t.batch_size, sampler=RandomSampler(data.train, generator=generator),
                        collate_fn=collate)
    model.train()
    step, epoch, losses = 0, 0, []
    while step < plan.total_steps:
        generator.manual_seed(t.seed * 1_000_003 + epoch)
        for batch in loader:
            out = model.base_model.model(**batch)
            gram = [(p @ p.T if "lora_A" in n else p.T @ p) for n, p in lora_ab]
            regu = sum(torch.norm(g - torch.eye(g.shape[0]), p="fro") for g in gram) / len(lora_ab)
            (out.loss + b.orth_reg_weight * regu).backward()
            torch.nn.utils.clip_grad_norm_(params, t.max_grad_norm)
            opt.step()
            sched.step()
            model.base_model.update_and_allocate(step)
            opt.zero_grad()
            losses.append(out.loss.item())
            step += 1
            if step == plan.total_steps:
                break
        epoch += 1
    return model, data, losses, collate


@pytest.mark.parametrize("kind", ["t5", "bart"])
def test_engine_equals_a_hand_written_peft_seq2seq_loop(kind: str, request: pytest.FixtureRequest, pairs: Path,
                                                         tmp_path: Path) -> None:
    import torch

    model_dir = request.getfixturevalue(f"tiny_{kind}_dir")
    targets = ("q", "v") if kind == "t5" else ("q_proj", "v_proj")
    cfg = seq2seq_config(model_dir, pairs, tmp_path, max_steps=10)
    cfg = cfg.replace(budget=BudgetConfig(**{**cfg.budget.__dict__, "target_modules": targets}))
    engine = Engine(cfg)
    events = list(engine.events())
    assert isinstance(events[-1], Finished), events[-1]
    ref, data, ref_losses, collate = _reference_loop(cfg)
    assert read_rank_pattern(engine.session.peft_model) == read_rank_pattern(ref)
    steps = [e for e in events if isinstance(e, StepLogged)]
    assert [e.task_loss for e in steps] == pytest.approx(ref_losses, abs=1e-5)
    batch = collate([data.eval[i] for i in range(len(data.eval))])
    ours, theirs = engine.session.peft_model.eval(), ref.eval()
    with torch.no_grad():
        a, b = ours(**batch).logits, theirs(**batch).logits
    assert a.shape == b.shape and (a - b).abs().max().item() < 1e-5
    evals = [e for e in events if isinstance(e, EvalLogged)]
    assert evals and {"rouge1", "rouge2", "rougeL", "exact_match", "perplexity"} <= set(evals[-1].metrics)


def test_empty_target_is_named(tiny_t5_dir: Path, tmp_path: Path) -> None:
    from adalora_studio.core.data import inspect_dataset

    path = tmp_path / "pairs.jsonl"
    rows = [{"prompt": f"say {i}", "response": f"ok {i}"} for i in range(6)]
    rows[3]["response"] = "  "
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError) as info:
        inspect_dataset(seq2seq_config(tiny_t5_dir, path, tmp_path))
    err = info.value
    assert err.file == str(path) and err.row == 4 and err.column == "response"
    assert "target text (seq2seq targets cannot be empty)" in str(err)


def test_generation_eval_is_greedy_and_deterministic(tiny_t5_dir: Path, tiny_gpt2_dir: Path, pairs: Path,
                                                     tmp_path: Path) -> None:
    from adalora_studio.core.data import prepare_data
    from adalora_studio.core.inference.generation_eval import evaluate_generation
    from adalora_studio.core.model import load_model_and_tokenizer

    for model_dir, task in ((tiny_t5_dir, "seq2seq"), (tiny_gpt2_dir, "causal-lm")):
        cfg = seq2seq_config(model_dir, pairs, tmp_path).replace(task=task)
        model, tokenizer = load_model_and_tokenizer(cfg.model, task)
        data = prepare_data(cfg, tokenizer)
        first = evaluate_generation(model, tokenizer, data.eval, task, "rouge", 5, 6, 2)
        again = evaluate_generation(model, tokenizer, data.eval, task, "rouge", 5, 6, 3)  # other batching
        assert first == again and len(first[1]) == 5
        assert any(s.reference for s in first[1]) and any(s.prediction for s in first[1])


@pytest.mark.parametrize("kind", ["t5", "bart"])
def test_encoder_decoder_matrices_have_their_own_layers_and_cross_attention(kind: str,
                                                                            request: pytest.FixtureRequest) -> None:
    from adalora_studio.core.model import describe_model

    info = describe_model(ModelConfig(source="folder", path=str(request.getfixturevalue(f"tiny_{kind}_dir"))),
                          "seq2seq")
    names = [m.name for m in info.matrices]
    assert len(names) == len(set(names)) == 32  # 2 encoder blocks x 6 + 2 decoder blocks x 10
    assert {m.layer for m in info.matrices if ".decoder." in f".{m.module}."} == {2, 3}
    assert {"cross_query", "cross_key", "cross_value", "cross_attn_out"} <= set(info.matrix_types)
    assert len(info.default_targets) == 32  # the paper adapts every attention and feed-forward matrix
