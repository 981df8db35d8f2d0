"""What the importance explorer, the pruning timeline and the budget summary show, from rank snapshots alone.

Pure functions of the :class:`~adalora_studio.core.events.RanksUpdated` events a run logged (no Qt, no torch):
a live run and a replay of its ``events.jsonl`` hold the same snapshots, so they give the same arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...core.events import MatrixRank, RanksUpdated


@dataclass(frozen=True)
class MatrixHistory:
    """One matrix over the run: one row per snapshot (``steps``), one column per triplet."""

    name: str
    module: str
    steps: np.ndarray
    """Optimizer steps of the snapshots (1-based, as StepLogged counts)."""
    importance: np.ndarray
    """(snapshots, init_r) triplet scores; NaN where a snapshot carried none."""
    kept: np.ndarray
    """(snapshots, init_r) booleans (all True before the first mask)."""
    singular_values: np.ndarray
    """(snapshots, init_r) Λ; NaN where a snapshot carried none."""
    orth_residual: np.ndarray
    """‖PᵀP − I‖ + ‖QQᵀ − I‖ per snapshot; NaN where unknown."""
    threshold: np.ndarray
    """The run's masking threshold at each mask-step snapshot; NaN elsewhere."""
    mask_step: np.ndarray
    """Whether each snapshot follows a mask step (its scores are the ones the mask used; the final snapshot of a
    run repeats the last mask's scores)."""
    masked_at: tuple[tuple[int, ...], ...]
    """Per triplet: the steps at which it went from kept to masked."""
    unmasked_at: tuple[tuple[int, ...], ...]
    """Per triplet: the steps at which a masked triplet was kept again."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatrixHistory):
            return NotImplemented
        arrays = ("steps", "importance", "kept", "singular_values", "orth_residual", "threshold", "mask_step")
        return (self.name, self.module, self.masked_at, self.unmasked_at) == (
            other.name, other.module, other.masked_at, other.unmasked_at) and all(
            np.array_equal(getattr(self, a), getattr(other, a), equal_nan=True) for a in arrays)

    __hash__ = None  # type: ignore[assignment]


def _row(values: Sequence[float], n: int) -> list[float]:
    return [float(v) for v in values] if len(values) == n else [math.nan] * n


def matrix_history(snapshots: Sequence[RanksUpdated], module: str) -> MatrixHistory | None:
    """The history of ``module`` (None when no snapshot has it)."""
    rows: list[tuple[RanksUpdated, MatrixRank]] = []
    for snap in snapshots:
        for m in snap.matrices:
            if m.module == module:
                rows.append((snap, m))
                break
    if not rows:
        return None
    n = rows[0][1].init_rank
    kept = np.array([list(m.kept) if len(m.kept) == n else [True] * n for _, m in rows], dtype=bool).reshape(-1, n)
    steps = np.array([s.step for s, _ in rows], dtype=np.int64)
    masked: list[list[int]] = [[] for _ in range(n)]
    unmasked: list[list[int]] = [[] for _ in range(n)]
    for i in range(1, len(rows)):
        for j in range(n):
            if kept[i - 1, j] and not kept[i, j]:
                masked[j].append(int(steps[i]))
            elif not kept[i - 1, j] and kept[i, j]:
                unmasked[j].append(int(steps[i]))
    return MatrixHistory(
        name=rows[0][1].name, module=module, steps=steps,
        importance=np.array([_row(m.importance, n) for _, m in rows], dtype=float).reshape(-1, n),
        kept=kept,
        singular_values=np.array([_row(m.singular_values, n) for _, m in rows], dtype=float).reshape(-1, n),
        orth_residual=np.array([math.nan if m.orth_residual is None else m.orth_residual for _, m in rows]),
        threshold=np.array([math.nan if s.threshold is None else s.threshold for s, _ in rows]),
        mask_step=np.array([s.mask_step for s, _ in rows], dtype=bool),
        masked_at=tuple(tuple(x) for x in masked), unmasked_at=tuple(tuple(x) for x in unmasked),
    )


@dataclass(frozen=True)
class MatrixSummary:
    """One line of the explorer's overview."""

    name: str
    module: str
    rank: int
    init_rank: int
    rank_change: int
    """Final rank minus the uniform share (target_r): positive = the allocator gave it more than uniform."""
    total_importance: float
    """Sum of the triplet scores in the newest snapshot that carried scores (NaN if none)."""


