"""The training engine: a generator of events that drives peft's AdaLoRA exactly as the method intends.

``for event in run(config, stop):`` validates the config, creates the run folder, trains, and yields plain
events (also appended to the run's ``events.jsonl``). It never raises for a problem a user can fix: it ends
with :class:`Failed`. Per optimizer step (only when accelerate syncs gradients)::

    clip (report grad norm) -> optimizer.step() -> scheduler.step()
    -> peft_model.base_model.update_and_allocate(i)   # i = 0-based optimizer-step index
    -> optimizer.zero_grad()

The loss peft returns includes ``orth_reg_weight * regulariser``; the logged task loss is that loss minus the
term, which is recomputed without gradients (from the same weights) only on logging steps - no second forward.
"""

from __future__ import annotations

import dataclasses
import math
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .checkpoint import TrainState, capture_rng, restore_rng, save_checkpoint
from .config import RunConfig
from .errors import RunError, StudioError
from .eventlog import EventLog
from .events import (
    CheckpointSaved,
    EvalLogged,
    Event,
    Failed,
    Finished,
    LogMessage,
    RanksUpdated,
    RunStarted,
    StepLogged,
    Stopped,
    StopToken,
)
from .plan import is_mask_step
from .ranks import snapshot_ranks, triplet_scores, write_rank_tables
from .runs import RunFolder, create_run_folder
from .run_setup import Session, ValidatedRun, build_session, resume_target, validate_run
from .training_setup import epoch_seed, orth_params, orth_regularizer


class NonFiniteLoss(RunError):
    """The loss or the gradient norm became NaN or infinite."""


@dataclass
class EngineStats:
    """Where the time of the last run went (for the benchmark and the log)."""

    train_s: float = 0.0
    """Wall time of the training loop (steps, allocation, bookkeeping; evaluation and checkpoints excluded)."""
    bookkeeping_s: float = 0.0
    """Part of ``train_s`` spent on rank snapshots, logging terms, events and their log lines."""
    eval_s: float = 0.0
    checkpoint_s: float = 0.0
    steps: int = 0

    @property
    def bookkeeping_share(self) -> float:
        """Bookkeeping as a fraction of the training loop's time."""
        return self.bookkeeping_s / self.train_s if self.train_s > 0 else 0.0


def run(config: RunConfig | None, stop: StopToken | None = None, resume_from: str | Path | None = None,
        *, app: str = "engine") -> Iterator[Event]:
    """Train one run and yield its events; ends with Finished, Failed or Stopped.

    ``resume_from`` is a run folder: its ``run.json`` and latest checkpoint are used and ``config`` is ignored.
    ``app`` names the program in the run's lock file.
    """
    return Engine(config, stop, resume_from, app=app).events()


