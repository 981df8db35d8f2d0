"""A run of several processes started from the main window: the saved run.json under torchrun / accelerate launch.

The dashboard gets the same events as from the in-process worker (read from the run folder's events.jsonl by
:class:`~adalora_studio.gui.launcher.ProcessLauncher`); Stop and Resume go through the launcher.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.config import RunConfig

ATTR = "_process_launcher"


def launcher_of(window: Any) -> Any:
    """The window's launcher, or None before the first launched run."""
    return getattr(window, ATTR, None)


def active(window: Any) -> bool:
    """Whether a launched run of this window is going."""
    launcher = launcher_of(window)
    return launcher is not None and launcher.running()


def start(window: Any, cfg: RunConfig, resume_from: str | None = None) -> bool:
    """Save ``cfg`` in the app's data folder and start it with ``cfg.training.processes`` processes."""
    from ..core import paths
    from ..core.config import save_config
    from .launcher import ProcessLauncher

    launcher = launcher_of(window)
    if launcher is None:
        launcher = ProcessLauncher(window)
        setattr(window, ATTR, launcher)
        dashboard = window.dashboard
        launcher.events.connect(lambda events: [dashboard.apply_event(e) for e in events])
        launcher.ended.connect(window._on_run_finished)
    folder = paths.data_dir() / "launched"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run.json"
    save_config(cfg, path)
    # torchrun on CPU and GPUs alike: the engine's accelerator picks gloo or NCCL from the device
    launcher.start(cfg, path, cfg.training.processes, cpu=True,
                   resume_dir=Path(resume_from) if resume_from else None)
    window.statusBar().showMessage(f"Training {cfg.name} with {cfg.training.processes} processes…")
    return True


def stop(window: Any) -> bool:
    """Ask a launched run to stop; False when none is going."""
    if not active(window):
        return False
    launcher_of(window).stop()
    window.statusBar().showMessage("Stopping every process after the same step, with a checkpoint…")
    return True

