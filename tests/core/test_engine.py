"""The engine against a hand-written peft loop, the budget schedule, accumulation, stop, NaN and the event log."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from adalora_studio.core.adalora import read_rank_pattern
from adalora_studio.core.events import (
    CheckpointSaved,
    EvalLogged,
    Failed,
    Finished,
    RanksUpdated,
    RunStarted,
    StepLogged,
    Stopped,
    StopToken,
)
from adalora_studio.core.runs import RunFolder, read_run_events
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_classification_csv(tmp_path_factory.mktemp("data"))


def _run(cfg, stop: StopToken | None = None, resume_from=None) -> tuple[Engine, list]:
    engine = Engine(cfg, stop, resume_from)
    return engine, list(engine.events())


def _reference_loop(cfg):
    """A minimal AdaLoRA loop in plain torch + peft, written from peft's documentation (no engine code).

    Seeded as the engine is (seed right before loading the model), the same per-epoch shuffle seed, AdamW,
    transformers' linear schedule with warm-up, clipping, ``update_and_allocate(step)`` per optimizer step.
    The task loss is read from the transformers model itself (no regulariser) and peft's orthogonality
    penalty is added by hand, exactly as ``AdaLoraModel.forward`` does.
    """
    import numpy as np
    import torch
    from peft import AdaLoraConfig, get_peft_model
    from torch.utils.data import DataLoader, RandomSampler
    from transformers import get_linear_schedule_with_warmup

    from adalora_studio.core.adalora import make_plan
    from adalora_studio.core.data import inspect_dataset, make_collator, prepare_data
    from adalora_studio.core.model import describe_model, load_model_and_tokenizer

    t, b = cfg.training, cfg.budget
    summary = inspect_dataset(cfg)
    plan = make_plan(cfg, summary.n_train, describe_model(cfg.model, cfg.task, len(summary.label_names)))
    random.seed(t.seed)
    np.random.seed(t.seed)
    torch.manual_seed(t.seed)
    model, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task, summary.label_names)
    model = get_peft_model(model, AdaLoraConfig(
        task_type="SEQ_CLS", target_modules=[m.module for m in plan.targets], init_r=b.init_r, target_r=b.target_r,
        tinit=plan.tinit_steps, tfinal=plan.tfinal_steps, deltaT=b.delta_t, beta1=b.beta1, beta2=b.beta2,
        orth_reg_weight=b.orth_reg_weight, lora_alpha=b.lora_alpha, lora_dropout=b.lora_dropout,
        total_step=plan.total_steps))
    data = prepare_data(cfg, tokenizer)
    params = [p for p in model.parameters() if p.requires_grad]
    lora_ab = [(n, p) for n, p in model.base_model.model.named_parameters() if "lora_A" in n or "lora_B" in n]
    opt = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)
    sched = get_linear_schedule_with_warmup(opt, math.ceil(t.warmup_ratio * plan.total_steps), plan.total_steps)
    generator = torch.Generator()
    loader = DataLoader(data.train, batch_size=t.batch_size, sampler=RandomSampler(data.train, generator=generator),
                        collate_fn=make_collator(cfg.task, tokenizer))
    model.train()
    step, epoch, task_losses, window = 0, 0, [], []
    while step < plan.total_steps:
        generator.manual_seed(t.seed * 1_000_003 + epoch)
        for i, batch in enumerate(loader):
            out = model.base_model.model(**batch)  # the task loss alone
            regu = sum(torch.norm((p @ p.T if "lora_A" in n else p.T @ p) - torch.eye(
                (p @ p.T if "lora_A" in n else p.T @ p).shape[0]), p="fro") for n, p in lora_ab) / len(lora_ab)
            loss = out.loss + b.orth_reg_weight * regu
            (loss / t.grad_accum).backward()
            window.append(out.loss.item())
            if (i + 1) % t.grad_accum and i + 1 != len(loader):
                continue
            torch.nn.utils.clip_grad_norm_(params, t.max_grad_norm)
            opt.step()
            sched.step()
            model.base_model.update_and_allocate(step)
            opt.zero_grad()
            task_losses.append(sum(window) / len(window))
            window, step = [], step + 1
            if step == plan.total_steps:
                break
        epoch += 1
    return model, data, task_losses


def test_engine_equals_a_hand_written_peft_loop(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    """Same seed, data order and hyper-parameters: same rank pattern, same logits, same task losses."""
    import torch

    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=16, batch_size=8)  # 54 rows: 7 steps/epoch
    engine, events = _run(cfg)
    assert isinstance(events[-1], Finished), events[-1]
    ref_model, data, ref_losses = _reference_loop(cfg)

    assert read_rank_pattern(engine.session.peft_model) == read_rank_pattern(ref_model)
    steps = [e for e in events if isinstance(e, StepLogged)]
    assert [e.step for e in steps] == list(range(1, 17))
    # the logged task loss is the loss without the regulariser (the reference reads it from the bare model)
    assert [e.task_loss for e in steps] == pytest.approx(ref_losses, abs=1e-6)
    assert all(e.orth_loss > 0 for e in steps)
    assert "forward" not in vars(engine.session.peft_model.base_model.model)  # the loss tap was removed

    from adalora_studio.core.data import make_collator

    collate = make_collator(cfg.task, engine.session.tokenizer)
    batch = collate([data.eval[i] for i in range(8)])
    batch.pop("labels")
    engine.session.peft_model.eval()
    ref_model.eval()
    with torch.no_grad():
        a = engine.session.peft_model(**batch).logits
        b = ref_model(**batch).logits
    assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()


def _cubic(step: int, init: int, target: int, tinit: int, tfinal: int, total: int) -> int:
    """The budget schedule of the AdaLoRA paper (eq. 11), written out independently."""
    if step <= tinit:
        return init
    if step > total - tfinal:
        return target
    return int((init - target) * (1 - (step - tinit) / (total - tfinal - tinit)) ** 3 + target)


def test_allocation_follows_the_cubic_budget_and_ends_at_target(tiny_bert_dir: Path, tickets: Path,
                                                              tmp_path: Path) -> None:
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=24, budget={"tinit": 0.125, "tfinal": 0.25})
    _, events = _run(cfg)
    started = next(e for e in events if isinstance(e, RunStarted))
    n, total, tinit, tfinal = started.n_matrices, started.total_steps, started.tinit_steps, started.tfinal_steps
    assert (n, total, tinit, tfinal) == (4, 24, 3, 6)
    ranks = [e for e in events if isinstance(e, RanksUpdated)]
    assert ranks[0].step == 0 and ranks[0].total_rank == 4 * n and ranks[0].phase == "warm-up"
    mask_steps = [e for e in ranks[1:-1]]
    # a snapshot after every mask step: 0-based indices 4, 6, ..., 16 and the final mask at 18 = total - tfinal
    assert [e.step - 1 for e in mask_steps] == [4, 6, 8, 10, 12, 14, 16, 18]
    for e in mask_steps:
        expected = _cubic(e.step - 1, 4 * n, 2 * n, tinit, tfinal, total)
        assert e.budget == expected and e.total_rank == expected
        assert all(len(m.importance) == 4 and len(m.kept) == 4 for m in e.matrices)
    assert mask_steps[0].total_rank < 4 * n
    final = ranks[-1]
    assert final.step == total and final.phase == "final" and final.total_rank == 2 * n
    assert all(m.importance for m in final.matrices)  # last known scores are kept after peft resets them


@pytest.mark.parametrize("fast", [False, True])
def test_grad_accum_the_allocator_sees_optimizer_steps(tiny_bert_dir: Path, tickets: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    from peft.tuners.adalora import AdaLoraModel

    from adalora_studio.core.adalora import FastAllocator

    calls: list[int] = []
    owner = FastAllocator if fast else AdaLoraModel
    original = owner.update_and_allocate

    def spy(self, global_step):
        calls.append(global_step)
        return original(self, global_step)

    monkeypatch.setattr(owner, "update_and_allocate", spy)
    # 54 rows / batch 8 = 7 micro-batches per epoch -> 4 optimizer steps per epoch (the last window is short)
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=0, epochs=4, grad_accum=2,
                      budget={"tinit": 0.1, "tfinal": 0.2, "delta_t": 1, "fast_allocator": fast})
    _, events = _run(cfg)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.total_steps == 16 and started.steps_per_epoch == 4
    assert calls == list(range(16))
    final = [e for e in events if isinstance(e, RanksUpdated)][-1]
    assert final.total_rank == 2 * started.n_matrices
    assert [e.step for e in events if isinstance(e, StepLogged)] == list(range(1, 17))


def test_events_jsonl_replays_to_what_a_live_listener_saw(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=10, eval_every=5, checkpoint_every=5)
    _, live = _run(cfg)
    run_dir = Path(live[0].run_dir)
    assert read_run_events(run_dir) == live
    kinds = {type(e) for e in live}
    assert {RunStarted, StepLogged, RanksUpdated, EvalLogged, CheckpointSaved, Finished} <= kinds
    folder = RunFolder(run_dir)
    assert folder.read_status().state == "finished"
    assert folder.ranks_csv.is_file() and folder.ranks_json.is_file() and folder.labels_json.is_file()
    assert (folder.adapter_dir / "adapter_config.json").is_file()
    assert not folder.lock_file.exists()


def test_stop_is_honoured_within_one_step(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=16)
    stop = StopToken()
    seen = []
    for event in Engine(cfg, stop).events():
        seen.append(event)
        if isinstance(event, StepLogged) and event.step == 3:
            stop.request_stop()
    assert max(e.step for e in seen if isinstance(e, StepLogged)) == 3
    assert isinstance(seen[-1], Stopped) and seen[-1].step == 3
    assert isinstance(seen[-2], CheckpointSaved) and seen[-2].path == seen[-1].checkpoint
    folder = RunFolder(seen[0].run_dir)
    assert folder.read_status().state == "stopped"
    assert Path(seen[-1].checkpoint).name == "step-00000003"


def test_non_finite_loss_fails_naming_the_step_and_keeps_the_last_good_checkpoint(
        tiny_bert_dir: Path, tickets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import adalora_studio.core.training.session as run_setup

    real_build = run_setup.build_peft_model
    forwards = {"n": 0}

    def build_with_inf_at_step_5(model, cfg, plan):
        peft_model = real_build(model, cfg, plan)

        def hook(_module, _args, output):
            forwards["n"] += 1
            if forwards["n"] == 5 and output.loss is not None:
                output.loss = output.loss * float("inf")
            return output

        peft_model.register_forward_hook(hook)
        return peft_model

    monkeypatch.setattr(run_setup, "build_peft_model", build_with_inf_at_step_5)
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=16, checkpoint_every=2)
    _, events = _run(cfg)
    failed = events[-1]
    assert isinstance(failed, Failed), failed
    assert failed.step == 4 and "step 5" in failed.message and "learning_rate" in failed.message
    assert Path(failed.checkpoint).name == "step-00000004"
    folder = RunFolder(events[0].run_dir)
    assert [p.name for p in folder.list_checkpoints()][-1] == "step-00000004"
    assert folder.read_status().state == "failed"
    assert not [e for e in events if isinstance(e, StepLogged) and e.step >= 5]


def test_invalid_config_fails_without_raising(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    from adalora_studio.core.config import with_section

    cfg = with_section(bert_config(tiny_bert_dir, tickets, tmp_path), "budget", target_r=8)
    _, events = _run(cfg)
    assert len(events) == 1 and isinstance(events[0], Failed) and "budget.target_r" in events[0].message
    assert not any(tmp_path.iterdir())  # nothing written for a config that never started


@pytest.mark.parametrize("error, expected", [
    ("oom", "training.batch_size"),
    ("bug", "Unexpected error"),
])
def test_out_of_memory_and_unexpected_errors_end_as_failed(
        tiny_bert_dir: Path, tickets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        error: str, expected: str) -> None:
    import torch

    import adalora_studio.core.training.session as run_setup

    real_build = run_setup.build_peft_model
    forwards = {"n": 0}

    def build_raising_at_forward_3(model, cfg, plan):
        peft_model = real_build(model, cfg, plan)

        def hook(_module, _args):
            forwards["n"] += 1
            if forwards["n"] == 3:
                raise torch.OutOfMemoryError("CUDA out of memory.") if error == "oom" else KeyError("boom")

        peft_model.register_forward_pre_hook(hook)
        return peft_model

    monkeypatch.setattr(run_setup, "build_peft_model", build_raising_at_forward_3)
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=8)
    _, events = _run(cfg)
    failed = events[-1]
    assert isinstance(failed, Failed) and expected in failed.message and "Traceback" in failed.detail
    assert failed.step == 2
    folder = RunFolder(events[0].run_dir)
    assert folder.read_status().state == "failed" and not folder.lock_file.exists()
    assert read_run_events(folder.path)[-1] == failed


def test_processes_with_another_rank_pattern_are_named() -> None:
    """The multi-process agreement check, with an accelerator stand-in whose process 1 holds ``other``."""
    import torch

    from adalora_studio.core.training.processes import (
        pattern_fingerprint,
        pattern_mismatch_message,
        processes_with_other_pattern,
    )

    class TwoProcesses:
        device = torch.device("cpu")
        num_processes = 2

        def __init__(self, other: dict[str, list[bool]]) -> None:
            self.other = other

        def gather(self, tensor: torch.Tensor) -> torch.Tensor:
            return torch.cat([tensor, torch.tensor([[pattern_fingerprint(self.other)]], dtype=torch.long)])

    mine = {"a.query": [True, False, True], "a.value": [False, False, True]}
    assert processes_with_other_pattern(mine, TwoProcesses(dict(mine))) == []
    flipped = {**mine, "a.value": [True, False, False]}  # same total rank, other triplets
    assert processes_with_other_pattern(mine, TwoProcesses(flipped)) == [1]
    assert processes_with_other_pattern(None, TwoProcesses(mine)) == [1]  # no pattern yet vs one: differ
    assert processes_with_other_pattern(None, TwoProcesses({})) == []
    assert "process(es) 1" in pattern_mismatch_message(12, [1]) and "step 12" in pattern_mismatch_message(12, [1])
