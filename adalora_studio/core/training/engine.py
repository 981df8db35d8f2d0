"""The training engine: a generator of events that drives peft's AdaLoRA exactly as the method intends.

``for event in run(config, stop):`` validates the config, creates the run folder, trains, and yields plain
events (also appended to the run's ``events.jsonl``). It never raises for a problem a user can fix: it ends
with :class:`Failed`. Per optimizer step (only when accelerate syncs gradients)::

    clip (report grad norm) -> optimizer.step() -> scheduler.step()
    -> peft_model.base_model.update_and_allocate(i)   # i = 0-based optimizer-step index
    -> optimizer.zero_grad()

The loss peft returns includes ``orth_reg_weight * regulariser``; the task loss is read where the transformers
model returns it, before peft adds the term (:class:`.training_setup.TaskLossTap`), and the term is the
difference - no second forward, no recomputation.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Generator, Iterator
from pathlib import Path

from ..adalora import (
    TaskLossTap,
    is_mask_step,
    read_rank_pattern,
    read_spectra,
    save_adapter,
    snapshot_ranks,
    triplet_scores,
    uniform_ranks,
    update_and_allocate,
    write_rank_tables,
)
from ..config import RunConfig
from ..errors import RunError, StudioError
from ..events import (
    CheckpointSaved,
    EvalLogged,
    Event,
    Finished,
    LogMessage,
    RanksUpdated,
    StepLogged,
    Stopped,
    StopToken,
)
from ..export.model_card import write_model_card
from ..inference import report_after_run
from ..runs import RunFolder, is_disk_full
from .checkpoint import restore_rng, save_checkpoint
from .components import epoch_seed
from .disk import disk_full_message, space_needed
from .failures import NonFiniteLoss, all_finite, is_oom, nonfinite_message, oom_message
from .lifecycle import EngineLifecycle
from .loop import LoopClock, TrainLoop
from .memory import peak_memory, reset_peak_memory
from .precision import cuda_memory, skip_overflow_step
from .processes import pattern_mismatch_message, process_rng_states, processes_with_other_pattern
from .session import Session, ValidatedRun, build_session, run_started_event


def run(config: RunConfig | None, stop: StopToken | None = None, resume_from: str | Path | None = None,
        *, app: str = "engine") -> Iterator[Event]:
    """Train one run and yield its events; ends with Finished, Failed or Stopped.

    ``resume_from`` is a run folder: its ``run.json`` and latest checkpoint are used and ``config`` is ignored.
    ``app`` names the program in the run's lock file.
    """
    return Engine(config, stop, resume_from, app=app).events()


class Engine(EngineLifecycle):
    """One run of the training loop. :meth:`events` is the generator; :attr:`stats` the timing afterwards."""

    def _run(self, validated: ValidatedRun, folder: RunFolder, ckpt_path: Path | None) -> Iterator[Event]:
        session: Session | None = None
        self._activity = "setting up the run (loading the model and data)"
        try:
            reset_peak_memory(validated.accelerator)  # the run's own peak, model loading included
            session = build_session(validated, folder, ckpt_path)
            self._activity = ""
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
            doing = self._activity or f"optimizer step {step + 1}"
            if is_oom(exc):
                message = oom_message(step + 1, validated.hardware.device, validated.config)
            elif is_disk_full(exc):
                what = self._activity or f"the run's event log or status after optimizer step {step}"
                message = self._disk_full_message(validated, folder, what)
            else:
                message = f"Unexpected error during {doing}: {type(exc).__name__}: {exc}"
            yield from self._fail(step, message, detail)

    def _disk_full_message(self, validated: ValidatedRun, folder: RunFolder, doing: str) -> str:
        """Name the folder, the space the failed write needed (estimated) and the space free."""
        need = space_needed(validated.plan.trainable_init, validated.config.training.keep_checkpoints)
        amount = (need.checkpoint if "checkpoint" in doing else need.adapter if "adapter" in doing
                  else need.total)
        return disk_full_message(folder.path, doing, amount, self._last_ckpt)

    # --------------------------------------------------------------------------------------- training
    def _train(self, s: Session) -> Iterator[Event]:
        plan, state = s.plan, s.state
        state.total_steps = plan.total_steps
        resumed_from = state.global_step if s.resumed is not None else None
        self._status("running", step=state.global_step, total_steps=plan.total_steps)
        yield from self._yield(run_started_event(s, resumed_from))
        for warning in s.warnings:
            yield from self._yield(LogMessage(level="warning", message=warning))
        yield from self._yield(self._ranks(s))
        if resumed_from is not None and s.resumed is not None:
            yield from self._yield(LogMessage(
                level="info", message=f"Resumed from {s.resumed.path.name} at optimizer step {resumed_from}"))
        loop = TrainLoop(
            trainable=[p for p in s.peft_model.parameters() if p.requires_grad],
            tap=TaskLossTap(s.peft_model),
            max_norm=s.config.training.max_grad_norm or math.inf,
            clock=LoopClock(elapsed_before=state.elapsed_s, start_step=state.global_step),
            pending_rng=s.resumed.rng_of(s.accelerator.process_index) if s.resumed is not None else None,
        )
        s.model.train()
        try:
            while state.global_step < plan.total_steps:
                if self._stop_requested(s):
                    yield from self._stop(s, loop)
                    return
                stopped = yield from self._epoch(s, loop)
                if stopped:
                    return
            state.elapsed_s = loop.clock.elapsed()
            self._account(s, loop)
            yield from self._finish(s)
        finally:
            loop.tap.remove()

    def _epoch(self, s: Session, loop: TrainLoop) -> Generator[Event, None, bool]:
        """Train through (the rest of) one epoch, or until the run ends. Returns True when it stopped on request.

        Resuming restores the RNG states where the original run had them: before the loader draws its base seed
        at an epoch start, after it (once the first batch is fetched) in the middle of an epoch.
        """
        acc, state = s.accelerator, s.state
        s.generator.manual_seed(epoch_seed(s.config.training.seed, state.epoch))
        if loop.pending_rng is not None and state.batch_in_epoch == 0:
            restore_rng(loop.pending_rng)
            loop.pending_rng = None
        loader = (acc.skip_first_batches(s.train_loader, state.batch_in_epoch)
                  if state.batch_in_epoch else s.train_loader)
        got_batch = False
        for batch in loader:
            got_batch = True
            if loop.pending_rng is not None:
                restore_rng(loop.pending_rng)
                loop.pending_rng = None
            with acc.accumulate(s.model):
                loss = s.model(**batch).loss
                acc.backward(loss)
            loop.add_micro_batch(loss.detach(), int(batch["input_ids"].shape[0]) * acc.num_processes, state)
            if not acc.sync_gradients:
                continue
            epoch_done = (state.batch_in_epoch >= s.plan.micro_batches_per_epoch
                          or acc.gradient_state.end_of_dataloader)
            yield from self._optimizer_step(s, loop)
            if epoch_done:
                state.epoch += 1
                state.batch_in_epoch = 0
            stopped = yield from self._between_steps(s, loop, epoch_done)
            if stopped:
                return True
            if epoch_done or state.global_step >= s.plan.total_steps:
                return False
        if not got_batch:
            raise RunError(f"epoch {state.epoch + 1} yielded no training batches; check the training data")
        return False

    def _optimizer_step(self, s: Session, loop: TrainLoop) -> Iterator[Event]:
        """clip -> optimizer.step -> scheduler.step -> update_and_allocate(i) -> zero_grad, then its events."""
        import torch

        cfg, plan, acc, state = s.config, s.plan, s.accelerator, s.state
        index = state.global_step
        grad_norm = acc.clip_grad_norm_(loop.trainable, loop.max_norm)
        lr = float(s.optimizer.param_groups[0]["lr"])
        mean_loss = loop.loss_sum / loop.n_micro
        mean_task = loop.task_sum / loop.n_micro
        if not all_finite(mean_loss, grad_norm):
            skipped = skip_overflow_step(s, loop, index)  # fp16: the scaler skips it; None: no scaler, fail
            if skipped is None:
                raise NonFiniteLoss(nonfinite_message(index + 1, float(mean_loss), float(grad_norm), cfg))
            yield from self._yield(skipped)
            return
        loop.consecutive_skips = 0
        log_now = (index + 1) % cfg.training.log_every == 0 or index + 1 == plan.total_steps
        t_bk = time.perf_counter()
        if log_now:
            task_loss, total_loss = acc.reduce(torch.stack([mean_task, mean_loss]), reduction="mean").tolist()
            orth = total_loss - task_loss
        if index == plan.final_mask_step:
            state.last_scores = triplet_scores(s.peft_model)  # the final mask's scores; peft resets them now
        loop.clock.bookkeeping_s += time.perf_counter() - t_bk

        s.optimizer.step()
        s.scheduler.step()
        t_bk = time.perf_counter()
        mask_now = is_mask_step(index, plan)
        spectra = read_spectra(s.peft_model) if mask_now else None  # Λ as the allocator is about to judge it
        loop.clock.bookkeeping_s += time.perf_counter() - t_bk
        if plan.method != "lora":  # a LoRA baseline has no rank allocator
            update_and_allocate(s.peft_model, index)
        s.optimizer.zero_grad()
        state.global_step = index + 1
        loop.loss_sum, loop.task_sum, loop.n_micro = None, None, 0

        t_bk = time.perf_counter()
        if log_now:
            yield from self._yield(StepLogged(
                step=state.global_step,
                epoch=state.epoch + state.batch_in_epoch / max(plan.micro_batches_per_epoch, 1),
                task_loss=task_loss, orth_loss=orth, lr=lr, grad_norm=float(grad_norm),
                samples_per_s=loop.clock.take_window(), elapsed_s=loop.clock.elapsed(),
                eta_s=loop.clock.eta(state.global_step, plan.total_steps) + self._eval_eta(s),
                skipped_steps=loop.skipped_steps, **cuda_memory(acc),
            ))
        if mask_now:
            if index != plan.final_mask_step:
                state.last_scores = triplet_scores(s.peft_model)
            if acc.num_processes > 1 and not self._pattern_mismatch_reported:
                yield from self._check_same_pattern(s)
            yield from self._yield(self._ranks(s, spectra=spectra, mask_step=True))
        loop.clock.bookkeeping_s += time.perf_counter() - t_bk

    def _check_same_pattern(self, s: Session) -> Iterator[Event]:
        """Under several processes, all-gather the rank pattern after a mask step and warn (once) when processes
        disagree. Gradients are all-reduced, so they should not; a difference means the saved adapter (the main
        process's) is not what every process trained."""
        differ = processes_with_other_pattern(read_rank_pattern(s.peft_model), s.accelerator)
        if differ:  # every process sees the same list, so all stop checking together
            self._pattern_mismatch_reported = True
            yield from self._yield(LogMessage(level="warning", message=pattern_mismatch_message(
                s.state.global_step, differ)))

    def _between_steps(self, s: Session, loop: TrainLoop, epoch_done: bool) -> Generator[Event, None, bool]:
        """Evaluation, checkpoint and the stop request after an optimizer step. Returns True when stopped."""
        state, t = s.state, s.config.training
        if state.global_step >= s.plan.total_steps:
            return False  # the final evaluation and save follow
        pause_t0 = time.perf_counter()
        if (t.eval_every and state.global_step % t.eval_every == 0) or (not t.eval_every and epoch_done):
            yield from self._evaluate(s)
        if (t.checkpoint_every and state.global_step % t.checkpoint_every == 0) or (
                not t.checkpoint_every and epoch_done):
            state.elapsed_s = loop.clock.elapsed() - (time.perf_counter() - pause_t0)
            yield from self._checkpoint(s)
        loop.clock.pause(time.perf_counter() - pause_t0)
        if self._stop_requested(s):
            yield from self._stop(s, loop)
            return True
        return False

    def _stop_requested(self, s: Session) -> bool:
        """Whether to stop now. Under several processes (torchrun sends Ctrl+C to each, at slightly different
        moments) the processes agree first, so all stop after the same step instead of one waiting forever."""
        acc = s.accelerator
        if acc.num_processes == 1:
            return self.stop.stop_requested
        if self.stop.stop_requested:
            acc.set_trigger()
        return bool(acc.check_trigger())

    def _account(self, s: Session, loop: TrainLoop) -> None:
        self.stats.bookkeeping_s = loop.clock.bookkeeping_s
        self.stats.train_s = s.state.elapsed_s - loop.clock.elapsed_before
        self.stats.steps = s.state.global_step - loop.clock.start_step

    def _ranks(self, s: Session, spectra: dict | None = None, mask_step: bool = False) -> RanksUpdated:
        """The allocation now; at a mask step the scores the mask used (already read) and its threshold."""
        if s.plan.method == "lora":
            return uniform_ranks(s.plan, s.state.global_step, time=time.time())
        scores = s.state.last_scores if mask_step else triplet_scores(s.peft_model)
        if scores is None:
            scores = s.state.last_scores
        return snapshot_ranks(s.peft_model, s.state.global_step, s.plan, scores=scores, time=time.time(),
                              spectra=spectra, mask_step=mask_step)

    # ----------------------------------------------------------------------- evaluation & checkpoints
    def _evaluate(self, s: Session) -> Iterator[Event]:
        if s.eval_loader is None or self._last_eval_step == s.state.global_step:
            return
        import torch

        from .task_eval import evaluate_session

        t0 = time.perf_counter()
        self._activity = f"the evaluation after optimizer step {s.state.global_step}"
        cpu_rng = torch.get_rng_state()  # evaluation must not change the training's random stream
        cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        try:
            result = evaluate_session(s)
        finally:
            torch.set_rng_state(cpu_rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)
        self._last_eval_step = s.state.global_step
        self._activity = ""
        s.state.last_metrics = {"eval_loss": result.loss, **result.metrics}
        self.stats.eval_s += time.perf_counter() - t0
        self.stats.n_evals += 1
        yield from self._yield(EvalLogged(step=s.state.global_step, eval_loss=result.loss, metrics=result.metrics))

    def _eval_eta(self, s: Session) -> float:
        """The evaluations still to come at their measured mean duration (generation included)."""
        from .task_eval import eval_eta

        return eval_eta(s.state.global_step, s.plan.total_steps, s.config.training.eval_every,
                        s.plan.steps_per_epoch, self.stats.eval_s, self.stats.n_evals) if s.eval_loader else 0.0

    def _checkpoint(self, s: Session) -> Iterator[Event]:
        if self._last_ckpt_step == s.state.global_step:
            return
        t0 = time.perf_counter()
        self._activity = f"the checkpoint after optimizer step {s.state.global_step}"
        s.accelerator.wait_for_everyone()
        process_rng = process_rng_states(s.accelerator)  # each process continues its own random stream
        if self._main:
            path = save_checkpoint(s.folder.checkpoints_dir, model=s.peft_model, optimizer=s.optimizer,
                                   scheduler=s.scheduler, state=s.state, keep=s.config.training.keep_checkpoints,
                                   process_rng=process_rng)
            self._last_ckpt = str(path)
            self._status("running", step=s.state.global_step, total_steps=s.plan.total_steps,
                         checkpoint=self._last_ckpt)
        self._last_ckpt_step = s.state.global_step
        self._activity = ""
        self.stats.checkpoint_s += time.perf_counter() - t0
        yield from self._yield(CheckpointSaved(step=s.state.global_step, path=self._last_ckpt))

    def _stop(self, s: Session, loop: TrainLoop) -> Iterator[Event]:
        s.state.elapsed_s = loop.clock.elapsed()
        self._account(s, loop)
        yield from self._checkpoint(s)
        self._status("stopped", step=s.state.global_step, total_steps=s.plan.total_steps,
                     checkpoint=self._last_ckpt, message="stopped on request")
        yield from self._yield(Stopped(step=s.state.global_step, checkpoint=self._last_ckpt))

    def _finish(self, s: Session) -> Iterator[Event]:
        yield from self._evaluate(s)
        final_ranks = self._ranks(s, spectra=read_spectra(s.peft_model))
        yield from self._yield(final_ranks)
        s.accelerator.wait_for_everyone()
        adapter_dir = s.folder.adapter_dir
        metrics = {k: float(v) for k, v in s.state.last_metrics.items()}
        if self._main:
            self._activity = f"the adapter after optimizer step {s.state.global_step}"
            save_adapter(s.peft_model, adapter_dir)
            write_rank_tables(final_ranks, s.folder.path)
            self._activity = ""
            yield from self._yield(report_after_run(s))  # report.json + figures, from the live model
            total_s = s.state.elapsed_s
            self._status("finished", step=s.state.global_step, total_steps=s.plan.total_steps,
                         adapter=str(adapter_dir), elapsed_s=total_s, metrics=metrics)
            share = self.stats.bookkeeping_share
            yield from self._yield(LogMessage(level="info", message=(
                f"Trained {s.state.global_step} optimizer steps in {total_s:.1f} s; "
                f"engine bookkeeping took {100 * share:.2f}% of the training loop.")))
        if self._main:  # the adapter's README: base model, data, budget, final ranks and metrics, how to load it
            write_model_card(adapter_dir, s.config, s.n_train, s.n_eval, final_ranks, metrics, s.label_names)
        peak_ram, peak_cuda = peak_memory(s.accelerator)
        yield from self._yield(Finished(step=s.state.global_step, run_dir=str(s.folder.path),
                                        adapter_dir=str(adapter_dir), metrics=metrics,
                                        peak_memory_mb=peak_ram, peak_cuda_mb=peak_cuda))
