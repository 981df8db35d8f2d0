"""The one long-lived worker thread that does all torch work, and turns core events into Qt signals.

Torch running in two threads at once slows training by ~10% on two cores (competing OpenMP pools), so the GUI
thread never imports torch: module discovery, data previews and training all run here, one after another.
Torch, transformers and peft are imported lazily inside the jobs, so the window appears before they load.

Usage (GUI thread)::

    worker = TorchWorker()
    job = worker.submit(describe_model, cfg.model, cfg.task)
    job.succeeded.connect(show_modules)           # delivered on the GUI thread
    job.failed.connect(show_error)                # (message, detail)
    worker.event.connect(dashboard.apply_event)   # every core event, in order
    worker.run_finished.connect(on_end)           # Finished / Stopped / Failed
    worker.start_run(cfg)
    worker.request_stop()                         # honoured within one optimizer step
    worker.shutdown()                             # at exit: queued jobs still run, then the thread ends

Errors always arrive as signals: a job's exception as ``Job.failed``, a run's (even an unexpected exception
from the engine) as a ``Failed`` event followed by ``run_finished``; both tracebacks are also written to the
log (``gui.log``). Nothing here touches a widget.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.events import TERMINAL_EVENTS, Event, Failed, StepLogged, StopToken

log = logging.getLogger(__name__)

STEP_FORWARD_INTERVAL_S = 0.05
"""StepLogged events cross to the GUI thread at most ~20 times per second, in batches (none is dropped)."""

RunFn = Callable[..., Iterator[Event]]

WARM_MODULES = ("adalora_studio.core.training", "adalora_studio.core.inference", "adalora_studio.core.compare")
"""Torch-free core packages (with what they import, almost all of core) that the GUI thread imports on first use:
the report view's first ``core.inference`` import took 130-290 ms of the GUI thread. The worker imports them when
it starts, in Python code that hands the GIL back every switch interval."""

def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(message for a person, technical detail) of an exception raised in a job or a run."""
    from ..core.errors import StudioError

    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    message = exc.user_message() if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}"
    return message or type(exc).__name__, detail


_QUIT = "quit"
"""The request :meth:`TorchWorker.shutdown` queues behind every job and run: the thread's loop ends there."""


