"""Base models: loading (bundled, folder, GGUF, hub) and discovery of the matrices AdaLoRA can adapt.

:func:`describe_model` builds the task model on PyTorch's ``meta`` device from its config alone, so listing the
adaptable matrices of a 7B model takes a second and reads no weights. :func:`load_model_and_tokenizer` loads
the real thing in float32. Module paths in :class:`AdaptableMatrix` are those of the task model
(e.g. ``bert.encoder.layer.0.attention.self.query`` for sequence classification) and are what peft's
``target_modules`` receives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ModelConfig
from ..errors import ConfigError, ModelError
from .loading import _auto_class, _check_task, _load_config, _prepare_config
from .sources import explain_load_error, resolve_source

# Path components that mark a module AdaLoRA should not adapt: task heads, poolers and embeddings.
EXCLUDED_PARTS = frozenset({
    "classifier", "pre_classifier", "score", "lm_head", "pooler", "qa_outputs", "cls", "embed_out",
    "embeddings", "embed_tokens", "embed_positions", "wte", "wpe", "output_layer", "head",
})

# Ordered (dotted suffix, matrix type): the first that matches wins. Checked before _LAST_NAME_TYPES.
_SUFFIX_TYPES: tuple[tuple[str, str], ...] = (
    ("attention.self.query", "query"),
    ("attention.self.key", "key"),
    ("attention.self.value", "value"),
    ("attention.output.dense", "attn_out"),
    ("intermediate.dense", "ffn_in"),
    ("output.dense", "ffn_out"),
    ("attn.c_attn", "qkv"),
    ("attn.q_attn", "query"),
    ("attn.c_proj", "attn_out"),
    ("mlp.c_fc", "ffn_in"),
    ("mlp.c_proj", "ffn_out"),
)
# Last path component -> matrix type (Llama, Mistral, Qwen, Phi, DistilBERT, OPT, GPT-NeoX, Falcon, ...).
_LAST_NAME_TYPES = {
    "q_proj": "query", "k_proj": "key", "v_proj": "value", "o_proj": "attn_out", "out_proj": "attn_out",
    "query": "query", "key": "key", "value": "value", "q": "query", "k": "key", "v": "value", "o": "attn_out",
    "q_lin": "query", "k_lin": "key", "v_lin": "value", "out_lin": "attn_out",
    "qkv_proj": "qkv", "query_key_value": "qkv", "wqkv": "qkv", "c_attn": "qkv",
    "gate_proj": "gate", "up_proj": "up", "down_proj": "down", "gate_up_proj": "gate_up",
    "w1": "gate", "w3": "up", "w2": "down",
    "fc1": "ffn_in", "fc2": "ffn_out", "lin1": "ffn_in", "lin2": "ffn_out", "c_fc": "ffn_in",
    "dense_h_to_4h": "ffn_in", "dense_4h_to_h": "ffn_out", "wi": "ffn_in", "wo": "ffn_out",
}
DEFAULT_MATRIX_TYPES = frozenset({
    "query", "key", "value", "attn_out", "qkv", "ffn_in", "ffn_out", "gate", "up", "down", "gate_up",
    "cross_query", "cross_key", "cross_value", "cross_attn_out",
})
_CROSS_ATTENTION_PARTS = frozenset({"EncDecAttention", "encoder_attn", "crossattention"})
"""Path components of encoder-decoder cross-attention (T5, BART/mBART/Marian, BERT-style decoders)."""
"""Matrix types adapted when ``budget.target_modules`` is empty: all attention and feed-forward matrices, as
in the AdaLoRA paper, which leaves the allocator room to move budget between them."""


@dataclass(frozen=True)
class AdaptableMatrix:
    """One weight matrix AdaLoRA can adapt (an ``nn.Linear`` or transformers ``Conv1D``)."""

    module: str
    """Full module path in the task model, e.g. ``bert.encoder.layer.3.attention.self.value``."""
    layer: int | None
    """Transformer block index, or None for a matrix outside the stacked blocks."""
    matrix_type: str
    """Normalised role: query, key, value, attn_out, qkv, ffn_in, ffn_out, gate, up, down (or the module name)."""
    in_features: int
    out_features: int
    layer_kind: str = "linear"
    """``linear`` or ``conv1d`` (GPT-2's transposed layout)."""

    @property
    def name(self) -> str:
        """Short display name, e.g. ``L3.value`` (just the type for a matrix outside the blocks)."""
        return self.matrix_type if self.layer is None else f"L{self.layer}.{self.matrix_type}"

    @property
    def params_per_rank(self) -> int:
        """Adapter parameters per AdaLoRA triplet: a column of P, a row of Q and one singular value."""
        return self.in_features + self.out_features + 1


@dataclass(frozen=True)
class ModelInfo:
    """What :func:`describe_model` found: the model in one line and its adaptable matrices."""

    description: str
    architecture: str
    model_type: str
    n_params: int
    n_layers: int
    matrices: tuple[AdaptableMatrix, ...]
    default_targets: tuple[str, ...]
    """Full module paths adapted when ``budget.target_modules`` is empty."""
    task: str = ""

    @property
    def matrix_types(self) -> tuple[str, ...]:
        """The matrix types present, in model order."""
        return tuple(dict.fromkeys(m.matrix_type for m in self.matrices))

    def by_module(self) -> dict[str, AdaptableMatrix]:
        """The matrices keyed by full module path."""
        return {m.module: m for m in self.matrices}


# ------------------------------------------------------------------------------------------ discovery


def matrix_type_of(module_path: str) -> str:
    """The normalised matrix type of a module path (its last component when no rule matches); cross-attention
    matrices of encoder-decoder models get a ``cross_`` prefix (``cross_query``)."""
    if _CROSS_ATTENTION_PARTS & set(module_path.split(".")):
        return "cross_" + _self_type_of(module_path)
    return _self_type_of(module_path)


def _self_type_of(module_path: str) -> str:
    for suffix, kind in _SUFFIX_TYPES:
        if module_path == suffix or module_path.endswith("." + suffix):
            return kind
    last = module_path.rsplit(".", 1)[-1]
    return _LAST_NAME_TYPES.get(last.lower(), last)


def _layer_of(module_path: str) -> int | None:
    for part in module_path.split("."):
        if part.isdigit():
            return int(part)
    return None


def _excluded(module_path: str) -> bool:
    return any(part in EXCLUDED_PARTS for part in module_path.split("."))


def find_adaptable_matrices(model: Any) -> tuple[AdaptableMatrix, ...]:
    """Every ``nn.Linear`` / ``Conv1D`` of ``model`` outside heads, poolers and embeddings, in model order."""
    from torch import nn
    from transformers.pytorch_utils import Conv1D

    found: list[AdaptableMatrix] = []
    for path, module in model.named_modules():
        if not path or _excluded(path):
            continue
        if isinstance(module, nn.Linear):
            kind, fan_in, fan_out = "linear", module.in_features, module.out_features
        elif isinstance(module, Conv1D):
            fan_in, fan_out = module.weight.shape  # Conv1D stores (in, out)
            kind = "conv1d"
        else:
            continue
        found.append(AdaptableMatrix(path, _layer_of(path), matrix_type_of(path), int(fan_in), int(fan_out), kind))
    return _number_decoder_layers(found)


def _number_decoder_layers(found: list[AdaptableMatrix]) -> tuple[AdaptableMatrix, ...]:
    """In an encoder-decoder model, number the decoder's blocks after the encoder's (L0-L5 encoder, L6-L11 decoder),
    so every matrix has its own display name and heatmap cell."""
    def side(m: AdaptableMatrix) -> str:
        parts = m.module.split(".")
        return "decoder" if "decoder" in parts else "encoder" if "encoder" in parts else ""

    encoder_layers = [m.layer for m in found if side(m) == "encoder" and m.layer is not None]
    if not encoder_layers or not any(side(m) == "decoder" for m in found):
        return tuple(found)
    offset = max(encoder_layers) + 1
    return tuple(dataclasses.replace(m, layer=m.layer + offset) if side(m) == "decoder" and m.layer is not None
                 else m for m in found)


def default_targets(matrices: Sequence[AdaptableMatrix]) -> tuple[str, ...]:
    """The default selection: attention and feed-forward matrices inside the blocks (fallbacks: all in blocks, all)."""
    in_blocks = [m for m in matrices if m.layer is not None]
    chosen = [m for m in in_blocks if m.matrix_type in DEFAULT_MATRIX_TYPES] or in_blocks or list(matrices)
    return tuple(m.module for m in chosen)



def _n_layers(config: Any, matrices: Sequence[AdaptableMatrix]) -> int:
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    for attr in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(text, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    layers = {m.layer for m in matrices if m.layer is not None}
    return len(layers)


def _format_count(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def describe_model(model_cfg: ModelConfig, task: str, num_labels: int = 2) -> ModelInfo:
    """Describe the model for ``task`` without reading its weights (built on the meta device from its config).

    Raises :class:`ModelError` when the model cannot be found, is not allowed (pickle weights, remote code) or
    does not support the task.
    """
    import torch

    source = resolve_source(model_cfg)
    auto_cls = _auto_class(task)
    config = _load_config(source)
    _check_task(config, task, source)
    _prepare_config(config, task, None, max(1, num_labels))
    try:
        with torch.device("meta"):
            model = auto_cls.from_config(config, trust_remote_code=model_cfg.trust_remote_code)
    except ValueError as exc:
        raise ModelError(
            f"task: {source.label} ({getattr(config, 'model_type', '?')}) has no {task} model class in "
            f"transformers: {str(exc).splitlines()[0]}"
        ) from exc
    except (OSError, KeyError, RuntimeError, ImportError, TypeError) as exc:
        raise explain_load_error(source, "model structure", exc) from exc
    matrices = find_adaptable_matrices(model)
    if not matrices:
        raise ModelError(f"{source.label}: no nn.Linear or Conv1D layers found outside the heads; "
                         "AdaLoRA has nothing to adapt in this model.")
    n_params = sum(p.numel() for p in model.parameters())
    n_layers = _n_layers(config, matrices)
    architecture = type(model).__name__
    description = f"{source.label}: {architecture}, {_format_count(n_params)} parameters, {n_layers} layers"
    return ModelInfo(
        description=description,
        architecture=architecture,
        model_type=str(getattr(config, "model_type", "")),
        n_params=int(n_params),
        n_layers=n_layers,
        matrices=matrices,
        default_targets=default_targets(matrices),
        task=task,
    )


# ------------------------------------------------------------------------------------------ selection


def select_targets(info: ModelInfo, target_modules: Sequence[str]) -> tuple[AdaptableMatrix, ...]:
    """The matrices named by ``target_modules`` (empty: ``info.default_targets``), in model order.

    Each entry matches a full module path, a dotted suffix of one (``value``, ``attention.self.value``), a
    matrix type (``attn_out``) or a display name (``L3.value``). Entries that match nothing raise
    ``ConfigError("budget.target_modules", ...)`` listing the valid choices.
    """
    if not target_modules:
        wanted = set(info.default_targets)
        return tuple(m for m in info.matrices if m.module in wanted)
    chosen: set[str] = set()
    unknown: list[str] = []
    for raw in target_modules:
        entry = raw.strip()
        hits = [m.module for m in info.matrices if _matches(m, entry)] if entry else []
        if hits:
            chosen.update(hits)
        else:
            unknown.append(raw)
    if unknown:
        names = ", ".join(f"'{u}'" for u in unknown)
        suffixes = sorted({m.module.rsplit(".", 1)[-1] for m in info.matrices})
        raise ConfigError(
            "budget.target_modules",
            f"{names} match no adaptable matrix of {info.architecture}. Valid: matrix types "
            f"{', '.join(info.matrix_types)}; module names {', '.join(suffixes)}; or full paths such as "
            f"{info.matrices[0].module}. Heads, poolers and embeddings cannot be adapted.",
        )
    return tuple(m for m in info.matrices if m.module in chosen)


def _matches(matrix: AdaptableMatrix, entry: str) -> bool:
    return (
        matrix.module == entry
        or matrix.module.endswith("." + entry)
        or matrix.matrix_type == entry
        or matrix.name == entry
    )


# ------------------------------------------------------------------------------------------ loading



