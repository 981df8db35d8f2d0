"""The run library: every run folder with its name, method, task, model, data, budget, final metric, status,
duration and date; search, sort, tags, rename and delete. Broken folders are listed with their problem.

:class:`RunLibrary` reads run folders incrementally: :meth:`RunLibrary.scan` yields one entry per folder as it
is read (a viewer can fill its table while it runs) and remembers each folder's file signature (size and mtime
of ``run.json``, ``status.json`` and ``library.json``), so a later scan re-reads only folders that changed. Each
folder costs two or three small JSON reads: the final metric comes from ``status.json`` (the engine writes the
final evaluation there), else from the last 64 KiB of ``events.jsonl``. Names and tags the user gives live in
``library.json`` beside the run's own files; ``run.json`` (the record of what ran) is never rewritten.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import paths
from ..atomic import atomic_write_json
from ..errors import RunError
from .folder import RunFolder, summarize_run
from .lock import live_holder

LIBRARY_META = "library.json"
RUN_MARKERS = ("run.json", "status.json", "events.jsonl", "adapter", "checkpoints")
"""A folder holding any of these is a run folder (a broken one when run.json is missing or unreadable)."""
METRIC_ORDER = ("accuracy", "perplexity", "eval_loss")
TAIL_BYTES = 64 * 1024
SORT_KEYS = ("name", "method", "task", "model", "data_file", "budget", "metric", "status", "duration_s", "created")


@dataclass(frozen=True)
class LibraryEntry:
    """One row of the run library."""

    path: Path
    name: str
    """The user's name for the run (library.json), else run.json's name, else the folder name."""
    method: str
    task: str
    model: str
    data_file: str
    budget: str
    """e.g. ``r 12→8``, ``0.5%``, ``LoRA r 5``."""
    metric_name: str
    metric: float | None
    status: str
    """finished | running | stopped | failed | interrupted | new | broken."""
    duration_s: float
    created: float
    tags: tuple[str, ...] = ()
    comparison_id: str = ""
    problem: str = ""
    """Why a broken folder cannot be used (empty for a sound one)."""

    @property
    def created_text(self) -> str:
        """The creation time as ``YYYY-MM-DD HH:MM`` (UTC)."""
        return datetime.fromtimestamp(self.created, timezone.utc).strftime("%Y-%m-%d %H:%M") if self.created else ""


def _signature(path: Path) -> tuple[Any, ...]:
    out: list[Any] = []
    for name in ("run.json", "status.json", LIBRARY_META):
        try:
            st = os.stat(path / name)
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _budget_text(raw: dict[str, Any], path: Path) -> str:
    b = raw.get("budget", {}) or {}
    if raw.get("method", "adalora") == "lora":
        try:
            return f"LoRA r {int(_read_json(path / 'adapter' / 'adapter_config.json')['r'])}"
        except (OSError, ValueError, KeyError, TypeError):
            r = int((raw.get("lora", {}) or {}).get("r", 0) or 0)
            return f"LoRA r {r}" if r else "LoRA (matched)"
    mode = b.get("budget_mode", "ranks")
    if mode == "percent":
        return f"{b.get('budget_value', 0):g}%"
    if mode == "params":
        return f"{int(b.get('budget_value', 0)):,} params"
    return f"r {b.get('init_r', '?')}→{b.get('target_r', '?')}"


def _tail_metrics(events: Path) -> dict[str, float]:
    """The metrics of the last ``finished`` (else ``eval``) line in the last 64 KiB of the event log."""
    try:
        with open(events, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            lines = fh.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    found: dict[str, float] = {}
    for line in reversed(lines):
        if '"event":"finished"' not in line and '"event":"eval"' not in line:
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        metrics = dict(doc.get("metrics") or {})
        if doc.get("event") == "eval":
            metrics["eval_loss"] = doc.get("eval_loss")
        found = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
        if found:
            break
    return found


def _pick_metric(metrics: dict[str, float]) -> tuple[str, float | None]:
    for name in METRIC_ORDER:
        if name in metrics:
            return name, metrics[name]
    return "", None


def read_entry(path: str | Path) -> LibraryEntry:
    """The library entry of one folder; never raises: a damaged folder becomes a ``broken`` entry naming why."""
    path = Path(path)
    meta: dict[str, Any] = {}
    try:
        loaded = _read_json(path / LIBRARY_META) if (path / LIBRARY_META).is_file() else {}
        meta = loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        meta = {}
    tags = tuple(str(t) for t in meta.get("tags", ()) if isinstance(t, str))
    summary = summarize_run(RunFolder(path))
    try:
        raw = _read_json(path / "run.json")
        if not isinstance(raw, dict):
            raise ValueError("the top level is not an object")
    except FileNotFoundError:
        return _broken(path, summary.created, tags, "no run.json: the run's config is missing")
    except (OSError, ValueError) as exc:
        return _broken(path, summary.created, tags, f"run.json cannot be read ({exc})")
    status_info: dict[str, Any] = {}
    try:
        status_doc = _read_json(path / "status.json") if (path / "status.json").is_file() else {}
        status_info = status_doc if isinstance(status_doc, dict) else {}
    except (OSError, ValueError):
        status_info = {}
    problem = summary.message if summary.status == "unreadable" else ""
    metrics = status_info.get("metrics")
    if not isinstance(metrics, dict):
        metrics = _tail_metrics(path / "events.jsonl")
    metric_name, metric = _pick_metric({k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
    data = raw.get("data", {}) or {}
    return LibraryEntry(
        path=path, name=str(meta.get("name") or summary.name), method=str(raw.get("method", "adalora")),
        task=summary.task, model=summary.model, data_file=Path(str(data.get("train_file", ""))).name,
        budget=_budget_text(raw, path), metric_name=metric_name, metric=metric,
        status="broken" if problem else summary.status, duration_s=float(status_info.get("elapsed_s", 0.0) or 0.0),
        created=summary.created, tags=tags, comparison_id=str(raw.get("comparison_id", "")), problem=problem,
    )


def _broken(path: Path, created: float, tags: tuple[str, ...], problem: str) -> LibraryEntry:
    return LibraryEntry(path=path, name=path.name, method="", task="", model="", data_file="", budget="",
                        metric_name="", metric=None, status="broken", duration_s=0.0, created=created, tags=tags,
                        problem=problem)


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` looks like a run folder (sound or broken)."""
    return path.is_dir() and any((path / marker).exists() for marker in RUN_MARKERS)


