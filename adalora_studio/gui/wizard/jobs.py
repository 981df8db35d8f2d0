"""Work the wizard sends to the TorchWorker. Plain functions, no Qt: they run on the worker thread.

Each imports its core module inside the function, because ``core.model`` and ``core.data`` may import torch,
transformers or datasets at module level and the GUI thread must never pay for (or run) those imports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ...core.config import ModelConfig, RunConfig
from ...core.errors import ConfigError, ConfigErrors, DataError

OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def describe(model_cfg: ModelConfig, task: str) -> Any:
    """``core.model.describe_model`` (meta device, no weights): architecture, parameters, adaptable matrices."""
    from ...core.model import bundled_model_available, describe_model

    if model_cfg.source == "bundled" and not bundled_model_available():
        from ...core.model import bundled_model_dir

        bundled_model_dir()  # raises ModelError with the pip command that installs the bundled model
    return describe_model(model_cfg, task)


@dataclass(frozen=True)
class Problem:
    """A data or config problem returned (not raised) so the page can put it next to the control it names."""

    message: str
    column: str | None = None
    row: int | None = None
    field: str = ""

    @classmethod
    def from_error(cls, exc: Exception) -> Problem:
        """Keep the column/row/field a core error names."""
        if isinstance(exc, DataError):
            return cls(str(exc), exc.column, exc.row)
        if isinstance(exc, ConfigErrors) and exc.errors:
            first = exc.errors[0]
            return cls(str(exc), field=first.field)
        if isinstance(exc, ConfigError):
            return cls(str(exc), field=exc.field)
        return cls(str(exc))


def preview(path: str, fmt: str, delimiter: str = "auto", sheet: str = "") -> Any:
    """``core.data.preview_data`` (the first rows, column summaries, detected roles), or a :class:`Problem`.

    ``delimiter`` and ``sheet`` are ``data.delimiter`` and ``data.sheet``."""
    from ...core.data import preview_data

    try:
        return preview_data(path, fmt, delimiter=delimiter, sheet=sheet)
    except (DataError, ConfigError, ConfigErrors) as exc:
        return Problem.from_error(exc)


def inspect(cfg: RunConfig) -> Any:
    """``core.data.inspect_dataset`` (sizes, labels, warnings for the mapping), or a :class:`Problem`."""
    from ...core.data import inspect_dataset

    try:
        return inspect_dataset(cfg)
    except (DataError, ConfigError, ConfigErrors) as exc:
        return Problem.from_error(exc)


def probe_devices() -> dict[str, Any]:
    """Which accelerators torch sees, and what ``device=auto`` / ``precision=auto`` pick
    (``core.training.probe_devices``, the one device policy, as a dict); ``bitsandbytes``: whether the 4-bit
    extra is installed (found, not imported)."""
    import importlib.util

    import torch

    from ...core.training import probe_devices as probe

    out = probe().to_dict()
    out["cuda_count"] = torch.cuda.device_count() if out.get("cuda") else 0
    out["bitsandbytes"] = importlib.util.find_spec("bitsandbytes") is not None
    return out


def hub_unavailable_reason() -> str | None:
    """Why the model hub cannot be used now, or None when it is reachable. Call off the GUI thread (it may wait
    for a TCP connection, up to ``core.model.sources.HUB_CONNECT_TIMEOUT_S``)."""
    from ...core.model import hub_offline, hub_reachable

    if hub_offline():
        names = [f"{v}={os.environ[v]}" for v in OFFLINE_VARS if os.environ.get(v)]
        return f"offline mode is on ({', '.join(names)}); use a local folder or GGUF file instead"
    if not hub_reachable():
        host = os.environ.get("HF_ENDPOINT", "").strip() or "huggingface.co"
        return f"{host} cannot be reached (no network?); use a local folder or GGUF file instead"
    return None
