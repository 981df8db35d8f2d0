"""Measured preflight: a few real optimizer steps on the real model and data, then "will it fit, how long?".

:func:`measure_run` runs the engine itself for ``warmup + steps`` optimizer steps into a temporary folder
(deleted afterwards: no run folder is left behind), times the steps after the warm-up (wall clock and the
thread's CPU time), times one evaluation of the whole evaluation set, takes the peak resident memory (the
kernel's high-water mark on Linux) and the peak CUDA allocation, and projects the whole run:
``total_steps x s/step + evaluations x eval time``. When the peak does not fit in the memory available,
:meth:`PreflightReport.lines` says which knob helps and by about how much, from the measured split between the
memory the model holds and what the steps add.

Used by ``adalora-studio validate --dry-run`` and, in the worker thread, by the GUI's review page.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import RunConfig, with_section
from ..errors import RunError
from ..events import Event, Failed, RanksUpdated, StepLogged, StopToken

NEVER = 10**9
FIT_MARGIN = 0.9
"""A run fits when its peak stays under this share of the memory available before it started."""


@dataclass(frozen=True)
class PreflightReport:
    """What a short measured run says about the whole run."""

    steps_measured: int
    s_per_step: float
    """Median wall-clock seconds per optimizer step (after the warm-up)."""
    cpu_s_per_step: float
    """Median CPU seconds of the training thread per optimizer step (steadier on a loaded machine)."""
    eval_s: float
    """One evaluation of the whole evaluation set (0 without evaluation data)."""
    total_steps: int
    n_evals: int
    projected_s: float
    """Projected training time of the whole run, evaluations included."""
    peak_ram_mb: float
    """Peak resident memory of the process during the dry run."""
    base_ram_mb: float
    """Resident memory before the dry run started (what the program already held)."""
    model_ram_mb: float
    """Added by loading the model and building the run, before the first step."""
    available_ram_mb: float
    peak_vram_mb: float | None = None
    total_vram_mb: float | None = None
    model_vram_mb: float | None = None
    """CUDA memory allocated once the model was loaded, before the first step (None off CUDA)."""
    device: str = "cpu"
    config: RunConfig = field(default_factory=RunConfig)

    @property
    def steps_per_s(self) -> float:
        return 1.0 / self.s_per_step if self.s_per_step > 0 else math.inf

    @property
    def fits_ram(self) -> bool:
        return self.peak_ram_mb - self.base_ram_mb <= FIT_MARGIN * self.available_ram_mb

    @property
    def fits_vram(self) -> bool:
        return self.peak_vram_mb is None or self.total_vram_mb is None or (
            self.peak_vram_mb <= FIT_MARGIN * self.total_vram_mb)

    @property
    def fits(self) -> bool:
        return self.fits_ram and self.fits_vram

    @property
    def memory_kind(self) -> str:
        """Which memory decides whether the run fits: ``VRAM`` on CUDA, else ``RAM``."""
        return "VRAM" if self.peak_vram_mb is not None else "RAM"

    def advice(self) -> list[str]:
        """Which settings help, with estimated savings, when the run does not fit (empty when it fits)."""
        return [] if self.fits else knob_lines(self)

    def with_memory_limit(self, limit_mb: float) -> PreflightReport:
        """This report judged against ``limit_mb`` MiB (of VRAM on CUDA, else of RAM) instead of what this machine
        has: planning for another machine. The measured numbers stay as they are."""
        if limit_mb <= 0:
            raise ValueError(f"a memory limit must be positive (got {limit_mb})")
        if self.peak_vram_mb is not None:
            return dataclasses.replace(self, total_vram_mb=float(limit_mb))
        return dataclasses.replace(self, available_ram_mb=float(limit_mb))

    def lines(self) -> list[str]:
        """A human-readable summary, one fact per line, with knobs when it does not fit."""
        out = [
            f"Measured: {self.steps_measured} optimizer steps on {self.device}: {self.s_per_step:.3f} s/step "
            f"({self.steps_per_s:.2f} steps/s; {self.cpu_s_per_step:.3f} CPU s/step)",
            f"Evaluation: {self.eval_s:.1f} s each, {self.n_evals} planned",
            f"Projected: {_duration(self.projected_s)} for {self.total_steps} optimizer steps, evaluations included",
            f"Peak RAM: {self.peak_ram_mb:.0f} MiB (this run added {self.peak_ram_mb - self.base_ram_mb:.0f} MiB; "
            f"{self.available_ram_mb:.0f} MiB were available)",
        ]
        if self.peak_vram_mb is not None:
            out.append(f"Peak VRAM: {self.peak_vram_mb:.0f} MiB of {self.total_vram_mb or 0:.0f} MiB")
        out.append("Fits in memory: yes" if self.fits else "Fits in memory: NO")
        if not self.fits:
            out.extend(knob_lines(self))
        return out


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def knob_lines(r: PreflightReport) -> list[str]:
    """Which setting helps, with estimates from the measured split: the model's share stays, the steps' share
    (activations, gradients, optimizer state) scales with batch size x sequence length."""
    t, d = r.config.training, r.config.data
    peak = r.peak_vram_mb if not r.fits_vram and r.peak_vram_mb is not None else r.peak_ram_mb - r.base_ram_mb
    budget = FIT_MARGIN * ((r.total_vram_mb or 0.0) if not r.fits_vram else r.available_ram_mb)
    on_vram = not r.fits_vram and r.peak_vram_mb is not None
    steps_part = max(peak - ((r.model_vram_mb or 0.0) if on_vram else r.model_ram_mb), 0.0)
    out = [f"Needs about {peak:.0f} MiB, {budget:.0f} MiB usable; the steps add about {steps_part:.0f} MiB:"]
    if t.batch_size > 1:
        half = max(t.batch_size // 2, 1)
        out.append(f"  - training.batch_size {t.batch_size} -> {half}: about {steps_part / 2:.0f} MiB less "
                   f"(raise training.grad_accum to {t.grad_accum * 2} to keep the effective batch)")
    if d.max_length > 32:
        out.append(f"  - data.max_length {d.max_length} -> {d.max_length // 2}: about {steps_part / 2:.0f} MiB less "
                   f"(longer examples are cut)")
    if not t.gradient_checkpointing:
        out.append(f"  - training.gradient_checkpointing on: up to about {0.6 * steps_part:.0f} MiB less, "
                   f"steps ~30% slower")
    if r.device == "cuda" and t.precision in ("auto", "fp32"):
        out.append(f"  - training.precision bf16 (or fp16): about {steps_part / 2:.0f} MiB less")
    return out


class _RssSampler:
    """Peak resident set size over a ``with`` block, in MiB.

    On Linux the kernel's high-water mark is reset at entry (``/proc/self/clear_refs``) and read at exit
    (``VmHWM``): exact, and no thread competes with the training thread. Elsewhere a thread samples every 20 ms.
    """

    def __init__(self) -> None:
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def now() -> float:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    @staticmethod
    def _high_water_mb() -> float | None:
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            pass
        return None

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> _RssSampler:
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")  # reset VmHWM to the current RSS
        except OSError:
            self._thread = threading.Thread(target=self._run, daemon=True, name="preflight-rss")
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        high = self._high_water_mb() if self._thread is None else None
        self.peak = max(self.peak, self.now(), high or 0.0)


def available_ram_mb() -> float:
    """Memory available to a new allocation now (Linux MemAvailable; physical memory elsewhere)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return math.inf


