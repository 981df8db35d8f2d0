"""AdaLoRA -> plain LoRA, by hand (peft refuses ``convert_to_lora``/``save_as_lora`` for AdaLoRA).

AdaLoRA adds ``x @ (Q * Λ).T @ P.T * lora_alpha / (init_r + 1e-5)`` per matrix (peft: ``lora_A`` = Q,
``lora_E`` = Λ, ``lora_B`` = P, masked triplets dropped). With the kept triplets i and rank r = |i| this is exactly
the LoRA update ``x @ A.T @ B.T * alpha_L / r`` for

    B = P[:, i]        A = diag(Λ_i) · Q[i, :] · lora_alpha / (init_r + 1e-5) · r / alpha_L

with one global ``alpha_L`` (the largest rank) and per-module ranks in LoRA's ``rank_pattern``. No
``alpha_pattern`` is used on purpose: tools that ignore it but take each tensor's rank from its shape
(llama.cpp's GGUF converter, which uses ``alpha / rank`` per tensor) compute the same update. With
``uniform_rank=True`` every matrix is zero-padded to the largest rank and no ``rank_pattern`` is written at all,
for tools that ignore rank_pattern too. Conv1D (GPT-2) needs no transposition: LoRA and AdaLoRA both keep A as
(r, in) and B as (out, r) and transpose only when merging (``fan_in_fan_out`` is carried over). Matrices pruned
to rank 0 are left out; ``modules_to_save`` tensors (classifier heads) and biases are copied unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .adapter_folder import (
    PEFT_PREFIX,
    WEIGHTS_NAME,
    adapter_dir_of,
    load_adapter_tensors,
    natural_key,
    normalized_rank_pattern,
    read_adapter_config,
    split_lora_key,
)
from .ranks import ADAPTER_NAME

ADALORA_EPS = 1e-5
"""peft adds this to init_r in the AdaLoRA scale."""


def adalora_to_lora(
    config: dict[str, Any], tensors: dict[str, Any], *, uniform_rank: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Convert a saved AdaLoRA adapter (config dict + tensors as peft saves them) to LoRA.

    Returns ``(LoraConfig keyword arguments, LoRA tensors in peft's saved naming)``. Accepts tensors already
    sliced to the kept triplets (what ``save_pretrained`` writes) or full-size ones plus ``rank_pattern``.
    """
    if str(config.get("peft_type", "")).upper() != "ADALORA":
        raise ModelError(f"expected an AdaLoRA adapter, got peft_type {config.get('peft_type')!r}")
    init_r = int(config["init_r"])
    scale = float(config["lora_alpha"]) / (init_r + ADALORA_EPS)
    pattern = normalized_rank_pattern(config) or {}
    parts, extra = _split_tensors(tensors)
    folded = {}
    for module, p in parts.items():
        pair = _fold_module(module, p, pattern.get(module), scale)
        if pair is not None:
            folded[module] = pair
    if not folded:
        raise ModelError("every adapted matrix was pruned to rank 0: there is nothing to export as LoRA")
    ranks = {m: a.shape[0] for m, (a, _) in folded.items()}
    r_max = max(ranks.values())
    out = _lora_tensors(folded, {m: parts[m]["lora_A"].dtype for m in folded}, r_max, uniform_rank)
    for key, tensor in extra.items():
        out[key] = tensor.contiguous()
    rank_pattern = {} if uniform_rank or len(set(ranks.values())) == 1 else _ordered_pattern(ranks)
    kwargs = {
        "task_type": config.get("task_type"),
        "base_model_name_or_path": config.get("base_model_name_or_path"),
        "revision": config.get("revision"),
        "r": r_max,
        "lora_alpha": r_max,
        "target_modules": sorted(folded, key=natural_key),
        "rank_pattern": rank_pattern,
        "lora_dropout": float(config.get("lora_dropout") or 0.0),
        "fan_in_fan_out": bool(config.get("fan_in_fan_out", False)),
        "bias": config.get("bias") or "none",
        "modules_to_save": config.get("modules_to_save"),
        "inference_mode": True,
    }
    return kwargs, out


def _split_tensors(tensors: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``({module: {"lora_A"|"lora_B"|"lora_E": tensor}}, other tensors copied as they are)``."""
    parts: dict[str, dict[str, Any]] = {}
    extra: dict[str, Any] = {}
    for key, tensor in tensors.items():
        split = split_lora_key(key)
        if split is None:
            extra[key] = tensor
        else:
            parts.setdefault(split[0], {})[split[1]] = tensor
    return parts, extra


def _fold_module(module: str, p: dict[str, Any], mask: list[bool] | None, scale: float) -> tuple[Any, Any] | None:
    """``(A = diag(Λ) Q · scale, B = P)`` in float64 for the kept triplets of one matrix; None at rank 0."""
    import torch

    missing = [name for name in ("lora_A", "lora_B", "lora_E") if name not in p]
    if missing:
        raise ModelError(f"adapter tensors for {module} lack {', '.join(missing)}; the adapter is incomplete")
    q, e, pm = p["lora_A"], p["lora_E"], p["lora_B"]
    if mask is not None and q.shape[0] == len(mask) and sum(mask) != len(mask):
        index = torch.tensor(mask, dtype=torch.bool, device=q.device)
        q, e, pm = q[index], e[index], pm[:, index]
    elif mask is not None and q.shape[0] != sum(mask):
        raise ModelError(
            f"{module}: rank_pattern keeps {sum(mask)} triplets but the saved tensors hold {q.shape[0]}; "
            "the adapter config and weights do not belong together"
        )
    if q.shape[0] == 0:
        return None
    return q.double() * e.double().reshape(-1, 1) * scale, pm.double()


def _lora_tensors(folded: dict[str, tuple[Any, Any]], dtypes: dict[str, Any], r_max: int,
                  uniform_rank: bool) -> dict[str, Any]:
    """LoRA's A and B per module, with one ``lora_alpha = r_max`` (or zero-padded to ``r_max``)."""
    import torch

    alpha = r_max
    out: dict[str, Any] = {}
    for module, (a, b) in folded.items():
        r = a.shape[0]
        if uniform_rank and r < r_max:
            a = torch.cat([a, a.new_zeros(r_max - r, a.shape[1])], dim=0)
            b = torch.cat([b, b.new_zeros(b.shape[0], r_max - r)], dim=1)
        else:
            a = a * (r / alpha)  # LoRA scales by alpha / r: undo it
        out[f"{PEFT_PREFIX}{module}.lora_A.weight"] = a.to(dtypes[module]).contiguous()
        out[f"{PEFT_PREFIX}{module}.lora_B.weight"] = b.to(dtypes[module]).contiguous()
    return out


def _ordered_pattern(ranks: dict[str, int]) -> dict[str, int]:
    """``rank_pattern`` with longer keys first, checked with peft's own matcher.

    peft matches a key as the regex ``(.*\\.)?KEY$`` and takes the first that matches, so a module whose path
    is a suffix of another's must come after it.
    """
    from peft.utils.other import get_pattern_key

    keys = sorted(ranks, key=lambda k: (-len(k), k.count("."), k))
    pattern = {k: ranks[k] for k in keys}
    for module in keys:
        if get_pattern_key(list(pattern), module) != module:
            raise ModelError(f"module path {module} is ambiguous in a LoRA rank_pattern; use uniform_rank=True")
    return pattern


def read_adalora_source(
    source: Any, adapter_name: str = ADAPTER_NAME
) -> tuple[dict[str, Any], dict[str, Any], Path | None]:
    """``(adapter config dict, tensors as saved, adapter folder or None)`` from a live PeftModel, an adapter
    folder, or a run folder.

    For a live model this is exactly what ``save_pretrained`` would write (sliced by ``rank_pattern``); the
    model and its live config are left unchanged.
    """
    if hasattr(source, "peft_config"):
        from peft.utils import get_peft_model_state_dict

        peft_config = source.peft_config[adapter_name]
        saved_pattern = copy.deepcopy(peft_config.rank_pattern)
        try:
            state = get_peft_model_state_dict(source, adapter_name=adapter_name)
        finally:
            peft_config.rank_pattern = saved_pattern  # peft strips ".default" from the live keys while saving
        config = peft_config.to_dict()
        config["rank_pattern"] = copy.deepcopy(saved_pattern)
        config["peft_type"] = str(getattr(peft_config.peft_type, "value", peft_config.peft_type))
        task_type = config.get("task_type")
        config["task_type"] = getattr(task_type, "value", task_type)
        return config, {k: v.detach().to("cpu").clone() for k, v in state.items()}, None
    adapter_dir = adapter_dir_of(source)
    return read_adapter_config(adapter_dir), load_adapter_tensors(adapter_dir), adapter_dir


def lora_adapter_writer(kwargs: dict[str, Any], tensors: dict[str, Any]) -> Callable[[Path], None]:
    """A function that writes a LoRA adapter folder (peft's ``LoraConfig`` + safetensors) from
    :func:`adalora_to_lora`'s output. The config is built now, so a bad one fails before any file is written."""
    from peft import LoraConfig
    from safetensors.torch import save_file

    lora_config = LoraConfig(**kwargs)

    def write(folder: Path) -> None:
        lora_config.save_pretrained(str(folder))
        save_file(tensors, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})

    return write


def is_lora_config(config: dict[str, Any]) -> bool:
    """Whether an adapter config dict is plain LoRA (a LoRA baseline run), which exports as itself."""
    return str(config.get("peft_type", "")).upper() == "LORA"


def lora_copy_writer(config: dict[str, Any], tensors: dict[str, Any]) -> Callable[[Path], None]:
    """A function that writes a LoRA adapter unchanged (config and tensors as saved): a LoRA run exports as
    itself."""
    import json

    from safetensors.torch import save_file

    from .adapter_folder import CONFIG_NAME

    def plain(value: Any) -> Any:
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        return getattr(value, "value", str(value))

    def write(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2, default=plain) + "\n", encoding="utf-8")
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / WEIGHTS_NAME),
                  metadata={"format": "pt"})

    return write
