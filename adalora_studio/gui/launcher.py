"""Several processes from the app: ``torchrun`` (CPU, gloo) or ``accelerate launch`` (GPUs) as a child QProcess.

The child trains the saved ``run.json`` exactly as ``adalora-studio train`` does; the app follows the run folder's
``events.jsonl`` by byte offset (only new lines; a torn last line waits for the next poll), so the dashboard
gets the same events as from an in-process run. Stop sends SIGINT to the launcher, which passes it to every rank:
the ranks agree on the step, checkpoint and stop together; resume starts the child with
``train --resume RUN_DIR``. The child's stdout and stderr go to ``launcher.log`` in the run folder. When the child
exits without a terminal event in the log (a rank crashed or was killed), the run ends as Failed with the tail of
its stderr in the message.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from ..core.config import RunConfig
from ..core.events import TERMINAL_EVENTS, Event, Failed
from ..core.export.launch import launch_command, runs_base
from ..core.runs import EVENTS_NAME, follow_events

POLL_MS = 300
TAIL_CHARS = 2000
LOG_NAME = "launcher.log"


class ProcessLauncher(QObject):
    """One launched run. Signals: ``run_dir(str)`` once the run folder exists, ``events(list)`` as they are
    appended, ``ended(object)`` with the terminal event (from the log, or a Failed made from the exit)."""

    run_dir = Signal(str)
    events = Signal(object)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self.folder: Path | None = None
        self.offset = 0
        self.terminal: Event | None = None
        self.last_step = 0
        self._base: Path | None = None
        self._before: set[str] = set()
        self._pending_log = b""
        self._stderr_tail = ""
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    # ------------------------------------------------------------------------------------- control
    def start(self, config: RunConfig, config_path: Path, processes: int, *, cpu: bool,
              resume_dir: Path | None = None, port: int = 29500) -> None:
        """Start the child; ``resume_dir`` continues that run folder from its last checkpoint."""
        self.folder = Path(resume_dir) if resume_dir is not None else None
        self.offset = _size(self.folder / EVENTS_NAME) if self.folder is not None else 0
        self.terminal, self._pending_log, self._stderr_tail = None, b"", ""
        self._base = runs_base(config)
        self._before = set(os.listdir(self._base)) if self._base.is_dir() else set()
        argv = launch_command(sys.executable, config_path, processes, cpu, port=port, resume_dir=resume_dir)
        proc = QProcess(self)
        params = QProcess.UnixProcessParameters()
        params.flags = QProcess.UnixProcessFlag.CreateNewSession  # the app's own Ctrl+C does not reach the ranks
        proc.setUnixProcessParameters(params)
        proc.readyReadStandardOutput.connect(lambda: self._output(proc.readAllStandardOutput().data(), False))
        proc.readyReadStandardError.connect(lambda: self._output(proc.readAllStandardError().data(), True))
        proc.finished.connect(self._finished)
        self.process = proc
        proc.start(argv[0], argv[1:])
        self._timer.start()
        if self.folder is not None:
            self.run_dir.emit(str(self.folder))

    def stop(self) -> None:
        """Ask every rank to checkpoint and stop at the same step: SIGINT to the launcher, which passes it on to
        each rank once (a second one would abort them), as Ctrl+C in a terminal does."""
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            try:
                os.kill(int(self.process.processId()), signal.SIGINT)
            except OSError:
                self.process.terminate()

    def running(self) -> bool:
        """Whether the child is still running."""
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    # --------------------------------------------------------------------------------------- follow
    def poll(self) -> None:
        """Find the run folder (a new one under the runs folder), then read what was appended to its log."""
        if self.folder is None:
            self.folder = self._new_folder()
            if self.folder is None:
                return
            self.run_dir.emit(str(self.folder))
        if self._pending_log:
            self._write_log(self._pending_log)
            self._pending_log = b""
        events, self.offset = follow_events(self.folder / EVENTS_NAME, self.offset)
        if events:
            self.last_step = max([getattr(e, "step", 0) or 0 for e in events] + [self.last_step])
            self.terminal = next((e for e in events if isinstance(e, TERMINAL_EVENTS)), self.terminal)
            self.events.emit(events)

    def _new_folder(self) -> Path | None:
        if self._base is None or not self._base.is_dir():
            return None
        for name in sorted(set(os.listdir(self._base)) - self._before):
            if (self._base / name / EVENTS_NAME).is_file():
                return self._base / name
        return None

    def _output(self, data: bytes, stderr: bool) -> None:
        if stderr:
            self._stderr_tail = (self._stderr_tail + data.decode("utf-8", errors="replace"))[-TAIL_CHARS:]
        if self.folder is None:
            self._pending_log += data
        else:
            self._write_log(data)

    def _write_log(self, data: bytes) -> None:
        assert self.folder is not None
        with open(self.folder / LOG_NAME, "ab") as fh:
            fh.write(data)

    def _finished(self, exit_code: int, _status: object) -> None:
        self.poll()  # the last lines, and the folder if it appeared just now
        self._timer.stop()
        event = self.terminal
        tail = self._stderr_tail.strip() or "(no output on stderr)"
        if event is None:
            event = Failed(step=self.last_step, message=(
                f"A training process exited with code {exit_code} before the run ended.\n"
                f"Last lines of its error output:\n{tail}"))
        elif isinstance(event, Failed) and exit_code != 0:  # e.g. rank 0 saw another rank vanish: say why
            event = dataclasses.replace(event, message=(
                f"{event.message}\n\nThe launched processes exited with code {exit_code}. "
                f"Last lines of its error output:\n{tail}"))
        self.ended.emit(event)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
