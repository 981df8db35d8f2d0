"""Reading the AdaLoRA allocation from a live peft model: ranks, triplet importance, and the rank tables.

peft keeps the allocation in ``peft_config["default"].rank_pattern`` (``<module>.lora_E.default`` -> one boolean
per triplet; ``save_pretrained`` strips the ``.default`` suffix in place) and the importance EMAs in
``base_model.rankallocator``. Everything here reads that state; nothing changes the model except
:func:`rank_mask_applied`, which masks ``lora_E`` temporarily and restores it.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_write_json, atomic_write_text
from ..events import MatrixRank, RanksUpdated

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..model import AdaptableMatrix
    from .plan import RunPlan
    from .spectra import MatrixSpectrum

ADAPTER_NAME = "default"
RANK_TABLE_COLUMNS = ("module", "name", "layer", "matrix_type", "rank", "init_rank")


def normalize_rank_key(key: str, adapter_name: str = ADAPTER_NAME) -> str:
    """The module path of a ``rank_pattern`` key, whichever form it has.

    ``bert.encoder.layer.0.attention.self.query.lora_E.default`` (live), ``....query.lora_E`` (after
    ``save_pretrained``) and ``base_model.model....query.lora_E`` all give
    ``bert.encoder.layer.0.attention.self.query``.
    """
    parts = key.split(".")
    if parts and parts[-1] == adapter_name:
        parts = parts[:-1]
    if parts and parts[-1] in ("lora_E", "lora_A", "lora_B"):
        parts = parts[:-1]
    out = ".".join(parts)
    prefix = "base_model.model."
    while out.startswith(prefix):
        out = out[len(prefix):]
    return out


def adalora_model(model: Any) -> Any:
    """The ``AdaLoraModel`` inside a ``PeftModel`` (or the argument itself when it already is one)."""
    inner = getattr(model, "base_model", model)
    if not hasattr(inner, "rankallocator") and hasattr(model, "rankallocator"):
        inner = model
    return inner


def read_rank_pattern(peft_model: Any, adapter_name: str = ADAPTER_NAME) -> dict[str, list[bool]] | None:
    """``{module path: kept flags}`` from the live config, or None before the first mask step (and for a LoRA
    model, whose ``rank_pattern`` holds ranks, not masks: a run from ``lora.rank_file``)."""
    config = peft_model.peft_config[adapter_name]
    pattern = config.rank_pattern
    if not pattern or str(getattr(config.peft_type, "value", config.peft_type)).upper() != "ADALORA":
        return None
    return {normalize_rank_key(k, adapter_name): [bool(v) for v in flags] for k, flags in pattern.items()}


def triplet_scores(peft_model: Any, adapter_name: str = ADAPTER_NAME) -> dict[str, list[float]] | None:
    """Importance of every triplet, computed exactly as peft's ``RankAllocator.mask_to_budget`` does.

    ``s(n) = exp_avg_ipt[n] * exp_avg_unc[n]``; ``score = s(E).view(-1) + (mean_row(s(A)) + mean_col(s(B)))``.
    Returns None when the allocator holds no scores (before the first optimizer step, or after ``reset_ipt``
    emptied them at the start of the final phase). One device-to-host copy for all matrices.
    """
    import torch

    allocator = getattr(adalora_model(peft_model), "rankallocator", None)
    if allocator is None or not allocator.exp_avg_ipt:
        return None
    ipt, unc = allocator.exp_avg_ipt, allocator.exp_avg_unc
    names: list[str] = []
    scores: list[torch.Tensor] = []
    with torch.no_grad():
        for template in allocator.name_set:
            name_a, name_b, name_e = template % "lora_A", template % "lora_B", template % "lora_E"
            if name_e not in ipt or name_a not in ipt or name_b not in ipt:
                continue
            s_a = torch.mean(ipt[name_a] * unc[name_a], dim=1, keepdim=True)
            s_b = torch.mean(ipt[name_b] * unc[name_b], dim=0, keepdim=False).view(-1, 1)
            s_e = ipt[name_e] * unc[name_e]
            combined = s_e.view(-1) + torch.cat([s_a, s_b], dim=1).sum(dim=1).view(-1)
            names.append(normalize_rank_key(name_e, adapter_name))
            scores.append(combined.float())
        if not scores:
            return None
        sizes = [s.numel() for s in scores]
        flat = torch.cat(scores).cpu().tolist()
    out: dict[str, list[float]] = {}
    start = 0
    for name, size in zip(names, sizes, strict=False):
        out[name] = flat[start:start + size]
        start += size
    return out


def matrix_ranks(
    peft_model: Any,
    targets: Sequence[AdaptableMatrix],
    init_r: int,
    scores: Mapping[str, Sequence[float]] | None = None,
    adapter_name: str = ADAPTER_NAME,
    spectra: Mapping[str, MatrixSpectrum] | None = None,
) -> tuple[MatrixRank, ...]:
    """One :class:`MatrixRank` per target, from the live ``rank_pattern`` (all ``init_r`` before the first mask);
    ``spectra`` (:func:`.spectra.read_spectra`) adds Λ and the orthogonality residual."""
    pattern = read_rank_pattern(peft_model, adapter_name)
    out = []
    for m in targets:
        kept = tuple(pattern[m.module]) if pattern and m.module in pattern else ()
        rank = sum(kept) if kept else init_r
        importance = tuple(float(v) for v in scores[m.module]) if scores and m.module in scores else ()
        spectrum = spectra.get(m.module) if spectra else None
        out.append(MatrixRank(
            name=m.name, module=m.module, layer=m.layer, matrix_type=m.matrix_type,
            rank=int(rank), init_rank=init_r, importance=importance, kept=kept,
            singular_values=spectrum.singular_values if spectrum else (),
            orth_residual=spectrum.orth_residual if spectrum else None,
        ))
    return tuple(out)


def snapshot_ranks(
    peft_model: Any,
    step: int,
    plan: RunPlan,
    scores: Mapping[str, Sequence[float]] | None = None,
    time: float = 0.0,
    spectra: Mapping[str, MatrixSpectrum] | None = None,
    mask_step: bool = False,
) -> RanksUpdated:
    """The allocation after ``step`` optimizer steps as a :class:`RanksUpdated` event.

    ``step`` counts optimizer steps done (1-based, like :class:`StepLogged`); the budget and phase are those
    of the last allocator call, i.e. of 0-based index ``step - 1`` (``0`` before training). ``scores``
    defaults to :func:`triplet_scores` (pass the last known ones once the allocator has reset them).
    ``mask_step`` marks the snapshot of a mask step: it then carries the recomputed masking threshold.
    """
    from .plan import budget_at
    from .spectra import mask_threshold

    if scores is None:
        scores = triplet_scores(peft_model)
    matrices = matrix_ranks(peft_model, plan.targets, plan.init_r, scores, spectra=spectra)
    budget, phase = budget_at(max(step - 1, 0), plan)
    threshold = mask_threshold(scores, plan.init_budget, budget) if mask_step and scores else None
    return RanksUpdated(
        step=step, budget=int(budget), phase=phase,
        total_rank=sum(m.rank for m in matrices), matrices=matrices, time=time,
        threshold=threshold, mask_step=mask_step,
    )


@contextlib.contextmanager
def rank_mask_applied(peft_model: Any, adapter_name: str = ADAPTER_NAME) -> Iterator[int]:
    """Zero the pruned triplets of every ``lora_E`` (as ``save_pretrained`` would drop them), restore on exit.

    Yields the number of values that were non-zero and got masked (the optimizer regrows masked entries between
    mask steps, so this is often > 0). Training state is unchanged after the block.
    """
    import torch

    pattern = read_rank_pattern(peft_model, adapter_name)
    saved: list[tuple[torch.nn.Parameter, torch.Tensor]] = []
    changed = 0
    if pattern:
        suffix = f".lora_E.{adapter_name}"
        with torch.no_grad():
            for name, param in peft_model.named_parameters():
                if not name.endswith(suffix):
                    continue
                flags = pattern.get(normalize_rank_key(name, adapter_name))
                if flags is None or all(flags) or param.shape[0] != len(flags):
                    continue  # nothing pruned, or a reloaded adapter already sliced to its kept triplets
                keep = torch.tensor(flags, dtype=torch.bool, device=param.device).view(-1, 1)
                saved.append((param, param.detach().clone()))
                changed += int(torch.count_nonzero(param[~keep.view(-1)]).item())
                param.masked_fill_(~keep, 0.0)
    try:
        yield changed
    finally:
        with torch.no_grad():
            for param, original in saved:
                param.copy_(original)


def rank_table_rows(event: RanksUpdated | Sequence[MatrixRank]) -> list[dict[str, Any]]:
    """Rows of the final rank table (``module, name, layer, matrix_type, rank, init_rank``)."""
    matrices = event.matrices if isinstance(event, RanksUpdated) else event
    return [{"module": m.module, "name": m.name, "layer": m.layer, "matrix_type": m.matrix_type,
             "rank": m.rank, "init_rank": m.init_rank} for m in matrices]


def write_rank_tables(event_or_rows: RanksUpdated | Sequence[MatrixRank], folder: str | Path,
                      stem: str = "ranks") -> tuple[Path, Path]:
    """Write ``ranks.json`` and ``ranks.csv`` into ``folder`` atomically; returns both paths."""
    folder = Path(folder)
    rows = rank_table_rows(event_or_rows)
    doc: dict[str, Any] = {"matrices": rows, "total_rank": sum(r["rank"] for r in rows)}
    if isinstance(event_or_rows, RanksUpdated):
        doc = {"step": event_or_rows.step, "budget": event_or_rows.budget, "phase": event_or_rows.phase, **doc}
    json_path, csv_path = folder / f"{stem}.json", folder / f"{stem}.csv"
    atomic_write_json(json_path, doc)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(RANK_TABLE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in RANK_TABLE_COLUMNS})
    atomic_write_text(csv_path, buf.getvalue())
    return json_path, csv_path
