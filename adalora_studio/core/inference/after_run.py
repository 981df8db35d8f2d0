"""The report written when a run finishes, from the live model (rank mask applied) before it is released."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..adalora import rank_mask_applied
from ..errors import StudioError
from ..events import LogMessage
from .loaded import LoadedModel
from .report import build_report, write_report
from .rows import run_eval_rows

log = logging.getLogger(__name__)


def report_after_run(session: Any) -> LogMessage:
    """Write ``report.json`` for a finished training session; a problem becomes a warning, never a failed run.

    ``session`` is the engine's :class:`training.Session` (duck-typed: config, folder, peft_model, tokenizer,
    label_names).
    """
    cfg = session.config
    loaded = LoadedModel(model=session.peft_model, tokenizer=session.tokenizer, task=cfg.task,
                         label_names=tuple(session.label_names), source="adapter", path=Path(session.folder.path),
                         config=cfg, max_length=cfg.data.max_length)
    model = session.peft_model
    was_training = model.training
    model.eval()
    try:
        with rank_mask_applied(model):
            report = build_report(loaded, run_eval_rows(loaded), "after-run")
        path = write_report(session.folder.path, report)
    except (StudioError, OSError, ValueError, RuntimeError, KeyError) as exc:
        log.warning("evaluation report not written", exc_info=True)
        return LogMessage(level="warning", message=f"The evaluation report could not be written: {exc}")
    finally:
        if was_training:
            model.train()
    return LogMessage(level="info", message=f"Evaluation report written to {path}")
