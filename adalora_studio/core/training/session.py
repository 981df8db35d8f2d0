"""Assembling a run before its first step: config, plan, run folder, model, data, accelerator, optimizer.

:func:`validate_session` does the fast checks (config, data inspection, module discovery on the meta device,
the step plan) so a bad config fails before anything is loaded or written. :func:`build_session` then loads
and builds everything the loop needs; for a resumed run it also restores the latest checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..adalora import build_peft_model
from ..config import RunConfig, check_config
from ..errors import RunError
from ..events import RunStarted
from ..runs import RunFolder, latest_checkpoint, list_checkpoints
from .checkpoint import Checkpoint, TrainState, load_checkpoint, restore_model_state
from .components import make_eval_loader, make_optimizer, make_scheduler, make_train_loader
from .device import Hardware, make_accelerator, resolve_hardware
from .precision import check_4bit, enable_gradient_checkpointing

if TYPE_CHECKING:  # pragma: no cover
    from ..adalora import RunPlan
    from ..data import DataSummary
    from ..model import ModelInfo


@dataclass
class ValidatedRun:
    """A config that passed every check that needs no weights."""

    config: RunConfig
    hardware: Hardware
    summary: DataSummary
    info: ModelInfo
    plan: RunPlan
    accelerator: Any


@dataclass
class Session:
    """Everything the training loop works with."""

    config: RunConfig
    folder: RunFolder
    hardware: Hardware
    plan: RunPlan
    info: ModelInfo
    accelerator: Any
    model: Any
    """As prepared by accelerate (may be wrapped); use :attr:`peft_model` for peft calls."""
    peft_model: Any
    tokenizer: Any
    optimizer: Any
    scheduler: Any
    train_loader: Any
    eval_loader: Any
    generator: Any
    """Seeds the train loader's shuffle; reseeded per epoch."""
    label_names: tuple[str, ...]
    n_train: int
    n_eval: int
    warnings: tuple[str, ...] = ()
    """Problems worth telling the user: the plan's and the data's."""
    state: TrainState = field(default_factory=TrainState)
    resumed: Checkpoint | None = None
    metric: str = "loss"
    """The eval metric in use (see :func:`.task_eval.run_metric`)."""
    qa_eval: Any = None
    """Question answering: the eval windows' offsets and questions (:class:`.qa_eval.QAEvalData`)."""
    eval_dataset: Any = None
    """The tokenised eval dataset (generation metrics read prompts and references from it)."""
    generation_samples: list[Any] = field(default_factory=list)
    """The last evaluation's generated rows (:class:`.generation_eval.GenerationSample`)."""


def validate_session(config: RunConfig) -> ValidatedRun:
    """Check the config, inspect the data, describe the model and make the plan (:func:`.validate.validate_run`,
    no weights loaded); raise the first problem. Creates the accelerator: the plan needs the number of processes.
    """
    from .validate import validate_run

    check_config(config)
    hardware = resolve_hardware(config.training)
    check_4bit(config, hardware.device)
    accelerator = make_accelerator(config.training, hardware)
    report = validate_run(config, num_processes=accelerator.num_processes, count_windows=False)  # replanned
    return ValidatedRun(config, hardware, report.data, report.model, report.plan, accelerator)


def resume_target(run_dir: str | Path) -> tuple[RunFolder, RunConfig, Path]:
    """The run folder, its config and its latest complete checkpoint; :class:`RunError` if it cannot resume."""
    folder = RunFolder.open(run_dir)
    status = folder.read_status()
    if status is not None and status.state == "finished":
        raise RunError(f"run '{folder.name}' already finished; start a new run to train again")
    config = folder.read_config()
    ckpt = latest_checkpoint(folder.checkpoints_dir)
    if ckpt is None:
        found = list_checkpoints(folder.checkpoints_dir)
        raise RunError(f"run '{folder.name}' has no complete checkpoint to resume from "
                       f"({len(found)} found in {folder.checkpoints_dir}); start it again instead")
    return folder, config, ckpt


