"""The run library: listing, incremental rescans, search and sort, tags and names, broken folders, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adalora_studio.core.config import RunConfig
from adalora_studio.core.errors import RunError
from adalora_studio.core.events import EvalLogged, Finished, event_to_json
from adalora_studio.core.runs import (
    RunLibrary,
    create_run_folder,
    delete_run,
    filter_entries,
    rename_run,
    set_tags,
    sort_entries,
)
from adalora_studio.core.runs import library as library_module


def _run(root: Path, name: str, method: str = "adalora", accuracy: float | None = None,
         in_status: bool = True) -> Path:
    cfg = RunConfig(name=name, method=method, output_dir=str(root))
    folder = create_run_folder(cfg)
    if accuracy is not None:
        metrics = {"accuracy": accuracy, "macro_f1": accuracy - 0.1}
        info = {"metrics": metrics} if in_status else {}
        folder.write_status("finished", step=10, elapsed_s=12.5, **info)
        lines = [event_to_json(EvalLogged(step=10, eval_loss=0.5, metrics=metrics)),
                 event_to_json(Finished(step=10, run_dir=str(folder.path), adapter_dir="", metrics=metrics))]
        folder.events_jsonl.write_text("\n".join(lines) + "\n")
    return folder.path


def test_the_library_lists_filters_sorts_and_names_runs(tmp_path: Path) -> None:
    a = _run(tmp_path, "tickets-adalora", accuracy=0.81)
    b = _run(tmp_path, "tickets-lora", method="lora", accuracy=0.86, in_status=False)  # metric from events.jsonl
    c = _run(tmp_path, "poems")
    (tmp_path / "comparisons" / "cmp-x").mkdir(parents=True)  # not a run folder: not listed
    lib = RunLibrary(tmp_path)
    entries = {e.path: e for e in lib.entries()}
    assert set(entries) == {a, b, c}
    assert entries[a].metric == pytest.approx(0.81) and entries[a].metric_name == "accuracy"
    assert entries[b].metric == pytest.approx(0.86) and entries[b].method == "lora"
    assert entries[b].budget == "LoRA (matched)" and entries[a].budget == "r 12→8"
    assert entries[c].status == "new" and entries[c].metric is None
    assert entries[a].duration_s == 12.5 and entries[a].status == "finished"

    assert [e.path for e in filter_entries(list(entries.values()), "tickets")] in ([a, b], [b, a])
    assert [e.path for e in filter_entries(list(entries.values()), method="lora")] == [b]
    assert [e.path for e in sort_entries(list(entries.values()), "metric", reverse=True)] == [b, a, c]

    rename_run(a, "best so far")
    set_tags(a, ["keep", "paper ", "keep"])
    renamed = {e.path: e for e in lib.entries()}[a]
    assert renamed.name == "best so far" and renamed.tags == ("keep", "paper")
    assert json.loads((a / "run.json").read_text())["name"] == "tickets-adalora"  # the run's record is unchanged
    assert [e.path for e in filter_entries(lib.entries(), "paper")] == [a]


def test_a_rescan_reads_only_changed_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [_run(tmp_path, f"r{i}", accuracy=0.5) for i in range(5)]
    lib = RunLibrary(tmp_path)
    assert len(lib.entries()) == 5
    read: list[Path] = []
    original = library_module.read_entry
    monkeypatch.setattr(library_module, "read_entry", lambda p: read.append(Path(p)) or original(p))
    assert len(lib.entries()) == 5 and read == []
    rename_run(paths[2], "changed")
    assert {e.name for e in lib.entries()} >= {"changed"} and read == [paths[2]]


def test_broken_folders_are_listed_with_their_problem(tmp_path: Path) -> None:
    no_config = tmp_path / "lost-20260101-000000"
    no_config.mkdir()
    (no_config / "events.jsonl").write_text("")
    bad_json = _run(tmp_path, "bad")
    (bad_json / "run.json").write_text("{not json")
    bad_status = _run(tmp_path, "status")
    (bad_status / "status.json").write_text("[]")
    entries = {e.path: e for e in RunLibrary(tmp_path).entries()}
    assert entries[no_config].status == "broken" and "no run.json" in entries[no_config].problem
    assert entries[bad_json].status == "broken" and "run.json cannot be read" in entries[bad_json].problem
    assert entries[bad_status].status == "broken" and "status.json" in entries[bad_status].problem
    assert [e.path for e in filter_entries(list(entries.values()), "config missing")] == [no_config]


def test_delete_moves_the_run_to_the_trash_and_refuses_a_run_in_use(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    runs = tmp_path / "runs"
    path = _run(runs, "old", accuracy=0.7)
    delete_run(path)
    assert not path.exists()
    trashed = tmp_path / "xdg" / "Trash" / "files" / path.name
    assert (trashed / "run.json").is_file()
    info = (tmp_path / "xdg" / "Trash" / "info" / f"{path.name}.trashinfo").read_text()
    assert info.startswith("[Trash Info]\nPath=") and path.name in info
    assert RunLibrary(runs).entries() == []

    busy = _run(runs, "busy")
    from adalora_studio.core.runs import RunFolder

    with RunFolder(busy).lock(app="test"):
        with pytest.raises(RunError, match="in use"):
            delete_run(busy, trash=lambda p: pytest.fail("must not delete a run in use"))
    with pytest.raises(RunError, match="not a run folder"):
        delete_run(tmp_path / "xdg")
