"""The run lock: one writer per run folder, the holder named, stale locks (dead process) taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adalora_studio.core.errors import RunError
from adalora_studio.core.runs import RunFolder, RunLock, lock_is_stale, read_lock

ROOT = Path(__file__).resolve().parents[2]


# -------------------------------------------------------------------------------------------------- lock


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_is_exclusive_and_names_the_holder(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    with RunLock(folder, app="cli") as lock:
        assert lock.held
        info = read_lock(folder.lock_file)
        assert info is not None and info.pid == os.getpid() and info.app == "cli"
        assert info.host == socket.gethostname()
        with pytest.raises(RunError) as err:
            RunLock(folder, app="gui").acquire()
        text = str(err.value)
        assert f"'{tmp_path.name}' is in use by the CLI (pid {os.getpid()} on {socket.gethostname()}) since" in text
        assert str(folder.lock_file) in text
    assert not folder.lock_file.exists()


def test_stale_lock_of_dead_pid_is_taken_over(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    pid = _dead_pid()
    folder.lock_file.write_text(json.dumps(
        {"pid": pid, "host": socket.gethostname(), "app": "gui", "started": "2026-01-01T00:00:00Z"}))
    assert lock_is_stale(read_lock(folder.lock_file))
    with RunLock(folder, app="cli"):
        assert read_lock(folder.lock_file).pid == os.getpid()
    assert not folder.lock_file.exists()


def test_lock_from_another_host_is_respected(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.lock_file.write_text(json.dumps(
        {"pid": _dead_pid(), "host": "elsewhere.example", "app": "gui", "started": "2026-01-01T00:00:00Z"}))
    with pytest.raises(RunError, match="in use by the GUI .* on elsewhere.example"):
        RunLock(folder).acquire()


def test_release_never_removes_someone_elses_lock(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    lock = RunLock(folder).acquire()
    folder.lock_file.unlink()
    other = RunLock(folder, app="cli").acquire()
    lock.release()
    assert folder.lock_file.exists() and read_lock(folder.lock_file).app == "cli"
    other.release()
    assert not folder.lock_file.exists()


def test_lock_held_by_another_process_then_taken_over_after_it_dies(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from adalora_studio.core.runs.lock import RunLock
        lock = RunLock({str(tmp_path)!r}, app="cli").acquire()
        print("locked", flush=True)
        sys.stdin.read()
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RunError, match=rf"in use by the CLI \(pid {child.pid} on "):
            RunLock(folder, app="gui").acquire()
    finally:
        child.kill()  # dies without releasing: its lock file stays behind
        child.wait()
    assert read_lock(folder.lock_file).pid == child.pid
    with RunLock(folder, app="gui"):
        assert read_lock(folder.lock_file).app == "gui"


def test_fresh_empty_lock_is_respected_old_one_taken_over(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path)
    folder.lock_file.write_text("")
    with pytest.raises(RunError, match="being opened"):
        RunLock(folder).acquire()
    os.utime(folder.lock_file, (1, 1))
    with RunLock(folder):
        assert read_lock(folder.lock_file).pid == os.getpid()
