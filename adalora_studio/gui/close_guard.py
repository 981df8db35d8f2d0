"""Closing the window while the worker still writes files (an export): ask, then close once it is complete.

A run in progress has its own question (stop with a checkpoint, keep going, cancel) in the main window; this
covers the jobs that write files (:attr:`~.worker.Job.writes`), so a half-written export is never abandoned.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMessageBox, QWidget

CLOSE_WAIT, CLOSE_CANCEL = "wait", "cancel"


def ask_wait_for_work(parent: QWidget, work: list[str]) -> str:
    """Ask whether to wait for ``work`` (what unfinished jobs write): CLOSE_WAIT or CLOSE_CANCEL."""
    box = QMessageBox(QMessageBox.Icon.Question, parent.windowTitle(), f"Still writing {', '.join(work)}.",
                      parent=parent)
    box.setObjectName("closeDuringWork")
    box.setInformativeText("Wait: close as soon as it is complete. Cancel: keep the window open.")
    wait = box.addButton("Wait, then close", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(wait)
    box.exec()
    return CLOSE_WAIT if box.clickedButton() is wait else CLOSE_CANCEL


def defer_close_for_work(window: Any, worker: Any, event: QCloseEvent) -> bool:
    """True (``event`` ignored) while ``worker`` has jobs that write files: :func:`ask_wait_for_work` decides
    whether the window closes itself once they are done, or stays open."""
    work = worker.writing() if worker is not None else []
    if not work:
        return False
    event.ignore()
    if ask_wait_for_work(window, work) != CLOSE_WAIT:
        return True

    def close_when_idle(busy: bool) -> None:
        if not busy and not worker.writing():
            worker.busy_changed.disconnect(close_when_idle)
            window.close()

    worker.busy_changed.connect(close_when_idle)
    window.statusBar().showMessage(f"Closing once {', '.join(work)} is complete…")
    return True
