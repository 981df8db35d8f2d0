"""A real tiny run driven through the window's own buttons: Stop (checkpoint), Resume from the live dashboard,
a crash, Resume from File ▸ Open run, Finished, then every export button writes its files."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from adalora_studio.core import paths
from adalora_studio.core.config import DataConfig, ModelConfig, RunConfig, demo_config, with_section
from adalora_studio.core.events import Event, Finished, StepLogged, Stopped, StopToken
from adalora_studio.gui import exports
from adalora_studio.gui.dashboard import dashboard as dashboard_module
from adalora_studio.gui.main_window import MainWindow
from adalora_studio.gui.worker import TorchWorker

TOTAL_STEPS = 24


def _paced_engine(config: RunConfig, stop: StopToken, resume_from: object = None) -> Iterator[Event]:
    """The real engine, pausing briefly after each step so the GUI's Stop lands mid-run (a tiny model trains
    faster than the dashboard redraws)."""
    from adalora_studio.core.training import run

    for event in run(config, stop, resume_from):
        yield event
        if isinstance(event, StepLogged):
            time.sleep(0.15)


@pytest.fixture
def window(qtbot, monkeypatch) -> Iterator[MainWindow]:  # noqa: ANN001
    worker = TorchWorker()
    real_start = TorchWorker.start_run
    monkeypatch.setattr(worker, "start_run",
                        lambda cfg, resume_from=None: real_start(worker, cfg, resume_from, run_fn=_paced_engine))
    win = MainWindow(worker=worker)
    qtbot.addWidget(win)
    win.show()
    yield win
    if win.running:
        win.worker.request_stop()
        with qtbot.waitSignal(win.worker.run_finished, timeout=120_000):
            pass
    assert win.worker.shutdown(30_000)


def _tiny_config(tiny_bert_dir: Path, tmp_path: Path) -> RunConfig:
    data = tmp_path / "tickets.csv"
    lines = paths.demo_classification_file().read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(lines[:81]) + "\n", encoding="utf-8")
    cfg = RunConfig(
        name="tiny-lifecycle", model=ModelConfig(source="folder", path=str(tiny_bert_dir)),
        data=DataConfig(train_file=str(data), text_columns=("text",), label_column="label", max_length=32,
                        eval_fraction=0.2),
        budget=demo_config().budget,
    )
    return with_section(cfg, "training", max_steps=TOTAL_STEPS, batch_size=8, eval_every=8, checkpoint_every=4,
                        device="cpu", precision="fp32")


def _stop_after(qtbot, window: MainWindow, step: int) -> Stopped:  # noqa: ANN001
    """Press the dashboard's Stop once ``step`` optimizer steps are logged; return the Stopped event."""
    def on_event(event: object) -> None:
        if isinstance(event, StepLogged) and event.step >= step and window.dashboard.progress.stop_button.isEnabled():
            window.dashboard.progress.stop_button.click()

    window.worker.event.connect(on_event)
    try:
        with qtbot.waitSignal(window.run_ended, timeout=600_000) as ended:
            pass
    finally:
        window.worker.event.disconnect(on_event)
    assert isinstance(ended.args[0], Stopped), getattr(ended.args[0], "message", ended.args[0])
    return ended.args[0]


def _notice(qtbot, window: MainWindow, needle: str) -> str:  # noqa: ANN001
    """Wait for the notice box whose text has ``needle``; close it and return its text."""
    def find() -> QMessageBox | None:
        return next((b for b in window.findChildren(QMessageBox)
                     if b.objectName() == "notice" and b.isVisible() and needle in b.text()), None)

    qtbot.waitUntil(lambda: find() is not None, timeout=300_000)
    box = find()
    text = box.text()
    box.close()
    return text


@pytest.mark.slow
def test_stop_resume_crash_resume_finish_and_export(qtbot, window: MainWindow, tiny_bert_dir: Path,
                                                    tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    dash = window.dashboard
    assert window.start_run(_tiny_config(tiny_bert_dir, tmp_path))
    first = _stop_after(qtbot, window, 3)
    assert first.checkpoint and Path(first.checkpoint).is_dir()  # Stop writes a checkpoint
    run_dir = dash.state.run_dir
    qtbot.waitUntil(dash.progress.resume_button.isEnabled, timeout=5000)

    # Resume from the live dashboard, then stop again further on.
    dash.progress.resume_button.click()
    assert window.running
    second = _stop_after(qtbot, window, first.step + 3)
    assert second.step > first.step and dash.state.run_dir == run_dir

    # Make it look like the app died during the run: the log ends without its terminal event.
    log = Path(run_dir) / "events.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["event"] == "stopped"
    log.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    window.show_home()
    window.open_run(run_dir)
    assert window.pages.currentWidget() is dash and dash.state.status == "interrupted"
    assert dash.progress.resume_button.isEnabled()
    with qtbot.waitSignal(window.run_ended, timeout=600_000) as ended:
        dash.progress.resume_button.click()
    finished = ended.args[0]
    assert isinstance(finished, Finished), getattr(finished, "message", finished)
    assert finished.step == TOTAL_STEPS and finished.run_dir == run_dir
    dash.redraw()
    x, _ = dash.curves.loss_raw.getData()
    assert list(x) == list(range(1, TOTAL_STEPS + 1))  # history before the resumes is kept, nothing doubled
    assert not dash.finish_panel.isHidden() and dash.finish_panel.lora_button.isEnabled()

    # Every export button asks where to save (pre-filled with <run>/exports/...) and writes files there.
    asked: list[str] = []
    monkeypatch.setattr(exports, "ask_save_path", lambda _w, _t, start, _f: asked.append(start) or start)
    dash.finish_panel.lora_button.click()
    lora = Path(re.search(r"written to (.+)\.$", _notice(qtbot, window, "plain LoRA adapter was written")).group(1))
    assert (lora / "adapter_config.json").is_file() and (lora / "adapter_model.safetensors").is_file()
    assert json.loads((lora / "adapter_config.json").read_text())["peft_type"] == "LORA"
    dash.finish_panel.merged_button.click()
    merged = Path(re.search(r"written to (.+)\.$", _notice(qtbot, window, "merged model was written")).group(1))
    assert (merged / "config.json").is_file() and any(merged.glob("*.safetensors"))
    csv_target = tmp_path / "out" / "ranks.csv"
    csv_target.parent.mkdir()
    assert asked == [str(Path(run_dir) / "exports" / "lora"), str(Path(run_dir) / "exports" / "merged")]
    assert lora == Path(asked[0]) and merged == Path(asked[1])
    monkeypatch.setattr(exports, "ask_save_path", lambda *a: str(csv_target))
    dash.finish_panel.csv_button.click()
    _notice(qtbot, window, "rank table was written")
    header = csv_target.read_text(encoding="utf-8").splitlines()[0]
    assert "rank" in header and len(csv_target.read_text(encoding="utf-8").splitlines()) > 2
    plots_dir = tmp_path / "plots"
    monkeypatch.setattr(dashboard_module.QFileDialog, "getExistingDirectory", lambda *a, **k: str(plots_dir))
    dash.finish_panel.plots_button.click()
    written = sorted(p.name for p in plots_dir.iterdir())
    assert {"loss.png", "loss.svg", "rank_bars.png", "rank_bars.svg", "rank_heatmap.png", "budget.svg"} <= set(
        written)
