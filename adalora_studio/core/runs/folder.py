"""Run folders: layout, atomic status and config files, listing runs (the event log is in :mod:`.eventlog`).

A run folder looks like::

    <runs_dir>/<name>-<UTC timestamp>/
        run.json          the resolved RunConfig (atomic)
        status.json       state, step, updated time, message (atomic)
        events.jsonl      one event per line (append-only; a torn last line after a crash is tolerated)
        labels.json       label names of a classification run
        ranks.json/.csv   final rank per matrix
        adapter/          the final adapter in peft format
        checkpoints/      step-00000120/ ... (exact resume points, see :mod:`.checkpoint`)
        logs/  exports/
        .lock             who is writing this run (see :mod:`adalora_studio.core.runs.lock`)
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import paths
from ..atomic import atomic_write_json
from ..config import RunConfig, load_config, save_config
from ..errors import RunError, StudioError
from .lock import LOCK_NAME, RunLock, live_holder

STATES = ("running", "finished", "stopped", "failed")
"""States written to ``status.json``. :func:`list_runs` also reports ``interrupted`` (running, but nobody holds
the lock: the process died) and ``new`` (no status yet)."""

MAX_NAME_BYTES = 64
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_TIMESTAMP = "%Y%m%d-%H%M%S"


# ------------------------------------------------------------------------------------------------ names


def sanitize_run_name(name: str) -> str:
    """A safe folder name from a user's run name.

    Keeps letters and digits (any script), ``-``, ``_`` and ``.``; everything else (path separators, spaces,
    control characters) becomes ``-``. No leading dots or dashes, no trailing dots, no ``..``, no Windows device
    names, at most :data:`MAX_NAME_BYTES` bytes of UTF-8, and never empty (``run``).
    """
    text = unicodedata.normalize("NFKC", str(name))
    chars = [ch if (ch.isalnum() or ch in "-_.") and ch.isprintable() else "-" for ch in text]
    out = re.sub(r"[-._]*-[-._]*", "-", "".join(chars))  # "a/../b" -> "a-b", not "a-.-b"
    out = re.sub(r"\.{2,}", ".", out)
    out = out.lstrip(".-_ ").rstrip(". -")
    encoded = out.encode("utf-8")[:MAX_NAME_BYTES]
    out = encoded.decode("utf-8", errors="ignore").rstrip(". -")
    if not out:
        return "run"
    if out.split(".")[0].lower() in _WINDOWS_RESERVED:
        out = f"run-{out}"
    return out


def _utc_stamp(when: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if when is None else when, timezone.utc).strftime(_TIMESTAMP)


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class RunStatus:
    """The content of ``status.json``."""

    state: str
    step: int = 0
    updated: str = ""
    """ISO 8601 UTC time of the last update."""
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    """Any further keys the writer added (e.g. total_steps, checkpoint)."""


# ----------------------------------------------------------------------------------------------- folder


class RunFolder:
    """The files of one run. Cheap to create; nothing is touched on disk until a method writes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """An existing run folder, or :class:`RunError` saying what is missing."""
        folder = cls(path)
        if not folder.path.is_dir():
            raise RunError(f"run folder {folder.path} does not exist")
        if not folder.run_json.is_file():
            raise RunError(f"{folder.path} is not a run folder: it has no run.json")
        return folder

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunFolder) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    @property
    def name(self) -> str:
        """The folder name (sanitised run name plus timestamp)."""
        return self.path.name

    # --- layout
    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @property
    def events_jsonl(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def adapter_dir(self) -> Path:
        return self.path / "adapter"

    @property
    def labels_json(self) -> Path:
        return self.path / "labels.json"

    @property
    def status_json(self) -> Path:
        return self.path / "status.json"

    @property
    def ranks_json(self) -> Path:
        return self.path / "ranks.json"

    @property
    def ranks_csv(self) -> Path:
        return self.path / "ranks.csv"

    @property
    def lock_file(self) -> Path:
        return self.path / LOCK_NAME

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def exports_dir(self) -> Path:
        return self.path / "exports"

    # --- config
    def write_config(self, cfg: RunConfig) -> None:
        """Write ``run.json`` atomically."""
        save_config(cfg, self.run_json)

    def read_config(self) -> RunConfig:
        """Read ``run.json``; :class:`RunError` if missing, the config's own errors if invalid."""
        if not self.run_json.is_file():
            raise RunError(f"{self.path} is not a run folder: it has no run.json")
        return load_config(self.run_json)

    # --- labels
    def write_labels(self, label_names: Sequence[str]) -> None:
        """Write ``labels.json`` atomically: ``{"label_names": [...], "id2label": {"0": ...}}``."""
        names = [str(n) for n in label_names]
        id2label = {str(i): n for i, n in enumerate(names)}
        atomic_write_json(self.labels_json, {"label_names": names, "id2label": id2label})

    def read_labels(self) -> list[str]:
        """Label names in id order from ``labels.json`` (empty list when there is none)."""
        if not self.labels_json.is_file():
            return []
        try:
            data = json.loads(self.labels_json.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(
                f"{self.labels_json}: cannot be read ({exc}); delete it or restore it from a backup") from exc
        if isinstance(data, list):
            return [str(n) for n in data]
        if isinstance(data, dict) and isinstance(data.get("label_names"), list):
            return [str(n) for n in data["label_names"]]
        if isinstance(data, dict) and isinstance(data.get("id2label"), dict):
            id2label = data["id2label"]
            return [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
        raise RunError(f"{self.labels_json}: expected a list of label names or {{\"label_names\": [...]}}")

    # --- status
    def write_status(self, state: str, **info: Any) -> RunStatus:
        """Write ``status.json`` atomically. ``step`` and ``message`` are read from ``info`` (defaults 0 and '')."""
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
        step = int(info.pop("step", 0))
        message = str(info.pop("message", ""))
        status = RunStatus(state=state, step=step, updated=_iso(time.time()), message=message, info=dict(info))
        atomic_write_json(
            self.status_json,
            {"state": status.state, "step": status.step, "updated": status.updated, "message": status.message,
             **status.info},
        )
        return status

    def read_status(self) -> RunStatus | None:
        """The last written status, or None if the run never wrote one. :class:`RunError` if it is unreadable."""
        try:
            text = self.status_json.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"{self.status_json}: cannot be read ({exc})") from exc
        try:
            data = json.loads(text)
            state = str(data.pop("state"))
            step = int(data.pop("step", 0))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunError(
                f"{self.status_json}: not a valid status file ({exc}); delete it to reset the run's status") from exc
        return RunStatus(state=state, step=step, updated=str(data.pop("updated", "")),
                         message=str(data.pop("message", "")), info=data)

    # --- checkpoints
    def checkpoint_path(self, step: int) -> Path:
        """Where the checkpoint after optimizer step ``step`` lives, e.g. ``checkpoints/step-00000120``."""
        from .checkpoints import checkpoint_name

        return self.checkpoints_dir / checkpoint_name(int(step))

    def list_checkpoints(self) -> list[Path]:
        """Complete checkpoints sorted by step, oldest first (one definition: :mod:`.checkpoint`'s).

        A checkpoint still being written (temporary name, or no ``state.json`` yet) is skipped.
        """
        from .checkpoints import list_checkpoints

        return list_checkpoints(self.checkpoints_dir)

    def latest_checkpoint(self) -> Path | None:
        """The complete checkpoint with the highest step, or None."""
        checkpoints = self.list_checkpoints()
        return checkpoints[-1] if checkpoints else None

    def lock(self, app: str = "gui") -> RunLock:
        """A :class:`RunLock` for this folder (use it as a context manager)."""
        return RunLock(self, app=app)


def create_run_folder(cfg: RunConfig, parent: str | Path | None = None) -> RunFolder:
    """Create a new, uniquely named run folder holding ``run.json``.

    ``parent`` defaults to ``cfg.output_dir`` or :func:`paths.runs_dir`. The folder is named
    ``<sanitised name>-<UTC timestamp>``, with ``-2``, ``-3``... appended when that exists already (two runs
    started in the same second).
    """
    base = Path(parent) if parent else (Path(cfg.output_dir).expanduser() if cfg.output_dir else paths.runs_dir())
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(
            f"cannot create the runs folder {base}: {exc.strerror or exc}; choose another output_dir") from exc
    stem = f"{sanitize_run_name(cfg.name)}-{_utc_stamp()}"
    for n in range(1, 10_000):
        path = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunError(f"cannot create the run folder {path}: {exc.strerror or exc}") from exc
        folder = RunFolder(path)
        folder.write_config(cfg)
        return folder
    raise RunError(f"too many runs named {stem} in {base}")  # pragma: no cover


# ------------------------------------------------------------------------------------------------- list


@dataclass(frozen=True)
class RunSummary:
    """One row of the "Open run" list."""

    name: str
    """The run's name from run.json (the folder name if unreadable)."""
    path: Path
    status: str
    """running | finished | stopped | failed | interrupted (was running, process gone) | new | unreadable."""
    step: int
    created: float
    """Unix time the run folder was created (from its name's timestamp, else run.json's mtime)."""
    task: str
    model: str
    """bundled, or the model folder / file / hub id."""
    message: str = ""


def _created(folder: RunFolder) -> float:
    match = re.search(r"-(\d{8}-\d{6})(?:-\d+)?$", folder.name)
    if match:
        try:
            return datetime.strptime(match.group(1), _TIMESTAMP).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            pass
    try:
        return folder.run_json.stat().st_mtime
    except OSError:
        return 0.0


def summarize_run(folder: RunFolder) -> RunSummary:
    """A :class:`RunSummary` of one folder; never raises for damaged files (the status says so)."""
    name, task, model = folder.name, "", ""
    try:
        raw = json.loads(folder.run_json.read_text(encoding="utf-8"))
        name = str(raw.get("name", name))
        task = str(raw.get("task", ""))
        m = raw.get("model", {}) or {}
        model = "bundled" if m.get("source", "bundled") == "bundled" else str(m.get("path", ""))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, AttributeError) else "not a JSON object"
        return RunSummary(name, folder.path, "unreadable", 0, _created(folder), task, model,
                          f"{folder.run_json} cannot be read ({reason}); the run cannot be opened or resumed")
    try:
        status = folder.read_status()
    except StudioError as exc:
        return RunSummary(name, folder.path, "unreadable", 0, _created(folder), task, model, str(exc))
    if status is None:
        state, step, message = "new", 0, ""
    else:
        state, step, message = status.state, status.step, status.message
    if state == "running" and live_holder(folder.lock_file) is None:
        state = "interrupted"
    return RunSummary(name, folder.path, state, step, _created(folder), task, model, message)


def list_runs(parent: str | Path | None = None) -> list[RunSummary]:
    """Every run folder (a folder with run.json) directly under ``parent`` (default: the runs folder), newest
    first."""
    base = Path(parent) if parent else paths.runs_dir()
    if not base.is_dir():
        return []
    runs = [summarize_run(RunFolder(child)) for child in base.iterdir()
            if child.is_dir() and (child / "run.json").is_file()]
    return sorted(runs, key=lambda r: (r.created, r.path.name), reverse=True)
