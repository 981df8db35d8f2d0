"""Reading a saved peft adapter folder without a base model: its config, its tensors, and the rank per matrix.

Works on any peft AdaLoRA adapter folder (and plain LoRA ones), not only ours: modules come from
``rank_pattern`` and from the tensor names in ``adapter_model.safetensors`` (read from the header, no weights
loaded), so ``target_modules`` given as short names (``["query", "value"]``) or a regex still work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .ranks import normalize_rank_key

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
PICKLE_WEIGHTS_NAME = "adapter_model.bin"
PEFT_PREFIX = "base_model.model."
LORA_PARTS = ("lora_A", "lora_B", "lora_E")
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class AdapterMatrixRank:
    """The rank of one adapted matrix in a saved adapter."""

    module: str
    """Module path in the base model, e.g. ``bert.encoder.layer.0.attention.self.query``."""
    rank: int
    """Triplets kept (AdaLoRA) or LoRA rank."""
    init_r: int
    """Triplets the matrix started with (equals ``rank`` for plain LoRA)."""
    in_features: int | None = None
    out_features: int | None = None
    method: str = "adalora"
    """adalora | lora."""

    @property
    def params(self) -> int | None:
        """Adapter parameters this matrix holds at its rank (P, Λ and Q for AdaLoRA; B and A for LoRA)."""
        if self.in_features is None or self.out_features is None:
            return None
        extra = 1 if self.method == "adalora" else 0
        return self.rank * (self.in_features + self.out_features + extra)


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key putting ``layer.2`` before ``layer.10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def adapter_dir_of(path: str | Path) -> Path:
    """The adapter folder for ``path``: the folder itself, or ``<run folder>/adapter``."""
    path = Path(path)
    if (path / CONFIG_NAME).is_file():
        return path
    if (path / "adapter" / CONFIG_NAME).is_file():
        return path / "adapter"
    if not path.exists():
        raise ModelError(f"{path} does not exist; give an adapter folder (with {CONFIG_NAME}) or a run folder")
    raise ModelError(f"{path} holds no {CONFIG_NAME}: give a peft adapter folder or a finished run folder")


def read_adapter_config(adapter_dir: str | Path) -> dict[str, Any]:
    """``adapter_config.json`` as a dict (:class:`ModelError` naming the file when missing or invalid)."""
    path = Path(adapter_dir) / CONFIG_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path} not found: {adapter_dir} is not a peft adapter folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot be read as JSON ({exc})") from exc
    if not isinstance(data, dict) or "peft_type" not in data:
        raise ModelError(f"{path}: not a peft adapter config (no peft_type)")
    return data


def tensor_shapes(adapter_dir: str | Path) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of ``adapter_model.safetensors`` from its JSON header (no torch, no weights read;
    empty dict when the file is absent)."""
    path = Path(adapter_dir) / WEIGHTS_NAME
    if not path.is_file():
        return {}
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            if not 0 < size <= min(_MAX_HEADER, path.stat().st_size - 8):
                raise ValueError(f"header size {size} is impossible")
            header = json.loads(fh.read(size).decode("utf-8"))
        return {key: tuple(int(d) for d in info["shape"]) for key, info in header.items() if key != "__metadata__"}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: not a readable safetensors file ({exc})") from exc


def load_adapter_tensors(adapter_dir: str | Path) -> dict[str, Any]:
    """All tensors of ``adapter_model.safetensors`` on CPU. Pickle (``.bin``) adapters are refused."""
    path = Path(adapter_dir) / WEIGHTS_NAME
    if not path.is_file():
        if (Path(adapter_dir) / PICKLE_WEIGHTS_NAME).is_file():
            raise ModelError(
                f"{adapter_dir} holds only {PICKLE_WEIGHTS_NAME} (pickle, which can run code when loaded); "
                "re-save the adapter with safetensors (save_pretrained does by default)"
            )
        raise ModelError(f"{path} not found: the adapter folder has no weights")
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # SafetensorError
        raise ModelError(f"{path}: not a readable safetensors file ({exc})") from exc


def split_lora_key(key: str) -> tuple[str, str] | None:
    """``(module path, part)`` for an adapter tensor name such as ``base_model.model.x.q.lora_A.weight``.

    ``part`` is lora_A, lora_B or lora_E; None for other tensors (classifier heads, biases).
    """
    parts = key.split(".")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in LORA_PARTS:
            module = ".".join(parts[:i])
            while module.startswith(PEFT_PREFIX):
                module = module[len(PEFT_PREFIX):]
            return module, parts[i]
    return None


