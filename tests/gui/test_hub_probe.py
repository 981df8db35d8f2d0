"""The task page's hub probe: a slow answer after the page was deleted reaches nobody and raises nothing."""

from __future__ import annotations

import gc
import sys
import threading

import shiboken6

from adalora_studio.core.config import RunConfig
from adalora_studio.gui.wizard import jobs, task_model
from adalora_studio.gui.wizard.state import WizardState


def test_late_hub_answer_after_the_page_is_deleted(qtbot, monkeypatch) -> None:  # noqa: ANN001
    asked, answer = threading.Event(), threading.Event()

    def slow_network() -> str:  # stands in for a network that takes its time to answer
        asked.set()
        answer.wait(10)
        return "huggingface.co cannot be reached"

    monkeypatch.setattr(jobs, "hub_unavailable_reason", slow_network)
    errors: list[object] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    monkeypatch.setattr(sys, "excepthook", lambda *exc: errors.append(exc))

    page = task_model.TaskModelPage(WizardState(None, RunConfig()))
    assert asked.wait(5)
    probes = list(task_model._LIVE_PROBES)  # noqa: SLF001
    assert len(probes) == 1 and probes[0].parent() is None  # not owned by the page the thread outlives
    shiboken6.delete(page)
    del page
    gc.collect()
    answer.set()
    qtbot.waitUntil(lambda: not task_model._LIVE_PROBES, timeout=5000)  # noqa: SLF001
    qtbot.wait(50)
    assert errors == []


def test_hub_answer_reaches_a_live_page(qtbot, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(jobs, "hub_unavailable_reason", lambda: "offline mode is on (HF_HUB_OFFLINE=1)")
    page = task_model.TaskModelPage(WizardState(None, RunConfig()))
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: "offline mode is on" in page.hub_note.text(), timeout=5000)
    assert not page.hub_edit.isEnabled()
