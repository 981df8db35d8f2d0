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
    Matrices of one shape are computed as one batch, and everything comes to the host in one copy.
    """
    import torch

    modules, parts = _adapter_parts(peft_model, adapter_name)
    if not modules:
        return {}
    with torch.no_grad():
        values = [parts[m]["lora_E"].detach().reshape(-1).float() for m in modules]
        residual = torch.zeros(len(modules), device=values[0].device)
        for part, gram in (("lora_B", lambda x: x.transpose(1, 2) @ x), ("lora_A", lambda x: x @ x.transpose(1, 2))):
            groups: dict[tuple[int, ...], list[int]] = {}
            for i, m in enumerate(modules):
                groups.setdefault(tuple(parts[m][part].shape), []).append(i)
            for shape, index in groups.items():
                if 0 in shape:
                    continue
                stacked = torch.stack([parts[modules[i]][part].detach().float() for i in index])
                cov = gram(stacked)
                eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
                residual[torch.tensor(index, device=residual.device)] += torch.linalg.matrix_norm(cov - eye)
        sizes = [v.numel() for v in values]
        flat = torch.cat([*values, residual]).cpu().tolist()
    out: dict[str, MatrixSpectrum] = {}
    start = 0
    for module, size in zip(modules, sizes, strict=True):
        out[module] = MatrixSpectrum(tuple(flat[start:start + size]), 0.0)
        start += size
    for module, value in zip(modules, flat[start:], strict=True):
        out[module] = MatrixSpectrum(out[module].singular_values, float(value))
    return out


def _adapter_parts(peft_model: Any, adapter_name: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The module paths with all three AdaLoRA parts, and the parameters (cached on the model: the walk over
    every parameter name is the costly part on a large model, and the parameters never change identity)."""
    cache = getattr(peft_model, "_studio_spectra_parts", None)
    if cache is not None and cache[0] == adapter_name:
        return cache[1], cache[2]
    parts: dict[str, dict[str, Any]] = {}
    for name, param in peft_model.named_parameters():
        for part in ("lora_A", "lora_B", "lora_E"):
            if name.endswith(f".{part}.{adapter_name}"):
                parts.setdefault(normalize_rank_key(name, adapter_name), {})[part] = param
    modules = [m for m, p in parts.items() if len(p) == 3]
    try:
        object.__setattr__(peft_model, "_studio_spectra_parts", (adapter_name, modules, parts))
    except (AttributeError, TypeError):
        pass
    return modules, parts


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
