"""Where things live on disk: platformdirs locations, each overridable by an environment variable.

Tests point ``ADALORA_STUDIO_HOME`` at a temporary folder so nothing touches the user's real folders.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

APP_NAME = "adalora-studio"
APP_AUTHOR = "AdaLoRA Studio"
HOME_ENV = "ADALORA_STUDIO_HOME"
RUNS_ENV = "ADALORA_STUDIO_RUNS"


def _platform_dir(kind: str) -> Path:
    import platformdirs

    funcs: dict[str, Callable[..., str]] = {
        "data": platformdirs.user_data_dir,
        "config": platformdirs.user_config_dir,
        "log": platformdirs.user_log_dir,
        "cache": platformdirs.user_cache_dir,
    }
    return Path(funcs[kind](APP_NAME, APP_AUTHOR))


def _base(kind: str) -> Path:
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home) / kind
    return _platform_dir(kind)


def data_dir() -> Path:
    """The user data folder (runs live below it unless ``ADALORA_STUDIO_RUNS`` says otherwise)."""
    return _base("data")


def config_dir() -> Path:
    """The folder for settings files."""
    return _base("config")


def log_dir() -> Path:
    """The folder for rotating log files and crash reports."""
    return _base("log")


def cache_dir() -> Path:
    """The folder for caches (tokenised datasets and the like)."""
    return _base("cache")


def runs_dir() -> Path:
    """The default folder holding one sub-folder per run."""
    override = os.environ.get(RUNS_ENV)
    if override:
        return Path(override)
    return data_dir() / "runs"


def resources_dir() -> Path:
    """The ``resources/`` folder (icons, demo data).

    Looked for in this order: inside a PyInstaller bundle; the copy a built wheel ships inside the package
    (``adalora_studio/resources``, made by ``setup.py``); the top-level ``resources/`` of a source checkout
    (editable installs and running from the repository). The checkout's folder is the source of truth; the
    other two are copies of it.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    here = Path(__file__).resolve()
    candidates.append(here.parents[1] / "resources")
    candidates.append(here.parents[2] / "resources")
    for candidate in candidates:
        if (candidate / "demo").is_dir() or (candidate / "icons").is_dir():
            return candidate
    return candidates[-1]


def demo_classification_file() -> Path:
    """The bundled demo dataset for text classification (CC0)."""
    return resources_dir() / "demo" / "support_tickets.csv"


def demo_causal_lm_file() -> Path:
    """The bundled demo prompt/response pairs for causal language modelling (CC0)."""
    return resources_dir() / "demo" / "instructions.jsonl"


def demo_qa_file() -> Path:
    """The bundled demo SQuAD-style question answering data (CC0): context, question, answers."""
    return resources_dir() / "demo" / "qa_passages.jsonl"
