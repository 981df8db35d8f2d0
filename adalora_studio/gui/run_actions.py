"""Window actions on the run shown in the dashboard (File ▸ Save config… there saves that run's config)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from ..core import paths
from ..core.errors import StudioError


def save_run_config_dialog(window: Any, run_dir: str) -> str:
    """Ask where to save the config of the run in ``run_dir`` (the one it runs with, read from its run.json)
    and write it there. Returns the path written ('' if cancelled or it failed; failures are reported)."""
    from ..core.config import save_config
    from ..core.runs import RunFolder

    try:
        cfg = RunFolder(run_dir).read_config()
    except (StudioError, OSError) as exc:
        window.notify(f"Cannot read the config of {run_dir}: {exc}", warning=True)
        return ""
    folder = paths.data_dir() / "configs"
    folder.mkdir(parents=True, exist_ok=True)
    path, _ = QFileDialog.getSaveFileName(window, f"Save the config of run {cfg.name}",
                                          str(folder / f"{cfg.name}.json"), "Run config (*.json *.yaml *.yml)")
    if not path:
        return ""
    try:
        save_config(cfg, path)
    except (StudioError, OSError) as exc:
        window.notify(f"Could not save {path}: {exc}", warning=True)
        return ""
    window.statusBar().showMessage(f"Saved the config of {Path(run_dir).name} to {path}", 8000)
    return path
