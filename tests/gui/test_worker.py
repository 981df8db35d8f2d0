"""TorchWorker: jobs and runs execute in the worker thread; results, events and errors arrive on the GUI thread."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from adalora_studio.core.events import Event, Failed, Finished, RanksUpdated, StepLogged, Stopped, StopToken
from adalora_studio.gui.worker import TorchWorker
from tests.gui.synthetic_run import synthetic_events


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(10_000)


def test_job_runs_in_worker_thread_and_result_arrives_on_gui_thread(qtbot, worker) -> None:
    gui_thread = threading.get_ident()
    seen: dict[str, int] = {}

    def job(a: int, b: int = 0) -> int:
        seen["job"] = threading.get_ident()
        return a + b

    received: list[tuple[object, int]] = []
    job_handle = worker.submit(job, 2, b=3)
    job_handle.succeeded.connect(lambda value: received.append((value, threading.get_ident())))
    with qtbot.waitSignal(job_handle.succeeded, timeout=5000) as blocker:
        pass
    assert blocker.args == [5]
    assert seen["job"] != gui_thread
    assert received == [(5, gui_thread)]


def test_job_error_arrives_as_failed_signal(qtbot, worker) -> None:
    from adalora_studio.core.errors import DataError

    def bad() -> None:
        raise DataError("column 'text' is empty", file="x.csv", row=3, column="text")

    def crash() -> None:
        raise ZeroDivisionError("boom")

    job = worker.submit(bad)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    message, detail = blocker.args
    assert "column 'text' is empty" in message
    assert "DataError" in detail and "Traceback" in detail

    job = worker.submit(crash)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    assert blocker.args[0] == "ZeroDivisionError: boom"


def _fake_engine(events: list[Event], delay_s: float = 0.0):  # noqa: ANN202
    """A stand-in for core.training.run that replays events, honouring the stop token between steps."""

    def run(config: object, stop: StopToken | None = None, resume_from: object = None) -> Iterator[Event]:
        threads.append(threading.get_ident())
        for event in events:
            if stop is not None and stop.stop_requested and isinstance(event, StepLogged):
                yield Stopped(step=event.step - 1, checkpoint="ckpt")
                return
            if delay_s:
                time.sleep(delay_s)
            yield event

    threads: list[int] = []
    run.threads = threads  # type: ignore[attr-defined]
    return run


def test_run_forwards_every_event_in_order_and_coalesces_crossings(qtbot, worker) -> None:
    events = synthetic_events(total_steps=400, n_layers=2)
    engine = _fake_engine(events)
    got: list[Event] = []
    worker.event.connect(got.append)
    batches: list[int] = []
    worker._backend.events_ready.connect(lambda batch: batches.append(len(batch)))  # noqa: SLF001
    with qtbot.waitSignal(worker.run_finished, timeout=10_000) as blocker:
        worker.start_run(object(), run_fn=engine)
        assert worker.is_running
    assert isinstance(blocker.args[0], Finished)
    assert not worker.is_running
    assert got == events  # nothing dropped, order kept
    assert engine.threads[0] != threading.get_ident()
    n_ranks = sum(isinstance(e, RanksUpdated) for e in events)
    # A fast stream crosses threads in far fewer batches than events (steps are batched, snapshots are not).
    assert len(batches) < len(events) / 2
    assert len(batches) >= n_ranks


def test_stop_request_ends_run_with_stopped(qtbot, worker) -> None:
    events = synthetic_events(total_steps=2000, n_layers=1)
    engine = _fake_engine(events, delay_s=0.002)
    got: list[Event] = []
    worker.event.connect(got.append)
    with qtbot.waitSignal(worker.run_finished, timeout=20_000) as blocker:
        worker.start_run(object(), run_fn=engine)
        qtbot.waitUntil(lambda: any(isinstance(e, StepLogged) for e in got), timeout=5000)
        worker.request_stop()
    terminal = blocker.args[0]
    assert isinstance(terminal, Stopped)
    assert terminal.step < 2000
    assert got[-1] is terminal


def test_engine_exception_becomes_failed_event(qtbot, worker) -> None:
    def broken(config: object, stop: object = None, resume_from: object = None) -> Iterator[Event]:
        yield synthetic_events(total_steps=5)[0]
        raise RuntimeError("CUDA out of memory")

    got: list[Event] = []
    worker.event.connect(got.append)
    with qtbot.waitSignal(worker.run_finished, timeout=5000) as blocker:
        worker.start_run(object(), run_fn=broken)
    terminal = blocker.args[0]
    assert isinstance(terminal, Failed)
    assert "CUDA out of memory" in terminal.message and "Traceback" in terminal.detail
    assert got[-1] is terminal


def test_second_run_while_running_is_refused(qtbot, worker) -> None:
    engine = _fake_engine(synthetic_events(total_steps=300, n_layers=1), delay_s=0.002)
    with qtbot.waitSignal(worker.run_finished, timeout=20_000):
        worker.start_run(object(), run_fn=engine)
        with pytest.raises(RuntimeError, match="already in progress"):
            worker.start_run(object(), run_fn=engine)
        worker.request_stop()


# ---------------------------------------------------------------------------------- real tiny runs (engine)


def _tiny_config(tiny_bert_dir, tmp_path, **training):  # noqa: ANN001, ANN202
    from tests.core.engine_fixtures import bert_config, small_classification_csv

    return bert_config(tiny_bert_dir, small_classification_csv(tmp_path, n_rows=48), tmp_path / "runs", **training)


@pytest.mark.slow
def test_real_tiny_run_through_worker_fills_dashboard(qtbot, worker, tiny_bert_dir, tmp_path) -> None:
    from pathlib import Path

    from adalora_studio.gui.dashboard.dashboard import Dashboard

    dashboard = Dashboard()
    qtbot.addWidget(dashboard)
    worker.event.connect(dashboard.apply_event)
    with qtbot.waitSignal(worker.run_finished, timeout=180_000) as blocker:
        worker.start_run(_tiny_config(tiny_bert_dir, tmp_path, max_steps=8, eval_every=4))
    terminal = blocker.args[0]
    assert isinstance(terminal, Finished), terminal
    assert (Path(terminal.adapter_dir) / "adapter_config.json").is_file()
    dashboard.redraw()
    assert dashboard.state.status == "finished"
    assert len(dashboard.curves.loss_raw.getData()[0]) == 8
    assert len(dashboard.curves.eval_loss.getData()[0]) >= 1
    assert len(dashboard.rank_bars.bars.opts["height"]) == 4  # 2 layers x (query, value)
    assert dashboard.heatmap.image.image.shape == (2, 2)


@pytest.mark.slow
def test_real_run_stop_mid_run_gives_stopped_and_checkpoint(qtbot, worker, tiny_bert_dir, tmp_path) -> None:
    from pathlib import Path

    got: list[Event] = []

    def on_event(event: Event) -> None:
        got.append(event)
        if isinstance(event, StepLogged):
            worker.request_stop()

    worker.event.connect(on_event)
    with qtbot.waitSignal(worker.run_finished, timeout=180_000) as blocker:
        worker.start_run(_tiny_config(tiny_bert_dir, tmp_path, max_steps=400))
    terminal = blocker.args[0]
    assert isinstance(terminal, Stopped), terminal
    assert terminal.step < 400
    assert terminal.checkpoint and Path(terminal.checkpoint).is_dir()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal on Python 3.12+: their "
                    "reference counts are constant, so the PySide6 leak this guards against cannot show")
def test_qt_calls_keep_singleton_refcounts(qtbot) -> None:
    """PySide6 6.12.0 drops a reference to None per void call and to True per emit on Python < 3.12, which
    aborts the interpreter (none_dealloc) after a few thousand calls; the installed PySide6 must not."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QWidget

    class Emitter(QObject):
        ping = Signal()

    widget, emitter = QWidget(), Emitter()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(500):
        widget.update()
        emitter.ping.emit()
    assert sys.getrefcount(None) >= before[0] - 50
    assert sys.getrefcount(True) >= before[1] - 50