def normalized_rank_pattern(config: dict[str, Any]) -> dict[str, list[bool]] | None:
    """AdaLoRA ``rank_pattern`` keyed by module path (live ``.lora_E.default`` and saved ``.lora_E`` keys alike),
    or None when the adapter was saved before the first mask step (every matrix holds init_r)."""
    pattern = config.get("rank_pattern")
    if not pattern:
        return None
    return {normalize_rank_key(str(k)): [bool(v) for v in flags] for k, flags in pattern.items()}


def read_adapter_ranks(adapter_dir: str | Path) -> list[AdapterMatrixRank]:
    """The rank of every adapted matrix of a saved adapter (AdaLoRA, or LoRA), in natural module order.

    AdaLoRA: rank = ``sum(rank_pattern[module])``; a null ``rank_pattern`` means every matrix holds ``init_r``.
    A matrix pruned to rank 0 is listed with rank 0. ``adapter_dir`` may also be a run folder.
    """
    adapter_dir = adapter_dir_of(adapter_dir)
    config = read_adapter_config(adapter_dir)
    shapes = tensor_shapes(adapter_dir)
    peft_type = str(config.get("peft_type", "")).upper()
    if peft_type not in ("ADALORA", "LORA"):
        raise ModelError(f"{adapter_dir}: a {peft_type} adapter has no ranks to show (AdaLoRA or LoRA expected)")

    dims: dict[str, dict[str, tuple[int, ...]]] = {}
    for key, shape in shapes.items():
        split = split_lora_key(key)
        if split is not None:
            dims.setdefault(split[0], {})[split[1]] = shape

    rows = []
    if peft_type == "ADALORA":
        init_r = int(config.get("init_r") or 0)
        pattern = normalized_rank_pattern(config) or {}
        modules = set(dims) | set(pattern)
        if not modules:
            raise ModelError(f"{adapter_dir}: no adapted matrices found (no rank_pattern and no {WEIGHTS_NAME})")
        for module in modules:
            parts = dims.get(module, {})
            if module in pattern:
                rank = sum(pattern[module])
                module_init = len(pattern[module]) or init_r
            elif "lora_E" in parts:
                rank, module_init = parts["lora_E"][0], init_r
            else:
                rank, module_init = init_r, init_r
            in_f = parts["lora_A"][-1] if "lora_A" in parts else None
            out_f = parts["lora_B"][0] if "lora_B" in parts else None
            rows.append(AdapterMatrixRank(module, rank, module_init, in_f, out_f))
    else:
        if not dims:
            raise ModelError(f"{adapter_dir}: no LoRA tensors found in {WEIGHTS_NAME}")
        for module, parts in dims.items():
            rank = parts["lora_A"][0] if "lora_A" in parts else int(config.get("r") or 0)
            in_f = parts["lora_A"][-1] if "lora_A" in parts else None
            out_f = parts["lora_B"][0] if "lora_B" in parts else None
            rows.append(AdapterMatrixRank(module, rank, rank, in_f, out_f, method="lora"))
    return sorted(rows, key=lambda r: natural_key(r.module))


def format_rank_table(rows: Sequence[AdapterMatrixRank] | Iterable[AdapterMatrixRank]) -> str:
    """An aligned text table (module, rank, init_r, kept %, params) with a totals line."""
    rows = list(rows)
    if not rows:
        return "(no adapted matrices)\n"
    show_params = all(r.params is not None for r in rows)
    header = ["module", "rank", "init_r", "kept"] + (["params"] if show_params else [])
    body = []
    for r in rows:
        kept = f"{100.0 * r.rank / r.init_r:.0f}%" if r.init_r else "-"
        line = [r.module, str(r.rank), str(r.init_r), kept]
        if show_params:
            line.append(f"{r.params:,}")
        body.append(line)
    total_rank = sum(r.rank for r in rows)
    total_init = sum(r.init_r for r in rows)
    zero = sum(1 for r in rows if r.rank == 0)
    total = [f"total ({len(rows)} matrices, {zero} at rank 0)", str(total_rank), str(total_init),
             f"{100.0 * total_rank / total_init:.0f}%" if total_init else "-"]
    if show_params:
        total.append(f"{sum(r.params or 0 for r in rows):,}")
    widths = [max(len(line[i]) for line in [header, *body, total]) for i in range(len(header))]

    def fmt(line: list[str]) -> str:
        cells = [line[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(line[1:], widths[1:], strict=False)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body), rule, fmt(total)]) + "\n"
