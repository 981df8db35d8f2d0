"""The A/B queue through the main window (visible, stoppable), the compare view and its exports, the run library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from adalora_studio.core.config import RunConfig, load_config
from adalora_studio.core.events import RunStarted
from adalora_studio.core.runs import RunLibrary
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.worker import TorchWorker
from tests.core.engine_fixtures import bert_config, small_classification_csv
from tests.png_dir import png_dir

PNG_DIR = png_dir("issue9")


def _save(widget, name: str) -> None:  # noqa: ANN001
    if PNG_DIR.parent.is_dir():
        PNG_DIR.mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(PNG_DIR / name))


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # noqa: ANN001
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    win = MainWindow(worker=TorchWorker())
    qtbot.addWidget(win)
    win.resize(1400, 860)
    win.show()
    yield win
    if win.running:
        win.worker.request_stop()
        with qtbot.waitSignal(win.worker.run_finished, timeout=120_000):
            pass
    assert win.worker.shutdown(30_000)
    torch.set_num_threads(threads)


def _cfg(tiny_bert_dir: Path, tmp_path: Path) -> RunConfig:
    return bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs", max_steps=8,
                       eval_every=4)


def test_review_page_baseline_queues_both_arms_and_the_compare_view_exports(
        qtbot, window: MainWindow, tiny_bert_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    review = window.wizard.review_page
    review.baseline.check.setChecked(True)
    review.baseline.seeds.setValue(1)
    review.baseline.budgets.setText("1,x")
    assert "'x' is not a whole number" in review.baseline.note.text()
    review.baseline.budgets.setText("2")  # the config's own target_r: a one-budget sweep is a plain A/B
    assert review.baseline.budget_values == (2,) and review.baseline.note.text() == "2 runs, one after another"
    _save(review, "review_baseline_option.png")
    with qtbot.waitSignal(window.comparisons.runner.done, timeout=600_000) as done:
        window._start_from_wizard(_cfg(tiny_bert_dir, tmp_path))
        assert window.comparisons.dock.isVisible()
        assert window.comparisons.runner.rows()[0].startswith("▶ AdaLoRA")
    outcome = done.args[0]
    assert len(outcome.run_dirs) == 2 and not outcome.problems
    assert [load_config(Path(d) / "run.json").method for d in outcome.run_dirs] == ["adalora", "lora"]
    panel = window.comparisons.panel
    assert [panel.list.item(i).text()[0] for i in range(panel.list.count())] == ["✓", "✓"]
    assert panel.compare_button.isEnabled()
    _save(window, "queue_done.png")

    panel.compare_button.click()
    view = window.comparisons.compare
    assert window.pages.currentWidget() is view
    assert "one seed per arm" in view.verdict.text()
    assert view.table.rowCount() == 2 and view.table.item(1, 0).text() == "LoRA"
    assert view.diff.rowCount() >= 2  # method and name differ at least
    assert len(view.loss_plot.listDataItems()) == 2 and len(view.metric_plot.listDataItems()) == 2
    files = view.export_plots(tmp_path / "export")
    assert all(f.is_file() and f.stat().st_size > 0 for f in files)
    csv_text = view.export_csv(tmp_path / "c.csv").read_text()
    assert csv_text.count("\n") == 3
    _save(window, "compare_in_window.png")


def test_the_queue_can_be_stopped(qtbot, window: MainWindow, tiny_bert_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    cfg = _cfg(tiny_bert_dir, tmp_path)
    runner = window.comparisons.runner

    def stop_on_start(event: object) -> None:
        if isinstance(event, RunStarted):
            runner.stop()

    window.worker.event.connect(stop_on_start)
    with qtbot.waitSignal(runner.done, timeout=600_000) as done:
        assert window.comparisons.start(cfg, seeds=2)
    window.worker.event.disconnect(stop_on_start)
    outcome = done.args[0]
    assert outcome.stopped and outcome.run_dirs == []
    assert any("stopped at step" in p for p in outcome.problems)
    assert sum("not started" in p for p in outcome.problems) == 3
    assert not runner.active and not window.running


def test_library_page_lists_filters_ticks_and_deletes(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.core.runs import create_run_folder
    from adalora_studio.gui.library.page import LibraryPage

    for i, method in enumerate(("adalora", "lora", "adalora")):
        folder = create_run_folder(RunConfig(name=f"run{i}", method=method, output_dir=str(tmp_path)))
        folder.write_status("finished", step=5, elapsed_s=3.0, metrics={"accuracy": 0.5 + i / 10})
    broken = tmp_path / "lost-20260101-000000"
    broken.mkdir()
    (broken / "status.json").write_text("{}")
    page = LibraryPage(tmp_path)
    qtbot.addWidget(page)
    page.resize(1200, 420)
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 4, timeout=10_000)
    assert "1 broken" in page.count_label.text()
    statuses = {page.model.entries[r].name: page.model.entries[r].status for r in range(4)}
    assert statuses[broken.name] == "broken"
    page.method_filter.setCurrentText("lora")
    assert page.model.rowCount() == 1
    page.method_filter.setCurrentText("any method")
    for row in range(3):
        if page.model.entries[row].status == "finished":
            page.model.setData(page.model.index(row, 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert page.compare_button.isEnabled()
    with qtbot.waitSignal(page.compare_requested) as asked:
        page.compare_button.click()
    assert len(asked.args[0]) == 3
    _save(page, "library_page.png")
    bin_dir = tmp_path.parent / f"{tmp_path.name}-bin"
    bin_dir.mkdir()
    page.delete([broken], trash=lambda p: p.rename(bin_dir / p.name))  # Qt's trash in the app
    assert (bin_dir / broken.name).is_dir() and not broken.exists()
    assert len(RunLibrary(tmp_path).entries()) == 3 and page.model.rowCount() == 3



def test_compare_with_lora_on_a_finished_run_trains_only_the_matched_baseline(
        qtbot, window: MainWindow, tiny_bert_dir: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from adalora_studio.core import paths

    monkeypatch.setenv(paths.RUNS_ENV, str(tmp_path / "runs"))  # the library lists the user's runs folder
    from adalora_studio.core.adalora import adapter_effective_params
    from adalora_studio.core.events import Finished
    from adalora_studio.core.training import run

    events = list(run(_cfg(tiny_bert_dir, tmp_path)))
    assert isinstance(events[-1], Finished)
    adalora_dir = events[-1].run_dir
    assert window.library_action is not None and window.library_action.shortcut().toString() == "Ctrl+L"
    window.library_action.trigger()  # File > Run library…
    page = window.comparisons.library
    assert window.pages.currentWidget() is page
    page.refresh_now()
    page.table.selectRow(0)
    assert page.lora_button.isEnabled()
    asked: list[int] = []
    monkeypatch.setattr("PySide6.QtWidgets.QInputDialog.getInt",
                        lambda *args: (asked.append(args[3]), (1, True))[1])  # the seeds dialog: 1 (its default)
    with qtbot.waitSignal(window.comparisons.runner.done, timeout=600_000) as done:
        page.lora_button.click()
    assert asked == [1]
    outcome = done.args[0]
    assert outcome.run_dirs[0] == adalora_dir and len(outcome.run_dirs) == 2 and not outcome.problems
    lora_cfg = load_config(Path(outcome.run_dirs[1]) / "run.json")
    assert lora_cfg.method == "lora"
    assert lora_cfg.lora.match_params == adapter_effective_params(Path(adalora_dir) / "adapter")
    assert window.pages.currentWidget() is window.comparisons.compare  # opened once the queue was done


def test_compare_with_lora_from_the_finish_panel_queues_the_matched_arm_and_opens_the_compare_view(
        qtbot, window: MainWindow, tiny_bert_dir: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from adalora_studio.core.runs import read_entry

    with qtbot.waitSignal(window.worker.run_finished, timeout=600_000):
        assert window.start_run(_cfg(tiny_bert_dir, tmp_path))
    dash = window.dashboard
    dash.redraw()
    panel = dash.finish_panel
    adalora_dir = dash.state.run_dir
    assert window.pages.currentWidget() is dash and panel.isVisible()
    assert panel.compare_button.isVisible() and panel.compare_button.isEnabled()
    assert "peak memory</b> RAM" in panel.metrics_label.text()
    _save(window, "finish_panel_compare_with_lora.png")

    monkeypatch.setattr("PySide6.QtWidgets.QInputDialog.getInt", lambda *args: (1, True))  # the seeds dialog
    with qtbot.waitSignal(window.comparisons.runner.done, timeout=600_000) as done:
        panel.compare_button.click()
        assert window.comparisons.dock.isVisible()
        assert window.comparisons.runner.rows() == ["✓ AdaLoRA r2 seed 7 — finished", "▶ LoRA r2 seed 7 — running"]
    outcome = done.args[0]
    assert outcome.run_dirs[0] == adalora_dir and len(outcome.run_dirs) == 2 and not outcome.problems
    lora_cfg = load_config(Path(outcome.run_dirs[1]) / "run.json")
    assert lora_cfg.method == "lora" and lora_cfg.comparison_id == outcome.comparison_id
    assert outcome.comparison_id in read_entry(adalora_dir).tags  # the adopted run carries the id as a tag

    view = window.comparisons.compare
    assert window.pages.currentWidget() is view  # opened when the queue was done
    assert [r.method for r in view.results] == ["adalora", "lora"]
    assert view.table.horizontalHeaderItem(5).text() == "peak memory"
    memory = [view.table.item(row, 5).text() for row in range(view.table.rowCount())]
    assert len(memory) == 2 and all(m.startswith("RAM ") and m.endswith(" MiB") for m in memory)
    _save(window, "compare_table_peak_memory.png")
    view.axis.setCurrentText("epoch")  # a redraw keeps accuracy unscaled (no SI prefix on a 0-1 axis)
    assert view.metric_plot.getAxis("left").autoSIPrefixScale == 1.0

    window.open_run(outcome.run_dirs[1])  # a LoRA run is the baseline itself: no "Compare with LoRA…"
    dash.redraw()
    assert panel.isVisible() and not panel.compare_button.isVisibleTo(panel)


def test_the_sweep_plot_gains_a_point_as_each_arm_finishes(
        qtbot, window: MainWindow, tiny_bert_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from adalora_studio.core.events import Finished, StepLogged

    runner, panel = window.comparisons.runner, window.comparisons.panel
    seen: list[tuple[int, int, bool]] = []  # (arms finished, points on the sweep plot, queue still running)

    def arm_ended(terminal: object) -> None:  # connected after the runner: the panel has redrawn by now
        assert isinstance(terminal, Finished)
        seen.append((len(panel.last_run_dirs), panel.sweep.point_count, runner.active))

    def check_visible(event: object) -> None:
        if isinstance(event, RunStarted):
            assert panel.sweep.isVisible() and window.comparisons.dock.isVisible()
        if isinstance(event, StepLogged) and len(seen) == 3 and event.step == 6:  # the last arm, 6 of 8 steps
            window.dashboard.redraw()
            _save(window, "sweep_mid_queue.png")

    window.worker.event.connect(check_visible)
    with qtbot.waitSignal(runner.done, timeout=600_000) as done:
        assert window.comparisons.start(_cfg(tiny_bert_dir, tmp_path), seeds=1, budgets=(1, 2))
        window.worker.run_finished.connect(arm_ended)
        assert panel.sweep.isVisible() and panel.sweep.point_count == 0
    window.worker.event.disconnect(check_visible)
    window.worker.run_finished.disconnect(arm_ended)
    assert len(done.args[0].run_dirs) == 4
    assert seen == [(1, 1, True), (2, 2, True), (3, 3, True), (4, 4, False)]
    assert panel.sweep.points == {"AdaLoRA": 2, "LoRA": 2}
    assert panel.sweep.plot.getAxis("left").autoSIPrefixScale == 1.0  # accuracy as it is, not x1000, after redraws
    view = window.comparisons.compare
    assert window.pages.currentWidget() is view and len(view.sweep_plot.listDataItems()) == 2
