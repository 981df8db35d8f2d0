"""How much disk a run needs (checkpoints and the adapter), checked up front and named when a write fails."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import RunConfig
from ..errors import ConfigError
from ..paths import runs_dir
from ..runs import free_bytes, human_bytes, runs_folder_problem

BYTES_PER_PARAM = 4
"""Adapter weights and optimizer state are fp32."""
CHECKPOINT_COPIES = 6
"""A checkpoint holds each trainable weight 6 times: the weight, Adam's two moments, the allocator's three EMAs."""
SLACK_BYTES = 2_000_000
"""The event log, status, rank tables, tokenizer-free extras."""


@dataclass(frozen=True)
class SpaceNeeded:
    """Bytes a run writes: one checkpoint, the final adapter, and the peak while checkpoints rotate."""

    checkpoint: int
    adapter: int
    keep: int
    """How many checkpoints are kept; one more exists while a new one is written."""

    @property
    def total(self) -> int:
        """The most the run holds on disk at once."""
        return (self.keep + 1) * self.checkpoint + self.adapter + SLACK_BYTES


def space_needed(trainable_params: int, keep_checkpoints: int) -> SpaceNeeded:
    """The estimate for ``trainable_params`` adapter parameters (at init_r, full size as saved)."""
    weights = max(int(trainable_params), 0) * BYTES_PER_PARAM
    return SpaceNeeded(checkpoint=CHECKPOINT_COPIES * weights, adapter=weights, keep=max(keep_checkpoints, 1))


def output_folder(cfg: RunConfig) -> Path:
    """The folder the run's own folder is created in (``output_dir``, else the user's runs folder)."""
    return Path(cfg.output_dir).expanduser() if cfg.output_dir else runs_dir()


def output_folder_problem(cfg: RunConfig, trainable_params: int = 0) -> str | None:
    """Why the run's folder cannot be written (not writable, or too little room for ``trainable_params``
    adapter parameters' checkpoints and adapter), or None. Cheap: no model or data is loaded."""
    needed = space_needed(trainable_params, cfg.training.keep_checkpoints).total
    return runs_folder_problem(output_folder(cfg), needed)


def check_output_folder(cfg: RunConfig, trainable_params: int) -> None:
    """Raise :class:`ConfigError` (field ``output_dir``) when the runs folder is not writable or lacks room."""
    problem = output_folder_problem(cfg, trainable_params)
    if problem:
        raise ConfigError("output_dir", problem)


def disk_full_message(folder: str | Path, what: str, needed: int, last_checkpoint: str = "") -> str:
    """What to tell a person whose disk filled while writing ``what`` into ``folder``."""
    free = free_bytes(folder)
    keep = (f"The last complete checkpoint ({Path(last_checkpoint).name}) is untouched: free some space, then "
            "resume the run." if last_checkpoint else "No checkpoint was complete yet: free some space, then start "
            "the run again.")
    return (f"The disk is full: {what} could not be written to {folder}. It needs about {human_bytes(needed)}; "
            f"{human_bytes(free)} is free. The partly written files were removed. {keep}")

