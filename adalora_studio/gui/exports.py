"""The dashboard's export buttons. Every export asks where to save, pre-filled with a folder that exists
(``<run>/exports/…``), and ends with a notice naming the path, with a button that copies it (a file manager
may not be there to show it)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

KINDS = {"export_lora": ("plain LoRA adapter", "lora"), "export_merged": ("merged model", "merged")}


def export_lora_job(run_dir: str, out_dir: str | None = None) -> str:
    """Worker job: ``core.export.export_as_lora`` to ``out_dir`` (default ``<run>/exports/lora``)."""
    from ..core.export import export_as_lora

    return str(export_as_lora(run_dir, out_dir))


def export_merged_job(run_dir: str, out_dir: str | None = None) -> str:
    """Worker job: ``core.export.export_merged`` to ``out_dir`` (default ``<run>/exports/merged``)."""
    from ..core.export import export_merged

    return str(export_merged(run_dir, out_dir))


def rank_config_job(run_dir: str, out: str) -> str:
    """Worker job: ``core.export.export_lora_config`` (the ranks as a LoraConfig + Axolotl snippet)."""
    from ..core.export import export_lora_config

    json_path, yaml_path = export_lora_config(run_dir, out)
    return f"{json_path} and {yaml_path}"


def gguf_job(run_dir: str, out: str, gguf_type: str) -> str:
    """Worker job: ``core.export.export_gguf`` (merged model as GGUF + Ollama Modelfile)."""
    from ..core.export import export_gguf

    gguf_path, modelfile = export_gguf(run_dir, out, gguf_type)
    return f"{gguf_path} (Ollama: {modelfile})"


GGUF_FILTERS = {"GGUF, f16 (*.gguf)": "f16", "GGUF, q8_0 8-bit (*.gguf)": "q8_0"}


def _start_rank_or_gguf(window: Any, kind: str, run_dir: str) -> None:
    exports = exports_dir(run_dir)
    if kind == "export_rank_config":
        out = QFileDialog.getExistingDirectory(window, "Write the LoraConfig and Axolotl snippet into…",
                                               str(exports))
        if not out:
            return
        what, job = "LoRA rank config", window.worker.submit(rank_config_job, run_dir, out)
    else:
        out, chosen = QFileDialog.getSaveFileName(window, "Export GGUF", str(exports / "model.gguf"),
                                                  ";;".join(GGUF_FILTERS))
        if not out:
            return
        gguf_type = GGUF_FILTERS.get(chosen, "f16")
        what, job = f"GGUF ({gguf_type})", window.worker.submit(gguf_job, run_dir, out, gguf_type)
    window.statusBar().showMessage(f"Exporting the {what}…")
    job.succeeded.connect(lambda path: done(window, f"The {what} was written to {path}.", out))
    job.failed.connect(lambda message, _detail: done(window, f"The {what} export failed: {message}", error=True))


def exports_dir(run_dir: str) -> Path:
    """``<run>/exports``, created so a file dialog can open in it."""
    folder = Path(run_dir) / "exports"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path(run_dir) if Path(run_dir).is_dir() else Path.home()
    return folder


def plots_start_folder(run_dir: str) -> str:
    """Where "Plots PNG/SVG…" opens: ``<run>/plots``, created first (a folder dialog cannot choose one that is
    missing), else the run folder or the home folder."""
    if not run_dir:
        return str(Path.home())
    folder = Path(run_dir) / "plots"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return run_dir if Path(run_dir).is_dir() else str(Path.home())
    return str(folder)


def ask_save_path(window: Any, title: str, start: str, file_filter: str) -> str:
    """A save dialog (tests replace this function)."""
    path, _ = QFileDialog.getSaveFileName(window, title, start, file_filter)
    return path


def start_export(window: Any, kind: str, run_dir: str) -> None:
    """Handle ``export_lora`` / ``export_merged`` / ``export_csv`` (and ``export_rank_config`` / ``export_gguf``
    from the finish panel) from the dashboard of ``window``."""
    if kind == "export_csv":
        _copy_rank_csv(window, run_dir)
        return
    if kind in ("export_rank_config", "export_gguf"):
        _start_rank_or_gguf(window, kind, run_dir)
        return
    what, folder_name = KINDS[kind]
    target = ask_save_path(window, f"Save the {what} as a folder", str(exports_dir(run_dir) / folder_name),
                           "Folder (*)")
    if not target:
        return
    fn = export_lora_job if kind == "export_lora" else export_merged_job
    window.statusBar().showMessage(f"Exporting the {what} to {target}…")
    job = window.worker.submit(fn, run_dir, target)
    job.writes = f"the {what} export"  # closing the window waits for it
    job.succeeded.connect(lambda path: done(window, f"The {what} was written to {path}.", path))
    job.failed.connect(lambda message, _detail: done(window, f"The {what} export failed: {message}", error=True))


def _copy_rank_csv(window: Any, run_dir: str) -> None:
    from ..core.runs import RunFolder

    source = RunFolder(run_dir).ranks_csv
    if not source.is_file():
        window.notify(f"{source} does not exist yet: the rank table is written when a run finishes.", warning=True)
        return
    start = exports_dir(run_dir) / f"{Path(run_dir).name}-ranks.csv"
    target = ask_save_path(window, "Save rank table", str(start), "CSV (*.csv)")
    if target:
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            done(window, f"Could not write {target}: {exc}", error=True)
            return
        done(window, f"The rank table was written to {target}.", target)


def done(window: Any, message: str, path: str = "", error: bool = False) -> QMessageBox:
    """The notice at the end of an export: the message, and a "Copy path" button when a path was written."""
    box = window.notify(message, warning=error)
    if path:
        copy = box.addButton("Copy path", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(str(path)))
        box.addButton(QMessageBox.StandardButton.Ok)
    return box
