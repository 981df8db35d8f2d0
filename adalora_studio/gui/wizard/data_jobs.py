"""Dataset work the wizard sends to the TorchWorker: the dataset doctor and the question-answering window count
(the preview is :func:`jobs.preview`).

Plain functions, no Qt: they run on the worker thread and return results or a :class:`jobs.Problem`.
"""

from __future__ import annotations

from typing import Any

from ...core.config import RunConfig
from ...core.errors import ConfigError, ConfigErrors, DataError, ModelError
from .jobs import Problem

_TOKENIZERS: dict[str, Any] = {}
"""Tokenizers loaded for the doctor and the window count, by model config (the worker thread is the only user)."""
_WINDOWS: dict[tuple[str, ...], tuple[int, int]] = {}
"""Question answering: (training windows, questions) by :func:`windows_key`, counted by the doctor (when it
measured every question) or by :func:`qa_windows`; the latest only."""


def windows_key(cfg: RunConfig) -> tuple[str, ...]:
    """What a question-answering window count depends on: the task, the tokenizer, the data and the split seed."""
    return (cfg.task, repr(cfg.model), repr(cfg.data), str(cfg.training.seed))


def _tokenizer(cfg: RunConfig) -> Any:
    from ...core.model import load_tokenizer

    key = repr(cfg.model)
    if key not in _TOKENIZERS:
        _TOKENIZERS.clear()  # one model at a time
        _TOKENIZERS[key] = load_tokenizer(cfg.model)
    return _TOKENIZERS[key]


def doctor(cfg: RunConfig) -> Any:
    """``core.data.run_doctor`` with the model's tokenizer (loaded once per model), or a :class:`Problem`."""
    from ...core.data import run_doctor

    try:
        report = run_doctor(cfg, _tokenizer(cfg))
    except (DataError, ConfigError, ConfigErrors) as exc:
        return Problem.from_error(exc)
    except ModelError as exc:
        return Problem(f"The doctor needs the model's tokenizer: {exc}")
    if report.task == "question-answering" and report.sample_rows == report.total_rows and not report.answers_lost:
        _remember(cfg, (report.n_windows, report.total_rows))  # every question measured: the run's window count
    return report


def _remember(cfg: RunConfig, count: tuple[int, int]) -> None:
    _WINDOWS.clear()
    _WINDOWS[windows_key(cfg)] = count


def qa_windows(cfg: RunConfig) -> tuple[int, int] | Problem:
    """Question answering: (training windows, training questions), the count ``validate`` and the engine plan
    from (``core.data.count_train_windows``), reusing the doctor's tokenizer and its count when it measured every
    question; or a :class:`Problem` saying why the windows could not be counted (training would refuse the data,
    or the tokenizer cannot be loaded)."""
    from ...core.data import count_train_windows

    key = windows_key(cfg)
    if key in _WINDOWS:
        return _WINDOWS[key]
    try:
        count = count_train_windows(cfg, _tokenizer(cfg))
    except (DataError, ConfigError, ConfigErrors) as exc:
        return Problem.from_error(exc)
    except ModelError as exc:
        return Problem(f"the model's tokenizer cannot be loaded: {exc}")
    _remember(cfg, count)
    return count
