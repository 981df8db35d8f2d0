"""The main window: start-up without torch, menus, first-run home, settings problems, closing during a run, and
a real short run started from the window that reaches Finished."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from adalora_studio.app.settings import SettingsStore, settings_path
from adalora_studio.core import paths
from adalora_studio.core.config import DataConfig, ModelConfig, RunConfig, demo_config, with_section
from adalora_studio.core.events import Event, Finished, Stopped, StopToken
from adalora_studio.gui import main_window as mw
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.worker import TorchWorker
from tests.gui.synthetic_run import synthetic_events

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "peft", "datasets")


def _run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=full_env,
                          timeout=120)


def test_importing_the_app_imports_no_torch() -> None:
    # The wizard computes the plan and the b(t) curve on the GUI thread: core.adalora and core.model must stay light.
    code = ("import sys, json\nimport adalora_studio.gui.app, adalora_studio.gui.main_window\n"
            "import adalora_studio.gui.wizard.wizard, adalora_studio.core.adalora, adalora_studio.core.model\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    out = _run_python(code)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_exit_after_shown_reports_the_time_and_no_heavy_import(isolated_home: Path) -> None:
    code = ("import sys\nfrom adalora_studio.gui.app import run_app\ncode = run_app()\n"
            "from PySide6.QtGui import QGuiApplication\n"
            "print('desktop', QGuiApplication.desktopFileName())\n"
            f"print('heavy', [m for m in {HEAVY!r} if m in sys.modules])\nsys.exit(code)")
    out = _run_python(code, {"ADALORA_STUDIO_EXIT_AFTER_SHOWN": "1", "ADALORA_STUDIO_HOME": str(isolated_home)})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    shown = [line for line in lines if line.startswith("window-shown ")]
    assert len(shown) == 1 and 0.0 < float(shown[0].split()[1]) < 30.0
    assert "desktop adalora-studio" in lines and "heavy []" in lines


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # noqa: ANN001
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    yield win
    if win.running:
        win.worker.request_stop()
        with qtbot.waitSignal(win.worker.run_finished, timeout=120_000):
            pass
    assert win.worker.shutdown(30_000)


def test_window_identity_menus_and_first_run_home(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    with qtbot.waitSignal(window.first_shown, timeout=5000):
        window.show()
    assert window.windowTitle() == "AdaLoRA Studio" and window.objectName() == "adalora-studio"
    assert window.new_action.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    assert window.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    assert window.help_action.shortcut() == QKeySequence("F1")
    window.help_action.trigger()
    assert window._help.isVisible() and "target_r" in window._help.browser.toPlainText()
    window._help.close()
    home = window.home
    assert window.pages.currentWidget() is home
    assert "No runs yet" in home.empty_label.text() and not home.runs_list.isVisible()
    assert home.demo_button.text() == "Try the demo"
    window.new_action.trigger()
    assert window.pages.currentWidget() is window.wizard and window.wizard.current_index == 0
    window.home_action.trigger()
    assert window.pages.currentWidget() is home


def test_corrupt_settings_are_reported_once_and_do_not_block(qtbot, isolated_home: Path) -> None:  # noqa: ANN001
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("{ this is not json")
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.first_shown, timeout=5000):
        win.show()
    boxes = [b for b in win.findChildren(QMessageBox) if b.objectName() == "settingsProblem"]
    assert len(boxes) == 1 and "not valid JSON" in boxes[0].text()
    boxes[0].close()
    win.close()
    assert win.worker.shutdown(10_000)
    assert SettingsStore().problem is None  # replaced by a valid file: the next start is quiet


def test_wizard_values_and_window_geometry_persist(qtbot, isolated_home: Path) -> None:  # noqa: ANN001
    first = MainWindow(worker=TorchWorker())
    qtbot.addWidget(first)
    first.show()
    first.resize(720, 530)
    first.wizard.set_config(with_section(demo_config(), "training", seed=1234))
    first.close()
    assert first.worker.shutdown(10_000)
    assert (paths.config_dir() / "window.ini").is_file()

    second = MainWindow(worker=TorchWorker())
    qtbot.addWidget(second)
    assert second.size().width() == 720 and second.size().height() == 530
    assert second.wizard.config.training.seed == 1234
    second.close()
    assert second.worker.shutdown(10_000)


def _blocking_run(config: RunConfig, stop: StopToken, resume_from: object = None) -> Iterator[Event]:
    """An engine stand-in for the close-dialog tests: a few steps, then wait for Stop like the engine does."""
    events = synthetic_events(total_steps=40, stop_at=5)
    yield from events[:-1]
    stop._event.wait(60)
    yield events[-1]


def _start_blocking_run(qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    worker = window.worker
    real_start = TorchWorker.start_run
    monkeypatch.setattr(worker, "start_run",
                        lambda cfg, resume_from=None: real_start(worker, cfg, resume_from, run_fn=_blocking_run))
    window.show()
    with qtbot.waitSignal(worker.event, timeout=10_000):
        assert window.start_run(demo_config())
    assert window.running and window.pages.currentWidget() is window.dashboard


def test_closing_during_a_run_asks_stop_keep_or_cancel(qtbot, window: MainWindow, monkeypatch) -> None:  # noqa: ANN001
    _start_blocking_run(qtbot, window, monkeypatch)
    seen: dict[str, object] = {}

    def answer_cancel() -> None:
        box = QApplication.activeModalWidget()
        seen["box"] = box.objectName()
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        box.reject()

    QTimer.singleShot(0, answer_cancel)
    assert window.close() is False  # Cancel keeps the window and the run
    assert seen["box"] == "closeDuringRun"
    assert seen["buttons"] == ["Cancel", "Keep going", "Stop (checkpoint)"]
    assert window.isVisible() and window.running

    monkeypatch.setattr(window, "ask_close_during_run", lambda: mw.CLOSE_STOP)
    with qtbot.waitSignal(window.run_ended, timeout=30_000) as ended:
        assert window.close() is False  # closes once the checkpoint is written
    assert isinstance(ended.args[0], Stopped)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_keep_going_minimises_the_window_and_the_run_continues(qtbot, window: MainWindow, monkeypatch) -> None:  # noqa: ANN001
    _start_blocking_run(qtbot, window, monkeypatch)
    quits: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", lambda: quits.append(True))
    monkeypatch.setattr(window, "ask_close_during_run", lambda: mw.CLOSE_KEEP)
    assert window.close() is False
    qtbot.waitUntil(window.isMinimized, timeout=5000)
    assert window.isVisible() and window.running  # still reachable from the taskbar, still training
    with qtbot.waitSignal(window.run_ended, timeout=30_000):
        window.worker.request_stop()
    assert quits == [] and window.isVisible()  # the results stay on screen; nothing quits behind the user


@pytest.mark.slow
def test_start_from_the_window_runs_a_tiny_model_to_finished(qtbot, window: MainWindow, tiny_bert_dir: Path,
                                                             tmp_path: Path) -> None:  # noqa: ANN001
    data = tmp_path / "tickets.csv"
    lines = paths.demo_classification_file().read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(lines[:81]) + "\n", encoding="utf-8")
    cfg = RunConfig(
        name="tiny-gui", model=ModelConfig(source="folder", path=str(tiny_bert_dir)),
        data=DataConfig(train_file=str(data), text_columns=("text",), label_column="label", max_length=32,
                        eval_fraction=0.2),
        budget=demo_config().budget,
    )
    cfg = with_section(cfg, "training", max_steps=8, batch_size=8, eval_every=4, checkpoint_every=4, device="cpu",
                       precision="fp32")
    window.show()
    window.wizard.set_config(cfg, page=4)
    qtbot.waitUntil(window.wizard.start_button.isEnabled, timeout=180_000)
    with qtbot.waitSignal(window.run_ended, timeout=600_000) as ended:
        window.wizard.start_button.click()
    terminal = ended.args[0]
    assert isinstance(terminal, Finished), getattr(terminal, "message", terminal)
    assert Path(terminal.adapter_dir, "adapter_config.json").is_file()
    qtbot.waitUntil(lambda: window.dashboard.state.run_dir == terminal.run_dir, timeout=5000)
    assert window.store.settings.recent_datasets[0] == str(data)
    window.show_home()
    assert window.home.runs_list.count() == 1 and "tiny-gui" in window.home.runs_list.item(0).text()
    window.open_run(terminal.run_dir)
    assert window.pages.currentWidget() is window.dashboard


def test_try_the_demo_starts_the_bundled_demo(qtbot, window: MainWindow, monkeypatch) -> None:  # noqa: ANN001
    started: list[RunConfig] = []
    monkeypatch.setattr(window, "start_run", lambda cfg, resume_from=None: started.append(cfg) or True)
    qtbot.mouseClick(window.home.demo_button, Qt.MouseButton.LeftButton)
    assert started == [demo_config()]


@pytest.mark.parametrize("start", [False, True])
def test_run_app_with_a_config_file(qtbot, tmp_path: Path, monkeypatch, start: bool) -> None:  # noqa: ANN001
    from adalora_studio.core.config import save_config
    from adalora_studio.gui import app as app_module

    cfg_file = tmp_path / "run.json"
    cfg = with_section(demo_config(), "training", seed=99)
    save_config(cfg, cfg_file)
    started: list[RunConfig] = []
    windows: list[MainWindow] = []
    monkeypatch.setattr(MainWindow, "start_run", lambda self, c, resume_from=None: started.append(c) or True)
    monkeypatch.setattr(MainWindow, "show", lambda self: windows.append(self) or QMainWindow.show(self))

    def fake_exec() -> int:  # the real event loop would block: wait for the window to act on the file instead
        qtbot.waitUntil(lambda: bool(started) or (windows and windows[0]._wizard is not None), timeout=20_000)
        windows[0].hide()
        return 0

    monkeypatch.setattr(QApplication.instance(), "exec", fake_exec)
    assert app_module.run_app(config_path=str(cfg_file), start=start) == 0
    win = windows[0]
    if start:
        assert started == [cfg] and win._wizard is None
    else:
        assert started == [] and win.wizard.config == cfg and win.wizard.current_index == 4
        assert win.wizard.review_page.saved_path == str(cfg_file)
    win.deleteLater()


def test_about_uses_the_device_the_worker_found(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    window.show()
    window.new_fine_tune()
    window.wizard.go_to(3)  # the training page asks the worker which devices exist
    qtbot.waitUntil(lambda: window.wizard.state.devices is not None, timeout=180_000)
    window.about_action.trigger()
    dialog = window._about
    assert dialog.isVisible() and "auto" in dialog.value("Device")
    dialog.close()


def test_a_failed_run_is_reported_without_blocking(qtbot, window: MainWindow, monkeypatch) -> None:  # noqa: ANN001
    from adalora_studio.core.events import Failed

    def failing_run(config: RunConfig, stop: StopToken, resume_from: object = None) -> Iterator[Event]:
        yield Failed(step=0, message="data.train_file: /nowhere.csv not found", detail="Traceback: ...")

    worker = window.worker
    real_start = TorchWorker.start_run
    monkeypatch.setattr(worker, "start_run",
                        lambda cfg, resume_from=None: real_start(worker, cfg, resume_from, run_fn=failing_run))
    window.show()
    with qtbot.waitSignal(window.run_ended, timeout=10_000):
        window.start_run(demo_config())
    notices = [b for b in window.findChildren(QMessageBox) if b.objectName() == "notice"]
    assert len(notices) == 1 and "/nowhere.csv not found" in notices[0].text()
    assert notices[0].detailedText() == "Traceback: ..." and not window.running
    notices[0].close()


def test_open_run_without_an_event_log_says_so_instead_of_raising(qtbot, window: MainWindow, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.core.config import save_config

    save_config(demo_config(), tmp_path / "run.json")  # a run folder whose run never started
    window.show()
    window.open_run(str(tmp_path))
    notices = [b for b in window.findChildren(QMessageBox) if b.objectName() == "notice"]
    assert len(notices) == 1 and "events.jsonl" in notices[0].text() and str(tmp_path) in notices[0].text()
    assert window.pages.currentWidget() is window.home and not window.dashboard.replaying
    notices[0].close()
