"""The evaluation rows of a run as text (not tokenised): what a report shows next to each prediction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config import RunConfig
from .prepare import DataSummary, _resolve

if TYPE_CHECKING:  # pragma: no cover
    import datasets


def eval_table(cfg: RunConfig) -> tuple[datasets.Dataset, DataSummary]:
    """The run's evaluation rows, in the order the engine evaluates them (the same seeded split), and the
    data summary (resolved columns and label names). Raises :class:`DataError` as :func:`prepare_data` does."""
    resolved = _resolve(cfg)
    return resolved.eval_table, resolved.summary
