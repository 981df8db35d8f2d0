"""Several processes (``accelerate launch``/torchrun): checking that every process computed the same rank pattern,
and gathering every process's generator states for a checkpoint."""

from __future__ import annotations

from typing import Any


def pattern_fingerprint(pattern: dict[str, list[bool]] | None) -> int:
    """A CRC-32 of a rank pattern (module names and kept flags): equal on processes that agree, any size."""
    import json
    import zlib

    items = sorted((key, [bool(f) for f in flags]) for key, flags in (pattern or {}).items())
    return zlib.crc32(json.dumps(items).encode("utf-8"))


def processes_with_other_pattern(pattern: dict[str, list[bool]] | None, accelerator: Any) -> list[int]:
    """All-gather the rank pattern's fingerprint (a collective: call on every process at the same step; one
    number each, so patterns of different shapes cannot break the gather) and return the indices of the
    processes whose pattern differs from process 0's (empty when all agree)."""
    import torch

    mine = torch.tensor([[pattern_fingerprint(pattern)]], dtype=torch.long, device=accelerator.device)
    gathered = accelerator.gather(mine).view(-1).tolist()
    return [i for i, value in enumerate(gathered) if i > 0 and value != gathered[0]]


def pattern_mismatch_message(step: int, processes: list[int]) -> str:
    """The warning when processes computed different rank patterns."""
    return (f"At optimizer step {step} process(es) {', '.join(map(str, processes))} computed a different rank "
            "pattern than process 0; the saved adapter follows process 0. Check that every process uses the same "
            "data, seed and library versions.")


def process_rng_states(accelerator: Any) -> list[tuple[dict[str, Any], dict[str, Any]]] | None:
    """Every process's generator states (:func:`.checkpoint.capture_rng`), in process order, for the main process
    to save; None in one process. A collective: call on every process at the same step."""
    if accelerator.num_processes <= 1:
        return None
    from accelerate.utils import gather_object

    from .checkpoint import capture_rng

    return list(gather_object([capture_rng()]))
