"""The engine's lifecycle around the loop: validating, creating or reopening the run folder, taking its lock,
stamping and logging every event, and turning every failure into a ``Failed`` event.

:class:`EngineLifecycle` is the base of :class:`~.engine.Engine`, which adds the training loop (``_run``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..errors import RunError, StudioError
from ..events import TERMINAL_EVENTS, Event, Failed, StopToken
from ..runs import EventLog, RunFolder, checkpoint_step, create_run_folder
from .loop import EngineStats
from .session import Session, ValidatedRun, resume_target, validate_session

log = logging.getLogger(__name__)


class EngineLifecycle:
    """Set-up, event logging and failure handling of one run; subclasses implement :meth:`_run`."""

    def __init__(self, config: RunConfig | None, stop: StopToken | None = None,
                 resume_from: str | Path | None = None, *, app: str = "engine") -> None:
        self.config = config
        self.stop = stop or StopToken()
        self.resume_from = resume_from
        self.app = app
        self.stats = EngineStats()
        self.session: Session | None = None
        self.folder: RunFolder | None = None
        self._log: EventLog | None = None
        self._main = True
        self._last_ckpt = ""
        self._last_eval_step = -1
        self._last_ckpt_step = -1
        self._pattern_mismatch_reported = False
        self._activity = ""
        """What the engine is doing besides an optimizer step ("the checkpoint after optimizer step 8"), so a
        failure message names it; empty inside the loop's steps."""

    # ----------------------------------------------------------------------------------------- events
    def _emit(self, event: Event) -> Event | None:
        """Stamp, log and return an event. Non-main processes log nothing and yield only the terminal event, so
        every process of an ``accelerate launch`` run knows how it ended (and its exit code can say so)."""
        if not self._main:
            return event if isinstance(event, TERMINAL_EVENTS) else None
        if not event.time:
            event = dataclasses.replace(event, time=time.time())
        if self._log is not None:
            try:
                self._log.append(event)
            except OSError:
                if not isinstance(event, TERMINAL_EVENTS):
                    raise
                # the disk is full (or gone): the viewer must still learn how the run ended
                log.warning("could not append the %s event to %s", event.kind, self._log.path, exc_info=True)
        return event

    def _status(self, state: str, **info: Any) -> None:
        if self._main and self.folder is not None:
            try:
                self.folder.write_status(state, **info)
            except OSError:
                if state != "failed":
                    raise
                log.warning("could not write the failed status of %s", self.folder.path, exc_info=True)

    def events(self) -> Iterator[Event]:
        """The run as a generator of events."""
        lock = None
        try:
            try:
                if self.resume_from is not None:
                    folder, config, ckpt_path = resume_target(self.resume_from)
                    try:
                        validated = validate_session(config)
                    except StudioError as exc:  # e.g. the data file moved: record it in the run's own log
                        yield from self._fail_resume(folder, ckpt_path, exc.user_message())
                        return
                else:
                    if self.config is None:
                        raise RunError("no config given; pass a RunConfig or a run folder to resume")
                    validated = validate_session(self.config)
                    folder, ckpt_path = None, None
            except StudioError as exc:
                event = self._emit(Failed(step=0, message=exc.user_message()))
                if event is not None:
                    yield event
                return
            self._main = validated.accelerator.is_main_process
            if folder is None:
                folder = create_run_folder(validated.config) if self._main else None
                folder = self._broadcast_folder(validated, folder)
            self.folder = folder
            if self._main:
                try:
                    lock = folder.lock(app=self.app).acquire()
                except StudioError as exc:  # another program runs it: write nothing into its folder
                    yield from self._yield(Failed(step=0, message=exc.user_message()))
                    return
                self._log = EventLog(folder.events_jsonl)
            yield from self._run(validated, folder, ckpt_path)
        except StudioError as exc:
            step = self.session.state.global_step if self.session else 0
            yield from self._fail(step, exc.user_message(), traceback.format_exc())
        except Exception as exc:  # setup failures outside the loop end as Failed too
            step = self.session.state.global_step if self.session else 0
            yield from self._fail(step, f"Unexpected error: {type(exc).__name__}: {exc}", traceback.format_exc())
        finally:
            if self._log is not None:
                self._log.close()
            if lock is not None:
                lock.release()

    def _fail_resume(self, folder: RunFolder, ckpt_path: Path, message: str) -> Iterator[Event]:
        """A resume that failed its checks: append the Failed event to the run's log and mark its status failed
        (the checkpoint stays, so the run can be resumed once the problem is fixed). Nothing is written when
        another program holds the run, nor by a non-main process (the accelerator may not exist yet: RANK)."""
        self._main = os.environ.get("RANK", "0") == "0"
        lock = None
        if self._main:
            try:
                lock = folder.lock(app=self.app).acquire()
            except StudioError as exc:
                message = f"{message}\n({exc.user_message()})"
                self._main = False
        try:
            if lock is not None:
                self.folder = folder
                self._log = EventLog(folder.events_jsonl)
                self._last_ckpt = str(ckpt_path)
            step = checkpoint_step(ckpt_path)
            self._status("failed", step=step, message=message, checkpoint=str(ckpt_path))
            event = self._emit(Failed(step=step, message=message, checkpoint=str(ckpt_path)))
            if event is not None:  # always: Failed is terminal
                yield event
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            if lock is not None:
                lock.release()

    def _broadcast_folder(self, validated: ValidatedRun, folder: RunFolder | None) -> RunFolder:
        """Every process learns the main process's run folder."""
        acc = validated.accelerator
        if acc.num_processes == 1:
            assert folder is not None
            return folder
        from accelerate.utils import broadcast_object_list

        box = [str(folder.path) if folder is not None else ""]
        broadcast_object_list(box, from_process=0)
        return RunFolder(box[0])

    def _fail(self, step: int, message: str, detail: str = "") -> Iterator[Event]:
        self._status("failed", step=step, message=message, checkpoint=self._last_ckpt)
        event = self._emit(Failed(step=step, message=message, detail=detail, checkpoint=self._last_ckpt))
        if event is not None:
            yield event

    def _yield(self, event: Event) -> Iterator[Event]:
        emitted = self._emit(event)
        if emitted is not None:
            yield emitted

    def _run(self, validated: ValidatedRun, folder: RunFolder, ckpt_path: Path | None) -> Iterator[Event]:
        """Build the session and train (the subclass's loop)."""
        raise NotImplementedError
