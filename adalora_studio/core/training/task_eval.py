"""The evaluation of a session for its task: loss + accuracy/F1, perplexity, SQuAD EM/F1, generation metrics.

Also the eval metric a run uses (:func:`run_metric`: the config's choice, checked against installed packages)
and the evaluation's share of the ETA (:func:`remaining_evals`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..config import RunConfig
from ..errors import ConfigError
from ..metrics import GENERATION_METRICS, metric_package_missing, missing_metric_message, resolve_metric
from .evaluation import EvalResult, evaluate

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session


def run_metric(cfg: RunConfig) -> tuple[str, str | None]:
    """(metric the run evaluates with, a warning or None). A metric whose package is missing raises
    :class:`ConfigError` saying how to install it, unless ``data.metric_fallback_to_loss``: then the run falls
    back to eval loss and the warning says so."""
    metric = resolve_metric(cfg.task, cfg.data.eval_metric)
    if metric_package_missing(metric):
        message = missing_metric_message(metric)
        if not cfg.data.metric_fallback_to_loss:
            raise ConfigError("data.eval_metric", message)
        return "loss", f"{message.split(' Install')[0]} Evaluating by eval loss alone (data.metric_fallback_to_loss)."
    return metric, None


def evaluate_session(s: Session) -> EvalResult:
    """Evaluate the session's model on its eval data as its task and metric say (rank mask applied)."""
    cfg = s.config
    if cfg.task == "question-answering" and s.qa_eval is not None:
        from .qa_eval import evaluate_qa

        loss, metrics, _ = evaluate_qa(s.model, s.eval_loader, s.qa_eval, s.accelerator)
        return EvalResult(loss=loss, metrics=metrics, n_examples=len(s.qa_eval.examples))
    result = evaluate(s.model, s.eval_loader, cfg.task, s.accelerator)
    if s.metric not in GENERATION_METRICS or s.eval_dataset is None:
        return result
    from ..inference.generation_eval import evaluate_generation

    with s.accelerator.autocast():
        scores, samples = evaluate_generation(
            s.peft_model, s.tokenizer, s.eval_dataset, cfg.task, s.metric, cfg.data.generation_eval_rows,
            cfg.data.max_new_tokens, cfg.training.batch_size)
    s.generation_samples = samples
    return EvalResult(loss=result.loss, metrics={**result.metrics, **scores}, n_examples=result.n_examples)


def remaining_evals(step: int, total_steps: int, eval_every: int, steps_per_epoch: int) -> int:
    """Evaluations still to come after optimizer step ``step`` (the final one included)."""
    if step >= total_steps:
        return 0
    every = eval_every if eval_every > 0 else max(steps_per_epoch, 1)
    between = (total_steps - 1) // every - step // every  # at multiples of `every` before the last step
    return max(between, 0) + 1


def eval_eta(step: int, total_steps: int, eval_every: int, steps_per_epoch: int, eval_s: float,
             n_evals: int) -> float:
    """Seconds the evaluations still to come will take, at the measured mean (0 before the first one)."""
    if n_evals <= 0 or not math.isfinite(eval_s):
        return 0.0
    return remaining_evals(step, total_steps, eval_every, steps_per_epoch) * eval_s / n_evals


def qa_eval_of(cfg: RunConfig, data: Any) -> Any:
    """The QA post-processing data of prepared data (None for other tasks)."""
    if cfg.task != "question-answering" or data.eval_examples is None:
        return None
    from .qa_eval import qa_eval_data

    return qa_eval_data(data.eval, data.eval_examples, cfg.data.max_answer_length,
                        resolve_metric(cfg.task, cfg.data.eval_metric) == "squad_v2")
