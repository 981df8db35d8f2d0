"""The playground's QA view (answer highlighted in the context) and seq2seq view, with a real worker."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from adalora_studio.core.config import TrainingConfig
from adalora_studio.core.events import Finished
from adalora_studio.core.training import Engine
from adalora_studio.gui.worker import TorchWorker
from tests.core.engine_fixtures import small_instructions_jsonl, torch_single_thread  # noqa: F401
from tests.core.test_new_tasks_engine import qa_config
from tests.core.test_seq2seq_engine import seq2seq_config


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(20_000)


def _finished(cfg) -> str:
    events = list(Engine(cfg.replace(training=TrainingConfig(max_steps=3, batch_size=16, device="cpu"))).events())
    assert isinstance(events[-1], Finished), events[-1]
    return events[-1].run_dir


def _save(widget, name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    assert widget.grab().save(str(path)) and path.stat().st_size > 0
    if os.environ.get("STUDIO_PNG_DIR"):
        Path(os.environ["STUDIO_PNG_DIR"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["STUDIO_PNG_DIR"]) / name)


def test_qa_and_seq2seq_views(qtbot, worker, tiny_bert_dir: Path, tiny_t5_dir: Path,  # noqa: ANN001
                              tmp_path: Path) -> None:
    from adalora_studio.core.paths import demo_qa_file
    from adalora_studio.gui.playground import PlaygroundPage

    qa_run = _finished(qa_config(tiny_bert_dir, demo_qa_file(), tmp_path / "qa"))
    s2s_run = _finished(seq2seq_config(tiny_t5_dir, small_instructions_jsonl(tmp_path), tmp_path / "s2s"))
    page = PlaygroundPage(worker)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.set_runs([("qa", qa_run, "question-answering"), ("s2s", s2s_run, "seq2seq")])
    with qtbot.waitSignal(page.loaded, timeout=60_000):
        page.choose(qa_run)
    view = page.task_views.qa
    assert page.views.currentWidget() is view
    context = "Saltmere lies on the banks of the Amber. It was founded in 1901 by Ada Kellner."
    view.context.setPlainText(context)
    view.question.setText("Who founded Saltmere?")
    job = page.task_views._answer("Who founded Saltmere?", context)
    with qtbot.waitSignal(job.succeeded, timeout=60_000) as got:
        pass
    answer = got.args[0]
    assert context[answer["start"]:answer["end"]] == answer["text"] and answer["text"]
    qtbot.waitUntil(lambda: "score" in view.result.text(), timeout=5_000)
    cursor = view.context.textCursor()
    cursor.setPosition(answer["start"] + 1)
    assert cursor.charFormat().background().color().name() == "#ffd54f"  # the span is highlighted
    _save(page, "playground-qa.png", tmp_path)
    with qtbot.waitSignal(page.loaded, timeout=60_000):
        page.choose(s2s_run)
    s2s = page.task_views.seq2seq
    assert page.views.currentWidget() is s2s
    s2s.source.setPlainText("Define a bug.")
    job = page.task_views._generate("Define a bug.", 5)
    with qtbot.waitSignal(job.succeeded, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: s2s.target.toPlainText() != "", timeout=5_000)
    _save(page, "playground-seq2seq.png", tmp_path)


def test_report_view_shows_task_reports(qtbot, tiny_bert_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.core.paths import demo_qa_file
    from adalora_studio.gui.dashboard.report_summary import report_headline
    from adalora_studio.gui.dashboard.report_view import ReportView

    run = _finished(qa_config(tiny_bert_dir, demo_qa_file(), tmp_path / "qa"))
    view = ReportView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    assert view.load_run(run)
    assert "exact_match" in view.headline.text() and view.tabs.tabText(0) == "Worst examples"
    assert view.tabs.widget(0).rowCount() > 0
    assert "f1" in report_headline(run)
    _save(view, "report-qa.png", tmp_path)
