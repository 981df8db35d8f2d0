"""Loading a base model and its tokenizer with real weights (float32), through transformers' Auto classes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from ..config import ModelConfig
from ..errors import ModelError
from .sources import ModelSource, explain_load_error, resolve_source

TASK_CLASSES = {
    "text-classification": "AutoModelForSequenceClassification",
    "causal-lm": "AutoModelForCausalLM",
    "question-answering": "AutoModelForQuestionAnswering",
    "seq2seq": "AutoModelForSeq2SeqLM",
}


def _auto_class(task: str) -> Any:
    import transformers

    if task not in TASK_CLASSES:
        raise ModelError(f"task: '{task}' is not supported; use {' or '.join(TASK_CLASSES)}.")
    return getattr(transformers, TASK_CLASSES[task])


def _load_config(source: ModelSource) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source.location, **source.kwargs())
    except (OSError, ValueError, KeyError, RuntimeError, ImportError, TypeError) as exc:
        raise explain_load_error(source, "model config", exc) from exc


def _check_task(config: Any, task: str, source: ModelSource) -> None:
    if task == "seq2seq" and not getattr(config, "is_encoder_decoder", False):
        raise ModelError(
            f"task: {source.label} ({getattr(config, 'model_type', '?')}) is not an encoder-decoder model; seq2seq "
            "needs one such as BART or T5 (for a decoder-only model choose task causal-lm)."
        )
    if task == "causal-lm" and getattr(config, "model_type", "") in _ENCODER_ONLY:
        raise ModelError(
            f"task: {source.label} is an encoder model ({config.model_type}) and cannot generate text; "
            "choose task text-classification or a causal language model (GPT-2, Llama, Qwen, ...)."
        )


def _prepare_config(config: Any, task: str, label_names: Sequence[str] | None, num_labels: int) -> None:
    if task != "text-classification":
        return
    names = list(label_names) if label_names else [f"LABEL_{i}" for i in range(num_labels)]
    config.num_labels = len(names)
    config.id2label = dict(enumerate(names))
    config.label2id = {name: i for i, name in enumerate(names)}
    if len(names) == 1:
        config.problem_type = "regression"
    elif getattr(config, "problem_type", None) == "regression":
        config.problem_type = None


def load_model_and_tokenizer(
    model_cfg: ModelConfig, task: str, label_names: Sequence[str] | None = None
) -> tuple[Any, Any]:
    """Load the task model (float32, real weights) and its tokenizer.

    Classification models get ``num_labels``/``id2label``/``label2id`` from ``label_names`` (two generic
    labels when None). Causal LMs, and causal models used for classification, get a pad token (the EOS token
    when there is none). Only safetensors are loaded unless ``model_cfg.allow_pickle``. Raises
    :class:`ModelError` with what to do.
    """
    import torch
    from transformers import AutoTokenizer

    source = resolve_source(model_cfg)
    auto_cls = _auto_class(task)
    config = _load_config(source)
    _check_task(config, task, source)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, **source.kwargs())
    except (OSError, ValueError, KeyError, RuntimeError, ImportError, TypeError) as exc:
        raise explain_load_error(source, "tokenizer", exc) from exc
    added_pad = _ensure_pad_token(tokenizer)
    _prepare_config(config, task, label_names, 2)
    if tokenizer.pad_token_id is not None:
        config.pad_token_id = tokenizer.pad_token_id
    try:
        with _quiet_transformers():
            model = auto_cls.from_pretrained(
                source.location, config=config, dtype=torch.float32, **source.kwargs(), **source.weight_kwargs(),
                **quantization_kwargs(getattr(model_cfg, "load_in_4bit", False)),
            )
    except (OSError, ValueError, KeyError, RuntimeError, ImportError, TypeError) as exc:
        raise explain_load_error(source, "model weights", exc) from exc
    if added_pad:
        model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    generation = getattr(model, "generation_config", None)
    if generation is not None and tokenizer.pad_token_id is not None:
        generation.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and progress bar (a new task head is expected, not news) for one load."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _ensure_pad_token(tokenizer: Any) -> bool:
    """Give the tokenizer a pad token (EOS, else UNK, else a new ``<pad>``). True if a token was added."""
    if tokenizer.pad_token is not None:
        return False
    for candidate in (tokenizer.eos_token, tokenizer.unk_token):
        if candidate is not None:
            tokenizer.pad_token = candidate
            return False
    tokenizer.add_special_tokens({"pad_token": "<pad>"})
    return True


_ENCODER_ONLY = frozenset({
    "bert", "roberta", "distilbert", "albert", "electra", "deberta", "deberta-v2", "xlm-roberta", "mpnet",
    "camembert", "modernbert", "ernie", "nomic_bert",
})


def load_tokenizer(model_cfg: ModelConfig) -> Any:
    """The model's tokenizer alone, with the pad token training gives it (for the dataset doctor). Raises
    :class:`ModelError` with what to do."""
    from transformers import AutoTokenizer

    source = resolve_source(model_cfg)
    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source.location, **source.kwargs())
    except (OSError, ValueError, KeyError, RuntimeError, ImportError, TypeError) as exc:
        raise explain_load_error(source, "tokenizer", exc) from exc
    _ensure_pad_token(tokenizer)
    return tokenizer


def quantization_kwargs(load_in_4bit: bool) -> dict[str, Any]:
    """``from_pretrained`` keyword arguments of a 4-bit NF4 base (bitsandbytes, bf16 compute, on GPU 0), or none.

    The training session checks beforehand that bitsandbytes and a CUDA GPU are there."""
    if not load_in_4bit:
        return {}
    import torch
    from transformers import BitsAndBytesConfig

    return {"quantization_config": BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16), "device_map": {"": 0}}
