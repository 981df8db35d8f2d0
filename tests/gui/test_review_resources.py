"""The review page's "Check resources" (a measured dry run on the worker) and "Export launch files…"."""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from adalora_studio.core.config import load_config, with_section
from adalora_studio.gui.wizard import preflight_jobs
from adalora_studio.gui.wizard.review import ReviewPage
from adalora_studio.gui.wizard.state import WizardState
from adalora_studio.gui.worker import TorchWorker
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)
from tests.png_dir import png_dir

PNG = png_dir()
SLOW_MS = 180_000


@pytest.fixture
def worker(qtbot):  # noqa: ANN001, ANN201 - pytest-qt fixture
    w = TorchWorker()
    yield w
    assert w.shutdown(30_000)


def _page(qtbot, state: WizardState) -> ReviewPage:  # noqa: ANN001
    page = ReviewPage(state)
    qtbot.addWidget(page)
    page.resize(1280, 860)
    page.show()
    return page


def _shot(page: ReviewPage, name: str) -> None:
    for _ in range(4):  # layout requests climb one level of nesting per pass: let them reach the page
        QApplication.processEvents()
    page.grab().save(str(PNG / name))


def _leftovers() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("adalora-preflight-*"))


def test_check_resources_measures_on_the_worker_and_leaves_nothing(qtbot, worker, tiny_bert_dir: Path,  # noqa: ANN001
                                                                   tmp_path: Path, monkeypatch) -> None:
    runs = tmp_path / "runs"
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), runs, max_steps=12, eval_every=6)
    threads: list[int] = []
    real = preflight_jobs.check_resources

    def on_which_thread(*args: object) -> object:
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(preflight_jobs, "check_resources", on_which_thread)
    before = _leftovers()
    page = _page(qtbot, WizardState(worker, cfg))
    box = page.resources
    qtbot.mouseClick(box.check_button, Qt.MouseButton.LeftButton)
    assert box.running and box.stop_button.isVisible() and box.bar.isVisible() and not box.check_button.isEnabled()
    assert box.bar.maximum() == preflight_jobs.WARMUP_STEPS + preflight_jobs.MEASURED_STEPS
    assert box.phase.text() in ("Checking the config and the data…", "Waiting for the run in progress to end…")
    _shot(page, "launch-gui-review-checking.png")
    qtbot.waitUntil(lambda: not box.running, timeout=SLOW_MS)

    assert threads and threads[0] not in (threading.get_ident(),)  # ran on the worker, not the GUI thread
    report = box.report
    assert report is not None, box.verdict.text()
    assert report.steps_measured == preflight_jobs.MEASURED_STEPS and report.total_steps == 12
    assert report.n_evals == 2 and report.peak_vram_mb is None  # eval at step 6 and 12; a CPU run
    text = box.result.text()
    for row in ("Time per step", "Whole run", "Peak RAM", "Peak VRAM", "Fits"):
        assert f"<b>{row}</b>" in text
    assert f"{report.s_per_step:.3f} s" in text and "— (not a CUDA run)" in text and "2 evaluations" in text
    assert report.fits and box.verdict.isVisible() and box.verdict.text().startswith("It fits.")
    assert not box.stop_button.isVisible() and not box.bar.isVisible() and box.check_button.isEnabled()
    assert not runs.exists() or not any(runs.iterdir())  # no run folder where the real run would write
    assert _leftovers() == before  # the temporary one is gone
    _shot(page, "launch-gui-review-fits.png")

    # The same measurements judged for a machine with half the memory this run added: it does not fit, and the
    # knobs come with numbers
    # In a long test session the tiny run can add almost no resident memory (the process already holds pages it
    # reuses), so give the measured report a peak 200 MiB over its base before judging it for a smaller machine.
    box.report = report = dataclasses.replace(report, peak_ram_mb=report.base_ram_mb + 200.0)
    added = report.peak_ram_mb - report.base_ram_mb
    limit = max(1, int(added / 2))
    box.limit_box.setChecked(True)
    box.limit_spin.setValue(limit)
    judged = box.judged()
    assert not judged.fits and judged.available_ram_mb == limit and box.report.fits
    verdict = box.verdict.text()
    assert verdict.startswith(f"It does not fit in RAM against {limit:,} MiB. Needs about {added:.0f} MiB, "
                              f"{0.9 * limit:.0f} MiB usable"), verdict
    assert "“Batch size” 8 -&gt; 4: about" in verdict and "MiB less" in verdict
    assert "“Gradient checkpointing” on" in verdict  # (max_length 32 is offered no shorter)
    _shot(page, "launch-gui-review-does-not-fit.png")
    box.limit_box.setChecked(False)
    assert box.verdict.text().startswith("It fits.")

    page.state.update("training", batch_size=4)
    assert "check again" in box.phase.text()


