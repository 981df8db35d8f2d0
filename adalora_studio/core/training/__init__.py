"""The training engine: a generator of plain events (:func:`run`), and what it is built from.

:mod:`.session` assembles a run (validated config, model, data, accelerator, optimizer; a checkpoint to resume);
:mod:`.engine` drives the loop; :mod:`.checkpoint` saves and restores it exactly; :mod:`.evaluation` scores the
model as it will be saved; :mod:`.device` is the device and precision policy; :mod:`.validate` checks a config.
"""

from __future__ import annotations

from .checkpoint import Checkpoint, TrainState, load_checkpoint, restore_model_state, restore_rng, save_checkpoint
from .components import epoch_seed, make_eval_loader, make_optimizer, make_scheduler, make_train_loader, warmup_steps
from .device import Devices, Hardware, choose_hardware, make_accelerator, probe_devices, resolve_hardware
from .engine import Engine, run
from .evaluation import EvalResult, classification_metrics, evaluate
from .loop import EngineStats
from .preflight import PreflightReport, measure_run
from .session import Session, ValidatedRun, build_session, resume_target, validate_session
from .validate import ValidationReport, validate_run

__all__ = [
    "run",
    "Engine",
    "ValidatedRun",
    "Session",
    "validate_session",
    "resume_target",
    "build_session",
    "TrainState",
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "restore_model_state",
    "restore_rng",
    "make_optimizer",
    "make_scheduler",
    "make_train_loader",
    "make_eval_loader",
    "epoch_seed",
    "warmup_steps",
    "Hardware",
    "resolve_hardware",
    "Devices",
    "probe_devices",
    "choose_hardware",
    "make_accelerator",
    "EvalResult",
    "classification_metrics",
    "evaluate",
    "EngineStats",
    "ValidationReport",
    "validate_run",
    "PreflightReport",
    "measure_run",
]
