"""The measured preflight: a few real steps, nothing left behind, a step rate that matches the real run's."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import pytest

from adalora_studio.core.events import CheckpointSaved, EvalLogged, RanksUpdated, StepLogged
from adalora_studio.core.training import Engine, PreflightReport, measure_run
from adalora_studio.core.training.preflight import planned_evals
from tests.core.engine_fixtures import (
    bert_config,
    small_classification_csv,
    torch_single_thread,  # noqa: F401  (autouse fixture)
)


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_classification_csv(tmp_path_factory.mktemp("data"))


def _real_cpu_per_step(cfg, warmup: int) -> float:
    """Median thread-CPU seconds per optimizer step of a real run (gaps holding an evaluation or a checkpoint
    are left out, as the dry run times evaluation apart)."""
    per_step, prev, paused = [], 0.0, False
    for event in Engine(cfg).events():
        now = time.thread_time()
        if isinstance(event, RanksUpdated) and event.step == 0 and not prev:
            prev = now
        elif isinstance(event, (EvalLogged, CheckpointSaved)):
            paused = True
        elif isinstance(event, StepLogged):
            if event.step > warmup and not paused:
                per_step.append(now - prev)
            prev, paused = now, False
    return statistics.median(per_step)


def test_dry_run_leaves_nothing_and_matches_the_real_step_rate(tiny_bert_dir: Path, tickets: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "runs"
    cfg = bert_config(tiny_bert_dir, tickets, out, max_steps=24)
    before = set(Path(tempfile.gettempdir()).glob("adalora-preflight-*"))
    report = measure_run(cfg, steps=20, warmup=2)  # a schedule as long as the real one: the same mix of steps
    assert not out.exists() or not any(out.iterdir())  # no run folder where the real run would write
    assert set(Path(tempfile.gettempdir()).glob("adalora-preflight-*")) == before  # the temporary one is gone
    assert report.steps_measured == 20 and report.total_steps == 24
    assert report.n_evals == planned_evals(cfg, 24, 7) == 4  # 54 rows / batch 8: 7 steps per epoch
    assert report.projected_s == pytest.approx(24 * report.s_per_step + 4 * report.eval_s)
    assert report.eval_s > 0 and report.peak_ram_mb >= report.base_ram_mb > 0 and report.peak_vram_mb is None
    assert report.fits and "Fits in memory: yes" in report.lines()

    # CPU time of this thread, the least of three alternating runs each: other processes only ever add to it
    dry, real = [report.cpu_s_per_step], []
    for _ in range(3):
        real.append(_real_cpu_per_step(cfg, warmup=2))
        if len(dry) < 3:
            dry.append(measure_run(cfg, steps=20, warmup=2).cpu_s_per_step)
    assert min(dry) == pytest.approx(min(real), rel=0.25), (dry, real)


def test_a_run_that_does_not_fit_names_the_knobs_with_numbers(tiny_bert_dir: Path, tickets: Path,
                                                              tmp_path: Path) -> None:
    from adalora_studio.core.config import with_section

    cfg = with_section(bert_config(tiny_bert_dir, tickets, tmp_path, batch_size=8), "data", max_length=64)
    report = PreflightReport(steps_measured=5, s_per_step=0.5, cpu_s_per_step=0.5, eval_s=2.0, total_steps=100,
                             n_evals=2, projected_s=54.0, peak_ram_mb=3000.0, base_ram_mb=500.0,
                             model_ram_mb=1000.0, available_ram_mb=2000.0, config=cfg)
    assert not report.fits
    text = "\n".join(report.lines())
    assert "Fits in memory: NO" in text and "Needs about 2500 MiB, 1800 MiB usable" in text
    assert "training.batch_size 8 -> 4: about 750 MiB less" in text and "training.grad_accum to 2" in text
    assert "data.max_length 64 -> 32" in text and "gradient_checkpointing" in text


def test_a_run_that_does_not_fit_in_vram_splits_the_gpu_memory(tiny_bert_dir: Path, tickets: Path,
                                                               tmp_path: Path) -> None:
    """On CUDA the steps' share is the peak VRAM less what the model held on the GPU, not less its RAM."""
    from adalora_studio.core.config import with_section

    cfg = with_section(bert_config(tiny_bert_dir, tickets, tmp_path, batch_size=8), "data", max_length=64)
    report = PreflightReport(steps_measured=5, s_per_step=0.5, cpu_s_per_step=0.5, eval_s=2.0, total_steps=100,
                             n_evals=2, projected_s=54.0, peak_ram_mb=3000.0, base_ram_mb=500.0,
                             model_ram_mb=1000.0, available_ram_mb=20000.0, peak_vram_mb=9000.0,
                             total_vram_mb=8000.0, model_vram_mb=3000.0, device="cuda", config=cfg)
    assert report.fits_ram and not report.fits_vram
    text = "\n".join(report.lines())
    assert "Needs about 9000 MiB, " in text and "the steps add about 6000 MiB" in text
    assert "training.batch_size 8 -> 4: about 3000 MiB less" in text


def test_planned_evaluations_follow_the_engine_schedule(tiny_bert_dir: Path, tickets: Path, tmp_path: Path) -> None:
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, eval_every=5)
    assert planned_evals(cfg, 16, 7) == 4  # steps 5, 10, 15 and the final 16
    cfg = bert_config(tiny_bert_dir, tickets, tmp_path, eval_every=0)
    assert planned_evals(cfg, 14, 7) == 2  # each epoch's end; the last one is the final evaluation
