"""Uncaught exceptions in any thread: logged, shown in one dialog on the GUI thread, and the app goes on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtGui import QGuiApplication

from adalora_studio.app.logging_setup import setup_logging
from adalora_studio.gui.crash import CrashDialog, install_crash_handler, make_report

pytestmark = pytest.mark.qt_no_exception_capture  # our hook, not pytest-qt's, must see the exceptions


@pytest.fixture
def handler(qtbot):  # type: ignore[no-untyped-def]
    h = install_crash_handler()
    yield h
    h.uninstall()
    if h.dialog is not None:
        h.dialog.close()


def _fail_in_thread(message: str, name: str = "train-worker") -> None:
    def boom() -> None:
        raise ValueError(message)

    thread = threading.Thread(target=boom, name=name)
    thread.start()
    thread.join()


def test_thread_exception_is_logged_and_shown_with_log_path(qtbot, handler) -> None:  # type: ignore[no-untyped-def]
    log_path = setup_logging("gui")
    with qtbot.waitSignal(handler.crashed, timeout=10_000) as blocker:
        _fail_in_thread("injected failure <42>")

    report = blocker.args[0]
    assert report.thread_name == "train-worker"
    assert report.summary == "ValueError: injected failure <42>"
    assert report.log_file == log_path
    dialog = handler.dialog
    assert isinstance(dialog, CrashDialog) and dialog.isVisible()
    assert "injected failure &lt;42&gt;" in dialog.headline.text()
    assert "train-worker" in dialog.headline.text()
    assert str(log_path) in dialog.log_label.text()
    logged = log_path.read_text(encoding="utf-8")
    assert "Uncaught exception in thread 'train-worker'" in logged and "ValueError: injected failure <42>" in logged

    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert "Traceback (most recent call last)" in copied and str(log_path) in copied

    # a second failure joins the same dialog instead of opening another
    with qtbot.waitSignal(handler.crashed, timeout=10_000):
        _fail_in_thread("second")
    assert handler.dialog is dialog and len(dialog.reports) == 2
    assert "2 unexpected errors" in dialog.headline.text()


def test_run_in_progress_continues_after_a_crash_elsewhere(qtbot, handler, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A 'run' thread keeps appending to its event log while another thread dies; nothing exits."""
    events = tmp_path / "events.jsonl"
    crashed_seen = threading.Event()
    done = threading.Event()

    def fake_run() -> None:
        with events.open("a", encoding="utf-8") as fh:
            for step in range(1, 41):
                fh.write(f'{{"type": "StepLogged", "step": {step}}}\n')
                fh.flush()
                if step == 10:
                    crashed_seen.wait(10)  # the crash happens mid-run
            fh.write('{"type": "Finished"}\n')
        done.set()

    run_thread = threading.Thread(target=fake_run, name="run")
    run_thread.start()
    with qtbot.waitSignal(handler.crashed, timeout=10_000):
        _fail_in_thread("unrelated bug", name="preview")
    crashed_seen.set()
    qtbot.waitUntil(done.is_set, timeout=10_000)
    run_thread.join()

    lines = events.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 41 and lines[-1] == '{"type": "Finished"}'
    assert handler.dialog is not None and handler.dialog.isVisible()
    ticked = []
    QTimer.singleShot(0, lambda: ticked.append(True))
    qtbot.waitUntil(lambda: bool(ticked), timeout=5_000)  # the event loop still runs


def test_exception_in_a_slot_and_in_a_qthread_reach_the_dialog(qtbot, handler) -> None:  # type: ignore[no-untyped-def]
    def raise_in_slot() -> None:
        raise RuntimeError("slot failed")

    with qtbot.waitSignal(handler.crashed, timeout=10_000) as blocker:
        QTimer.singleShot(0, raise_in_slot)
    assert blocker.args[0].summary == "RuntimeError: slot failed"
    assert blocker.args[0].thread_name == "MainThread"

    class Failing(QThread):
        def run(self) -> None:
            raise KeyError("qthread failed")

    thread = Failing()
    with qtbot.waitSignal(handler.crashed, timeout=10_000) as blocker:
        thread.start()
    thread.wait(5_000)
    assert blocker.args[0].summary == "KeyError: 'qthread failed'"
    assert len(handler.dialog.reports) == 2


def test_dialog_without_log_file_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    try:
        raise OSError("disk full")
    except OSError as exc:
        report = make_report(type(exc), exc, exc.__traceback__, "MainThread", None)
    dialog = CrashDialog(report)
    qtbot.addWidget(dialog)
    assert "No log file" in dialog.log_label.text()
    assert "OSError: disk full" in dialog.details_text()