def planned_evals(cfg: RunConfig, total_steps: int, steps_per_epoch: int) -> int:
    """How many evaluations the engine runs: every eval_every steps (or at each epoch's end), plus the final one."""
    every = cfg.training.eval_every or max(steps_per_epoch, 1)
    return len(set(range(every, total_steps + 1, every)) | {total_steps})


def dry_run_config(cfg: RunConfig, steps: int, output_dir: str) -> RunConfig:
    """The config of the dry run: ``steps`` optimizer steps, no evaluation or checkpoint until the end."""
    short = with_section(cfg, "training", max_steps=steps, eval_every=NEVER, checkpoint_every=NEVER, log_every=1)
    return dataclasses.replace(short, output_dir=output_dir, name=f"{cfg.name}-preflight")


def measure_run(cfg: RunConfig, steps: int = 5, warmup: int = 2, stop: StopToken | None = None,
                on_event: Callable[[Event], None] | None = None) -> PreflightReport:
    """Run ``warmup + steps`` real optimizer steps of ``cfg`` in a temporary folder and project the whole run.

    ``on_event`` sees every event of the dry run as it comes, on this thread (a progress display; it counts
    ``warmup + steps`` optimizer steps). Raises :class:`~adalora_studio.core.errors.StudioError` for a config
    that cannot run (the same checks as the real run) and :class:`RunError` when the dry run fails or is
    stopped. Nothing is left on disk.
    """
    import torch

    from .engine import Engine
    from .validate import validate_run

    if steps < 1 or warmup < 0:
        raise RunError(f"a dry run needs at least 1 measured step (got steps={steps}, warmup={warmup})")
    report = validate_run(cfg)
    plan = report.plan
    device = _device_of(cfg)
    tmp = tempfile.mkdtemp(prefix="adalora-preflight-")
    base, available = _RssSampler.now(), available_ram_mb()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:
        with _RssSampler() as rss:
            engine = Engine(dry_run_config(cfg, warmup + steps, tmp), stop, app="preflight")
            vram_now = (lambda: torch.cuda.memory_allocated() / 2**20) if device == "cuda" else None
            wall, cpu, model_mb, model_vram = _time_steps(engine.events(), warmup, rss, base, on_event, vram_now)
        eval_s = engine.stats.eval_s
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s_per_step = statistics.median(wall)
    n_evals = planned_evals(cfg, plan.total_steps, plan.steps_per_epoch) if report.data.n_eval else 0
    vram = total_vram = None
    if device == "cuda":
        vram = torch.cuda.max_memory_allocated() / 2**20
        total_vram = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory / 2**20
    return PreflightReport(
        steps_measured=len(wall), s_per_step=s_per_step, cpu_s_per_step=statistics.median(cpu), eval_s=eval_s,
        total_steps=plan.total_steps, n_evals=n_evals, projected_s=plan.total_steps * s_per_step + n_evals * eval_s,
        peak_ram_mb=rss.peak, base_ram_mb=base, model_ram_mb=model_mb, available_ram_mb=available,
        peak_vram_mb=vram, total_vram_mb=total_vram, model_vram_mb=model_vram, device=device, config=cfg)