def overview(snapshots: Sequence[RanksUpdated], target_r: int) -> list[MatrixSummary]:
    """Every matrix of the newest snapshot, ranked by rank gained against uniform, then by total importance."""
    if not snapshots:
        return []
    last = snapshots[-1]
    scored = next((s for s in reversed(snapshots) if any(m.importance for m in s.matrices)), None)
    importance = {m.module: float(sum(m.importance)) for m in scored.matrices} if scored else {}
    rows = [MatrixSummary(m.name, m.module, m.rank, m.init_rank, m.rank - target_r,
                          importance.get(m.module, math.nan)) for m in last.matrices]
    return sorted(rows, key=lambda r: (-r.rank_change, -(r.total_importance if math.isfinite(r.total_importance)
                                                        else -math.inf)))


def rank_timeline(snapshots: Sequence[RanksUpdated]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(steps, matrix names, ranks[matrix, snapshot]): the whole run's allocation in one picture."""
    if not snapshots:
        return np.empty(0, dtype=np.int64), [], np.empty((0, 0))
    names = [m.name for m in snapshots[-1].matrices]
    index = {m.module: i for i, m in enumerate(snapshots[-1].matrices)}
    grid = np.full((len(names), len(snapshots)), np.nan)
    for j, snap in enumerate(snapshots):
        for m in snap.matrices:
            if m.module in index:
                grid[index[m.module], j] = m.rank
    return np.array([s.step for s in snapshots], dtype=np.int64), names, grid


@dataclass(frozen=True)
class BudgetShare:
    """Share of the final rank held by one group (a matrix type or a layer), against a uniform allocation."""

    group: str
    rank: int
    share: float
    """rank / total rank (0 when the total is 0)."""
    uniform_share: float
    """The share the group would hold if every matrix kept the same rank (its fraction of the matrices)."""


def budget_shares(snapshot: RanksUpdated, by: str) -> list[BudgetShare]:
    """Where the budget went: ``by`` is ``"type"`` (query, value, ffn_in...) or ``"layer"`` (L0, L1, ...)."""
    if by not in ("type", "layer"):
        raise ValueError("by must be 'type' or 'layer'")
    groups: dict[str, list[int]] = {}
    for m in snapshot.matrices:
        key = m.matrix_type if by == "type" else (f"L{m.layer}" if m.layer is not None else "other")
        groups.setdefault(key, []).append(m.rank)
    total = sum(sum(v) for v in groups.values())
    n = len(snapshot.matrices)
    return [BudgetShare(g, sum(v), sum(v) / total if total else 0.0, len(v) / n if n else 0.0)
            for g, v in groups.items()]


def timeline_image(snapshots: Sequence[RanksUpdated], max_columns: int = 600) -> tuple[np.ndarray, list[str],
                                                                                         np.ndarray]:
    """(column steps, matrix names, ranks[matrix, column]) on an even step axis: each column holds the rank of the
    newest snapshot at or before its step, so the picture's x is time, however unevenly snapshots came."""
    steps, names, grid = rank_timeline(snapshots)
    if not len(steps):
        return steps, names, grid
    first, last = int(steps[0]), int(steps[-1])
    n_cols = max(1, min(max_columns, last - first + 1))
    columns = np.linspace(first, last, n_cols)
    index = np.searchsorted(steps, columns, side="right") - 1
    return columns, names, grid[:, np.clip(index, 0, len(steps) - 1)]


def budget_sentence(snapshot: RanksUpdated) -> str:
    """One line naming the matrix type and the layer that gained most against a uniform allocation."""
    parts = []
    for by, what in (("type", "matrices"), ("layer", "")):
        shares = budget_shares(snapshot, by)
        if not shares:
            continue
        best = max(shares, key=lambda s: s.share - s.uniform_share)
        worst = min(shares, key=lambda s: s.share - s.uniform_share)
        label = f"{best.group} {what}".strip()
        low = f"{worst.group} {what}".strip()
        parts.append(f"{label} hold {100 * best.share:.0f}% of the rank (uniform {100 * best.uniform_share:.0f}%),"
                     f" {low} {100 * worst.share:.0f}% (uniform {100 * worst.uniform_share:.0f}%)")
    return "; ".join(parts) + "." if parts else ""
