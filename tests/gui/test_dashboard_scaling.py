"""Rank views on deep models (30-80 layers), the hover tooltip, the finish panel's numbers and paths, the pace
(average throughput, smooth ETA), plot state between runs, and a resume that re-sends its snapshot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent
from PySide6.QtGui import QGuiApplication, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from adalora_studio.core.events import RanksUpdated, RunStarted, StepLogged
from adalora_studio.gui.dashboard import Dashboard
from adalora_studio.gui.dashboard.pace import Pace
from adalora_studio.gui.dashboard.ticks import thin_ticks
from tests.gui.synthetic_run import synthetic_events
from tests.png_dir import png_dir

PNG = png_dir("issue15")


def snap(widget, name: str) -> None:  # noqa: ANN001
    if PNG.parent.is_dir():
        PNG.mkdir(exist_ok=True)
        widget.grab().save(str(PNG / f"{name}.png"))


@pytest.fixture
def dashboard(qtbot) -> Dashboard:  # noqa: ANN001
    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.resize(1280, 820)
    dash.show()
    return dash


def _deep_run(dashboard: Dashboard, n_layers: int = 30) -> None:
    dashboard.apply_events(synthetic_events(total_steps=60, n_layers=n_layers))
    dashboard.redraw()
    QApplication.processEvents()
    dashboard.rank_bars._apply_ticks()
    dashboard.heatmap._fit_labels()


def _labels(axis) -> list[str]:  # noqa: ANN001
    major = axis._tickLevels[0]
    return [label for _x, label in major]


def test_thin_ticks_keeps_the_last_layer_and_fits_the_width() -> None:
    ticks = [(float(i), f"L{i}") for i in range(80)]
    major, minor = thin_ticks(ticks, 0, 79, 600)
    assert major[-1] == (79.0, "L79") and len(major) <= 600 // 34 + 1
    assert len(major) + len(minor) == 80 and all(label == "" for _x, label in minor)
    assert thin_ticks(ticks[:6], 0, 5, 600) == (ticks[:6], [])


@pytest.mark.parametrize("n_layers", [30, 80])
def test_deep_models_get_readable_rank_views(qtbot, dashboard: Dashboard, n_layers: int) -> None:  # noqa: ANN001
    _deep_run(dashboard, n_layers)
    bars, heat = dashboard.rank_bars, dashboard.heatmap
    labels = _labels(bars.plot.getAxis("bottom"))
    assert labels[-1] == f"L{n_layers - 1}"  # the last layer is labelled
    width = bars.plot.getViewBox().width()
    assert len(labels) * 34 <= width + 34  # labels fit without overlapping
    legend = bars.legend.sceneBoundingRect()
    assert not legend.intersects(bars.plot.getViewBox().sceneBoundingRect())  # the legend is outside the bars
    assert not heat.digits_shown  # cells too small for digits
    heat.plot.setXRange(0, 4, padding=0)  # zoom in: the digits come back
    heat._fit_labels()
    assert heat.digits_shown
    assert heat.plot.getViewBox().state["mouseEnabled"][0]  # x zoom and pan
    bars.plot.setXRange(0, 30, padding=0)
    bars._apply_ticks()
    assert len(_labels(bars.plot.getAxis("bottom"))) == n_layers or "L1" in _labels(bars.plot.getAxis("bottom"))
    if n_layers == 30:
        heat.plot.setXRange(-0.5, n_layers - 0.5, padding=0)
        bars.plot.setXRange(float(bars.xs[0]) - 1, float(bars.xs[-1]) + 1, padding=0)
        QApplication.processEvents()
        snap(dashboard, "dashboard_30_layers")


def test_hovering_a_bar_shows_its_tooltip(qtbot, dashboard: Dashboard) -> None:  # noqa: ANN001
    dashboard.apply_events(synthetic_events(total_steps=60, n_layers=3))
    dashboard.redraw()
    QApplication.processEvents()
    bars = dashboard.rank_bars
    snapshot = dashboard.state.snapshots[-1]
    i = int(np.argmax([m.rank for m in snapshot.matrices]))
    vb = bars.plot.getViewBox()
    scene = vb.mapViewToScene(vb.mapFromView(vb.mapToView(vb.rect().center())))  # noqa: F841 - warm mapping
    from PySide6.QtCore import QPointF

    scene_pos = vb.mapViewToScene(QPointF(float(bars.xs[i]), 0.5))
    pos = bars.widget.mapFromScene(scene_pos)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, bars.widget.viewport().mapToGlobal(pos))
    QApplication.sendEvent(bars.widget.viewport(), event)
    assert QToolTip.isVisible() and snapshot.matrices[i].module in QToolTip.text()
    far = bars.widget.mapFromScene(vb.mapViewToScene(QPointF(float(bars.xs[-1]) + 5, 0.5)))
    QApplication.sendEvent(bars.widget.viewport(), QHelpEvent(QEvent.Type.ToolTip, far,
                                                               bars.widget.viewport().mapToGlobal(far)))
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=3000)


def test_finish_panel_shows_final_metrics_and_a_copyable_path(dashboard: Dashboard) -> None:
    dashboard.apply_events(synthetic_events(total_steps=60, n_layers=3))
    dashboard.redraw()
    panel = dashboard.finish_panel
    assert "Final metrics" in panel.metrics_label.text() and "accuracy 0.9" in panel.metrics_label.text()
    assert panel.copy_path() == "/tmp/runs/synthetic/adapter"
    assert QGuiApplication.clipboard().text() == "/tmp/runs/synthetic/adapter"
    snap(panel, "finish_panel")


def test_finished_header_shows_the_average_throughput() -> None:
    pace = Pace()
    for step, sps in enumerate([100.0, 100.0, 50.0, 1.0], start=1):
        pace.add(step, step * 1.0, sps)
    assert pace.average_sps == pytest.approx(4 / (1 / 100 + 1 / 100 + 1 / 50 + 1))


def test_eta_ignores_the_slow_first_step_after_a_resume() -> None:
    pace = Pace()
    pace.restart()
    pace.add(100, 60.0, 10.0)  # the first step after resume: 60 s of loading
    assert pace.eta(100, 300, fallback=1554.0) == 1554.0  # nothing measured yet
    for k in range(1, 11):
        pace.add(100 + k, 60.0 + 0.7 * k, 10.0)
    assert pace.eta(110, 300, fallback=1554.0) == pytest.approx(190 * 0.7)


def test_resume_does_not_duplicate_its_snapshot(dashboard: Dashboard) -> None:
    events = synthetic_events(total_steps=60, n_layers=2)
    state = dashboard.state
    state.apply_all(events[:-1])
    last = state.snapshots[-1]
    n = len(state.snapshots)
    started = next(e for e in events if isinstance(e, RunStarted))
    import dataclasses

    state.apply(dataclasses.replace(started, resumed_from_step=last.step, time=started.time + 1))
    state.apply(dataclasses.replace(last, time=last.time + 1))
    assert len(state.snapshots) == n and len(state.held_steps) == n
    assert [s.step for s in state.snapshots] == sorted({s.step for s in state.snapshots})


def test_steps_and_math_helpers_stay_finite() -> None:
    assert math.isnan(Pace().average_sps)
    assert isinstance(StepLogged, type) and isinstance(RanksUpdated, type)


def test_a_new_run_starts_with_fresh_axes_and_the_lr_axis_is_never_negative(dashboard: Dashboard) -> None:
    dashboard.apply_events(synthetic_events(total_steps=60, n_layers=3))
    dashboard.redraw()
    dashboard.curves.loss_plot.setXRange(10, 20, padding=0)
    dashboard.reset()
    dashboard.show_starting("next")
    assert "Starting next" in dashboard.empty_label.text()  # not "No run to show" while the model loads
    for plot in dashboard.curves.plots.values():
        assert all(plot.getViewBox().autoRangeEnabled())
    dashboard.apply_events(synthetic_events(total_steps=20, n_layers=2))
    dashboard.redraw()
    assert dashboard.curves.loss_plot.getViewBox().viewRange()[0][1] <= 21
    lr_vb = dashboard.curves.lr_plot.getViewBox()
    dashboard.curves.lr.setData([], [])
    lr_vb.autoRange()
    assert lr_vb.viewRange()[1][0] >= 0


def test_rank_held_is_drawn_as_steps(dashboard: Dashboard) -> None:
    dashboard.apply_events(synthetic_events(total_steps=60, n_layers=2))
    dashboard.redraw()
    held = dashboard.curves.held
    assert held.opts["stepMode"] == "right"
    x, _y = held.getData()
    assert x[-1] == dashboard.state.current_step  # the last snapshot's rank holds up to now
    snap(dashboard, "curves_rank_held_steps")


def test_the_user_guide_title_is_not_doubled(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QMainWindow

    from adalora_studio.gui.help import show_help

    win = QMainWindow()
    qtbot.addWidget(win)
    guide = show_help(win)
    assert guide.windowTitle() == "User guide"  # Qt adds " — AdaLoRA Studio" from the application name
    guide.close()


def test_a_lora_run_says_uniform_rank_instead_of_an_allocation(qtbot, dashboard: Dashboard) -> None:  # noqa: ANN001
    """A LoRA baseline has no allocation: the rank view says so, and draws no budget lines (issue 9)."""
    import dataclasses

    events = synthetic_events(total_steps=20, n_layers=3, init_r=4, target_r=4)
    started = dataclasses.replace(events[0], config={"name": "lora-arm", "method": "lora"})
    uniform = [dataclasses.replace(e, matrices=tuple(dataclasses.replace(m, rank=4) for m in e.matrices))
               for e in events if isinstance(e, RanksUpdated)]
    dashboard.apply_events([started, *uniform])
    dashboard.redraw()
    bars = dashboard.rank_bars
    assert "uniform rank r = 4" in bars.plot.titleLabel.text
    assert not bars.init_line.isVisible() and not bars.target_line.isVisible()
    snap(dashboard, "dashboard_lora_uniform")
    dashboard.apply_events(synthetic_events(total_steps=20, n_layers=3))  # an AdaLoRA run gets its lines back
    dashboard.redraw()
    assert bars.plot.titleLabel.text == "Rank per matrix" and bars.init_line.isVisible()
