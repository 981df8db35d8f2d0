"""The report on the dashboard: a Report tab appears, is selected and announced once a run's report.json is written
(a live run started from the window, and finished runs of every task opened from disk); the finish panel's Report
card button brings it back; its PNG figures are drawn beside the SVGs; stopped runs and a new run show no report."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from adalora_studio.core import paths
from adalora_studio.core.config import DataConfig, ModelConfig, RunConfig, TrainingConfig, demo_config, with_section
from adalora_studio.core.events import Finished
from adalora_studio.core.training import Engine
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.worker import TorchWorker
from tests.core.engine_fixtures import small_instructions_jsonl, torch_single_thread  # noqa: F401
from tests.core.inference_fixtures import finished_causal_run, stopped_classification_run
from tests.core.test_new_tasks_engine import qa_config
from tests.core.test_seq2seq_engine import seq2seq_config


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # noqa: ANN001
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    yield win
    if win.running:
        win.worker.request_stop()
        with qtbot.waitSignal(win.worker.run_finished, timeout=120_000):
            pass
    assert win.worker.shutdown(30_000)


def _save(widget, name: str, tmp_path: Path) -> Path:  # noqa: ANN001
    path = tmp_path / name
    assert widget.grab().save(str(path)) and path.stat().st_size > 0
    if os.environ.get("STUDIO_PNG_DIR"):
        Path(os.environ["STUDIO_PNG_DIR"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["STUDIO_PNG_DIR"]) / name)
    return path


def _tiny_classification(tiny_bert_dir: Path, tmp_path: Path) -> RunConfig:
    data = tmp_path / "tickets.csv"
    lines = paths.demo_classification_file().read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(lines[:81]) + "\n", encoding="utf-8")
    cfg = RunConfig(
        name="tiny-report", model=ModelConfig(source="folder", path=str(tiny_bert_dir)),
        data=DataConfig(train_file=str(data), text_columns=("text",), label_column="label", max_length=32,
                        eval_fraction=0.2),
        budget=demo_config().budget, output_dir=str(tmp_path / "runs"),
    )
    return with_section(cfg, "training", max_steps=8, batch_size=8, eval_every=4, checkpoint_every=0, device="cpu",
                        precision="fp32")


def _report_tab_shown(window: MainWindow) -> bool:
    dash = window.dashboard
    return dash.report_tab.present and dash.tabs.currentWidget() is dash.report_view


def _assert_png_twins(run_dir: Path, names: tuple[str, ...]) -> None:
    for name in names:
        svg, png = run_dir / f"{name}.svg", run_dir / f"{name}.png"
        assert svg.is_file() and png.is_file(), name
        image = QImage(str(png))
        assert image.width() >= 400 and image.height() >= 300, (name, image.size())
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 4, name  # drawn, not a blank canvas


@pytest.mark.slow
def test_a_live_run_shows_its_report_on_the_dashboard(qtbot, window: MainWindow, tiny_bert_dir: Path,
                                                      tmp_path: Path) -> None:  # noqa: ANN001
    dash = window.dashboard
    shown: list[str] = []
    dash.report_shown.connect(shown.append)
    window.pages.setCurrentWidget(dash)
    with qtbot.waitSignal(window.run_ended, timeout=600_000) as ended:
        assert window.start_run(_tiny_classification(tiny_bert_dir, tmp_path))
    finished = ended.args[0]
    assert isinstance(finished, Finished), getattr(finished, "message", finished)
    run_dir = Path(finished.run_dir)
    qtbot.waitUntil(lambda: _report_tab_shown(window), timeout=10_000)
    assert shown == [str(run_dir / "report.json")]
    assert dash.tabs.tabText(dash.tabs.indexOf(dash.report_view)) == "Report"
    assert "accuracy" in dash.report_view.headline.text() and dash.report_view.tabs.count() == 3
    qtbot.waitUntil(lambda: any("see the Report tab" in line.message for line in dash.state.logs), timeout=5000)
    assert "Report tab" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: any("figures as PNG" in line.message for line in dash.state.logs), timeout=20_000)
    assert dash.report_view.pngs.pending == 0  # drawn in the background, announced on the GUI thread
    _assert_png_twins(run_dir, ("report-confusion", "report-reliability"))
    dash.redraw()
    _save(window, "dashboard-report-classification.png", tmp_path)
    for index, name in ((1, "mistakes"), (2, "calibration")):
        dash.report_view.tabs.setCurrentIndex(index)
        _save(dash.report_view, f"dashboard-report-{name}.png", tmp_path)
    # The finish panel's button is a shortcut back to it.
    dash.tabs.setCurrentIndex(0)
    assert dash.finish_panel.report_button.isEnabled()
    dash.finish_panel.report_button.click()
    assert dash.tabs.currentWidget() is dash.report_view
    # Opening it again from the library replays it with its report; a new run starts without one.
    window.show_home()
    window.open_run(str(run_dir))
    qtbot.waitUntil(lambda: _report_tab_shown(window), timeout=10_000)
    dash.reset()
    assert not dash.report_tab.present and dash.tabs.count() == 2


def _finished(cfg: RunConfig) -> str:
    events = list(Engine(cfg.replace(training=TrainingConfig(max_steps=3, batch_size=16, device="cpu"))).events())
    assert isinstance(events[-1], Finished), events[-1]
    return events[-1].run_dir


def test_finished_runs_of_every_task_open_on_their_report(qtbot, window: MainWindow, tiny_gpt2_dir: Path,  # noqa: ANN001
                                                           tiny_bert_dir: Path, tiny_t5_dir: Path,
                                                           tmp_path: Path) -> None:
    dash = window.dashboard
    for name in ("causal", "s2s-data"):
        (tmp_path / name).mkdir()
    causal = finished_causal_run(tiny_gpt2_dir, tmp_path / "causal")
    qa = _finished(qa_config(tiny_bert_dir, paths.demo_qa_file(), tmp_path / "qa"))
    s2s = _finished(seq2seq_config(tiny_t5_dir, small_instructions_jsonl(tmp_path / "s2s-data"), tmp_path / "s2s"))
    expected = {str(causal): ("perplexity", "Samples"), qa: ("exact_match", "Worst examples"),
                s2s: ("exact_match", "Worst examples")}
    for run_dir, (metric, tab) in expected.items():
        window.open_run(run_dir)
        qtbot.waitUntil(lambda: _report_tab_shown(window), timeout=10_000)
        view = dash.report_view
        assert metric in view.headline.text() and view.tabs.tabText(0) == tab, (run_dir, view.headline.text())
        table = view.tabs.widget(0)
        assert table.rowCount() > 0
        qtbot.waitUntil(lambda t=table: all(t.sizeHintForRow(r) <= t.rowHeight(r) for r in range(t.rowCount())),
                        timeout=5000)  # every wrapped row shows all its lines at the widths laid out
        panel = dash.finish_panel
        for label in (panel.metrics_label, panel.label):  # the adapter path and the report line are not cut
            assert label.heightForWidth(label.width()) <= label.height(), label.text()
        dash.redraw()
        name = {str(causal): "causal", qa: "qa", s2s: "seq2seq"}[run_dir]
        _save(window if name == "causal" else dash.report_view, f"dashboard-report-{name}.png", tmp_path)
        window.show_home()


def test_a_stopped_run_has_no_report_tab(qtbot, window: MainWindow, tiny_bert_dir: Path,  # noqa: ANN001
                                         tmp_path: Path) -> None:
    run_dir = stopped_classification_run(tiny_bert_dir, tmp_path)[0]
    window.open_run(str(run_dir))
    dash = window.dashboard
    qtbot.waitUntil(lambda: dash.finish_panel.isVisible(), timeout=10_000)
    assert not dash.report_tab.present and not dash.finish_panel.report_button.isEnabled()
    assert not dash.show_report_tab()
