"""A run's append-only event log: writing ``events.jsonl``, reading it back, following a live run.

The engine appends one JSON line per event; a viewer replays the file (:func:`read_run_events`) or tails a live
run by byte offset (:func:`follow_events`), reading only what was added since its last poll.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import RunError
from ..events import (
    TERMINAL_EVENTS,
    CheckpointSaved,
    Event,
    RunStarted,
    SkippedLine,
    describe_skipped,
    event_to_json,
    read_events,
)

log = logging.getLogger(__name__)

EVENTS_NAME = "events.jsonl"


class EventLog:
    """Append-only ``events.jsonl`` writer: one JSON line per event, flushed at once.

    Lines are not fsync'd one by one (that would cost milliseconds per step); :meth:`sync` does it, and
    :meth:`append` calls it itself for the events that matter after a crash: RunStarted, CheckpointSaved and
    the terminal events. A torn last line left by an earlier crash is closed with a newline before appending.
    Thread-safe.
    """

    SYNC_EVENTS: tuple[type[Event], ...] = (RunStarted, CheckpointSaved, *TERMINAL_EVENTS)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "ab")
            if fh.tell() > 0:
                with open(self.path, "rb") as reader:
                    reader.seek(-1, os.SEEK_END)
                    if reader.read(1) != b"\n":
                        fh.write(b"\n")
            self._fh = fh
        return self._fh

    def append(self, event: Event) -> None:
        """Write one event line and flush it (fsync too for checkpoints, run start and terminal events)."""
        line = (event_to_json(event) + "\n").encode("utf-8")
        with self._lock:
            fh = self._open()
            fh.write(line)
            fh.flush()
            if isinstance(event, self.SYNC_EVENTS):
                os.fsync(fh.fileno())

    def extend(self, events: Iterable[Event]) -> None:
        """Append several events."""
        for event in events:
            self.append(event)

    def sync(self) -> None:
        """Flush and fsync what was written so far."""
        with self._lock:
            if self._fh is not None:
                self._fh.flush()
                os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Sync and close the file (idempotent)."""
        with self._lock:
            if self._fh is not None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                self._fh = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _events_path(run_dir_or_file: str | os.PathLike[str]) -> Path:
    path = Path(run_dir_or_file)
    return path / EVENTS_NAME if path.is_dir() else path


def read_run_events(run_dir: str | os.PathLike[str], skipped: list[SkippedLine] | None = None) -> list[Event]:
    """Every event of a run (folder or ``events.jsonl`` path), skipping blank lines and unreadable ones.

    A torn last line (a crash mid-write) is expected; any other unreadable line is logged as a warning naming
    the file and the lines, and every skipped line is added to ``skipped`` if given. A run folder without an
    event log yet gives an empty list; a path that does not exist raises RunError.
    """
    given = Path(run_dir)
    if given.is_dir():
        path = given / EVENTS_NAME
        if not path.exists():
            return []
    elif given.is_file():
        path = given
    else:
        raise RunError(f"{given} does not exist; choose a run folder or its events.jsonl")
    found: list[SkippedLine] = [] if skipped is None else skipped
    with open(path, encoding="utf-8", errors="replace") as fh:
        events = list(read_events(fh, found))
    problem = describe_skipped(str(path), found)
    if problem:
        log.warning("%s", problem)
    return events


def follow_events(path: str | os.PathLike[str], offset: int = 0,
                  skipped: list[SkippedLine] | None = None) -> tuple[list[Event], int]:
    """Events in the complete lines written after byte ``offset``, and the offset to pass next time.

    Reads only the new bytes; a line still being written is left for the next call. If the file shrank below
    ``offset`` (it was replaced), reading restarts from the beginning. Complete lines that cannot be read are
    logged as a warning and added to ``skipped`` (line numbers count from ``offset``).
    """
    path = _events_path(path)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return [], offset
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size < offset:
            offset = 0
        if size == offset:
            return [], offset
        fh.seek(offset)
        chunk = fh.read(size - offset)
    end = chunk.rfind(b"\n")
    if end < 0:
        return [], offset
    lines = chunk[: end + 1].decode("utf-8", errors="replace").splitlines()
    found: list[SkippedLine] = []
    events = list(read_events(lines, found))
    for item in found:  # every line here is complete, so none of them is a torn write
        if skipped is not None:
            skipped.append(dataclasses.replace(item, last=False))
    problem = describe_skipped(f"{path} after byte {offset}", [dataclasses.replace(s, last=False) for s in found])
    if problem:
        log.warning("%s", problem)
    return events, offset + end + 1
