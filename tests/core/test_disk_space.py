"""A full or unwritable disk: checked up front, and a write that fills the disk says where, how much is needed and
how much is free, removes its partial files and leaves the last good checkpoint, adapter and export alone."""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from adalora_studio.cli import EXIT_INVALID, main
from adalora_studio.core.config import save_config, with_section
from adalora_studio.core.errors import ConfigError, ModelError
from adalora_studio.core.events import CheckpointSaved, Failed
from adalora_studio.core.export.publish import publish_dir
from adalora_studio.core.runs import RunFolder, latest_checkpoint, list_checkpoints, writable_problem
from adalora_studio.core.training import Engine, load_checkpoint, validate_run
from adalora_studio.core.training.disk import space_needed
from tests.core.engine_fixtures import (
    bert_config,
    hand_built_adalora,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


def _enospc(path: object = None) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), None if path is None else str(path))


@pytest.fixture
def read_only_folder(tmp_path: Path):  # noqa: ANN201
    """A folder run folders cannot be created in (permissions; root ignores them, so then a sysfs folder)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if writable_problem(folder) is None:  # running as root
            sysfs = Path("/sys/kernel")
            if not sysfs.is_dir() or writable_problem(sysfs) is None:
                pytest.skip("no read-only folder available here")
            yield sysfs / "adalora-runs"
        else:
            yield folder
    finally:
        folder.chmod(0o755)


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_classification_csv(tmp_path_factory.mktemp("data"))


# ------------------------------------------------------------------------------------------------ up front


def test_validate_refuses_a_read_only_runs_folder(tiny_bert_dir: Path, tickets: Path, tmp_path: Path,
                                                  read_only_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = bert_config(tiny_bert_dir, tickets, read_only_folder)
    path = tmp_path / "run.json"
    save_config(cfg, path)
    assert main(["validate", str(path)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "output_dir" in err and str(read_only_folder) in err
    assert "not writable" in err or "cannot be created" in err
    events = list(Engine(cfg).events())  # the engine refuses before loading anything
    assert len(events) == 1 and isinstance(events[0], Failed) and "output_dir" in events[0].message


def test_validate_refuses_a_runs_folder_without_room(tiny_bert_dir: Path, tickets: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import adalora_studio.core.runs.space as space

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(space.shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 1500, 1500))
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path / "runs")
    with pytest.raises(ConfigError) as info:
        validate_run(cfg)
    message = str(info.value)
    assert "output_dir" in message and "1.5 kB free" in message and "needs about" in message
    monkeypatch.undo()
    assert validate_run(cfg).plan.total_steps == 16  # with room, the same config is fine


def test_space_estimate_counts_rotating_checkpoints_and_the_adapter() -> None:
    need = space_needed(1000, keep_checkpoints=2)
    assert (need.adapter, need.checkpoint) == (4000, 24000)
    assert need.total == 3 * 24000 + 4000 + 2_000_000


# ------------------------------------------------------------------------------------------------ mid-run


def test_a_full_disk_during_a_checkpoint(tiny_bert_dir: Path, tickets: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import adalora_studio.core.training.checkpoint as checkpoint

    real_write = checkpoint.atomic_write_bytes

    def fill_the_disk_at_step_8(path: Path, data: bytes) -> None:
        if Path(path).parent.name == ".tmp-step-00000008" and Path(path).name == "optimizer.pt":
            raise _enospc()  # the weights are already written into the temporary folder
        real_write(path, data)

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", fill_the_disk_at_step_8)
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path / "runs", max_steps=16, checkpoint_every=4)
    events = list(Engine(cfg).events())
    failed = events[-1]
    assert isinstance(failed, Failed), failed
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [4]
    run = RunFolder(Path(failed.checkpoint).parents[1])
    assert failed.step == 8
    message = failed.message
    assert "The disk is full: the checkpoint after optimizer step 8 could not be written" in message
    assert str(run.path) in message and "needs about" in message and "is free" in message
    assert "step 9" not in message  # the step was 8 (it used to say "optimizer step 9")
    assert "step-00000004" in message and failed.checkpoint.endswith("step-00000004")
    assert not list(run.checkpoints_dir.glob(".tmp-*"))  # no half-written folder is left behind
    assert [p.name for p in list_checkpoints(run.checkpoints_dir)] == ["step-00000004"]
    assert load_checkpoint(latest_checkpoint(run.checkpoints_dir)).state.global_step == 4
    assert run.read_status().state == "failed"


def test_a_full_disk_while_saving_the_adapter_keeps_the_old_one(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from adalora_studio.core.adalora import save_adapter

    model = hand_built_adalora(tiny_bert_dir)
    adapter_dir = tmp_path / "adapter"
    save_adapter(model, adapter_dir)
    before = {p.name: p.read_bytes() for p in adapter_dir.iterdir()}
    real_save = model.save_pretrained

    def save_then_fill(folder: str, **kw: object) -> None:
        real_save(folder, **kw)
        raise _enospc(Path(folder) / "adapter_model.safetensors")

    model.save_pretrained = save_then_fill
    with pytest.raises(OSError):
        save_adapter(model, adapter_dir)
    assert {p.name: p.read_bytes() for p in adapter_dir.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]  # the temporary copy was removed


def test_a_full_disk_during_an_export_keeps_the_last_export(tmp_path: Path) -> None:
    out = tmp_path / "exports" / "lora"
    publish_dir(lambda d: (d / "adapter_config.json").write_text(json.dumps({"r": 4})), out)
    source = tmp_path / "adapter"
    source.mkdir()
    (source / "adapter_model.safetensors").write_bytes(b"x" * 5000)

    def fill(staging: Path) -> None:
        (staging / "adapter_model.safetensors").write_bytes(b"y" * 1200)
        raise _enospc(staging / "adapter_model.safetensors")

    with pytest.raises(ModelError) as info:
        publish_dir(fill, out, protect=source)
    message = str(info.value)
    assert "disk is full" in message and str(out.parent) in message
    assert "5.0 kB" in message and "is free" in message
    assert json.loads((out / "adapter_config.json").read_text()) == {"r": 4}
    assert sorted(p.name for p in out.parent.iterdir()) == ["lora"]  # the staging folder is gone
    shutil.rmtree(out)


def test_the_step_of_an_unexpected_error_outside_a_step_is_named(tiny_bert_dir: Path, tickets: Path,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import adalora_studio.core.training.engine as engine

    def broken_save(*_a: object, **_k: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(engine, "save_checkpoint", broken_save)
    cfg = with_section(bert_config(tiny_bert_dir, tickets, tmp_path / "runs", max_steps=16), "training",
                       checkpoint_every=4)
    failed = list(Engine(cfg).events())[-1]
    assert isinstance(failed, Failed) and failed.step == 4
    assert failed.message == "Unexpected error during the checkpoint after optimizer step 4: ValueError: boom"
