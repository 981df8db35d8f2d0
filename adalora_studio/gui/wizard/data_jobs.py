"""Dataset work the wizard sends to the TorchWorker: the dataset doctor (the preview is :func:`jobs.preview`).

Plain functions, no Qt: they run on the worker thread and return results or a :class:`jobs.Problem`.
"""

from __future__ import annotations

from typing import Any

from ...core.config import RunConfig
from ...core.errors import ConfigError, ConfigErrors, DataError, ModelError
from .jobs import Problem

_TOKENIZERS: dict[str, Any] = {}
"""Tokenizers loaded for the doctor, by model config (the worker thread is the only user)."""


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
        return run_doctor(cfg, _tokenizer(cfg))
    except (DataError, ConfigError, ConfigErrors) as exc:
        return Problem.from_error(exc)
    except ModelError as exc:
        return Problem(f"The doctor needs the model's tokenizer: {exc}")
