"""One writer per run folder, seen from the GUI: while the CLI (another process) holds a run, resuming it in the
window is refused with a message naming the holder, and nothing is written into the run's folder."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from adalora_studio.core.events import Failed, Stopped, StopToken
from adalora_studio.core.runs import RunFolder, read_run_events
from adalora_studio.core.training import Engine
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.worker import TorchWorker
from tests.core.engine_fixtures import bert_config, small_classification_csv

ROOT = Path(__file__).resolve().parents[2]

HOLD_LOCK = (
    "import sys; sys.path.insert(0, sys.argv[1])\n"
    "from adalora_studio.core.runs.folder import RunFolder\n"
    "lock = RunFolder(sys.argv[2]).lock(app='cli').acquire()\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"
    "lock.release()\n"
)


@pytest.fixture
def stopped_run(tiny_bert_dir: Path, tmp_path: Path) -> RunFolder:
    """A run stopped before its first step (it has a checkpoint, so it can be resumed)."""
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs", max_steps=4)
    stop = StopToken()
    stop.request_stop()
    events = list(Engine(cfg, stop).events())
    assert isinstance(events[-1], Stopped), events[-1]
    return RunFolder(events[0].run_dir)


@pytest.fixture
def cli_holder(stopped_run: RunFolder) -> Iterator[subprocess.Popen[str]]:
    """Another process (as the CLI would be) holding the run's lock until the test ends."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(ROOT), str(stopped_run.path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held", proc.stderr.read()
        yield proc
    finally:
        proc.communicate("", timeout=60)


def test_resume_in_the_gui_while_the_cli_holds_the_run_names_the_holder(
    qtbot, isolated_home: Path, stopped_run: RunFolder, cli_holder: subprocess.Popen[str]  # noqa: ANN001
) -> None:
    n_events = len(read_run_events(stopped_run.path))
    window = MainWindow(worker=TorchWorker())
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.worker.run_finished, timeout=120_000) as blocker:
            window.resume_run(str(stopped_run.path))
        assert isinstance(blocker.args[0], Failed)
        notices = [b for b in window.findChildren(QMessageBox) if b.objectName() == "notice"]
        assert notices, "the refusal was not shown to the user"
        text = notices[-1].text()
        assert "in use by the CLI" in text and f"pid {cli_holder.pid}" in text, text
        assert str(stopped_run.lock_file) in text  # and what to do if that program is gone
        assert len(read_run_events(stopped_run.path)) == n_events  # nothing written into the held run
        assert stopped_run.read_status().state == "stopped"
    finally:
        window.close()
        assert window.worker.shutdown(30_000)
