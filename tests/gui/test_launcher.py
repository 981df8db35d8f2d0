"""The app's multi-process launcher with 2 CPU processes (torchrun, gloo): Finished, stop then resume, a killed rank."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from adalora_studio.core.config import save_config
from adalora_studio.core.events import Failed, Finished, StepLogged, Stopped
from adalora_studio.core.runs import read_run_events
from adalora_studio.gui.launcher import LOG_NAME, ProcessLauncher
from tests.core.engine_fixtures import bert_config, small_classification_csv

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 300_000  # two torch processes on a small, shared machine


@pytest.fixture()
def run_json(tiny_bert_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the child processes import this checkout
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(ROOT)

    def make(max_steps: int, port: int) -> tuple:
        cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs",
                          max_steps=max_steps, checkpoint_every=1)
        path = tmp_path / "run.json"
        save_config(cfg, path)
        return cfg, path, port

    return make


def _collect(launcher: ProcessLauncher) -> list:
    seen: list = []
    launcher.events.connect(seen.extend)
    return seen


def test_two_cpu_processes_run_to_finished(qtbot, run_json) -> None:  # noqa: ANN001
    cfg, path, port = run_json(4, 29631)
    launcher = ProcessLauncher()
    seen = _collect(launcher)
    with qtbot.waitSignal(launcher.ended, timeout=TIMEOUT_MS) as ended:
        launcher.start(cfg, path, 2, cpu=True, port=port)
    assert isinstance(ended.args[0], Finished), ended.args[0]
    assert [e.step for e in seen if isinstance(e, StepLogged)] == [1, 2, 3, 4]
    assert seen == read_run_events(launcher.folder)  # the follower read every line once, in order
    assert (launcher.folder / LOG_NAME).stat().st_size > 0  # the children's output went to the run's log


def test_stop_mid_run_then_resume(qtbot, run_json) -> None:  # noqa: ANN001
    cfg, path, port = run_json(40, 29641)
    launcher = ProcessLauncher()
    seen = _collect(launcher)

    def stop_after_first_step(events: list) -> None:
        if any(isinstance(e, StepLogged) for e in events):
            launcher.stop()

    launcher.events.connect(stop_after_first_step)
    with qtbot.waitSignal(launcher.ended, timeout=TIMEOUT_MS) as ended:
        launcher.start(cfg, path, 2, cpu=True, port=port)
    stopped = ended.args[0]
    assert isinstance(stopped, Stopped) and 0 < stopped.step < 40 and stopped.checkpoint, stopped
    launcher.events.disconnect(stop_after_first_step)
    folder = launcher.folder
    seen.clear()
    with qtbot.waitSignal(launcher.ended, timeout=TIMEOUT_MS) as ended:
        launcher.start(cfg, path, 2, cpu=True, resume_dir=folder, port=port + 1)
    assert isinstance(ended.args[0], Finished), ended.args[0]
    steps = [e.step for e in seen if isinstance(e, StepLogged)]
    assert steps == list(range(stopped.step + 1, 41))  # only the new lines, continuing after the stop


def test_a_killed_rank_ends_as_failed_with_its_stderr(qtbot, run_json) -> None:  # noqa: ANN001
    cfg, path, port = run_json(400, 29651)
    launcher = ProcessLauncher()
    killed: list[int] = []

    def kill_a_rank(events: list) -> None:
        if killed or not any(isinstance(e, StepLogged) for e in events):
            return
        pid = int(launcher.process.processId())
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        killed.append(int(children[-1]))
        os.kill(killed[0], signal.SIGKILL)

    launcher.events.connect(kill_a_rank)
    with qtbot.waitSignal(launcher.ended, timeout=TIMEOUT_MS) as ended:
        launcher.start(cfg, path, 2, cpu=True, port=port)
    failed = ended.args[0]
    assert killed and isinstance(failed, Failed), failed
    # either torchrun ended every rank first (no Failed in the log) or rank 0 logged the broken connection:
    # both end as Failed with the exit code and the processes' stderr tail
    assert "exited with code" in failed.message and "Last lines of its error output" in failed.message
    assert str(killed[0]) in failed.message or "SIGKILL" in failed.message, failed.message


def test_main_window_launches_two_processes_and_the_dashboard_follows(qtbot, run_json) -> None:  # noqa: ANN001
    from adalora_studio.core.config import with_section
    from adalora_studio.gui.main_window import MainWindow
    from adalora_studio.gui.worker import TorchWorker

    cfg, _path, _port = run_json(3, 29661)
    cfg = with_section(cfg, "training", processes=2)
    worker = TorchWorker()
    win = MainWindow(worker=worker)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.run_ended, timeout=TIMEOUT_MS) as ended:
        assert win.start_run(cfg)
        assert win.running and not worker.is_running  # the children train, not the in-process worker
    assert isinstance(ended.args[0], Finished), ended.args[0]
    assert win.dashboard.state.last_step.step == 3 and not win.running
    assert worker.shutdown(30_000)


def test_training_page_offers_processes(qtbot) -> None:  # noqa: ANN001
    from adalora_studio.gui.wizard.processes_row import ProcessesSpin
    from adalora_studio.gui.wizard.state import WizardState
    from adalora_studio.gui.wizard.training import TrainingPage

    state = WizardState(None)
    page = TrainingPage(state)
    qtbot.addWidget(page)
    spin = page.findChild(ProcessesSpin)
    assert spin.value() == 1  # CPU / before the probe
    state.set_devices({"cuda": True, "cuda_count": 4, "mps": False, "cuda_name": "GPU", "bf16": True,
                       "auto_device": "cuda", "auto_precision": "bf16", "threads": 4})
    assert spin.value() == 4 and state.config.training.processes == 4  # defaults to the visible GPUs
    spin.setValue(2)
    assert state.config.training.processes == 2
