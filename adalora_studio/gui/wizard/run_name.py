"""The run name the wizard proposes: derived from the data file until the user types one of their own."""

from __future__ import annotations

import re
from pathlib import Path

from ...core import paths

DEFAULT_NAMES = ("", "run", "demo", "demo-causal-lm")
"""Run names that were never typed by the user: choosing a data file replaces them with one derived from it."""

def run_name_for(data_file: str) -> str:
    """A run name derived from a data file: ``~/data/My Tickets.csv`` -> ``my-tickets``."""
    stem = Path(data_file.rstrip("/\\")).stem if data_file.strip() else ""
    name = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return name[:48] or "run"


def demo_name(path: str) -> str | None:
    """The demo run name of a bundled demo file (None for other files)."""
    return {str(paths.demo_classification_file()): "demo", str(paths.demo_causal_lm_file()): "demo-causal-lm"}.get(
        path)