def _device_of(cfg: RunConfig) -> str:
    from .device import resolve_hardware

    return resolve_hardware(cfg.training).device


def _time_steps(events: Any, warmup: int, rss: _RssSampler, base: float,
                on_event: Callable[[Event], None] | None = None, vram_now: Callable[[], float] | None = None,
                ) -> tuple[list[float], list[float], float, float | None]:
    """Per-step wall and thread-CPU seconds after the warm-up, the RAM the model added before step 1 and (CUDA)
    the memory allocated on the GPU then."""
    wall: list[float] = []
    cpu: list[float] = []
    model_mb = 0.0
    model_vram: float | None = None
    t_prev = c_prev = 0.0
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, Failed):
            raise RunError(f"the dry run failed at optimizer step {event.step + 1}: {event.message}")
        now, cpu_now = time.perf_counter(), time.thread_time()
        if isinstance(event, RanksUpdated) and event.step == 0 and not t_prev:
            model_mb, t_prev, c_prev = rss.now() - base, now, cpu_now
            model_vram = vram_now() if vram_now is not None else None
        elif isinstance(event, StepLogged):
            if event.step > warmup:
                wall.append(now - t_prev)
                cpu.append(cpu_now - c_prev)
            t_prev, c_prev = now, cpu_now
        elif _is_stop(event):
            raise RunError("the dry run was stopped")
    if not wall:
        raise RunError("the dry run measured no optimizer step")
    return wall, cpu, model_mb, model_vram


def _is_stop(event: Event) -> bool:
    return event.kind == "stopped"
