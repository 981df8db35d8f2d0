"""Launching a config as the app and ``export-launch`` do (torchrun, N CPU processes, gloo) and reading the run back.

:func:`launch` saves the config, starts :func:`~adalora_studio.core.export.launch.launch_command`'s argv (the same
argv the app's launcher starts) with this checkout on ``PYTHONPATH`` and one torch thread per process, and returns
the one run folder it created with its events. :func:`comparable` reduces events to what an in-process and a
launched run must share (no times, rates, paths or process ids).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adalora_studio.core.config import RunConfig, save_config
from adalora_studio.core.events import EvalLogged, Event, RanksUpdated, RunStarted, StepLogged
from adalora_studio.core.export.launch import launch_command
from adalora_studio.core.runs import RunFolder, read_run_events

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_TIMEOUT_S = 300  # two torch processes on a small, shared machine


@dataclass
class Launched:
    """A launched run: its folder, its events, the child's output."""

    folder: RunFolder
    events: list[Event]
    stdout: str
    stderr: str

    def of(self, kind: type) -> list[Any]:
        """The events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]


def free_port() -> int:
    """A TCP port nobody listens on now (tests of several engineers may run on one machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _run_folder(base: Path, before: set[str]) -> RunFolder:
    new = sorted(set(os.listdir(base)) - before)
    assert len(new) == 1, new  # only rank 0 creates a run folder
    return RunFolder(base / new[0])


def launch(cfg: RunConfig, where: Path, processes: int, *, resume: RunFolder | None = None,
           expect_code: int = 0) -> Launched:
    """Train ``cfg`` (or resume the run folder ``resume``) with ``processes`` CPU processes under torchrun."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / "run.json"
    save_config(cfg, path)
    base = Path(cfg.output_dir)
    before = set(os.listdir(base)) if base.is_dir() else set()
    argv = launch_command(sys.executable, path, processes, cpu=True, port=free_port(),
                          resume_dir=resume.path if resume is not None else None)
    proc = subprocess.run(argv, cwd=str(ROOT), env=_env(), capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S)
    assert proc.returncode == expect_code, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    folder = resume if resume is not None else _run_folder(base, before)
    return Launched(folder, read_run_events(folder.path), proc.stdout, proc.stderr)


def launch_and_stop(cfg: RunConfig, where: Path, processes: int, after_step: int) -> Launched:
    """Launch ``cfg`` and, once its log holds optimizer step ``after_step``, send the launcher SIGINT (what the
    app's Stop and Ctrl+C do); the ranks agree on a step, checkpoint and stop."""
    import signal
    import time

    where.mkdir(parents=True, exist_ok=True)
    path = where / "run.json"
    save_config(cfg, path)
    base = Path(cfg.output_dir)
    before = set(os.listdir(base)) if base.is_dir() else set()
    argv = launch_command(sys.executable, path, processes, cpu=True, port=free_port())
    proc = subprocess.Popen(argv, cwd=str(ROOT), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            new = set(os.listdir(base)) - before if base.is_dir() else set()
            logs = [base / n / "events.jsonl" for n in new if (base / n / "events.jsonl").is_file()]
            if logs and any(isinstance(e, StepLogged) and e.step >= after_step for e in read_run_events(logs[0])):
                os.kill(proc.pid, signal.SIGINT)
                break
            time.sleep(0.05)
        out, err = proc.communicate(timeout=LAUNCH_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    folder = _run_folder(base, before)
    return Launched(folder, read_run_events(folder.path), out, err)


def final_pattern(events: list[Event]) -> dict[str, tuple[bool, ...]]:
    """The kept flags of every matrix in the last rank snapshot."""
    last = [e for e in events if isinstance(e, RanksUpdated)][-1]
    return {m.module: m.kept for m in last.matrices}


def adapter_rank_pattern(folder: RunFolder) -> dict[str, list[bool]]:
    """The saved adapter's ``rank_pattern`` with module paths as the events name them."""
    raw = json.loads((folder.adapter_dir / "adapter_config.json").read_text())["rank_pattern"] or {}
    return {k.removeprefix("base_model.model.").removesuffix(".default").removesuffix(".lora_E"): list(v)
            for k, v in raw.items()}


def comparable(events: list[Event]) -> list[tuple[Any, ...]]:
    """What two runs of one config must share: event kinds in order, steps, losses, learning rates, gradient
    norms, eval metrics, the allocation (budget, phase, ranks, kept flags) and the plan; not the times, rates,
    ETAs, paths or the run folder's name."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        if isinstance(e, RunStarted):
            out.append((e.kind, e.total_steps, e.steps_per_epoch, e.trainable_init, e.trainable_target, e.n_train,
                        e.n_eval, e.tinit_steps, e.tfinal_steps, e.label_names))
        elif isinstance(e, StepLogged):
            out.append((e.kind, e.step, round(e.epoch, 6), e.task_loss, e.orth_loss, e.lr, e.grad_norm))
        elif isinstance(e, EvalLogged):
            out.append((e.kind, e.step, e.eval_loss, tuple(sorted(e.metrics.items()))))
        elif isinstance(e, RanksUpdated):
            out.append((e.kind, e.step, e.budget, e.phase, e.total_rank, e.mask_step,
                        tuple((m.module, m.rank, m.kept) for m in e.matrices)))
        else:
            out.append((e.kind, getattr(e, "step", None)))
    return out


def difference(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]], rel: float) -> str:
    """The first place two :func:`comparable` lists differ ("" when they agree): floats within ``rel`` (relative,
    and absolute near zero), everything else exactly."""
    import math

    def same(x: Any, y: Any) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return math.isclose(x, y, rel_tol=rel, abs_tol=rel) or (math.isnan(x) and math.isnan(y))
        if isinstance(x, tuple) and isinstance(y, tuple):
            return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y, strict=True))
        return bool(x == y)

    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if not same(x, y):
            return f"event {i} differs:\n  {x}\n  {y}"
    return "" if len(a) == len(b) else f"{len(a)} events against {len(b)}"
