"""Run folders on disk: layout, status, one writer at a time (a lock), the event log, checkpoint names, listing.
"""

from __future__ import annotations

from .checkpoints import checkpoint_name, checkpoint_step, latest_checkpoint, list_checkpoints
from .eventlog import EVENTS_NAME, EventLog, follow_events, read_run_events
from .folder import (
    STATES,
    RunFolder,
    RunStatus,
    RunSummary,
    create_run_folder,
    list_runs,
    sanitize_run_name,
    summarize_run,
)
from .library import (
    LIBRARY_META,
    SORT_KEYS,
    LibraryEntry,
    RunLibrary,
    delete_run,
    filter_entries,
    is_run_folder,
    move_to_trash,
    read_entry,
    rename_run,
    set_tags,
    sort_entries,
)
from .lock import LOCK_NAME, LockInfo, RunLock, live_holder, lock_is_stale, read_lock
from .space import free_bytes, human_bytes, is_disk_full, runs_folder_problem, writable_problem

__all__ = [
    "free_bytes",
    "human_bytes",
    "is_disk_full",
    "runs_folder_problem",
    "writable_problem",
    "STATES",
    "RunStatus",
    "RunFolder",
    "sanitize_run_name",
    "create_run_folder",
    "RunSummary",
    "summarize_run",
    "list_runs",
    "LOCK_NAME",
    "RunLock",
    "LockInfo",
    "read_lock",
    "lock_is_stale",
    "live_holder",
    "EVENTS_NAME",
    "EventLog",
    "read_run_events",
    "follow_events",
    "checkpoint_name",
    "checkpoint_step",
    "list_checkpoints",
    "latest_checkpoint",
    "LIBRARY_META",
    "SORT_KEYS",
    "LibraryEntry",
    "RunLibrary",
    "delete_run",
    "filter_entries",
    "is_run_folder",
    "move_to_trash",
    "read_entry",
    "rename_run",
    "set_tags",
    "sort_entries",
]