class RunLibrary:
    """The runs under one folder, read incrementally and cached by each folder's file signature."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else paths.runs_dir()
        self._cache: dict[Path, tuple[tuple[Any, ...], LibraryEntry]] = {}

    def scan(self) -> Iterator[LibraryEntry]:
        """Yield an entry per run folder (newest folder names first), re-reading only changed folders."""
        try:
            children = sorted((c for c in os.scandir(self.root) if c.is_dir()), key=lambda c: c.name, reverse=True)
        except OSError:
            children = []
        seen = set()
        for child in children:
            path = Path(child.path)
            if not is_run_folder(path):
                continue
            seen.add(path)
            sig = _signature(path)
            cached = self._cache.get(path)
            if cached is None or cached[0] != sig or cached[1].status in ("running", "interrupted"):
                cached = (sig, read_entry(path))
                self._cache[path] = cached
            yield cached[1]
        for gone in set(self._cache) - seen:
            del self._cache[gone]

    def entries(self) -> list[LibraryEntry]:
        """Every entry, newest first."""
        return sorted(self.scan(), key=lambda e: (e.created, e.path.name), reverse=True)


def filter_entries(entries: Sequence[LibraryEntry], query: str = "", status: str = "",
                   method: str = "") -> list[LibraryEntry]:
    """Entries whose name, model, data file, task, budget, tags, comparison id or problem contain every word of
    ``query`` (case-insensitive), with the given status and method when those are set."""
    words = query.lower().split()
    out = []
    for e in entries:
        text = " ".join((e.name, e.model, e.data_file, e.task, e.budget, e.method, e.comparison_id, e.problem,
                         e.path.name, *e.tags)).lower()
        if all(w in text for w in words) and (not status or e.status == status) and (not method or e.method == method):
            out.append(e)
    return out


def sort_entries(entries: Sequence[LibraryEntry], key: str = "created", reverse: bool = False) -> list[LibraryEntry]:
    """Entries sorted by one of :data:`SORT_KEYS` (entries without a metric sort last)."""
    if key not in SORT_KEYS:
        raise ValueError(f"sort key must be one of {', '.join(SORT_KEYS)}")
    if key == "metric":
        have = sorted((e for e in entries if e.metric is not None), key=lambda e: e.metric or 0.0, reverse=reverse)
        return have + [e for e in entries if e.metric is None]
    return sorted(entries, key=lambda e: (str(getattr(e, key)).lower() if isinstance(getattr(e, key), str)
                                          else getattr(e, key)), reverse=reverse)


def _write_meta(path: Path, **changes: Any) -> None:
    meta_path = path / LIBRARY_META
    try:
        meta = _read_json(meta_path) if meta_path.is_file() else {}
    except (OSError, ValueError):
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    meta.update(changes)
    atomic_write_json(meta_path, meta)


def rename_run(path: str | Path, name: str) -> None:
    """Give a run a display name (kept in ``library.json``; the folder and run.json are unchanged)."""
    if not name.strip():
        raise RunError("give the run a name")
    _write_meta(Path(path), name=name.strip())


def set_tags(path: str | Path, tags: Sequence[str]) -> None:
    """Replace a run's tags (trimmed, unique, in order)."""
    _write_meta(Path(path), tags=list(dict.fromkeys(t.strip() for t in tags if t.strip())))


def delete_run(path: str | Path, trash: Callable[[Path], None] | None = None) -> None:
    """Move a run folder to the system trash (``trash``: the GUI passes Qt's; default: the freedesktop trash).
    A run another program is writing is refused."""
    path = Path(path)
    if not is_run_folder(path):
        raise RunError(f"{path} is not a run folder; nothing was deleted")
    holder = live_holder(path / ".lock")
    if holder is not None:
        raise RunError(f"run '{path.name}' is in use by {holder.app} (pid {holder.pid}); stop it first")
    (trash or move_to_trash)(path)


def move_to_trash(path: Path) -> Path:
    """Move ``path`` into the freedesktop.org trash of the user (``$XDG_DATA_HOME/Trash``), with its
    ``.trashinfo`` so file managers can restore it. Returns the new location."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "Trash"
    files, info = base / "files", base / "info"
    files.mkdir(parents=True, exist_ok=True)
    info.mkdir(parents=True, exist_ok=True)
    name, n = path.name, 1
    while (files / name).exists() or (info / f"{name}.trashinfo").exists():
        n += 1
        name = f"{path.name}.{n}"
    stamp = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    (info / f"{name}.trashinfo").write_text(
        f"[Trash Info]\nPath={quote(str(path.absolute()))}\nDeletionDate={stamp}\n", encoding="utf-8")
    target = files / name
    shutil.move(str(path), str(target))
    return target

