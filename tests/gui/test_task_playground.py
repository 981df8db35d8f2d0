"""The playground's QA view (answer highlighted in the context) and seq2seq view, with a real worker."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from adalora_studio.core.config import TrainingConfig
from adalora_studio.core.events import Finished
from adalora_studio.core.paths import demo_qa_file
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


def _finished(cfg, seed: int = 42) -> str:
    events = list(Engine(cfg.replace(training=TrainingConfig(max_steps=3, batch_size=16, device="cpu",
                                                             seed=seed))).events())
    assert isinstance(events[-1], Finished), events[-1]
    return events[-1].run_dir


def _save(widget, name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    assert widget.grab().save(str(path)) and path.stat().st_size > 0
    if os.environ.get("STUDIO_PNG_DIR"):
        Path(os.environ["STUDIO_PNG_DIR"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["STUDIO_PNG_DIR"]) / name)


def _pick(page, qtbot, path: str, other: str | None) -> None:  # noqa: ANN001
    with qtbot.waitSignal(page.loaded, timeout=60_000):
        page.choose(path)
    index = page.other_combo.findData(other)
    assert index >= 0, other
    page.other_combo.setCurrentIndex(index)


def _results(qtbot, jobs: list) -> list[dict]:  # noqa: ANN001
    got: dict[int, dict] = {}
    for i, job in enumerate(jobs):
        job.succeeded.connect(lambda result, i=i: got.__setitem__(i, result))
    qtbot.waitUntil(lambda: len(got) == len(jobs), timeout=60_000)
    return [got[i] for i in range(len(jobs))]


@pytest.fixture(scope="module")
def task_runs(tiny_bert_dir: Path, tiny_t5_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from adalora_studio.core.paths import demo_qa_file

    tmp = tmp_path_factory.mktemp("task-runs")
    pairs = small_instructions_jsonl(tmp)
    return {"qa": _finished(qa_config(tiny_bert_dir, demo_qa_file(), tmp / "qa")),
            "qa-b": _finished(qa_config(tiny_bert_dir, demo_qa_file(), tmp / "qa-b").replace(name="qa-other"), 7),
            "s2s": _finished(seq2seq_config(tiny_t5_dir, pairs, tmp / "s2s")),
            "s2s-b": _finished(seq2seq_config(tiny_t5_dir, pairs, tmp / "s2s-b").replace(name="s2s-other"), 7)}


def test_qa_and_seq2seq_views(qtbot, worker, task_runs, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.core.inference import answer_loaded, load_for_inference
    from adalora_studio.gui.playground import PlaygroundPage

    page = PlaygroundPage(worker)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.set_runs([("qa", task_runs["qa"], "question-answering"), ("qa-other", task_runs["qa-b"],
                                                                   "question-answering"),
                   ("s2s", task_runs["s2s"], "seq2seq"), ("s2s-other", task_runs["s2s-b"], "seq2seq")])
    _pick(page, qtbot, task_runs["qa"], None)
    view = page.task_views.qa
    assert page.views.currentWidget() is view
    assert [page.other_combo.itemText(i).split("  (")[0] for i in range(page.other_combo.count())] == [
        "— none —", "Base model (adapter off)", "qa-other"]  # no seq2seq run to compare a QA run with
    context = "Saltmere lies on the banks of the Amber. It was founded in 1901 by Ada Kellner."
    view.context.setPlainText(context)
    view.question.setText("Who founded Saltmere?")
    (answer,) = _results(qtbot, page.task_views._answer("Who founded Saltmere?", context))
    assert context[answer["start"]:answer["end"]] == answer["text"] and answer["text"]
    a_pane, b_pane = view.sides
    assert not a_pane.isHidden() and b_pane.isHidden() and "score" in a_pane.result.text()
    assert a_pane.highlighted_at(answer["start"]) and not a_pane.highlighted_at(answer["end"])  # just the span

    # A/B: a second QA run answers the same question on side B
    page.other_combo.setCurrentIndex(page.other_combo.findData(task_runs["qa-b"]))
    mine, theirs = _results(qtbot, page.task_views._answer("Who founded Saltmere?", context))
    assert mine == answer and not b_pane.isHidden() and b_pane.title() == "B · qa-other"
    direct = answer_loaded(load_for_inference(task_runs["qa-b"]), "Who founded Saltmere?", context)
    assert (theirs["start"], theirs["end"]) == (direct.start_char, direct.end_char)
    assert abs(theirs["score"] - direct.score) < 1e-4
    qtbot.waitUntil(lambda: "score" in b_pane.result.text(), timeout=5_000)
    assert b_pane.highlighted_at(theirs["start"]) if theirs["text"] else True
    _save(page, "newtasks-playground-qa-ab.png", tmp_path)

    # base vs tuned: side B is the same run with its adapter off
    page.other_combo.setCurrentIndex(page.other_combo.findData("__base__"))
    tuned, base = _results(qtbot, page.task_views._answer("Who founded Saltmere?", context))
    assert tuned == answer and base["base"] and not tuned["base"] and b_pane.title().startswith("B · Base model")
    assert base["score"] != tuned["score"]  # the adapter changes the answer logits
    _save(page, "newtasks-playground-qa-base.png", tmp_path)

    _pick(page, qtbot, task_runs["s2s"], task_runs["s2s-b"])
    s2s = page.task_views.seq2seq
    assert page.views.currentWidget() is s2s
    s2s.source.setPlainText("Define a bug.")
    mine, theirs = _results(qtbot, page.task_views._generate("Define a bug.", 5))
    assert [box.title() for box in s2s.boxes] == ["A · seq2seq-test", "B · s2s-other"] and not s2s.boxes[1].isHidden()
    assert [t.toPlainText() for t in s2s.targets] == [mine["text"], theirs["text"]]
    _save(page, "newtasks-playground-seq2seq-ab.png", tmp_path)
    page.other_combo.setCurrentIndex(page.other_combo.findData("__base__"))
    tuned, base = _results(qtbot, page.task_views._generate("Define a bug.", 5))
    assert tuned == mine and base["base"] and s2s.boxes[1].title().startswith("B · Base model")
    page.other_combo.setCurrentIndex(page.other_combo.findData(None))
    assert s2s.boxes[1].isHidden()


def test_report_dialog_evaluates_a_qa_run_on_another_file(qtbot, worker, task_runs, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.core.inference import report_files
    from adalora_studio.gui.dashboard.report_view import ReportEvaluator, ReportView

    run = task_runs["qa"]
    before = len(report_files(run))
    lines = [json.loads(x) for x in demo_qa_file().read_text(encoding="utf-8").splitlines()[300:306]]
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    view = ReportView()
    qtbot.addWidget(view)
    assert view.load_run(run)
    dialog = ReportEvaluator(lambda: worker, view)
    job = dialog.evaluate(run, str(other))
    with qtbot.waitSignal(job.succeeded, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: "other.jsonl" in dialog.view.title.text(), timeout=5_000)
    assert len(report_files(run)) == before + 1
    assert "exact_match" in dialog.view.headline.text() and "6 rows" in dialog.view.title.text()
    assert dialog.view.tabs.tabText(0) == "Worst examples" and dialog.view.tabs.widget(0).rowCount() == 6
    bad = tmp_path / "bad.jsonl"
    lines[1]["answers"]["answer_start"][0] += 1
    bad.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    job = dialog.evaluate(run, str(bad))
    with qtbot.waitSignal(job.failed, timeout=60_000):
        pass
    text = dialog.view.title.text()
    assert "Evaluation failed" in text and "bad.jsonl" in text and "row 2" in text and "answers" in text
    assert len(report_files(run)) == before + 1
    view.resize(1000, 600)
    _save(view, "newtasks-report-qa-other-file.png", tmp_path)


def test_report_view_shows_task_reports(qtbot, task_runs, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.gui.dashboard.report_summary import report_headline
    from adalora_studio.gui.dashboard.report_view import ReportView

    run = task_runs["qa"]
    view = ReportView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    assert view.load_run(run)
    assert "exact_match" in view.headline.text() and view.tabs.tabText(0) == "Worst examples"
    assert view.tabs.widget(0).rowCount() > 0
    assert "f1" in report_headline(run)
    _save(view, "report-qa.png", tmp_path)
