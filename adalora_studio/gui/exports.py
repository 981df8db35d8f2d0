"""The dashboard's export buttons: plain LoRA and merged model on the worker, the rank table by copying its CSV."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog


def export_lora_job(run_dir: str) -> str:
    """Worker job: ``core.export.export_as_lora`` to ``<run>/exports/lora``."""
    from ..core.export import export_as_lora

    return str(export_as_lora(run_dir))


def export_merged_job(run_dir: str) -> str:
    """Worker job: ``core.export.export_merged`` to ``<run>/exports/merged``."""
    from ..core.export import export_merged

    return str(export_merged(run_dir))


def start_export(window: Any, kind: str, run_dir: str) -> None:
    """Handle ``export_lora`` / ``export_merged`` / ``export_csv`` from the dashboard of ``window``."""
    if kind == "export_csv":
        _copy_rank_csv(window, run_dir)
        return
    fn = export_lora_job if kind == "export_lora" else export_merged_job
    what = "plain LoRA adapter" if kind == "export_lora" else "merged model"
    window.statusBar().showMessage(f"Exporting the {what}…")
    job = window.worker.submit(fn, run_dir)
    job.writes = f"the {what} export"  # closing the window waits for it
    job.succeeded.connect(lambda path: _done(window, f"The {what} was written to {path}."))
    job.failed.connect(lambda message, _detail: _done(window, f"The {what} export failed: {message}", error=True))


def _copy_rank_csv(window: Any, run_dir: str) -> None:
    from ..core.runs import RunFolder

    source = RunFolder(run_dir).ranks_csv
    if not source.is_file():
        window.notify(f"{source} does not exist yet: the rank table is written when a run finishes.", warning=True)
        return
    target, _ = QFileDialog.getSaveFileName(window, "Save rank table", str(Path.home() / f"{Path(run_dir).name}"
                                            "-ranks.csv"), "CSV (*.csv)")
    if target:
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            _done(window, f"Could not write {target}: {exc}", error=True)
            return
        _done(window, f"The rank table was written to {target}.")


def _done(window: Any, message: str, error: bool = False) -> None:
    window.notify(message, warning=error)
