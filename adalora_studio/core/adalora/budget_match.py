"""Matching a LoRA baseline to an AdaLoRA budget by trainable adapter parameters, not by rank.

An AdaLoRA triplet of a matrix with ``in`` inputs and ``out`` outputs holds ``in + out + 1`` parameters (a row of
Q, a column of P and one singular value); a LoRA rank holds ``in + out`` (a row of A and a column of B), plus
``out`` per matrix for DoRA's magnitude vector. AdaLoRA moves rank into the matrices it finds important, which
may be wider ones, so at equal total rank the two hold different parameter counts. The fair baseline is the
uniform LoRA rank whose parameters come closest to AdaLoRA's *final effective* parameters (the kept triplets).
With one uniform rank the match is within half a rank step (``sum(in + out)`` parameters); both counts are
reported. The counts hold for ``nn.Linear`` and GPT-2's ``Conv1D`` alike: both are described by
:class:`~adalora_studio.core.model.AdaptableMatrix` with their true ``in_features``/``out_features``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model import AdaptableMatrix


@dataclass(frozen=True)
class BudgetMatch:
    """A LoRA rank chosen to match an AdaLoRA parameter count."""

    rank: int
    """The uniform LoRA rank."""
    lora_params: int
    """Trainable adapter parameters of LoRA at ``rank`` (classifier heads not counted)."""
    target_params: int
    """The AdaLoRA count it matches (final effective, or the planned target)."""
    rank_step: int
    """Parameters one more LoRA rank adds across all matrices."""

    @property
    def difference(self) -> int:
        """``lora_params - target_params`` (positive: LoRA holds more)."""
        return self.lora_params - self.target_params

    def describe(self) -> str:
        """One line with both counts."""
        pct = 100.0 * self.difference / self.target_params if self.target_params else 0.0
        return (f"LoRA rank {self.rank}: {self.lora_params:,} adapter parameters against AdaLoRA's "
                f"{self.target_params:,} ({pct:+.1f}%; one rank step is {self.rank_step:,}).")


def lora_rank_step(targets: Sequence[AdaptableMatrix]) -> int:
    """Parameters per uniform LoRA rank across ``targets``: ``sum(in + out)``."""
    return sum(m.in_features + m.out_features for m in targets)


def lora_params(targets: Sequence[AdaptableMatrix], r: int, use_dora: bool = False) -> int:
    """LoRA adapter parameters at uniform rank ``r``: ``r * (in + out)`` per matrix, ``+ out`` with DoRA."""
    dora = sum(m.out_features for m in targets) if use_dora else 0
    return r * lora_rank_step(targets) + dora


def adalora_effective_params(targets: Sequence[AdaptableMatrix], ranks: Mapping[str, int]) -> int:
    """AdaLoRA adapter parameters actually kept: ``rank * (in + out + 1)`` per matrix, ``ranks`` keyed by module
    path (a matrix missing from ``ranks`` counts as rank 0)."""
    return sum(int(ranks.get(m.module, 0)) * m.params_per_rank for m in targets)


def matched_lora_rank(targets: Sequence[AdaptableMatrix], target_params: int, use_dora: bool = False) -> BudgetMatch:
    """The uniform LoRA rank (at least 1) whose parameters are closest to ``target_params`` (ties: the smaller)."""
    step = lora_rank_step(targets)
    if step <= 0:
        raise ValueError("no matrices to adapt")
    base = lora_params(targets, 0, use_dora)
    low = max(1, (target_params - base) // step)
    best = min((low, low + 1), key=lambda r: (abs(lora_params(targets, r, use_dora) - target_params), r))
    return BudgetMatch(rank=int(best), lora_params=lora_params(targets, best, use_dora),
                       target_params=int(target_params), rank_step=step)


def adapter_effective_params(adapter_dir: str | Path) -> int:
    """Adapter parameters a saved adapter folder holds, from the safetensors header (no weights read):
    every ``lora_A``/``lora_B``/``lora_E`` and DoRA magnitude tensor; classifier heads (``modules_to_save``) are
    not counted. AdaLoRA saves only the kept triplets, so this is its final effective count."""
    from .adapter_folder import tensor_shapes

    total = 0
    for name, shape in tensor_shapes(adapter_dir).items():
        parts = name.split(".")
        if any(p in ("lora_A", "lora_B", "lora_E", "lora_magnitude_vector") for p in parts):
            n = 1
            for d in shape:
                n *= d
            total += n
    return total