def build_session(validated: ValidatedRun, folder: RunFolder, checkpoint_path: Path | None = None) -> Session:
    """Load the model and data, build the AdaLoRA model, optimizer, schedule and loaders; restore a checkpoint.

    Seeding happens right before the model is loaded (classifier head and adapter initialisation draw from
    the global generator), so a hand-written loop that seeds and loads the same way starts identically.
    """
    from accelerate.utils import set_seed

    from ..adalora import make_plan
    from ..data import make_collator, prepare_data
    from ..model import load_model_and_tokenizer

    cfg, accelerator, plan = validated.config, validated.accelerator, validated.plan
    labels = tuple(validated.summary.label_names) if cfg.task == "text-classification" else ()
    set_seed(cfg.training.seed)
    model, tokenizer = load_model_and_tokenizer(cfg.model, cfg.task, labels or None)
    enable_gradient_checkpointing(model, cfg)
    data = prepare_data(cfg, tokenizer)  # draws from its own seeded generator, not the global one
    n_train, n_eval = len(data.train), len(data.eval) if data.eval is not None else 0
    if n_train != plan.n_train:  # tokenisation dropped rows: every step count (tinit, tfinal, total) changes
        plan = make_plan(cfg, n_train, validated.info, num_processes=accelerator.num_processes)
    peft_model = build_peft_model(model, cfg, plan)  # from the final plan, so peft and the events agree
    collator = make_collator(cfg.task, tokenizer)
    train_loader, generator = make_train_loader(data.train, collator, cfg.training.batch_size)
    eval_loader = make_eval_loader(data.eval, collator, cfg.training.batch_size) if n_eval else None
    optimizer = make_optimizer(peft_model, cfg.training)
    scheduler = make_scheduler(optimizer, cfg.training, plan.total_steps)
    if eval_loader is not None:
        model_p, optimizer, train_loader, eval_loader = accelerator.prepare(
            peft_model, optimizer, train_loader, eval_loader)
    else:
        model_p, optimizer, train_loader = accelerator.prepare(peft_model, optimizer, train_loader)
    session = Session(
        config=cfg, folder=folder, hardware=validated.hardware, plan=plan, info=validated.info,
        accelerator=accelerator, model=model_p, peft_model=accelerator.unwrap_model(model_p),
        tokenizer=tokenizer, optimizer=optimizer, scheduler=scheduler, train_loader=train_loader,
        eval_loader=eval_loader, generator=generator, label_names=labels, n_train=n_train, n_eval=n_eval,
        warnings=tuple(plan.warnings) + tuple(data.summary.warnings),
    )
    _add_task_eval(session, data)
    if checkpoint_path is not None:
        _restore(session, load_checkpoint(checkpoint_path))
    return session


def _add_task_eval(session: Session, data: Any) -> None:
    """The eval metric, the QA post-processing data and the eval dataset for generation metrics."""
    from .task_eval import qa_eval_of, run_metric

    metric, warning = run_metric(session.config)
    session.metric = metric
    session.qa_eval = qa_eval_of(session.config, data)
    session.eval_dataset = data.eval if session.n_eval else None
    if warning:
        session.warnings = (*session.warnings, warning)


def _restore(session: Session, ckpt: Checkpoint) -> None:
    if ckpt.state.total_steps and ckpt.state.total_steps != session.plan.total_steps:
        raise RunError(
            f"{ckpt.path}: the run planned {ckpt.state.total_steps} optimizer steps but now plans "
            f"{session.plan.total_steps}; resume with the same data and number of processes as the original run"
        )
    restore_model_state(session.peft_model, ckpt)
    session.optimizer.load_state_dict(ckpt.optimizer)
    session.scheduler.load_state_dict(ckpt.scheduler)
    session.state = ckpt.state
    session.resumed = ckpt


def run_started_event(s: Session, resumed_from: int | None) -> RunStarted:
    """The RunStarted event of a session (``resumed_from``: the step a resumed run continues from)."""
    plan = s.plan
    return RunStarted(
        run_dir=str(s.folder.path), config=s.config.to_dict(), total_steps=plan.total_steps,
        steps_per_epoch=plan.steps_per_epoch, device=s.hardware.device, precision=s.hardware.precision,
        model_params=plan.model_params, trainable_init=plan.trainable_init,
        trainable_target=plan.trainable_target, n_matrices=len(plan.targets), init_r=plan.init_r,
        target_r=plan.target_r, tinit_steps=plan.tinit_steps, tfinal_steps=plan.tfinal_steps,
        delta_t=plan.delta_t, n_train=s.n_train, n_eval=s.n_eval, label_names=s.label_names,
        resumed_from_step=resumed_from,
    )