def test_stop_ends_the_check_with_nothing_kept(qtbot, worker, tiny_bert_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    runs = tmp_path / "runs"
    before = _leftovers()
    page = _page(qtbot, WizardState(worker, bert_config(tiny_bert_dir, small_classification_csv(tmp_path), runs)))
    box = page.resources
    box.start()
    qtbot.mouseClick(box.stop_button, Qt.MouseButton.LeftButton)  # before its first step: the engine stops at it
    assert box.stop_button.text() == "Stopping…" and not box.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not box.running, timeout=SLOW_MS)
    assert box.report is None and not box.result.isVisible()
    assert box.verdict.text() == "Stopped: nothing was measured or kept."
    assert not runs.exists() or not any(runs.iterdir())
    assert _leftovers() == before


def test_check_resources_refuses_a_config_with_errors(qtbot, tiny_bert_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    cfg = with_section(bert_config(tiny_bert_dir, tmp_path / "x.csv", tmp_path), "data", eval_fraction=1.5)
    page = _page(qtbot, WizardState(None, cfg))
    page.resources.start()
    assert not page.resources.running and "Fix the config first: Eval fraction" in page.resources.verdict.text()


def test_export_launch_files_writes_what_export_launch_writes(qtbot, tiny_bert_dir: Path, tmp_path: Path,  # noqa: ANN001
                                                               monkeypatch) -> None:
    out = tmp_path / "handoff"
    asked: list[str] = []

    def choose(_parent: object, caption: str, _start: str) -> str:
        asked.append(caption)
        return str(out)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(choose))
    cfg = bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs")  # device cpu
    page = _page(qtbot, WizardState(None, cfg))
    box = page.launch_export
    box.processes.setValue(2)
    box.nodes.setValue(3)
    qtbot.mouseClick(box.export_button, Qt.MouseButton.LeftButton)

    assert asked == ["Folder for the launch files"]
    assert load_config(out / "run.json") == cfg  # paths were absolute already
    accel = yaml.safe_load((out / "accelerate_config.yaml").read_text(encoding="utf-8"))
    assert accel["num_processes"] == 2 and accel["distributed_type"] == "MULTI_CPU" and accel["use_cpu"] is True
    launch = (out / "launch.sh").read_text(encoding="utf-8")
    assert "torch.distributed.run" in launch and "NUM_PROCESSES:-2" in launch
    sbatch = (out / "slurm.sbatch").read_text(encoding="utf-8")
    assert "#SBATCH --nodes=3" in sbatch and "--machine_rank" in sbatch
    message = box.message.text()
    assert box.message.isVisible() and f"bash {out / 'launch.sh'}" in message and "2 CPU processes" in message
    assert "3 nodes" in message and "File ▸ Open run…" in message and str((tmp_path / "runs").resolve()) in message
    _shot(page, "launch-gui-review-launch-files.png")


def test_export_launch_files_says_when_auto_means_gpus_on_a_cpu_machine(qtbot, tiny_bert_dir: Path,  # noqa: ANN001
                                                                       tmp_path: Path) -> None:
    cfg = with_section(bert_config(tiny_bert_dir, small_classification_csv(tmp_path), tmp_path / "runs"),
                       "training", device="auto")
    state = WizardState(None, cfg)
    page = _page(qtbot, state)
    state.set_devices({"cuda": False, "mps": False, "cuda_count": 0})
    page.launch_export.export_to(tmp_path / "out")
    assert "accelerate.commands.launch" in (tmp_path / "out" / "launch.sh").read_text(encoding="utf-8")
    assert "Device is auto" in page.launch_export.message.text()
