"""Damaged run files are reported, never passed over silently: event log lines, run.json, checkpoint state."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from adalora_studio.core.config import RunConfig
from adalora_studio.core.errors import RunError
from adalora_studio.core.events import SkippedLine, StepLogged, describe_skipped, event_to_json, read_events
from adalora_studio.core.runs import EventLog, RunFolder, create_run_folder, follow_events, list_runs, read_run_events
from adalora_studio.core.training.checkpoint import TrainState, load_checkpoint, save_checkpoint
from tests.core.engine_fixtures import (
    hand_built_adalora,
    torch_single_thread,  # noqa: F401  (autouse fixture)
    train_by_hand,
)


def _step(n: int) -> StepLogged:
    return StepLogged(step=n, epoch=0.1 * n, task_loss=1.0 / n, orth_loss=0.0, lr=1e-3, grad_norm=0.5,
                      samples_per_s=10.0, elapsed_s=float(n), eta_s=0.0, time=float(n))


def test_damaged_lines_are_counted_and_a_torn_last_line_is_told_apart() -> None:
    lines = [event_to_json(_step(1)), "{not json", event_to_json(_step(2)), '{"event": "nope"}',
             event_to_json(_step(3)), event_to_json(_step(4))[:20]]
    skipped: list[SkippedLine] = []
    assert list(read_events(lines, skipped)) == [_step(1), _step(2), _step(3)]
    assert [(s.line, s.last) for s in skipped] == [(2, False), (4, False), (6, True)]
    message = describe_skipped("events.jsonl", skipped)
    assert message.startswith("events.jsonl: 2 lines could not be read and were skipped (line 2, 4;")
    assert describe_skipped("events.jsonl", skipped[-1:]) == ""  # a torn last line alone is not damage


def test_read_run_events_says_what_it_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = RunFolder(tmp_path)
    with EventLog(folder.events_jsonl) as log:
        log.append(_step(1))
    with folder.events_jsonl.open("a", encoding="utf-8") as fh:
        fh.write("garbage in the middle\n")
    with EventLog(folder.events_jsonl) as log:
        log.append(_step(2))
    skipped: list[SkippedLine] = []
    with caplog.at_level(logging.WARNING, logger="adalora_studio.core.runs.eventlog"):
        assert read_run_events(folder, skipped) == [_step(1), _step(2)]
    assert [s.line for s in skipped] == [2]
    assert "1 line could not be read and was skipped (line 2" in caplog.text
    assert str(folder.events_jsonl) in caplog.text

    caplog.clear()
    skipped = []
    with caplog.at_level(logging.WARNING, logger="adalora_studio.core.runs.eventlog"):
        events, _ = follow_events(folder.events_jsonl, 0, skipped)
    assert events == [_step(1), _step(2)] and len(skipped) == 1 and "could not be read" in caplog.text


def test_a_broken_run_json_says_why_in_the_run_list(tmp_path: Path) -> None:
    good = create_run_folder(RunConfig(name="good"), parent=tmp_path)
    good.write_status("finished", step=3)
    broken = create_run_folder(RunConfig(name="broken"), parent=tmp_path)
    broken.write_status("finished", step=3)
    broken.run_json.write_text('{"name": "broken", ', encoding="utf-8")
    listed = create_run_folder(RunConfig(name="listed"), parent=tmp_path)
    listed.run_json.write_text("[1, 2]", encoding="utf-8")

    rows = {r.path.name: r for r in list_runs(tmp_path)}
    assert rows[good.name].status == "finished" and rows[good.name].message == ""
    row = rows[broken.name]
    assert row.status == "unreadable"
    assert str(broken.run_json) in row.message and "JSONDecodeError" in row.message
    assert rows[listed.name].status == "unreadable" and "not a JSON object" in rows[listed.name].message


@pytest.mark.parametrize(("change", "words"), [
    (lambda s: {**s, "tokens_seen": 10}, "unknown fields tokens_seen"),
    (lambda s: {k: v for k, v in s.items() if k != "samples_seen"}, "missing fields samples_seen"),
])
def test_a_checkpoint_from_another_version_cannot_resume_clearly(tiny_bert_dir: Path, tmp_path: Path, change,
                                                                 words: str) -> None:
    import torch

    model = hand_built_adalora(tiny_bert_dir, total_step=20, tinit=2, tfinal=4, delta_t=2)
    opt = train_by_hand(model, steps=2)
    sched = torch.optim.lr_scheduler.LinearLR(opt, total_iters=20)
    ckpt = save_checkpoint(tmp_path, model=model, optimizer=opt, scheduler=sched, state=TrainState(global_step=2))
    doc = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
    doc["state"] = change(doc["state"])
    (ckpt / "state.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(RunError, match="cannot resume this checkpoint") as info:
        load_checkpoint(ckpt)
    assert words in str(info.value) and str(ckpt) in str(info.value)