def test_shutdown_lets_queued_jobs_finish(qtbot) -> None:
    """The docstring's promise: jobs queued before shutdown still run (they used to be dropped)."""
    w = TorchWorker()
    ran: list[int] = []
    started = threading.Event()

    def slow(i: int) -> None:
        started.set()
        time.sleep(0.2)
        ran.append(i)

    w.submit(slow, 0)
    assert started.wait(5)  # the worker is busy with job 0 while the next ones are queued behind it
    for i in range(1, 4):
        w.submit(slow, i)
    assert w.shutdown(10_000)
    assert ran == [0, 1, 2, 3]
    assert w.shutdown(10)  # a second call after the thread ended is harmless


def test_shutdown_timeout_is_reported_and_logged(qtbot, caplog) -> None:
    w = TorchWorker()
    release = threading.Event()
    job = w.submit(release.wait, 10)
    job.writes = "the merged model export"
    with caplog.at_level(logging.WARNING, logger="adalora_studio.gui.worker"):
        assert w.shutdown(100) is False
    assert "still busy" in caplog.text and "the merged model export" in caplog.text
    assert w.writing() == ["the merged model export"]
    release.set()
    assert w.shutdown(10_000)


def test_failed_job_and_failed_run_tracebacks_reach_the_log(qtbot, worker, caplog) -> None:
    def broken_job() -> None:
        raise KeyError("missing-column")

    def broken_run(config: object, stop: object = None, resume_from: object = None) -> Iterator[Event]:
        yield synthetic_events(total_steps=3)[0]
        raise RuntimeError("engine exploded")

    with caplog.at_level(logging.ERROR, logger="adalora_studio.gui.worker"):
        job = worker.submit(broken_job)
        with qtbot.waitSignal(job.failed, timeout=5000):
            pass
        with qtbot.waitSignal(worker.run_finished, timeout=5000):
            worker.start_run(object(), run_fn=broken_run)
    records = [r.getMessage() for r in caplog.records]
    assert any("broken_job" in m and "Traceback" in m and "missing-column" in m for m in records), records
    assert any("engine exploded" in m and "Traceback" in m for m in records), records


def test_failed_job_is_written_to_gui_log(qtbot, worker) -> None:
    from adalora_studio.app.logging_setup import setup_logging

    log_file = setup_logging("gui")
    job = worker.submit(int, "not a number")
    with qtbot.waitSignal(job.failed, timeout=5000):
        pass
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "background job int failed" in text and "ValueError" in text and "Traceback" in text


def test_worker_has_no_unused_preload() -> None:
    """``preload`` had no caller (the benchmarks README claimed one); it is gone rather than left to mislead."""
    import adalora_studio.gui.worker as worker_module

    assert not hasattr(TorchWorker, "preload") and not hasattr(worker_module, "preload_libraries")
