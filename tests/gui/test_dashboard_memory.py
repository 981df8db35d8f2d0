"""Dashboard: the fp16 scaler's skipped steps and CUDA memory, from the run's events (live, replay, resume)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adalora_studio.core.events import RunStarted, StepLogged, event_to_json
from adalora_studio.gui.dashboard.dashboard import Dashboard
from tests.gui.synthetic_run import synthetic_events
from tests.png_dir import png_dir

PNG = png_dir()


@pytest.fixture
def dashboard(qtbot) -> Dashboard:  # noqa: ANN001
    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.resize(1280, 820)
    dash.show()
    return dash


def test_skipped_steps_and_cuda_memory_are_shown(dashboard: Dashboard) -> None:
    events = synthetic_events(total_steps=60, n_layers=2, skipped_at=(7, 19, 33), cuda=True)
    cut = next(i for i, e in enumerate(events) if isinstance(e, StepLogged) and e.step == 40) + 1
    dashboard.apply_events(events[:cut])  # mid-run, at step 40: 3 skips so far
    dashboard.redraw()
    progress = dashboard.progress
    assert progress.skipped_label.isVisible() and progress.skipped_label.text() == "⚠ 3 steps skipped (fp16)"
    assert progress.cuda_label.isVisible()
    last = [e for e in events[:cut] if getattr(e, "cuda_memory_mb", None) is not None][-1]
    assert progress.cuda_label.text() == "CUDA 928 MB · peak 1.5 GB"  # step 40: 900 + 40 sin(40/3) MiB; 1,500 MiB
    assert dashboard.memory_plot.isVisible()
    x, y = dashboard.memory_plot.allocated.getData()
    assert len(x) == dashboard.state.memory.steps.view().size == last.step
    assert np.allclose(y[-1], last.cuda_memory_mb)
    PNG.mkdir(parents=True, exist_ok=True)
    dashboard.grab().save(str(PNG / "launch-gui-dashboard-cuda-fp16.png"))
    progress.grab().save(str(PNG / "launch-gui-dashboard-header.png"))

    dashboard.apply_events(events[cut:])
    dashboard.redraw()
    assert progress.cuda_label.isVisible() and "peak" in progress.cuda_label.text()  # the peak stays after the end
    assert "cuda_memory" in {p.stem for p in dashboard.export_plots(PNG / "launch-gui-plots")}


def test_a_cpu_run_shows_no_cuda_memory_and_no_skips(dashboard: Dashboard) -> None:
    dashboard.apply_events(synthetic_events(total_steps=30, n_layers=1))
    dashboard.redraw()
    assert not dashboard.progress.cuda_label.isVisible() and not dashboard.progress.skipped_label.isVisible()
    assert not dashboard.memory_plot.isVisible() and dashboard.progress.cuda_label.text() == ""


def test_replay_and_resume_count_skips_over_sessions(tmp_path: Path, dashboard: Dashboard, qtbot) -> None:  # noqa: ANN001
    first = synthetic_events(total_steps=60, n_layers=1, stop_at=30, skipped_at=(5, 12), cuda=True,
                             run_dir=str(tmp_path))
    # the resumed session counts its own skips from 0 again (as the engine does): one more at step 41
    resumed = [e for e in synthetic_events(total_steps=60, n_layers=1, skipped_at=(5, 12, 41), cuda=True,
                                           run_dir=str(tmp_path)) if getattr(e, "step", 0) > 30]
    start = next(e for e in first if isinstance(e, RunStarted))
    restart = RunStarted(**{**start.__dict__, "resumed_from_step": 30, "time": start.time + 100})
    for e in resumed:
        if hasattr(e, "skipped_steps"):
            object.__setattr__(e, "skipped_steps", 1 if e.step >= 41 else 0)
    stream = [*first, restart, *resumed]
    (tmp_path / "events.jsonl").write_text("".join(event_to_json(e) + "\n" for e in stream), encoding="utf-8")
    dashboard.load_run(tmp_path)
    qtbot.waitUntil(lambda: dashboard.state.terminal is not None, timeout=5000)
    dashboard.redraw()
    assert dashboard.progress.skipped_label.text() == "⚠ 3 steps skipped (fp16)"
    steps = dashboard.state.memory.steps.view()
    assert steps[0] == 1 and steps[-1] == 60 and np.all(np.diff(steps) > 0)  # no step twice after the resume