class Job(QObject):
    """A short job queued on the worker; exactly one of its signals fires, on the GUI thread."""

    succeeded = Signal(object)
    failed = Signal(str, str)
    """(message, detail): a readable message and the traceback."""

    def __init__(self, job_id: int, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self.name = name
        self.done = False
        self.result: Any = None
        self.error: tuple[str, str] | None = None
        self.writes = ""
        """What the job writes, for a person ("the merged model export"); empty when it writes nothing. Closing
        the window asks before it would leave such a job unfinished."""


class _Backend(QObject):
    """Lives in the worker thread; its slots run there. Sends only plain data back."""

    job_done = Signal(int, bool, object)
    """(job id, ok, result or (message, detail))"""
    events_ready = Signal(object)
    """A list of core events, in order."""
    run_done = Signal(object)
    """The terminal event."""

    @Slot()
    def preload(self) -> None:
        """First thing on the new thread: torch's native libraries, loaded without holding the GIL, so the first
        job's ``import torch`` does not freeze the window (``app/native_libs.py``); then the core packages the
        window imports lazily (:data:`WARM_MODULES`), so that their first use on the GUI thread finds them
        imported instead of stopping it for their import."""
        from ..app.native_libs import preload_torch_libraries

        preload_torch_libraries()
        for name in WARM_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a warm-up only: the real import reports any problem where it happens
                log.debug("warm import of %s failed", name, exc_info=True)

    @Slot(object)
    def run_job(self, request: tuple[int, Callable[..., Any], tuple, dict] | str) -> None:
        if request == _QUIT:
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()
            return
        job_id, fn, args, kwargs = request
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - every error must reach the GUI as a signal
            message, detail = describe_exception(exc)
            log.error("background job %s failed: %s\n%s", getattr(fn, "__qualname__", repr(fn)), message, detail)
            self.job_done.emit(job_id, False, (message, detail))
            if not isinstance(exc, Exception):
                raise
            return
        self.job_done.emit(job_id, True, result)

    @Slot(object)
    def run_training(self, request: tuple[RunFn | None, Any, Any, StopToken]) -> None:
        run_fn, config, resume_from, stop = request
        pending: list[Event] = []
        last_flush = 0.0
        terminal: Event | None = None
        step = 0
        try:
            if run_fn is None:
                from ..core.training import run as run_fn  # lazy: torch loads here, never in the GUI thread
            for event in run_fn(config, stop=stop, resume_from=resume_from):
                step = getattr(event, "step", step) or step
                pending.append(event)
                if isinstance(event, TERMINAL_EVENTS):
                    terminal = event
                    break
                now = time.monotonic()
                if not isinstance(event, StepLogged) or now - last_flush >= STEP_FORWARD_INTERVAL_S:
                    self.events_ready.emit(pending)
                    pending, last_flush = [], now
        except BaseException as exc:  # noqa: BLE001 - surfaced as a Failed event, never swallowed
            message, detail = describe_exception(exc)
            log.error("the run raised an unexpected error at step %d: %s\n%s", step, message, detail)
            terminal = Failed(step=step, message=f"The run stopped with an unexpected error: {message}",
                              detail=detail, time=time.time())
            pending.append(terminal)
        if terminal is None:
            terminal = Failed(step=step, message="The engine ended without saying whether the run finished "
                              "(no Finished, Stopped or Failed event).", time=time.time())
            pending.append(terminal)
        elif isinstance(terminal, Failed):
            log.error("run failed at step %d: %s\n%s", terminal.step, terminal.message, terminal.detail)
        self.events_ready.emit(pending)
        self.run_done.emit(terminal)


class TorchWorker(QObject):
    """The GUI-side handle of the worker thread. Create it in the GUI thread; call everything from there."""

    event = Signal(object)
    """Every core event of the current run, in order, on the GUI thread."""
    run_started = Signal()
    run_finished = Signal(object)
    """The terminal event (Finished, Stopped or Failed), after all its run's ``event`` signals."""
    busy_changed = Signal(bool)

    _job_requested = Signal(object)
    _run_requested = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("adalora-studio-torch")
        self._backend = _Backend()
        self._backend.moveToThread(self._thread)
        self._job_requested.connect(self._backend.run_job)
        self._run_requested.connect(self._backend.run_training)
        self._backend.job_done.connect(self._on_job_done)
        self._backend.events_ready.connect(self._on_events)
        self._backend.run_done.connect(self._on_run_done)
        self._thread.finished.connect(self._backend.deleteLater)
        self._thread.started.connect(self._backend.preload)
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._stop: StopToken | None = None
        self._running = False
        self.last_terminal: Event | None = None
        from .gc_guard import watch_busy

        watch_busy(self, lambda w: w.busy)  # no full garbage collection while this worker has work
        self._thread.start()

    # ------------------------------------------------------------------ short jobs

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
        """Queue ``fn(*args, **kwargs)`` on the worker thread; the returned Job signals its outcome.

        Jobs run one at a time, in order; a job submitted during a training run starts when the run ends.
        """
        job = Job(next(self._ids), getattr(fn, "__qualname__", repr(fn)), self)
        self._jobs[job.job_id] = job
        self._job_requested.emit((job.job_id, fn, args, kwargs))
        self.busy_changed.emit(True)
        return job

    @Slot(int, bool, object)
    def _on_job_done(self, job_id: int, ok: bool, payload: Any) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        job.done = True
        if ok:
            job.result = payload
            job.succeeded.emit(payload)
        else:
            job.error = payload
            job.failed.emit(*payload)
        job.deleteLater()
        if not self.busy:
            self.busy_changed.emit(False)

    # ------------------------------------------------------------------ training runs

    def start_run(self, config: Any, resume_from: str | Path | None = None, run_fn: RunFn | None = None) -> None:
        """Start ``core.training.run(config, stop, resume_from)`` in the worker thread.

        ``run_fn`` replaces the engine (same signature; for tests and benchmarks). Raises RuntimeError if a run
        is already going: one run at a time.
        """
        if self._running:
            raise RuntimeError("a run is already in progress; stop it before starting another")
        self._stop = StopToken()
        self._running = True
        self.last_terminal = None
        self._run_requested.emit((run_fn, config, resume_from, self._stop))
        self.run_started.emit()
        self.busy_changed.emit(True)

    def request_stop(self) -> None:
        """Ask the run to stop after the current optimizer step (it checkpoints, then ends with Stopped)."""
        if self._stop is not None:
            self._stop.request_stop()

    @property
    def is_running(self) -> bool:
        """True from start_run until run_finished was delivered."""
        return self._running

    @property
    def busy(self) -> bool:
        """A run or a job is queued or running."""
        return self._running or bool(self._jobs)

    def writing(self) -> list[str]:
        """What the unfinished jobs write (their :attr:`Job.writes`), e.g. ``["the merged model export"]``."""
        return [job.writes for job in self._jobs.values() if job.writes]

    @Slot(object)
    def _on_events(self, events: list[Event]) -> None:
        for event in events:
            self.event.emit(event)

    @Slot(object)
    def _on_run_done(self, terminal: Event) -> None:
        self._running = False
        self._stop = None
        self.last_terminal = terminal
        self.run_finished.emit(terminal)
        if not self.busy:
            self.busy_changed.emit(False)

    # ------------------------------------------------------------------ lifetime

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop a run (it checkpoints), let every queued job run to its end, and join the thread.

        True once the thread ended; False (and a warning in the log naming the unfinished work) if it was still
        busy after ``timeout_ms``. Calling it again after the thread ended returns True.
        """
        if self._thread.isFinished() or not self._thread.isRunning():
            return True
        self.request_stop()
        self._job_requested.emit(_QUIT)  # queued behind every job and run already asked for
        ended = bool(self._thread.wait(timeout_ms))
        if not ended:
            work = [job.writes or job.name for job in self._jobs.values()]
            log.warning("the worker thread was still busy after %d ms (%s)", timeout_ms,
                        ", ".join(work) or ("a run" if self._running else "unknown work"))
        return ended

    @property
    def thread(self) -> QThread:
        """The worker thread (for checks that work runs off the GUI thread)."""
        return self._thread
