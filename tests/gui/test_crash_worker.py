"""Crash handling with the real TorchWorker: a bug in a view or in the worker thread never loses the run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal, Slot

from adalora_studio.core.events import Event, Finished, LogMessage
from adalora_studio.gui.crash import install_crash_handler
from adalora_studio.gui.worker import TorchWorker

pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture
def handler(qtbot):  # type: ignore[no-untyped-def]
    h = install_crash_handler()
    yield h
    h.uninstall()
    if h.dialog is not None:
        h.dialog.close()


@pytest.fixture
def worker(qtbot) -> Iterator[TorchWorker]:  # type: ignore[no-untyped-def]
    w = TorchWorker()
    yield w
    assert w.shutdown(10_000)


def _slow_run(config: Any, stop: Any = None, resume_from: Any = None) -> Iterator[Event]:
    for i in range(8):
        time.sleep(0.02)
        yield LogMessage(level="info", message=f"step {i}")
    yield Finished(step=8, run_dir="/runs/x", adapter_dir="/runs/x/adapter", metrics={"accuracy": 1.0})


def test_a_view_bug_during_a_run_shows_the_dialog_and_the_run_finishes(qtbot, handler, worker) -> None:  # type: ignore[no-untyped-def]
    seen: list[Event] = []

    def buggy_view(event: Event) -> None:
        seen.append(event)
        if isinstance(event, LogMessage) and event.message == "step 2":
            raise ZeroDivisionError("view bug while drawing")

    worker.event.connect(buggy_view)
    with qtbot.waitSignal(worker.run_finished, timeout=20_000) as finished:
        with qtbot.waitSignal(handler.crashed, timeout=20_000) as crashed:
            worker.start_run(config=None, run_fn=_slow_run)
    assert crashed.args[0].summary == "ZeroDivisionError: view bug while drawing"
    assert isinstance(finished.args[0], Finished)
    assert [e.message for e in seen if isinstance(e, LogMessage)] == [f"step {i}" for i in range(8)]
    assert handler.dialog is not None and handler.dialog.isVisible()


class _Bomb(QObject):
    @Slot()
    def explode(self) -> None:
        raise RuntimeError("injected in the worker thread")


class _Trigger(QObject):
    fire = Signal()


def test_an_exception_in_the_worker_thread_is_shown_and_the_worker_keeps_working(qtbot, handler, worker) -> None:  # type: ignore[no-untyped-def]
    bomb, trigger = _Bomb(), _Trigger()
    bomb.moveToThread(worker.thread)
    trigger.fire.connect(bomb.explode)  # queued: runs in the worker thread
    with qtbot.waitSignal(handler.crashed, timeout=10_000) as crashed:
        trigger.fire.emit()
    assert crashed.args[0].summary == "RuntimeError: injected in the worker thread"
    assert crashed.args[0].thread_name != "MainThread"

    with qtbot.waitSignal(worker.run_finished, timeout=20_000) as finished:
        worker.start_run(config=None, run_fn=_slow_run)
    assert isinstance(finished.args[0], Finished)
    bomb.deleteLater()
