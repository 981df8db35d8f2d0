"""Loading a saved adapter onto its base model exactly as a user of plain peft would (``PeftModel.from_pretrained``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import ModelConfig
from ..errors import ModelError
from .adapter_folder import adapter_dir_of, read_adapter_config, tensor_shapes
from .ranks import ADAPTER_NAME


def load_adapter_model(
    adapter_dir: str | Path,
    model_cfg: ModelConfig,
    task: str | None = None,
    label_names: Sequence[str] | None = None,
) -> tuple[Any, Any]:
    """``(PeftModel, tokenizer)``: the base model loaded with :func:`models.load_model_and_tokenizer` and the
    saved adapter on top (float32, eval mode). ``task`` defaults to the adapter's task type; a classifier's
    labels default to generic names sized from the saved head."""
    from peft import PeftModel

    from ..model import load_model_and_tokenizer

    adapter_dir = adapter_dir_of(adapter_dir)
    config = read_adapter_config(adapter_dir)
    if task is None:
        task = TASK_OF_PEFT_TASK_TYPE.get(str(config.get("task_type")))
        if task is None:
            raise ModelError(
                f"{adapter_dir}: task type {config.get('task_type')!r} is not one the studio runs; "
                "give the task (text-classification or causal-lm)"
            )
    if task == "text-classification" and not label_names:
        n = _infer_num_labels(adapter_dir, config)
        label_names = [f"LABEL_{i}" for i in range(n)] if n else None
    base, tokenizer = load_model_and_tokenizer(model_cfg, task, label_names)
    try:
        with warnings.catch_warnings():
            # peft 0.21's LoRA-style check does not understand AdaLoRA's mask keys; the adapter loads correctly
            warnings.filterwarnings("ignore", message=".*rank_pattern keys did not match.*")
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            model = PeftModel.from_pretrained(base, str(adapter_dir), adapter_name=ADAPTER_NAME)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ModelError(
            f"the adapter in {adapter_dir} does not fit the base model ({model_cfg.source} {model_cfg.path}): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. Choose the base it was trained on."
        ) from exc
    model.eval()
    return model, tokenizer


TASK_OF_PEFT_TASK_TYPE = {"SEQ_CLS": "text-classification", "CAUSAL_LM": "causal-lm",
                          "QUESTION_ANS": "question-answering", "SEQ_2_SEQ_LM": "seq2seq"}


def _infer_num_labels(adapter_dir: Path, config: dict[str, Any]) -> int | None:
    """Number of classes from the saved classifier head in ``modules_to_save`` (None when not found)."""
    heads = [str(m) for m in (config.get("modules_to_save") or [])]
    best: tuple[int, int] | None = None
    for key, shape in tensor_shapes(adapter_dir).items():
        if len(shape) != 2 or not key.endswith(".weight"):
            continue
        parts = key.split(".")
        if not any(h in parts for h in heads):
            continue
        preference = 0 if parts[-2] in ("out_proj", "classifier", "score") else 1
        if best is None or preference < best[0]:
            best = (preference, int(shape[0]))
    return best[1] if best else None
