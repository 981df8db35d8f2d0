"""Playground and report card with pytest-qt: load, predict, switch run, score rows, stream and stop a generation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from adalora_studio.gui.playground.predictions_model import HEAD_ROLE, RANKED_ROLE
from adalora_studio.gui.worker import TorchWorker
from tests.core.engine_fixtures import torch_single_thread  # noqa: F401  (autouse fixture)
from tests.core.inference_fixtures import finished_causal_run, finished_classification_run


@pytest.fixture(scope="module")
def runs(tiny_bert_dir: Path, tiny_gpt2_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    a = finished_classification_run(tiny_bert_dir, tmp_path_factory.mktemp("pg-a"))[0]
    b = finished_classification_run(tiny_bert_dir, tmp_path_factory.mktemp("pg-b"))[0]
    c = finished_causal_run(tiny_gpt2_dir, tmp_path_factory.mktemp("pg-c"))
    return a, b, c


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(20_000)


def _save(widget, name: str, tmp_path: Path) -> Path:
    """Grab ``widget`` as PNG (also into $STUDIO_PNG_DIR when set, to look at)."""
    path = tmp_path / name
    assert widget.grab().save(str(path)) and path.stat().st_size > 0
    if os.environ.get("STUDIO_PNG_DIR"):
        Path(os.environ["STUDIO_PNG_DIR"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["STUDIO_PNG_DIR"]) / name)
    return path


def test_playground_round_trip(qtbot, worker, runs, tmp_path: Path) -> None:  # noqa: ANN001
    import threading

    from adalora_studio.gui.playground import PlaygroundPage

    a, b, c = runs
    page = PlaygroundPage(worker)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.set_runs([("run-a", str(a), "text-classification"), ("run-b", str(b), "text-classification"),
                   ("causal", str(c), "causal-lm")])
    gui = threading.get_ident()
    with qtbot.waitSignal(page.loaded, timeout=60_000) as got:
        page.choose(str(a))
    assert got.args[0]["task"] == "text-classification" and page.views.currentWidget() is page.classify
    labels = got.args[0]["labels"]
    assert page.jobs.cache.row_loads == 1  # the validation rows are read with the model, before any score
    # predict two lines with run A alone, then side by side with run B
    page.classify.input.setPlainText("my card was charged twice\nthe app crashes when I log in")
    with qtbot.waitSignal(page.results_shown, timeout=60_000):
        page.classify.predict_button.click()
    model = page.classify.predictions
    assert page.classify.prediction_count() == 2 and model.columnCount() == 2  # the text, then run A
    assert model.index(1, 0).data() == "the app crashes when I log in"
    page.other_combo.setCurrentIndex(page.other_combo.findData(str(b)))
    with qtbot.waitSignal(page.results_shown, timeout=60_000):
        page.classify.predict_button.click()
    assert page.classify.prediction_count() == 2 and model.columnCount() == 3  # the text, run A, run B
    heads = [model.index(0, col).data(HEAD_ROLE) for col in (1, 2)]
    assert [h.split(" ·")[0] for h in heads] == ["A", "B"]
    for head, col in zip(heads, (1, 2), strict=True):
        ranked = model.index(0, col).data(RANKED_ROLE)
        assert sorted(label for label, _ in ranked) == sorted(labels)
        assert head.endswith(f": {ranked[0][0]} ({ranked[0][1]:.1%})")  # the predicted label is the top one
    _save(page, "playground-predictions.png", tmp_path)
    with qtbot.waitSignal(page.results_shown, timeout=60_000):
        page.classify.score_button.click()
    table = page.classify.table
    assert table.rowCount() == 10 and table.columnCount() == 6
    assert all(table.item(r, 1).text() in labels for r in range(10))
    assert page.jobs.cache.loads == 2 and page.jobs.cache.row_loads == 1
    first = [table.item(r, 0).text() for r in range(10)]
    data_files = [f for f in Path(a).parents[1].iterdir() if f.is_file()]  # the run's train and eval files
    assert data_files
    for f in data_files:  # scoring again must not read them: the rows read at load are reused
        f.rename(f.with_name(f.name + ".away"))
    try:
        with qtbot.waitSignal(page.results_shown, timeout=60_000):
            page.classify.score_button.click()
    finally:
        for f in data_files:
            f.with_name(f.name + ".away").rename(f)
    assert page.jobs.cache.row_loads == 1 and table.rowCount() == 10
    assert [table.item(r, 0).text() for r in range(10)] != first
    _save(page, "playground-classification.png", tmp_path)
    # switch run: back to A is a reuse, the causal run a new load
    with qtbot.waitSignal(page.loaded, timeout=60_000):
        page.choose(str(a))
    assert page.jobs.cache.loads == 2
    with qtbot.waitSignal(page.loaded, timeout=60_000):
        page.choose(str(c))
    assert page.views.currentWidget() is page.generate and page.other_combo.currentData() == "__base__"
    # stream a generation; stop it as soon as the first text arrives
    g = page.generate
    g.prompt.setPlainText("summarize the order")
    g.greedy.setChecked(False)
    g.max_tokens.setValue(200)
    pieces: list[int] = []
    page.jobs.piece.connect(lambda s, t: (pieces.append(threading.get_ident()), page.stop_generation()))
    with qtbot.waitSignal(page.generation_done, timeout=60_000):
        g.generate_button.click()
        assert g.stop_button.isEnabled() and not g.generate_button.isEnabled()
    assert pieces and set(pieces) == {gui}  # streamed text is delivered on the GUI thread
    assert page.status.text() == "Stopped." and g.generate_button.isEnabled()
    assert g.left.toPlainText() and not g.right.toPlainText()  # the tuned run, queued second, never started
    g.prompt.setPlainText("write a reply to the customer")
    g.greedy.setChecked(True)
    g.max_tokens.setValue(12)
    page.jobs.piece.disconnect()
    page.jobs.piece.connect(page._on_piece)
    with qtbot.waitSignal(page.generation_done, timeout=60_000):
        g.generate_button.click()
    assert page.status.text() == "Done."
    _save(page, "playground-generation.png", tmp_path)


def test_report_view_shows_the_report_and_evaluates_another_file(qtbot, worker, runs, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.core.inference import report_files
    from adalora_studio.gui.dashboard.report_view import ReportEvaluator, ReportView

    a, _, c = runs
    view = ReportView()
    qtbot.addWidget(view)
    view.resize(1000, 620)
    assert view.load_run(a)
    assert "accuracy" in view.headline.text() and view.tabs.count() == 3
    assert view.save_heatmap_png(tmp_path / "heatmap.png")
    _save(view, "report-classification.png", tmp_path)
    view.tabs.setCurrentIndex(1)
    _save(view, "report-mistakes.png", tmp_path)
    assert view.load_run(c) and "perplexity" in view.headline.text()
    _save(view, "report-causal.png", tmp_path)
    evaluator = ReportEvaluator(lambda: worker, view)
    eval_file = next(a.parent.parent.glob("eval.csv"))
    before = len(report_files(a))
    with qtbot.waitSignal(evaluator.evaluated, timeout=60_000):
        job = evaluator.evaluate(str(a), str(eval_file))
    assert job is not None and len(report_files(a)) == before + 1
    assert view.title.text().startswith(f"<b>report-{before + 1}.json")
    png = a / f"report-{before + 1}-confusion.png"  # its PNG figures are drawn (in the background) as it is shown
    qtbot.waitUntil(lambda: png.is_file() and view.pngs.pending == 0, timeout=20_000)


def test_finish_panel_offers_report_and_playground(qtbot, runs) -> None:  # noqa: ANN001
    from adalora_studio.gui.dashboard import Dashboard

    a = runs[0]
    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.resize(1400, 860)
    dash.load_run(a)
    qtbot.waitUntil(lambda: dash.finish_panel.isVisible() or dash.finish_panel.run_dir == str(a), timeout=10_000)
    dash.redraw()
    panel = dash.finish_panel
    assert panel.report_button.isEnabled() and panel.playground_button.isEnabled()
    assert "Report</b>: accuracy" in panel.label.text()
    with qtbot.waitSignal(panel.playground_requested) as got:
        panel.playground_button.click()
    assert got.args == [str(a)]
    _save(dash, "dashboard-finish-panel.png", Path(os.environ.get("PYTEST_TMP", "/tmp")))


def test_unseen_labels_are_listed_and_evaluated_past_only_when_confirmed(qtbot, worker, runs, tmp_path: Path,
                                                                        monkeypatch) -> None:  # noqa: ANN001
    from adalora_studio.core.inference import report_files
    from adalora_studio.gui.dashboard import report_view

    a = runs[0]
    eval_file = next(a.parent.parent.glob("eval.csv"))
    unseen = tmp_path / "new.csv"
    unseen.write_text(eval_file.read_text(encoding="utf-8") + "my kettle is loud,kitchen\n", encoding="utf-8")
    asked: list[str] = []
    answers = iter([False, True])
    monkeypatch.setattr(report_view, "confirm_unseen", lambda _parent, message: (asked.append(message),
                                                                                 next(answers))[1])
    view = report_view.ReportView()
    qtbot.addWidget(view)
    view.load_run(a)
    evaluator = report_view.ReportEvaluator(lambda: worker, view)
    before = len(report_files(a))
    job = evaluator.evaluate(str(a), str(unseen))
    with qtbot.waitSignal(job.succeeded, timeout=60_000):
        pass
    assert len(asked) == 1 and "'kitchen' (1 rows)" in asked[0] and "new.csv" in asked[0]
    assert len(report_files(a)) == before  # declined: nothing evaluated
    evaluator.evaluate(str(a), str(unseen))
    qtbot.waitUntil(lambda: len(report_files(a)) == before + 1, timeout=60_000)
    qtbot.waitUntil(lambda: "left out: kitchen ×1" in view.headline.text(), timeout=10_000)
