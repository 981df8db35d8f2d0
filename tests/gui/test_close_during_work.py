"""Closing the window while the worker writes an export: it asks, waits, and the export completes."""

from __future__ import annotations

import threading
from pathlib import Path

from adalora_studio.gui import close_guard as mw
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.worker import TorchWorker


def _writing_job(release: threading.Event, target: Path) -> str:
    release.wait(20)
    target.write_text("complete", encoding="utf-8")
    return str(target)


def test_close_during_export_waits_then_closes(qtbot, monkeypatch, tmp_path: Path) -> None:
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    win.show()
    asked: list[list[str]] = []
    monkeypatch.setattr(mw, "ask_wait_for_work", lambda _w, work: (asked.append(work), mw.CLOSE_WAIT)[1])
    release, target = threading.Event(), tmp_path / "export.txt"
    job = win.worker.submit(_writing_job, release, target)
    job.writes = "the merged model export"

    assert not win.close()  # refused for now: the export is still being written
    assert asked == [["the merged model export"]] and win.isVisible()
    release.set()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=10_000)
    assert target.read_text(encoding="utf-8") == "complete"
    assert win.worker.shutdown(10_000)


def test_close_during_export_cancelled_keeps_the_window(qtbot, monkeypatch, tmp_path: Path) -> None:
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    win.show()
    monkeypatch.setattr(mw, "ask_wait_for_work", lambda _w, work: mw.CLOSE_CANCEL)
    release = threading.Event()
    job = win.worker.submit(_writing_job, release, tmp_path / "export.txt")
    job.writes = "the plain LoRA adapter export"
    assert not win.close()
    release.set()
    with qtbot.waitSignal(job.succeeded, timeout=10_000):
        pass
    qtbot.wait(50)
    assert win.isVisible()  # cancelled: it does not close by itself later
    assert win.close()
    assert win.worker.shutdown(10_000)


def test_export_jobs_say_what_they_write(qtbot, tmp_path: Path, monkeypatch) -> None:
    from adalora_studio.gui import exports

    monkeypatch.setattr(exports, "ask_save_path", lambda *_a: str(tmp_path / "merged"))  # no modal dialog
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    exports.start_export(win, "export_merged", str(tmp_path / "no-run"))
    assert win.worker.writing() == ["the merged model export"]
    qtbot.waitUntil(lambda: not win.worker.busy, timeout=10_000)
    assert win.worker.shutdown(10_000)
