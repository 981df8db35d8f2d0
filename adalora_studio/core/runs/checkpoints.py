"""Where a run's checkpoints live: ``checkpoints/step-00000120/`` names, listing and the newest complete one.

The contents of a checkpoint are written and read by :mod:`adalora_studio.core.training.checkpoint`; this module
only knows the folder layout, so a run folder can list its checkpoints without importing the engine."""

from __future__ import annotations

import re
from pathlib import Path

_STEP_DIR = re.compile(r"^step-(\d+)$")


def checkpoint_name(step: int) -> str:
    """Folder name of the checkpoint after ``step`` optimizer steps."""
    return f"step-{step:08d}"


def checkpoint_step(path: str | Path) -> int:
    """The optimizer step a checkpoint folder was written after (from its name; 0 if the name is not one)."""
    match = _STEP_DIR.match(Path(path).name)
    return int(match.group(1)) if match else 0


def list_checkpoints(checkpoints_dir: str | Path) -> list[Path]:
    """Complete checkpoints (with ``state.json``), oldest first."""
    folder = Path(checkpoints_dir)
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / "state.json").is_file():
            found.append((int(match.group(1)), child))
    return [p for _, p in sorted(found)]


def latest_checkpoint(checkpoints_dir: str | Path) -> Path | None:
    """The newest complete checkpoint, or None."""
    found = list_checkpoints(checkpoints_dir)
    return found[-1] if found else None