class Engine:
    """One run of the training loop. :meth:`events` is the generator; :attr:`stats` the timing afterwards."""

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

    # ----------------------------------------------------------------------------------------- events
    def _emit(self, event: Event) -> Event | None:
        """Stamp, log and return an event (None on non-main processes, which neither log nor yield)."""
        if not self._main:
            return None
        if not event.time:
            event = dataclasses.replace(event, time=time.time())
        if self._log is not None:
            self._log.append(event)
        return event

    def _status(self, state: str, **info: Any) -> None:
        if self._main and self.folder is not None:
            self.folder.write_status(state, **info)

    # ------------------------------------------------------------------------------------------ setup
    def events(self) -> Iterator[Event]:
        """The run as a generator of events."""
        lock = None
        try:
            try:
                if self.resume_from is not None:
                    folder, config, ckpt_path = resume_target(self.resume_from)
                    validated = validate_run(config)
                else:
                    if self.config is None:
                        raise RunError("no config given; pass a RunConfig or a run folder to resume")
                    validated = validate_run(self.config)
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
                lock = folder.lock(app=self.app).acquire()
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

    def _run(self, validated: ValidatedRun, folder: RunFolder, ckpt_path: Path | None) -> Iterator[Event]:
        session: Session | None = None
        try:
            session = build_session(validated, folder, ckpt_path)
            self.session = session
            if session.resumed is not None:
                self._last_ckpt = str(session.resumed.path)
                self._last_ckpt_step = session.state.global_step
            if self._main and session.label_names:
                folder.write_labels(session.label_names)
            yield from self._train(session)
        except StudioError:
            raise
        except Exception as exc:  # every failure ends as a Failed event, never as a raised exception
            step = session.state.global_step if session is not None else 0
            detail = traceback.format_exc()
            if _is_oom(exc):
                cfg = validated.config
                message = (f"Out of memory at optimizer step {step + 1} on {validated.hardware.device}. "
                           f"Try a smaller training.batch_size (now {cfg.training.batch_size}) or "
                           f"data.max_length (now {cfg.data.max_length}); raise training.grad_accum to keep "
                           f"the effective batch size.")
            elif isinstance(exc, NonFiniteLoss):
                message = str(exc)
            else:
                message = f"Unexpected error at optimizer step {step}: {type(exc).__name__}: {exc}"
            yield from self._fail(step, message, detail)

    # --------------------------------------------------------------------------------------- training
    def _train(self, s: Session) -> Iterator[Event]:
        cfg, plan, acc, state = s.config, s.plan, s.accelerator, s.state
        state.total_steps = plan.total_steps
        resumed_from = state.global_step if s.resumed is not None else None
        self._status("running", step=state.global_step, total_steps=plan.total_steps)
        yield from self._yield(RunStarted(
            run_dir=str(s.folder.path), config=cfg.to_dict(), total_steps=plan.total_steps,
            steps_per_epoch=plan.steps_per_epoch, device=s.hardware.device, precision=s.hardware.precision,
            model_params=plan.model_params, trainable_init=plan.trainable_init,
            trainable_target=plan.trainable_target, n_matrices=len(plan.targets), init_r=plan.init_r,
            target_r=plan.target_r, tinit_steps=plan.tinit_steps, tfinal_steps=plan.tfinal_steps,
            delta_t=plan.delta_t, n_train=s.n_train, n_eval=s.n_eval, label_names=s.label_names,
            resumed_from_step=resumed_from,
        ))
        yield from self._yield(self._ranks(s))
        if resumed_from is not None:
            yield from self._yield(LogMessage(
                level="info", message=f"Resumed from {s.resumed.path.name} at optimizer step {resumed_from}"))

        peft_inner = s.peft_model.base_model
        trainable = [p for p in s.peft_model.parameters() if p.requires_grad]
        reg_params = orth_params(s.peft_model)
        reg_weight = cfg.budget.orth_reg_weight
        max_norm = cfg.training.max_grad_norm if cfg.training.max_grad_norm > 0 else math.inf
        log_every = cfg.training.log_every
        micro_per_epoch = plan.micro_batches_per_epoch
        final_mask_index = plan.total_steps - plan.tfinal_steps
        pending_rng = s.resumed.rng if s.resumed is not None else None
        session_start_step = state.global_step
        elapsed_before = state.elapsed_s
        loop_t0 = time.perf_counter()
        window_t0, window_samples = loop_t0, 0
        loss_sum = None
        n_micro = 0
        bk = 0.0  # bookkeeping seconds
        s.model.train()

        while state.global_step < plan.total_steps:
            if self.stop.stop_requested:
                yield from self._stop(s)
                return
            s.generator.manual_seed(epoch_seed(cfg.training.seed, state.epoch))
            if pending_rng is not None and state.batch_in_epoch == 0:
                restore_rng(pending_rng)  # at an epoch start, before the loader draws its base seed
                pending_rng = None
            loader = (acc.skip_first_batches(s.train_loader, state.batch_in_epoch)
                      if state.batch_in_epoch else s.train_loader)
            got_batch = False
            for batch in loader:
                if pending_rng is not None:
                    restore_rng(pending_rng)  # mid-epoch: after the skipping loader drew its base seed
                    pending_rng = None
                with acc.accumulate(s.model):
                    out = s.model(**batch)
                    loss = out.loss
                    acc.backward(loss)
                detached = loss.detach()
                loss_sum = detached if loss_sum is None else loss_sum + detached
                n_micro += 1
                n_samples = int(batch["input_ids"].shape[0]) * acc.num_processes
                window_samples += n_samples
                state.samples_seen += n_samples
                got_batch = True
                state.batch_in_epoch += 1
                if not acc.sync_gradients:
                    continue

                # ---- one optimizer step
                index = state.global_step
                epoch_done = state.batch_in_epoch >= micro_per_epoch or acc.gradient_state.end_of_dataloader
                grad_norm = acc.clip_grad_norm_(trainable, max_norm)
                lr = float(s.optimizer.param_groups[0]["lr"])
                mean_loss = loss_sum / n_micro
                if not _finite(mean_loss, grad_norm):
                    raise NonFiniteLoss(
                        f"The loss became NaN or infinite at optimizer step {index + 1} (loss "
                        f"{float(mean_loss):.4g}, gradient norm {float(grad_norm):.4g}). Lower "
                        f"training.learning_rate (now {cfg.training.learning_rate:g}) or keep "
                        f"training.max_grad_norm above 0; the last good checkpoint is kept.")
                log_now = (index + 1) % log_every == 0 or index + 1 == plan.total_steps
                t_bk = time.perf_counter()
                orth = None
                if log_now:
                    orth = self._orth_term(acc, reg_params, reg_weight)
                    task_loss = acc.reduce(mean_loss, reduction="mean") - orth
                if index == final_mask_index:
                    state.last_scores = triplet_scores(s.peft_model)  # reset_ipt empties them in this call
                bk += time.perf_counter() - t_bk

                s.optimizer.step()
                s.scheduler.step()
                peft_inner.update_and_allocate(index)
                s.optimizer.zero_grad()
                state.global_step = index + 1
                loss_sum, n_micro = None, 0

                t_bk = time.perf_counter()
                events: list[Event] = []
                if log_now:
                    now = time.perf_counter()
                    elapsed = elapsed_before + (now - loop_t0)
                    done = state.global_step - session_start_step
                    per_step = (now - loop_t0) / max(done, 1)
                    events.append(StepLogged(
                        step=state.global_step,
                        epoch=state.epoch + state.batch_in_epoch / max(micro_per_epoch, 1),
                        task_loss=float(task_loss), orth_loss=float(orth), lr=lr,
                        grad_norm=float(grad_norm), samples_per_s=window_samples / max(now - window_t0, 1e-9),
                        elapsed_s=elapsed, eta_s=per_step * (plan.total_steps - state.global_step),
                    ))
                    window_t0, window_samples = now, 0
                if is_mask_step(index, plan):
                    if index != final_mask_index:
                        state.last_scores = triplet_scores(s.peft_model)
                    events.append(self._ranks(s))
                for event in events:
                    emitted = self._emit(event)
                    if emitted is not None:
                        yield emitted
                bk += time.perf_counter() - t_bk

                if epoch_done:
                    state.epoch += 1
                    state.batch_in_epoch = 0
                finished = state.global_step >= plan.total_steps
                every_eval, every_ckpt = cfg.training.eval_every, cfg.training.checkpoint_every
                pause_t0 = time.perf_counter()
                if not finished and ((every_eval and state.global_step % every_eval == 0)
                                     or (not every_eval and epoch_done)):
                    yield from self._evaluate(s)
                if not finished and ((every_ckpt and state.global_step % every_ckpt == 0)
                                     or (not every_ckpt and epoch_done)):
                    state.elapsed_s = elapsed_before + (pause_t0 - loop_t0)
                    yield from self._checkpoint(s)
                paused = time.perf_counter() - pause_t0
                loop_t0 += paused  # evaluation and checkpoints do not count as training time
                window_t0 += paused
                if self.stop.stop_requested and not finished:
                    state.elapsed_s = elapsed_before + (time.perf_counter() - loop_t0)
                    self._account(bk, loop_t0, elapsed_before, session_start_step)
                    yield from self._stop(s)
                    return
                if finished or epoch_done:
                    break
            if not got_batch:
                raise RunError(f"epoch {state.epoch + 1} yielded no training batches; check the training data")
        state.elapsed_s = elapsed_before + (time.perf_counter() - loop_t0)
        self._account(bk, loop_t0, elapsed_before, session_start_step)
        yield from self._finish(s)

    def _account(self, bk: float, loop_t0: float, elapsed_before: float, start_step: int) -> None:
        state = self.session.state if self.session else TrainState()
        self.stats.bookkeeping_s = bk
        self.stats.train_s = state.elapsed_s - elapsed_before
        self.stats.steps = state.global_step - start_step

    def _yield(self, event: Event) -> Iterator[Event]:
        emitted = self._emit(event)
        if emitted is not None:
            yield emitted

    @staticmethod
    def _orth_term(acc: Any, reg_params: list, weight: float) -> Any:
        """``orth_reg_weight * regulariser`` as peft added it to this step's loss (weights are unchanged
        since the forward passes of this accumulation window)."""
        import torch

        with torch.no_grad(), acc.autocast():
            return weight * orth_regularizer(reg_params).float()

    def _ranks(self, s: Session) -> RanksUpdated:
        scores = triplet_scores(s.peft_model)
        if scores is None:
            scores = s.state.last_scores
        return snapshot_ranks(s.peft_model, s.state.global_step, s.plan, scores=scores, time=time.time())

    # ----------------------------------------------------------------------- evaluation & checkpoints
    def _evaluate(self, s: Session) -> Iterator[Event]:
        if s.eval_loader is None or self._last_eval_step == s.state.global_step:
            return
        import torch

        from .evaluation import evaluate

        t0 = time.perf_counter()
        cpu_rng = torch.get_rng_state()  # evaluation must not change the training's random stream
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        try:
            result = evaluate(s.model, s.eval_loader, s.config.task, s.accelerator)
        finally:
            torch.set_rng_state(cpu_rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)
        self._last_eval_step = s.state.global_step
        s.state.last_metrics = {"eval_loss": result.loss, **result.metrics}
        self.stats.eval_s += time.perf_counter() - t0
        yield from self._yield(EvalLogged(step=s.state.global_step, eval_loss=result.loss, metrics=result.metrics))

    def _checkpoint(self, s: Session) -> Iterator[Event]:
        if self._last_ckpt_step == s.state.global_step:
            return
        t0 = time.perf_counter()
        s.accelerator.wait_for_everyone()
        if self._main:
            path = save_checkpoint(s.folder.checkpoints_dir, model=s.peft_model, optimizer=s.optimizer,
                                   scheduler=s.scheduler, state=s.state, keep=s.config.training.keep_checkpoints)
            self._last_ckpt = str(path)
            self._status("running", step=s.state.global_step, total_steps=s.plan.total_steps,
                         checkpoint=self._last_ckpt)
        self._last_ckpt_step = s.state.global_step
        self.stats.checkpoint_s += time.perf_counter() - t0
        yield from self._yield(CheckpointSaved(step=s.state.global_step, path=self._last_ckpt))

    def _stop(self, s: Session) -> Iterator[Event]:
        yield from self._checkpoint(s)
        self._status("stopped", step=s.state.global_step, total_steps=s.plan.total_steps,
                     checkpoint=self._last_ckpt, message="stopped on request")
        yield from self._yield(Stopped(step=s.state.global_step, checkpoint=self._last_ckpt))

    def _finish(self, s: Session) -> Iterator[Event]:
        yield from self._evaluate(s)
        final_ranks = self._ranks(s)
        yield from self._yield(final_ranks)
        s.accelerator.wait_for_everyone()
        adapter_dir = s.folder.adapter_dir
        if self._main:
            _save_adapter(s.peft_model, adapter_dir)
            write_rank_tables(final_ranks, s.folder.path)
            total_s = s.state.elapsed_s
            self._status("finished", step=s.state.global_step, total_steps=s.plan.total_steps,
                         adapter=str(adapter_dir), elapsed_s=total_s)
            share = self.stats.bookkeeping_share
            yield from self._yield(LogMessage(level="info", message=(
                f"Trained {s.state.global_step} optimizer steps in {total_s:.1f} s; "
                f"engine bookkeeping took {100 * share:.2f}% of the training loop.")))
        metrics = {k: float(v) for k, v in s.state.last_metrics.items()}
        yield from self._yield(Finished(step=s.state.global_step, run_dir=str(s.folder.path),
                                        adapter_dir=str(adapter_dir), metrics=metrics))


def _save_adapter(peft_model: Any, adapter_dir: Path) -> None:
    """``save_pretrained`` into a temporary folder renamed into place (an old adapter is replaced whole).

    ``save_pretrained`` strips the ``.default`` suffix of ``rank_pattern`` keys in the live config; the keys are
    restored afterwards so the live model keeps working as before.
    """
    import shutil

    cfg = peft_model.peft_config["default"]
    live_pattern = dict(cfg.rank_pattern) if cfg.rank_pattern else cfg.rank_pattern
    tmp = adapter_dir.with_name(f".{adapter_dir.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        with warnings.catch_warnings():
            # a matrix pruned to rank 0 is saved as a zero-sized tensor, which peft mistakes for an ungathered shard
            warnings.filterwarnings("ignore", message=".*invalid shape.*")
            peft_model.save_pretrained(str(tmp))
    finally:
        cfg.rank_pattern = live_pattern
    if adapter_dir.exists():
        shutil.rmtree(adapter_dir)
    tmp.rename(adapter_dir)


def _finite(loss: Any, grad_norm: Any) -> bool:
    import torch

    return bool(torch.isfinite(loss.float() + torch.as_tensor(grad_norm, device=loss.device).float()).item())


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
