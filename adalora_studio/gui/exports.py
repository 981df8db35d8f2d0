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
    exports = Path(run_dir) / "exports"
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
    job.succeeded.connect(lambda path: _done(window, f"The {what} was written to {path}."))
    job.failed.connect(lambda message, _detail: _done(window, f"The {what} export failed: {message}", error=True))


def start_export(window: Any, kind: str, run_dir: str) -> None:
    """Handle ``export_lora`` / ``export_merged`` / ``export_csv`` (and ``export_rank_config`` / ``export_gguf``
    from the finish panel) from the dashboard of ``window``."""
    if kind == "export_csv":
        _copy_rank_csv(window, run_dir)
        return
    if kind in ("export_rank_config", "export_gguf"):
        _start_rank_or_gguf(window, kind, run_dir)
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
