"""The evaluation report of a run: ``report.json`` plus SVG figures in the run folder, never overwritten.

The first report is ``report.json`` (written after the run); each post-hoc evaluation adds ``report-2.json``,
``report-3.json``... Each file is written in full under a temporary name and then linked to its final name, which
fails instead of replacing when the name is taken, so two evaluations at once cannot overwrite each other.
Figures share the report's stem: ``report-confusion.svg``, ``report-2-reliability.svg``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text, fsync_dir
from ..errors import RunError
from .evaluate import evaluate_causal, evaluate_classification
from .loaded import LoadedModel, load_for_inference
from .partners import ab_partners
from .report_svg import confusion_svg, reliability_svg
from .rows import EvalRows, file_eval_rows, run_eval_rows

FORMAT_VERSION = 1
_REPORT_RE = re.compile(r"^report(?:-(\d+))?\.json$")


def build_report(loaded: LoadedModel, rows: EvalRows, origin: str) -> dict[str, Any]:
    """The report of ``rows`` (``origin``: ``after-run`` or ``post-hoc``)."""
    batch = loaded.config.training.batch_size if loaded.config is not None else 16
    if loaded.task in ("question-answering", "seq2seq"):
        from .tasks import task_report_sections

        sections = task_report_sections(loaded, rows)
    elif loaded.task == "causal-lm":
        sections = evaluate_causal(loaded, rows, batch_size=batch)
    else:
        sections = evaluate_classification(loaded, rows, batch_size=batch)
    return {
        "format_version": FORMAT_VERSION,
        "task": loaded.task,
        "run": loaded.name,
        "origin": origin,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": loaded.source,
        "data": {"file": rows.file, "columns": rows.columns, "left_out_labels": rows.left_out},
        "partners": ab_partners(loaded.path) if loaded.config is not None else [],
        **sections,
    }


def report_files(run_dir: str | Path) -> list[Path]:
    """The run's report files, oldest (``report.json``) first."""
    folder = Path(run_dir)
    found = [(int(m.group(1) or 1), p) for p in folder.glob("report*.json") if (m := _REPORT_RE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_report(run_dir: str | Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest report of a run and its content, or None when it has none (or it cannot be read)."""
    for path in reversed(report_files(run_dir)):
        try:
            return path, json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def write_report(run_dir: str | Path, report: dict[str, Any]) -> Path:
    """Write ``report`` under the first free name (``report.json``, ``report-2.json``...) and its figures."""
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(report, indent=2, allow_nan=True) + "\n").encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".report.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        path = _link_free_name(folder, Path(tmp))
    finally:
        Path(tmp).unlink(missing_ok=True)
    fsync_dir(folder)
    _write_figures(path, report)
    return path


def _link_free_name(folder: Path, tmp: Path) -> Path:
    for n in range(1, 10_000):
        path = folder / ("report.json" if n == 1 else f"report-{n}.json")
        try:
            os.link(tmp, path)  # fails when the name exists: an earlier report is never replaced
            return path
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links: claim the name exclusively, then fill it atomically
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            os.replace(tmp, path)
            return path
    raise RunError(f"{folder}: too many reports")  # pragma: no cover


def _write_figures(path: Path, report: dict[str, Any]) -> list[Path]:
    stem = path.with_suffix("")
    written = []
    cm = report.get("confusion_matrix")
    if cm:
        target = Path(f"{stem}-confusion.svg")
        atomic_write_text(target, confusion_svg(cm["labels"], cm["counts"], cm["normalized"]))
        written.append(target)
    cal = report.get("calibration")
    if cal:
        target = Path(f"{stem}-reliability.svg")
        atomic_write_text(target, reliability_svg(cal["bins"], cal["ece"]))
        written.append(target)
    return written


def evaluate_run(run_dir: str | Path, data_file: str | Path | None = None, known_labels_only: bool = False,
                 loaded: LoadedModel | None = None, write: bool = True) -> tuple[dict[str, Any], Path | None]:
    """Evaluate a run (its adapter, else its last checkpoint) on ``data_file`` with the run's column mapping, or on
    its own evaluation rows; write a new report beside the earlier ones. Returns (report, its path)."""
    t0 = time.perf_counter()
    loaded = loaded or load_for_inference(run_dir)
    rows = file_eval_rows(loaded, data_file, known_labels_only) if data_file else run_eval_rows(loaded)
    report = build_report(loaded, rows, "post-hoc")
    report["seconds"] = round(time.perf_counter() - t0, 3)
    return report, (write_report(run_dir, report) if write else None)
