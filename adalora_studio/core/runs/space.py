"""Room on disk for runs: whether a runs folder can be written, how much space is free, sizes for people.

Used up front (``validate``, the wizard's review page, the engine before it loads anything) and when a write
fails with a full disk, so the message names the folder, the space needed and the space free.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
"""A full disk, or a full quota."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says the disk or the quota is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False


def human_bytes(n: float) -> str:
    """``1.5 MB``-style size (decimal units, as file managers show them)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def existing_parent(path: str | Path) -> Path:
    """``path`` itself if it exists, else its nearest existing parent (where it would be created)."""
    current = Path(path).expanduser().absolute()
    while not current.exists() and current != current.parent:
        current = current.parent
    return current


def free_bytes(path: str | Path) -> int:
    """Bytes free for this user on the disk that holds (or would hold) ``path``."""
    return int(shutil.disk_usage(existing_parent(path)).free)


def writable_problem(folder: str | Path) -> str | None:
    """Why run folders cannot be created in ``folder``, or None. Tries a real write (permissions, read-only
    disks and full disks all show), creating nothing that stays behind."""
    folder = Path(folder).expanduser().absolute()
    base = existing_parent(folder)
    if not base.is_dir():
        return f"{base} is a file, not a folder"
    try:
        fd, probe = tempfile.mkstemp(prefix=".adalora-studio-write-test-", dir=base)
    except OSError as exc:
        where = f"{folder} cannot be created in {base}" if base != folder else f"{folder} is not writable"
        return f"{where} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


def runs_folder_problem(folder: str | Path, needed: int) -> str | None:
    """Why a run cannot be written into ``folder`` (not writable, or less than ``needed`` bytes free), or None."""
    problem = writable_problem(folder)
    if problem:
        return f"{problem}; choose another runs folder (output_dir)"
    free = free_bytes(folder)
    if free < needed:
        return (f"{Path(folder).expanduser()} has {human_bytes(free)} free, but the run needs about "
                f"{human_bytes(needed)} for its checkpoints and adapter; free some space or choose another "
                "runs folder (output_dir)")
    return None
