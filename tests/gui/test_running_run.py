"""The run in progress is always one click away, a second run waits its turn, the running run opens from Recent
runs, Ctrl+S saves the shown run's config, the home page follows the run, and a minimised window is told."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from adalora_studio.core.config import demo_config, load_config
from adalora_studio.core.events import Event, Finished, LogMessage, StopToken
from adalora_studio.core.runs import create_run_folder
from adalora_studio.gui import run_actions
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.run_metrics import final_metrics
from adalora_studio.gui.running_indicator import notify_run_ended
from adalora_studio.gui.worker import TorchWorker
from tests.gui.synthetic_run import synthetic_events
from tests.png_dir import png_dir

PNG = png_dir("issue15")


def snap(widget, name: str) -> None:  # noqa: ANN001
    if PNG.parent.is_dir():
        PNG.mkdir(exist_ok=True)
        widget.grab().save(str(PNG / f"{name}.png"))


class _Runs:
    """Engine stand-in: each run streams a few steps into a real run folder, then waits for ``release``."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: list[str] = []

    def __call__(self, config, stop: StopToken, resume_from: object = None) -> Iterator[Event]:  # noqa: ANN001
        folder = create_run_folder(config)
        self.started.append(config.name)
        events = synthetic_events(total_steps=40, run_dir=str(folder.path))
        yield from events[:12]
        yield LogMessage(level="info", message="waiting")  # not a step: the worker forwards what it batched
        while not (self.release.is_set() or stop.stop_requested):
            self.release.wait(0.05)
        yield events[-1]


@pytest.fixture
def window(qtbot, monkeypatch) -> Iterator[tuple[MainWindow, _Runs]]:  # noqa: ANN001
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    runs = _Runs()
    worker = win.worker
    real_start = TorchWorker.start_run
    monkeypatch.setattr(worker, "start_run", lambda cfg, resume_from=None: real_start(worker, cfg, resume_from,
                                                                                   run_fn=runs))
    monkeypatch.setattr(win, "ask_close_during_run", lambda: "stop")  # never a modal dialog at teardown
    win.resize(1180, 820)
    win.show()
    yield win, runs
    runs.release.set()
    win.runs.queue._items.clear()
    if win.running:
        with qtbot.waitSignal(win.worker.run_finished, timeout=60_000):
            pass
    assert win.worker.shutdown(30_000)


def _start(qtbot, win: MainWindow, name: str) -> None:  # noqa: ANN001
    with qtbot.waitSignal(win.worker.event, timeout=10_000):
        assert win.start_run(demo_config().replace(name=name))
    qtbot.waitUntil(lambda: bool(win.dashboard.state.run_dir), timeout=10_000)


def test_running_dashboard_is_one_click_away(qtbot, window) -> None:  # noqa: ANN001
    win, runs = window
    _start(qtbot, win, "first")
    indicator = win.runs.indicator
    qtbot.waitUntil(lambda: "step" in indicator.text(), timeout=5000)
    assert indicator.isVisible() and indicator.text().startswith("▶ Running: first")
    win.new_fine_tune()
    assert win.pages.currentWidget() is win.wizard
    snap(win, "wizard_with_running_indicator")
    indicator.click()
    assert win.pages.currentWidget() is win.dashboard

    win.show_home()  # the home page follows the run instead of showing a stale step
    home = win.home
    assert home.live_button.isVisible() and "first is training" in home.live_button.text()
    assert home.demo_button.text() == "Queue the demo"
    live_rows = [home.runs_list.item(i).text() for i in range(home.runs_list.count())]
    assert any("running now" in row for row in live_rows), live_rows
    snap(win, "home_during_run")
    home.live_button.click()
    assert win.pages.currentWidget() is win.dashboard

    win.show_home()  # double-clicking the running run opens its dashboard
    win.open_run(win.dashboard.state.run_dir)
    assert win.pages.currentWidget() is win.dashboard


def test_ctrl_s_on_the_dashboard_saves_the_running_config(qtbot, window, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    win, _runs = window
    _start(qtbot, win, "shown-run")
    target = tmp_path / "saved.json"
    monkeypatch.setattr(run_actions.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    win.pages.setCurrentWidget(win.dashboard)
    win.save_action.trigger()
    assert load_config(target).name == "shown-run"  # not the wizard's default config
    assert win.pages.currentWidget() is win.dashboard


def test_a_second_run_waits_and_starts_after_the_first(qtbot, window) -> None:  # noqa: ANN001
    win, runs = window
    _start(qtbot, win, "first")
    assert win.start_run(demo_config().replace(name="second"))  # queued, not refused
    assert win.runs.queue.names() == ["second"] and "+1 queued" in win.runs.indicator.text()
    assert runs.started == ["first"]
    with qtbot.waitSignal(win.run_ended, timeout=30_000) as ended:
        runs.release.set()
    assert isinstance(ended.args[0], Finished)
    runs.release.clear()
    qtbot.waitUntil(lambda: runs.started == ["first", "second"], timeout=20_000)
    qtbot.waitUntil(lambda: win.runs.indicator.text().startswith("▶ Running: second"), timeout=10_000)
    assert len(win.runs.queue) == 0
    assert "running now" not in win.home.demo_button.text()


def test_recent_runs_show_final_metrics(qtbot) -> None:  # noqa: ANN001
    from adalora_studio.core.events import event_to_json
    from adalora_studio.gui.home import HomePage

    folder = create_run_folder(demo_config().replace(name="metric-run"))
    events = synthetic_events(total_steps=40, run_dir=str(folder.path))
    (folder.path / "events.jsonl").write_text("\n".join(event_to_json(e) for e in events) + "\n", encoding="utf-8")
    folder.write_status("finished", step=40)
    assert final_metrics(folder.path) == {"accuracy": 0.9}
    home = HomePage()
    qtbot.addWidget(home)
    rows = [home.runs_list.item(i).text() for i in range(home.runs_list.count())]
    assert any("metric-run" in row and "finished, accuracy 0.9" in row for row in rows), rows


def test_a_minimised_window_is_told_when_a_run_ends(qtbot, monkeypatch) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QApplication, QMainWindow

    alerts: list[object] = []
    messages: list[str] = []
    monkeypatch.setattr(QApplication, "alert", lambda w, ms=0: alerts.append(w))
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "supportsMessages", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "showMessage", lambda self, title, text, *a: messages.append(text))
    win = QMainWindow()
    qtbot.addWidget(win)
    text = notify_run_ended(win, "demo", Finished(step=1, run_dir="/r", adapter_dir="/r/adapter", metrics={}))
    assert text == "The run demo finished." and messages == [text] and alerts == [win]
