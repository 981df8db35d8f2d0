"""Precision and memory options on CPU: gradient checkpointing, the fp16 scaler's skipped step, bf16, 4-bit."""

from __future__ import annotations

from pathlib import Path

import pytest

from adalora_studio.core.adalora import read_rank_pattern
from adalora_studio.core.events import Failed, Finished, LogMessage, RunStarted, StepLogged
from adalora_studio.core.training import Engine
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_classification_csv(tmp_path_factory.mktemp("data"))


def _run(cfg) -> tuple[Engine, list]:
    engine = Engine(cfg)
    return engine, list(engine.events())


def test_gradient_checkpointing_leaves_results_unchanged(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    import torch

    plain_engine, plain = _run(bert_config(tiny_bert_dir, tickets, tmp_path / "a", max_steps=8))
    ckpt_engine, ckpt = _run(bert_config(tiny_bert_dir, tickets, tmp_path / "b", max_steps=8,
                                         gradient_checkpointing=True))
    assert isinstance(plain[-1], Finished) and isinstance(ckpt[-1], Finished), (plain[-1], ckpt[-1])
    assert ckpt_engine.session.model.base_model.model.is_gradient_checkpointing
    assert not plain_engine.session.model.base_model.model.is_gradient_checkpointing
    losses = [[e.task_loss for e in events if isinstance(e, StepLogged)] for events in (plain, ckpt)]
    assert losses[1] == pytest.approx(losses[0], abs=1e-5)
    assert read_rank_pattern(ckpt_engine.session.peft_model) == read_rank_pattern(plain_engine.session.peft_model)
    ref = dict(plain_engine.session.peft_model.named_parameters())
    for name, p in ckpt_engine.session.peft_model.named_parameters():
        assert torch.allclose(p, ref[name], atol=1e-5), name


def _fp16_accelerator_on_cpu(monkeypatch: pytest.MonkeyPatch) -> list:
    """The session's accelerator with a real torch GradScaler and fp16 autocast, on CPU (accelerate only does it on
    a GPU). Everything else - scaling the loss, unscaling in clip_grad_norm_, the scaler's step - is accelerate's."""
    import torch

    import adalora_studio.core.training.session as session

    made = []

    def make(training, hardware):
        from accelerate import Accelerator
        from accelerate.state import AcceleratorState, GradientState

        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
        acc = Accelerator(gradient_accumulation_steps=training.grad_accum, mixed_precision="fp16", cpu=True)
        acc.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
        acc.native_amp = True
        made.append(acc)
        return acc

    monkeypatch.setattr(session, "make_accelerator", make)
    return made


def _inf_at_forward(monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    import adalora_studio.core.training.session as session

    real_build = session.build_peft_model
    forwards = {"n": 0}

    def build(model, cfg, plan):
        peft_model = real_build(model, cfg, plan)

        def hook(_module, _args, output):
            forwards["n"] += 1
            if forwards["n"] == at and output.loss is not None:
                output.loss = output.loss * float("inf")
            return output

        peft_model.register_forward_hook(hook)
        return peft_model

    monkeypatch.setattr(session, "build_peft_model", build)


def test_fp16_scaler_skips_an_inf_step_and_goes_on(tiny_bert_dir: Path, tickets: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    made = _fp16_accelerator_on_cpu(monkeypatch)
    _inf_at_forward(monkeypatch, at=5)
    engine, events = _run(bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=10))
    assert isinstance(events[-1], Finished), events[-1]
    steps = [e for e in events if isinstance(e, StepLogged)]
    assert [e.step for e in steps] == list(range(1, 11))  # every planned update still happened
    assert [e.skipped_steps for e in steps] == [0] * 4 + [1] * 6
    skipped = [e for e in events if isinstance(e, LogMessage) and "skipped" in e.message]
    assert len(skipped) == 1 and "step 5 skipped" in skipped[0].message and "scale to 128" in skipped[0].message
    assert made[0].scaler.get_scale() < 2.0**8  # the scaler saw the overflow
    assert all(e.cuda_memory_mb is None and e.cuda_peak_mb is None for e in steps)  # CPU: no CUDA figures
    assert engine.session.accelerator is made[0]


def test_without_a_scaler_an_inf_step_still_fails(tiny_bert_dir: Path, tickets: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _inf_at_forward(monkeypatch, at=3)
    _, events = _run(bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=6))
    assert isinstance(events[-1], Failed) and "step 3" in events[-1].message


def test_bf16_autocast_runs_on_cpu(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    import math

    _, events = _run(bert_config(tiny_bert_dir, tickets, tmp_path, max_steps=4, precision="bf16"))
    assert isinstance(events[-1], Finished), events[-1]
    assert next(e for e in events if isinstance(e, RunStarted)).precision == "bf16"
    assert all(math.isfinite(e.task_loss) for e in events if isinstance(e, StepLogged))


def test_4bit_base_needs_a_gpu_and_cannot_be_merged(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    import dataclasses

    from adalora_studio.core.errors import ModelError
    from adalora_studio.core.export import export_merged

    cfg = bert_config(tiny_bert_dir, tickets, tmp_path)
    cfg = cfg.replace(model=dataclasses.replace(cfg.model, load_in_4bit=True))
    _, events = _run(cfg)
    assert len(events) == 1 and isinstance(events[0], Failed) and "model.load_in_4bit" in events[0].message
    with pytest.raises(ModelError, match="4-bit.*cannot merge"):
        export_merged(tmp_path / "some-adapter", model_cfg=cfg.model)
