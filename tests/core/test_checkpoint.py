"""Exact checkpoint save/restore of a peft AdaLoRA model mid-budget (built directly with peft)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from adalora_studio.core.adalora import read_rank_pattern
from adalora_studio.core.errors import RunError
from adalora_studio.core.runs import latest_checkpoint, list_checkpoints
from adalora_studio.core.training.checkpoint import (
    TrainState,
    capture_rng,
    load_checkpoint,
    restore_model_state,
    restore_rng,
    save_checkpoint,
)
from tests.core.engine_fixtures import (
    hand_built_adalora,
    random_batch,
    torch_single_thread,  # noqa: F401  (autouse fixture)
    train_by_hand,
)


def _continue(model, opt, sched, start: int, steps: int) -> None:
    for i in range(start, start + steps):
        out = model(**random_batch(model, seed=100 + i))
        out.loss.backward()
        opt.step()
        sched.step()
        model.base_model.update_and_allocate(i)
        opt.zero_grad()


def _make(model_dir: Path):
    import torch

    model = hand_built_adalora(model_dir, total_step=20, tinit=2, tfinal=4, delta_t=2)
    model.eval()  # no dropout: the continuation below must be bitwise reproducible without RNG restore
    opt = train_by_hand(model, steps=7)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=20)
    return model, opt, sched


def test_resume_from_checkpoint_is_exact(tiny_bert_dir: Path, tmp_path: Path) -> None:
    import torch

    model, opt, sched = _make(tiny_bert_dir)
    assert read_rank_pattern(model) is not None  # mid-budget: masks happened, EMAs are live
    state = TrainState(global_step=7, epoch=1, batch_in_epoch=3, elapsed_s=1.5, total_steps=20,
                       last_scores={"m": [1.0, 2.0]})
    path = save_checkpoint(tmp_path / "checkpoints", model=model, optimizer=opt, scheduler=sched, state=state)
    assert path.name == "step-00000007"

    # a fresh model (different init) restored from the checkpoint continues exactly like the original
    other = hand_built_adalora(tiny_bert_dir, total_step=20, tinit=2, tfinal=4, delta_t=2, seed=123)
    other.eval()
    other_opt = torch.optim.AdamW([p for p in other.parameters() if p.requires_grad], lr=1e-2)
    other_sched = torch.optim.lr_scheduler.LinearLR(other_opt, start_factor=1.0, end_factor=0.1, total_iters=20)
    ckpt = load_checkpoint(path)
    restore_model_state(other, ckpt)
    other_opt.load_state_dict(ckpt.optimizer)
    other_sched.load_state_dict(ckpt.scheduler)
    assert ckpt.state == state

    _continue(model, opt, sched, start=7, steps=13)  # through the final mask at 16 and the final phase
    _continue(other, other_opt, other_sched, start=7, steps=13)
    assert read_rank_pattern(other) == read_rank_pattern(model)
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert len(trained) == len(ckpt.trainable)
    others = dict(other.named_parameters())
    for name, p in trained:  # frozen weights (the base, the head's original copy) are not in a checkpoint
        assert torch.equal(p, others[name]), name


def test_full_size_weights_are_saved_not_sliced(tiny_bert_dir: Path, tmp_path: Path) -> None:
    model, opt, sched = _make(tiny_bert_dir)
    path = save_checkpoint(tmp_path, model=model, optimizer=opt, scheduler=sched, state=TrainState(global_step=7))
    ckpt = load_checkpoint(path)
    e_keys = [k for k in ckpt.trainable if "lora_E" in k]
    assert e_keys and all(ckpt.trainable[k].shape[0] == 4 for k in e_keys)
    assert any("classifier" in k for k in ckpt.trainable)  # modules_to_save head included
    assert set(ckpt.allocator) == {"ipt", "exp_avg_ipt", "exp_avg_unc"} and ckpt.allocator["exp_avg_ipt"]


def test_keep_last_n_and_incomplete_folders_are_ignored(tiny_bert_dir: Path, tmp_path: Path) -> None:
    model, opt, sched = _make(tiny_bert_dir)
    root = tmp_path / "checkpoints"
    for step in (2, 4, 6):
        save_checkpoint(root, model=model, optimizer=opt, scheduler=sched, state=TrainState(global_step=step), keep=2)
    assert [p.name for p in list_checkpoints(root)] == ["step-00000004", "step-00000006"]
    (root / "step-00000009").mkdir()  # a crash before state.json: not a checkpoint
    (root / ".tmp-step-00000010").mkdir()
    assert latest_checkpoint(root).name == "step-00000006"
    (root / "step-00000006" / "optimizer.pt").unlink()
    with pytest.raises(RunError, match="incomplete"):
        load_checkpoint(root / "step-00000006")


def test_a_save_interrupted_midway_leaves_the_previous_checkpoints(tiny_bert_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import adalora_studio.core.training.checkpoint as checkpoint

    model, opt, sched = _make(tiny_bert_dir)
    root = tmp_path / "checkpoints"
    for step in (2, 4):
        save_checkpoint(root, model=model, optimizer=opt, scheduler=sched, state=TrainState(global_step=step), keep=2)

    def disk_full() -> None:  # after the weights and optimizer state were written into the temporary folder
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "capture_rng", disk_full)
    with pytest.raises(OSError):
        save_checkpoint(root, model=model, optimizer=opt, scheduler=sched, state=TrainState(global_step=6), keep=2)
    assert not (root / ".tmp-step-00000006").exists()  # the half-written folder is removed at once
    assert [p.name for p in list_checkpoints(root)] == ["step-00000002", "step-00000004"]
    assert load_checkpoint(latest_checkpoint(root)).state.global_step == 4
    monkeypatch.undo()
    (root / ".tmp-step-00000007").mkdir()  # one left by a crash (no chance to clean up) ...
    save_checkpoint(root, model=model, optimizer=opt, scheduler=sched, state=TrainState(global_step=8), keep=2)
    assert not list(root.glob(".tmp-*"))  # ... is cleaned up by the next save
    assert [p.name for p in list_checkpoints(root)] == ["step-00000004", "step-00000008"]


def test_restore_refuses_a_different_model(tiny_bert_dir: Path, tmp_path: Path) -> None:
    model, opt, sched = _make(tiny_bert_dir)
    path = save_checkpoint(tmp_path, model=model, optimizer=opt, scheduler=sched, state=TrainState(global_step=7))
    bigger = hand_built_adalora(tiny_bert_dir, init_r=6, target_r=2)
    with pytest.raises(RunError, match="shape"):
        restore_model_state(bigger, load_checkpoint(path))


def test_rng_states_round_trip() -> None:
    import numpy as np
    import torch

    tensors, plain = capture_rng()
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    restore_rng({**tensors, **plain})
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected
