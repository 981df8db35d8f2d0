"""The rank allocator's state, for an exact resume: the live ``rank_pattern`` and the EMA dicts peft never saves.

peft keeps the allocation in ``peft_config["default"].rank_pattern`` and the importance EMAs in
``base_model.rankallocator.{ipt, exp_avg_ipt, exp_avg_unc}``; a resume mid-budget needs both back exactly.
"""

from __future__ import annotations

from typing import Any

from .ranks import ADAPTER_NAME, adalora_model

ALLOCATOR_DICTS = ("ipt", "exp_avg_ipt", "exp_avg_unc")
"""The allocator's per-parameter EMA dicts, in the order they are saved."""


def live_rank_pattern(model: Any, adapter_name: str = ADAPTER_NAME) -> dict[str, list[bool]] | None:
    """The live ``rank_pattern`` with peft's own keys (``.lora_E.default``), as plain lists; None before a mask."""
    pattern = model.peft_config[adapter_name].rank_pattern
    return {k: [bool(x) for x in v] for k, v in pattern.items()} if pattern else None


def allocator_tensors(model: Any) -> dict[str, Any]:
    """The allocator's EMA tensors flattened to ``"<dict>/<parameter name>"`` keys (empty for no allocator)."""
    allocator = getattr(adalora_model(model), "rankallocator", None)
    flat: dict[str, Any] = {}
    if allocator is not None:
        for dict_name in ALLOCATOR_DICTS:
            for key, value in getattr(allocator, dict_name).items():
                flat[f"{dict_name}/{key}"] = value
    return flat


def split_allocator_tensors(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The inverse of :func:`allocator_tensors`: ``{dict name: {parameter name: tensor}}``."""
    dicts: dict[str, dict[str, Any]] = {name: {} for name in ALLOCATOR_DICTS}
    for key, value in flat.items():
        dict_name, _, param_name = key.partition("/")
        dicts.setdefault(dict_name, {})[param_name] = value
    return dicts


def restore_allocation(model: Any, rank_pattern: dict[str, list[bool]] | None,
                       allocator: dict[str, dict[str, Any]], adapter_name: str = ADAPTER_NAME) -> None:
    """Set the live ``rank_pattern`` and the allocator EMAs (each tensor on its parameter's device). A model
    without a rank allocator (a LoRA baseline) is left as it is."""
    ra = getattr(adalora_model(model), "rankallocator", None)
    if ra is None:
        return
    model.peft_config[adapter_name].rank_pattern = (
        {k: list(v) for k, v in rank_pattern.items()} if rank_pattern else None
    )
    params = dict(model.named_parameters())
    fallback = next(iter(params.values())).device

    def device_of(key: str) -> Any:
        param = params.get(f"base_model.model.{key}", params.get(key))
        return fallback if param is None else param.device

    for dict_name in ALLOCATOR_DICTS:
        loaded = allocator.get(dict_name, {})
        setattr(ra, dict_name, {k: v.to(device_of(k)) for k, v in loaded.items()})


def set_total_step(model: Any, total_steps: int, adapter_name: str = ADAPTER_NAME) -> None:
    """Tell peft's config and allocator the run's length in optimizer steps."""
    model.peft_config[adapter_name].total_step = total_steps
    ra = getattr(adalora_model(model), "rankallocator", None)
    if ra is not None:
        ra.peft_config.total_step = total_steps


def update_and_allocate(model: Any, step: int) -> None:
    """peft's allocation for optimizer step ``step`` (0-based): after ``optimizer.step()``, before ``zero_grad()``,
    on the unwrapped peft model. The same maths through :mod:`.fast_allocator` when it is installed."""
    from .fast_allocator import fast_allocator_of

    fast = fast_allocator_of(model)
    if fast is not None:
        fast.update_and_allocate(step)
    else:
        model.base_model.update_and_allocate(step)
