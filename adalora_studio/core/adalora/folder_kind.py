"""Any folder a user opens as an adapter: what it is, and (for AdaLoRA) its allocation as a rank snapshot.

:func:`classify_folder` never raises for a folder that simply is something else: it says what the folder is
(an AdaLoRA adapter, a plain LoRA adapter, another peft type, a full model, not a peft adapter at all).
:func:`adapter_snapshot` turns a saved AdaLoRA (or LoRA) adapter into a :class:`RanksUpdated` the dashboard's
bars and heatmap draw, with Λ (``lora_E``) and the orthogonality residual read from the saved tensors.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..events import PHASE_FINAL, MatrixRank, RanksUpdated
from ..model import matrix_type_of
from .adapter_folder import (
    CONFIG_NAME,
    adapter_dir_of,
    load_adapter_tensors,
    normalized_rank_pattern,
    read_adapter_config,
    read_adapter_ranks,
    split_lora_key,
)

KIND_ADALORA = "adalora"
KIND_LORA = "lora"
KIND_OTHER_PEFT = "other-peft"
KIND_NOT_PEFT = "not-peft"


@dataclass(frozen=True)
class FolderKind:
    """What a folder is, in words a person can act on."""

    path: Path
    """The adapter folder itself (``<run>/adapter`` for a run folder), or the folder given."""
    kind: str
    """adalora | lora | other-peft | not-peft."""
    peft_type: str | None
    message: str


def classify_folder(path: str | Path) -> FolderKind:
    """Say what ``path`` is. Only an AdaLoRA adapter (kind ``adalora``) has an allocation to show."""
    given = Path(path)
    if not given.is_dir():
        return FolderKind(given, KIND_NOT_PEFT, None, f"{given} is not a folder.")
    try:
        folder = adapter_dir_of(given)
    except ModelError:
        return FolderKind(given, KIND_NOT_PEFT, None, _not_peft_message(given))
    try:
        config = read_adapter_config(folder)
    except ModelError as exc:
        return FolderKind(folder, KIND_NOT_PEFT, None, f"Not a peft adapter: {exc}.")
    peft_type = str(config.get("peft_type", "")).upper()
    if peft_type == "ADALORA":
        try:
            rows = read_adapter_ranks(folder)
        except ModelError as exc:
            return FolderKind(folder, KIND_NOT_PEFT, peft_type, f"An AdaLoRA adapter config, but unreadable: {exc}.")
        zero = sum(1 for r in rows if r.rank == 0)
        return FolderKind(folder, KIND_ADALORA, peft_type, (
            f"AdaLoRA adapter: {len(rows)} matrices, {sum(r.rank for r in rows)} of "
            f"{sum(r.init_r for r in rows)} triplets kept, {zero} of them (matrices) at rank 0."))
    if peft_type == "LORA":
        patterned = bool(config.get("rank_pattern"))
        ranks = "per-module ranks (rank_pattern)" if patterned else f"rank {config.get('r')} for every matrix"
        return FolderKind(folder, KIND_LORA, peft_type, (
            f"A plain LoRA adapter ({ranks}), not AdaLoRA: its ranks were fixed before training, so there is no "
            "allocation, importance or budget to show. `adalora-studio inspect` prints its ranks."))
    return FolderKind(folder, KIND_OTHER_PEFT, peft_type, (
        f"A peft {peft_type or 'unknown-type'} adapter, not AdaLoRA: it has no singular-value triplets or ranks "
        "to show."))


def _not_peft_message(folder: Path) -> str:
    model_config = folder / "config.json"
    if model_config.is_file():
        try:
            model_type = json.loads(model_config.read_text(encoding="utf-8")).get("model_type", "unknown")
        except (OSError, ValueError, AttributeError):
            model_type = "unknown"
        return (f"{folder} holds a full model (config.json, model_type {model_type}), not a peft adapter: an "
                f"adapter folder has {CONFIG_NAME}.")
    return f"{folder} is not a peft adapter: it has no {CONFIG_NAME} (and is not a run folder with adapter/)."


def _layer_of(module: str) -> int | None:
    return next((int(p) for p in module.split(".") if p.isdigit()), None)


def adapter_snapshot(path: str | Path) -> RanksUpdated:
    """A saved AdaLoRA or LoRA adapter as one rank snapshot (step 0, phase final, no importance: peft never
    saves the scores). ``singular_values`` has init_r entries: the saved Λ at the kept positions, NaN where a
    triplet was pruned; ``orth_residual`` is computed over the kept triplets."""
    import torch

    folder = adapter_dir_of(path)
    config = read_adapter_config(folder)
    rows = read_adapter_ranks(folder)
    pattern = normalized_rank_pattern(config) or {}
    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in load_adapter_tensors(folder).items():
        split = split_lora_key(key)
        if split is not None:
            parts.setdefault(split[0], {})[split[1]] = tensor.float()
    matrices = []
    for row in rows:
        p = parts.get(row.module, {})
        kept = tuple(pattern.get(row.module, ())) if row.method == "adalora" else ()
        values: tuple[float, ...] = ()
        if "lora_E" in p:
            saved = iter(p["lora_E"].reshape(-1).tolist())
            flags = kept or (True,) * p["lora_E"].numel()
            values = tuple(next(saved) if k else math.nan for k in flags)
        residual = None
        if row.method == "adalora" and "lora_A" in p and "lora_B" in p and row.rank > 0:
            q, b = p["lora_A"], p["lora_B"]
            eye = torch.eye(row.rank)
            residual = float(torch.linalg.matrix_norm(b.t() @ b - eye) + torch.linalg.matrix_norm(q @ q.t() - eye))
        layer, mtype = _layer_of(row.module), matrix_type_of(row.module)
        matrices.append(MatrixRank(
            name=mtype if layer is None else f"L{layer}.{mtype}", module=row.module, layer=layer, matrix_type=mtype,
            rank=row.rank, init_rank=row.init_r, importance=(), kept=kept, singular_values=values,
            orth_residual=residual))
    total = sum(m.rank for m in matrices)
    return RanksUpdated(step=0, budget=total, phase=PHASE_FINAL, total_rank=total, matrices=tuple(matrices))
