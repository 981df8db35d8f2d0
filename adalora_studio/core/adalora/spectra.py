"""What the importance explorer needs at a mask step: Λ per matrix, the orthogonality residual, the threshold.

- :func:`read_spectra` - every matrix's singular values Λ (``lora_E``) and ``‖PᵀP − I‖ + ‖QQᵀ − I‖`` (Frobenius
  norms, the regulariser peft adds, per matrix), in one device-to-host copy;
- :func:`mask_threshold` - the score at or below which peft masks a triplet, recomputed exactly as
  ``RankAllocator.mask_to_budget`` does: the ``(init_bgt - budget)``-th smallest of all triplet scores;
- :func:`masked_by_threshold` - the triplets that threshold masks (``score <= threshold``, as peft compares).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .ranks import ADAPTER_NAME, normalize_rank_key


@dataclass(frozen=True)
class MatrixSpectrum:
    """Λ and the orthogonality residual of one adapted matrix at one moment."""

    singular_values: tuple[float, ...]
    """``lora_E`` (one value per triplet, length init_r while training; masked ones included)."""
    orth_residual: float
    """``‖PᵀP − I‖_F + ‖QQᵀ − I‖_F`` (P = ``lora_B``, Q = ``lora_A``)."""


def read_spectra(peft_model: Any, adapter_name: str = ADAPTER_NAME) -> dict[str, MatrixSpectrum]:
    """``{module path: MatrixSpectrum}`` for every AdaLoRA matrix of a live (or reloaded) peft model.

    Λ is read as it is now: call it before ``update_and_allocate`` at a mask step to see the values the allocator
    judged (the kept ones are unchanged by the mask). A matrix of rank 0 (reloaded) has empty Λ and residual 0.
    """
    import torch

    parts: dict[str, dict[str, Any]] = {}
    for name, param in peft_model.named_parameters():
        for part in ("lora_A", "lora_B", "lora_E"):
            if name.endswith(f".{part}.{adapter_name}"):
                parts.setdefault(normalize_rank_key(name, adapter_name), {})[part] = param
    modules = [m for m, p in parts.items() if len(p) == 3]
    if not modules:
        return {}
    with torch.no_grad():
        values, residuals = [], []
        for module in modules:
            q, e, p = parts[module]["lora_A"], parts[module]["lora_E"], parts[module]["lora_B"]
            values.append(e.detach().reshape(-1).float())
            residuals.append(_residual(p.detach().float().t() @ p.detach().float())
                             + _residual(q.detach().float() @ q.detach().float().t()))
        sizes = [v.numel() for v in values]
        flat = torch.cat([*values, torch.stack(residuals)]).cpu().tolist()
    out: dict[str, MatrixSpectrum] = {}
    start = 0
    for module, size in zip(modules, sizes, strict=True):
        out[module] = MatrixSpectrum(tuple(flat[start:start + size]), 0.0)
        start += size
    for module, residual in zip(modules, flat[start:], strict=True):
        out[module] = MatrixSpectrum(out[module].singular_values, float(residual))
    return out


def _residual(cov: Any) -> Any:
    import torch

    if cov.numel() == 0:
        return cov.new_zeros(())
    return torch.linalg.matrix_norm(cov - torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device))


def mask_threshold(scores: Mapping[str, Sequence[float]], init_budget: int, budget: int) -> float | None:
    """The masking threshold of ``mask_to_budget(model, budget)``: the ``k``-th smallest score, ``k = init_budget
    - budget`` (None when ``k`` is out of range: nothing would be masked, and peft itself would fail)."""
    every = sorted(v for values in scores.values() for v in values)
    k = init_budget - budget
    if not 1 <= k <= len(every):
        return None
    return float(every[k - 1])


def masked_by_threshold(importance: Sequence[float], threshold: float) -> tuple[int, ...]:
    """Indices of the triplets ``threshold`` masks (peft masks ``score <= threshold``; ties are all masked)."""
    return tuple(i for i, score in enumerate(importance) if score <= threshold)
