"""Run folders: names, atomic files, the event log and listing (the lock: test_runs_lock.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adalora_studio.core import atomic
from adalora_studio.core.config import RunConfig, with_section
from adalora_studio.core.errors import RunError
from adalora_studio.core.events import CheckpointSaved, Finished, LogMessage, StepLogged, event_to_json
from adalora_studio.core.runs import (
    EventLog,
    RunFolder,
    RunLock,
    create_run_folder,
    eventlog,
    follow_events,
    list_runs,
    read_run_events,
    sanitize_run_name,
)
from adalora_studio.core.runs import folder as runs

ROOT = Path(__file__).resolve().parents[2]


def _step(n: int) -> StepLogged:
    return StepLogged(step=n, epoch=n / 10, task_loss=1.0 / n, orth_loss=0.01, lr=1e-3, grad_norm=0.5,
                      samples_per_s=100.0, elapsed_s=float(n), eta_s=10.0 - n, time=1000.0 + n)


# ------------------------------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("my run", "my-run"),
        ("../../etc/passwd", "etc-passwd"),
        ("a/b\\c", "a-b-c"),
        ("", "run"),
        ("   ", "run"),
        ("..", "run"),
        ("...hidden", "hidden"),
        ("name.", "name"),
        ("CON", "run-CON"),
        ("nul.txt", "run-nul.txt"),
        ("tab\there\nnew", "tab-here-new"),
        ("résumé ünïcode 日本", "résumé-ünïcode-日本"),
        ("ﬁle", "file"),  # NFKC folds the ligature
    ],
)
def test_sanitize_run_name(raw: str, expected: str) -> None:
    assert sanitize_run_name(raw) == expected


def test_sanitize_run_name_caps_length_in_bytes_without_splitting_characters() -> None:
    long_ascii = sanitize_run_name("x" * 500)
    assert long_ascii == "x" * runs.MAX_NAME_BYTES
    long_cjk = sanitize_run_name("日" * 100)  # 3 bytes each
    assert len(long_cjk.encode("utf-8")) <= runs.MAX_NAME_BYTES
    assert set(long_cjk) == {"日"} and len(long_cjk) == runs.MAX_NAME_BYTES // 3


def test_sanitized_names_are_always_plain_single_components() -> None:
    for raw in ["../x", "/abs/path", "a/../../b", ".", "-", "..\\..\\win", "\x00nul", "a" * 300 + "/.."]:
        name = sanitize_run_name(raw)
        assert name and "/" not in name and "\\" not in name and not name.startswith(".")
        assert name not in (".", "..") and Path(name).name == name


# ------------------------------------------------------------------------------------------------ folder


def test_create_run_folder_defaults_to_runs_dir_and_writes_config(isolated_home: Path) -> None:
    cfg = RunConfig(name="demo ../run")
    folder = create_run_folder(cfg)
    assert folder.path.parent == isolated_home / "data" / "runs"
    assert folder.name.startswith("demo-run-")
    assert folder.read_config() == cfg
    assert json.loads(folder.run_json.read_text())["name"] == "demo ../run"


def test_create_run_folder_is_unique_within_one_second(tmp_path: Path) -> None:
    cfg = RunConfig(name="same")
    folders = [create_run_folder(cfg, parent=tmp_path) for _ in range(3)]
    assert len({f.path for f in folders}) == 3
    assert all(f.path.parent == tmp_path and f.run_json.is_file() for f in folders)


def test_create_run_folder_uses_output_dir(tmp_path: Path) -> None:
    cfg = RunConfig(name="x", output_dir=str(tmp_path / "out"))
    assert create_run_folder(cfg).path.parent == tmp_path / "out"


def test_read_config_of_a_non_run_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no run.json"):
        RunFolder(tmp_path).read_config()
    with pytest.raises(RunError, match="does not exist"):
        RunFolder.open(tmp_path / "missing")


def test_status_round_trip_and_validation(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    assert folder.read_status() is None
    folder.write_status("running", step=7, message="training", total_steps=100)
    status = folder.read_status()
    assert status is not None
    assert (status.state, status.step, status.message) == ("running", 7, "training")
    assert status.info == {"total_steps": 100}
    assert status.updated.endswith("Z")
    with pytest.raises(ValueError, match="state must be one of"):
        folder.write_status("exploded")


def test_interrupted_atomic_write_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = RunFolder(tmp_path)
    folder.write_status("running", step=3)
    cfg = RunConfig(name="before")
    folder.write_config(cfg)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        folder.write_status("finished", step=10)
    with pytest.raises(OSError, match="power cut"):
        folder.write_config(RunConfig(name="after"))
    monkeypatch.undo()

    assert folder.read_status().state == "running" and folder.read_status().step == 3
    assert folder.read_config().name == "before"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_raising_midway_leaves_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "status.json"
    atomic.atomic_write_text(target, '{"state": "running", "step": 1}')

    def half_then_fail(fh: object) -> None:
        fh.write(b'{"state": "fin')  # type: ignore[attr-defined]
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        atomic.atomic_write_with(target, half_then_fail)
    assert RunFolder(tmp_path).read_status().step == 1


def test_corrupt_status_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "status.json").write_text("{not json")
    with pytest.raises(RunError, match="status.json"):
        RunFolder(tmp_path).read_status()


def test_labels_round_trip(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    assert folder.read_labels() == []
    folder.write_labels(["billing", "bug", "login"])
    assert folder.read_labels() == ["billing", "bug", "login"]
    folder.labels_json.write_text(json.dumps({"id2label": {"1": "b", "0": "a", "10": "k"}}))
    assert folder.read_labels() == ["a", "b", "k"]


def test_checkpoints_sorted_by_step_and_partial_ones_skipped(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    assert folder.list_checkpoints() == [] and folder.latest_checkpoint() is None
    for step in (120, 5, 40, 1000):
        folder.checkpoint_path(step).mkdir(parents=True)
        (folder.checkpoint_path(step) / "state.json").write_text("{}")
    folder.checkpoint_path(2000).mkdir()  # being written: no state.json yet
    (folder.checkpoints_dir / ".step-00003000.tmp").mkdir()
    names = [p.name for p in folder.list_checkpoints()]
    assert names == ["step-00000005", "step-00000040", "step-00000120", "step-00001000"]
    assert folder.latest_checkpoint() == folder.checkpoint_path(1000)


# ------------------------------------------------------------------------------------------------ events


def test_event_log_round_trip_and_torn_last_line(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    with EventLog(folder.events_jsonl) as log:
        for n in (1, 2, 3):
            log.append(_step(n))
        log.append(CheckpointSaved(step=3, path="ckpt", time=5.0))
    with open(folder.events_jsonl, "ab") as fh:
        fh.write(b'{"event":"step","step":4,"epo')  # crash mid-write
    events = read_run_events(tmp_path)
    assert events == [_step(1), _step(2), _step(3), CheckpointSaved(step=3, path="ckpt", time=5.0)]
    assert read_run_events(folder.events_jsonl) == events

    # A resumed run appends after the torn fragment without gluing its first event to it.
    with EventLog(folder.events_jsonl) as log:
        log.append(_step(4))
    assert read_run_events(folder) == events + [_step(4)]


def test_event_log_flushes_each_line_without_fsync_and_syncs_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(eventlog.os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.append(_step(1))
    log.append(_step(2))
    assert calls == []
    assert len(read_run_events(path)) == 2  # flushed: visible to a reader already
    log.append(CheckpointSaved(step=2, path="c", time=1.0))
    assert len(calls) == 1
    log.append(Finished(step=2, run_dir="r", adapter_dir="a", metrics={"accuracy": 1.0}, time=2.0))
    assert len(calls) == 2
    log.sync()
    assert len(calls) == 3
    log.close()


def test_read_run_events_missing(tmp_path: Path) -> None:
    assert read_run_events(tmp_path) == []
    with pytest.raises(RunError, match="does not exist"):
        read_run_events(tmp_path / "nope")


def test_follow_events_reads_only_new_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert follow_events(path, 0) == ([], 0)
    log = EventLog(path)
    log.append(_step(1))
    log.append(_step(2))
    events, offset = follow_events(path, 0)
    assert events == [_step(1), _step(2)] and offset == path.stat().st_size

    assert follow_events(path, offset) == ([], offset)
    line3 = (event_to_json(_step(3)) + "\n").encode()
    with open(path, "ab") as fh:  # a writer half-way through a line
        fh.write(line3[:10])
    assert follow_events(path, offset) == ([], offset)
    with open(path, "ab") as fh:
        fh.write(line3[10:])
    log.append(LogMessage(level="info", message="hello", time=3.0))
    events, offset2 = follow_events(path, offset)
    assert events == [_step(3), LogMessage(level="info", message="hello", time=3.0)]
    assert offset2 == path.stat().st_size
    log.close()

    # The file was replaced by a shorter one: start again from the top.
    path.write_text(event_to_json(_step(9)) + "\n")
    assert follow_events(path, offset2) == ([_step(9)], path.stat().st_size)


def test_follow_events_does_not_reread_old_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        for n in range(1, 50):
            log.append(_step(n))
    _, offset = follow_events(path, 0)
    with EventLog(path) as log:
        log.append(_step(50))
    read_sizes: list[int] = []
    real_open = open

    class Spy:
        def __init__(self, fh: object) -> None:
            self._fh = fh

        def read(self, n: int = -1) -> bytes:
            data = self._fh.read(n)  # type: ignore[attr-defined]
            read_sizes.append(len(data))
            return data

        def __getattr__(self, name: str) -> object:
            return getattr(self._fh, name)

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self._fh.close()  # type: ignore[attr-defined]

    monkeypatch.setattr("builtins.open", lambda *a, **k: Spy(real_open(*a, **k)))
    events, _ = follow_events(path, offset)
    assert events == [_step(50)]
    assert sum(read_sizes) == len(event_to_json(_step(50))) + 1


# -------------------------------------------------------------------------------------------------- list


def test_list_runs(tmp_path: Path) -> None:
    assert list_runs(tmp_path / "none") == []
    cfg = with_section(RunConfig(name="alpha"), "model", source="folder", path="/models/tiny")
    a = create_run_folder(cfg, parent=tmp_path)
    a.write_status("finished", step=30, message="done")
    b = create_run_folder(RunConfig(name="beta", task="causal-lm"), parent=tmp_path)
    b.write_status("running", step=4)  # nobody holds its lock: the process died
    c = create_run_folder(RunConfig(name="gamma"), parent=tmp_path)
    (tmp_path / "not-a-run").mkdir()
    (c.status_json).write_text("garbage")

    rows = {r.name: r for r in list_runs(tmp_path)}
    assert set(rows) == {"alpha", "beta", "gamma"}
    assert (rows["alpha"].status, rows["alpha"].step, rows["alpha"].model) == ("finished", 30, "/models/tiny")
    assert rows["alpha"].task == "text-classification" and rows["alpha"].message == "done"
    assert rows["beta"].status == "interrupted" and rows["beta"].task == "causal-lm"
    assert rows["beta"].model == "bundled"
    assert rows["gamma"].status == "unreadable"
    assert abs(rows["alpha"].created - os.path.getmtime(a.run_json)) < 5

    with RunLock(b, app="cli"):
        assert {r.name: r for r in list_runs(tmp_path)}["beta"].status == "running"
