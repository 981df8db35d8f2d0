"""One rotating log file per program under ``paths.log_dir()`` (no Qt here).

``setup_logging("gui")`` at start-up sends every ``logging`` record (and Python warnings) to
``<log_dir>/gui.log``, rotated at :data:`MAX_BYTES` with :data:`BACKUPS` old files kept, and returns the path so
the crash dialog and the About dialog can show it. Calling it again is harmless: the handler is added once.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path

from .. import __version__
from ..core import paths

MAX_BYTES = 2 * 1024 * 1024
"""A log file is rotated when it would grow past this size."""
BACKUPS = 5
"""How many rotated files (``gui.log.1`` ... ``gui.log.5``) are kept."""
LEVEL_ENV = "ADALORA_STUDIO_LOG_LEVEL"
FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"

_HANDLER_ATTR = "_adalora_studio_log_file"


def log_file(app: str) -> Path:
    """Where the log of program ``app`` (e.g. ``"gui"``, ``"cli"``) is written."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", app):
        raise ValueError(f"log name {app!r} must be letters, digits, '.', '_' or '-' (it becomes a file name)")
    return paths.log_dir() / f"{app}.log"


def current_log_file() -> Path | None:
    """The file :func:`setup_logging` installed on the root logger, or None before it ran."""
    for handler in logging.getLogger().handlers:
        path = getattr(handler, _HANDLER_ATTR, None)
        if path is not None:
            return Path(path)
    return None


def setup_logging(
    app: str, level: int | str | None = None, max_bytes: int = MAX_BYTES, backups: int = BACKUPS
) -> Path:
    """Log to a rotating file for ``app`` under ``paths.log_dir()``; return the file's path.

    ``level`` defaults to ``$ADALORA_STUDIO_LOG_LEVEL`` or INFO. A second call for the same file changes
    nothing; a call for another file (tests pointing ``ADALORA_STUDIO_HOME`` elsewhere) replaces our handler.
    """
    path = log_file(app)
    root = logging.getLogger()
    for handler in list(root.handlers):
        existing = getattr(handler, _HANDLER_ATTR, None)
        if existing is None:
            continue
        if Path(existing) == path:
            return path
        root.removeHandler(handler)
        handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=False
    )
    setattr(handler, _HANDLER_ATTR, str(path))
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(_level(level))
    logging.captureWarnings(True)
    logging.getLogger(__name__).info(
        "AdaLoRA Studio %s (%s) started: Python %s on %s, pid %d",
        __version__, app, sys.version.split()[0], sys.platform, os.getpid(),
    )
    return path


def _level(level: int | str | None) -> int:
    value = level if level is not None else os.environ.get(LEVEL_ENV, "INFO")
    if isinstance(value, int):
        return value
    number = logging.getLevelName(value.strip().upper())
    return number if isinstance(number, int) else logging.INFO
