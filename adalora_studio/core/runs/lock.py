"""One writer per run folder: a lock file created with ``O_CREAT | O_EXCL`` that names its holder.

Two windows of the GUI, or the GUI and the CLI, must never write the same run at once. The first one to create
``<run>/.lock`` holds the run; the file says who it is (pid, host, app, start time) so the second one can tell
the user exactly who holds it. A lock left behind by a process that died on this host is stale and is taken
over. A lock from another host (a run folder on a network share) cannot be checked and is always respected.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import RunError

LOCK_NAME = ".lock"
APPS = {"gui": "the GUI", "cli": "the CLI"}
_FRESH_EMPTY_S = 5.0
"""An empty or half-written lock younger than this is a holder still writing its details: respect it."""


@dataclass(frozen=True)
class LockInfo:
    """What a lock file says about its holder."""

    pid: int
    host: str
    app: str
    started: str
    """ISO 8601 UTC time the lock was taken."""
    boot_id: str = ""
    """Linux boot id when the lock was taken: a lock from an earlier boot is stale even if its pid is reused."""
    token: str = ""
    """Random id of this acquisition, so a holder never removes a lock that is not its own."""

    def describe(self) -> str:
        """E.g. ``the CLI (pid 123 on host) since 2026-11-28 03:55:00 UTC``."""
        who = APPS.get(self.app, self.app or "another program")
        since = self.started.replace("T", " ").replace("Z", " UTC") if self.started else "an unknown time"
        return f"{who} (pid {self.pid} on {self.host or 'an unknown host'}) since {since}"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (never signals or terminates it)."""
    if pid <= 0:
        return False
    try:
        import psutil  # a dependency of accelerate; portable, and safe on Windows
    except ImportError:  # pragma: no cover - psutil ships with accelerate
        psutil = None
    if psutil is not None:
        if not psutil.pid_exists(pid):
            return False
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
        except psutil.Error:
            return True
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_lock(lock_file: str | Path) -> LockInfo | None:
    """The holder named in ``lock_file``, or None when there is no lock or it cannot be parsed."""
    try:
        data = json.loads(Path(lock_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return LockInfo(
            pid=int(data.get("pid", 0)),
            host=str(data.get("host", "")),
            app=str(data.get("app", "")),
            started=str(data.get("started", "")),
            boot_id=str(data.get("boot_id", "")),
            token=str(data.get("token", "")),
        )
    except (TypeError, ValueError):
        return None


def lock_is_stale(info: LockInfo) -> bool:
    """True when the holder is certainly gone: same host, and its process died (or the machine rebooted)."""
    if info.host != socket.gethostname():
        return False
    boot = _boot_id()
    if info.boot_id and boot and info.boot_id != boot:
        return True
    return not pid_alive(info.pid)


def live_holder(lock_file: str | Path) -> LockInfo | None:
    """The holder of ``lock_file`` if the lock is held by a live process (or one we cannot check), else None."""
    path = Path(lock_file)
    if not path.exists():
        return None
    info = read_lock(path)
    if info is None:
        return None if _age(path) > _FRESH_EMPTY_S else LockInfo(0, "", "", "")
    return None if lock_is_stale(info) else info


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


class RunLock:
    """Context manager holding a run folder's lock file.

    ``with RunLock(run_dir, app="cli"):`` raises :class:`RunError` naming the holder if another live process
    holds the run, takes over a stale lock, and removes the lock on exit (only if it is still ours).
    """

    def __init__(self, run_folder: Any, app: str = "gui") -> None:
        folder = Path(getattr(run_folder, "path", run_folder))
        self.run_dir = folder
        self.lock_file = folder / LOCK_NAME
        self.app = app
        self._token = ""

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return bool(self._token)

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`RunError` naming who holds it."""
        if self._token:
            return self
        if not self.run_dir.is_dir():
            raise RunError(f"run folder {self.run_dir} does not exist")
        token = uuid.uuid4().hex
        payload = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "app": self.app,
            "started": _now_iso(),
            "boot_id": _boot_id(),
            "token": token,
        }
        data = (json.dumps(payload, indent=2) + "\n").encode("utf-8")
        for _ in range(5):
            try:
                fd = os.open(self.lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._handle_existing()
                continue
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._token = token
            return self
        raise RunError(f"could not take the lock {self.lock_file}: it keeps changing; try again")

    def _handle_existing(self) -> None:
        """Raise if the existing lock is live; remove it if it is stale (under a take-over guard)."""
        info = read_lock(self.lock_file)
        name = self.run_dir.name
        if info is None:
            if _age(self.lock_file) <= _FRESH_EMPTY_S:
                raise RunError(f"run '{name}' is being opened by another program right now; try again in a moment")
        elif not lock_is_stale(info):
            raise RunError(
                f"run '{name}' is in use by {info.describe()}. Wait for it to finish or stop it there. "
                f"If that program is gone, delete {self.lock_file}."
            )
        self._take_over(info)

    def _take_over(self, expected: LockInfo | None) -> None:
        """Remove a stale lock, making sure two processes taking over at once do not remove each other's."""
        guard = self.lock_file.with_name(LOCK_NAME + ".takeover")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _age(guard) > _FRESH_EMPTY_S:  # a take-over that crashed halfway
                guard.unlink(missing_ok=True)
            else:
                time.sleep(0.05)
            return
        os.close(fd)
        try:
            if read_lock(self.lock_file) == expected:  # unchanged since we judged it stale
                self.lock_file.unlink(missing_ok=True)
        finally:
            guard.unlink(missing_ok=True)

    def release(self) -> None:
        """Remove the lock file if it is still ours (idempotent)."""
        if not self._token:
            return
        info = read_lock(self.lock_file)
        if info is not None and info.token == self._token:
            self.lock_file.unlink(missing_ok=True)
        self._token = ""

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
