"""The "Inside AdaLoRA" tab on a real (tiny) engine run: explorer, timeline, budget, spectra; replay equals live;
a click on a bar or a heatmap cell picks the matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from adalora_studio.core.events import RanksUpdated
from adalora_studio.gui.dashboard.dashboard import Dashboard
from adalora_studio.gui.dashboard.explorer_state import budget_shares, matrix_history
from tests.core.engine_fixtures import bert_config, small_classification_csv


@pytest.fixture(scope="module")
def engine_run(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list, Path]:
    import torch

    from adalora_studio.core.training import Engine

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        folder = tmp_path_factory.mktemp("insights")
        cfg = bert_config(tiny_bert_dir, small_classification_csv(folder), folder / "runs",
                          budget={"init_r": 6, "target_r": 2})
        events = list(Engine(cfg).events())
    finally:
        torch.set_num_threads(threads)
    return events, Path(events[-1].run_dir)


@pytest.fixture
def dashboard(qtbot) -> Dashboard:  # noqa: ANN001
    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.resize(1200, 800)
    return dash


def _show_inside(dash: Dashboard, qtbot) -> None:  # noqa: ANN001
    dash.show()
    qtbot.waitExposed(dash)
    dash.tabs.setCurrentWidget(dash.insights)
    QApplication.processEvents()


def test_live_views_fill_from_engine_events(engine_run, dashboard: Dashboard, qtbot) -> None:  # noqa: ANN001
    events, _ = engine_run
    _show_inside(dashboard, qtbot)
    for event in events:
        dashboard.apply_event(event)
    dashboard.redraw()
    panel = dashboard.insights
    h = panel.explorer.history
    assert h is not None and h.importance.shape[1] == 6
    assert np.isfinite(h.threshold).sum() >= 3 and np.isfinite(h.orth_residual).any()
    assert panel.explorer.table.rowCount() == len(dashboard.state.snapshots[-1].matrices)
    assert len(panel.explorer.importance_plot.listDataItems()) > 6  # 6 triplets + threshold (+ mask marks)
    panel.setCurrentWidget(panel.timeline)
    assert panel.timeline.grid.shape[0] == len(dashboard.state.snapshots[-1].matrices)
    final = [m.rank for m in dashboard.state.snapshots[-1].matrices]
    assert list(panel.timeline.grid[:, -1]) == final
    assert list(panel.timeline.grid[:, 0]) == [6] * len(final)
    panel.setCurrentWidget(panel.budget)
    shares = panel.budget.shares["type"]
    assert sum(s.share for s in shares) == pytest.approx(1.0)
    assert shares == budget_shares(dashboard.state.snapshots[-1], "type")
    panel.setCurrentWidget(panel.spectra)
    assert panel.spectra.grid.shape == (len(final), 6)
    assert list(np.isfinite(panel.spectra.grid).sum(axis=1)) == final


def test_replayed_explorer_equals_live(engine_run, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    events, run_dir = engine_run
    live, replay = Dashboard(), Dashboard()
    for dash in (live, replay):
        qtbot.addWidget(dash)
        _show_inside(dash, qtbot)
    for event in events:
        live.apply_event(event)
    live.redraw()
    replay.load_run(run_dir)
    qtbot.waitUntil(lambda: replay.state.terminal is not None, timeout=5000)
    replay.redraw()
    assert replay.state.snapshots == live.state.snapshots
    for m in live.state.snapshots[-1].matrices:
        live.insights.explorer.select(m.module)
        replay.insights.explorer.select(m.module)
        assert replay.insights.explorer.history == live.insights.explorer.history
    assert matrix_history(replay.state.snapshots, m.module) == live.insights.explorer.history


def test_clicking_a_bar_or_a_heatmap_cell_picks_the_matrix(engine_run, dashboard: Dashboard, qtbot) -> None:  # noqa: ANN001
    events, _ = engine_run
    dashboard.show()
    qtbot.waitExposed(dashboard)
    for event in events:
        dashboard.apply_event(event)
    dashboard.redraw()
    QApplication.processEvents()
    bars = dashboard.rank_bars
    target = [m for m in bars.snapshot.matrices if m.rank > 0][-1]
    i = bars.snapshot.matrices.index(target)
    pos = bars.widget.mapFromScene(bars.plot.getViewBox().mapViewToScene(QPointF(float(bars.xs[i]), target.rank / 2)))
    qtbot.mouseClick(bars.widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: dashboard.insights.explorer.module == target.module, timeout=3000)
    assert dashboard.tabs.currentWidget() is dashboard.insights

    dashboard.tabs.setCurrentIndex(0)
    QApplication.processEvents()
    heat = dashboard.heatmap
    first = dashboard.state.snapshots[-1].matrices[0]
    cell = QPointF(float(heat.layers.index(f"L{first.layer}")), float(heat.types.index(first.matrix_type)))
    pos = heat.widget.mapFromScene(heat.plot.getViewBox().mapViewToScene(cell))
    qtbot.mouseClick(heat.widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: dashboard.insights.explorer.module == first.module, timeout=3000)


def test_timeline_exports_png_and_svg(engine_run, dashboard: Dashboard, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    events, _ = engine_run
    _show_inside(dashboard, qtbot)
    dashboard.apply_events(events)
    dashboard.redraw()
    dashboard.insights.setCurrentWidget(dashboard.insights.timeline)
    files = dashboard.insights.timeline.export(tmp_path)
    assert sorted(f.name for f in files) == ["pruning_timeline.png", "pruning_timeline.svg"]
    assert all(f.stat().st_size > 1000 for f in files)
    assert isinstance(dashboard.state.snapshots[-1], RanksUpdated)


def test_finish_panel_exports_ranks_for_lora(engine_run, qtbot, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QFileDialog

    from adalora_studio.gui.main_window import MainWindow
    from adalora_studio.gui.worker import TorchWorker

    events, run_dir = engine_run
    window = MainWindow(worker=TorchWorker())
    qtbot.addWidget(window)
    try:
        window.dashboard.apply_events(events)
        window.dashboard.redraw()
        panel = window.dashboard.finish_panel
        assert panel.more_button.isEnabled() and panel.ranks_action.isEnabled() and panel.gguf_action.isEnabled()
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "ranks"))
        with qtbot.waitSignal(window.worker.busy_changed, timeout=60_000,
                              check_params_cb=lambda busy: not busy):
            panel.ranks_action.trigger()
        assert (tmp_path / "ranks" / "adapter_config.json").is_file()
        assert (tmp_path / "ranks" / "axolotl_lora.yml").is_file()
    finally:
        assert window.worker.shutdown(30_000)
