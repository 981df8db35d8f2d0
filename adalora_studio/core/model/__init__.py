"""Base models: where they come from (bundled, folder, GGUF, hub), what AdaLoRA can adapt in them, loading.
"""

from __future__ import annotations

from .discovery import (
    DEFAULT_MATRIX_TYPES,
    AdaptableMatrix,
    ModelInfo,
    default_targets,
    describe_model,
    find_adaptable_matrices,
    matrix_type_of,
    select_targets,
)
from .loading import TASK_CLASSES, load_model_and_tokenizer, load_tokenizer
from .sources import (
    BUNDLED_NAME,
    ModelSource,
    bundled_model_available,
    bundled_model_dir,
    hub_offline,
    hub_reachable,
    resolve_source,
)

__all__ = [
    "BUNDLED_NAME",
    "ModelSource",
    "bundled_model_dir",
    "bundled_model_available",
    "hub_offline",
    "hub_reachable",
    "resolve_source",
    "DEFAULT_MATRIX_TYPES",
    "AdaptableMatrix",
    "ModelInfo",
    "matrix_type_of",
    "find_adaptable_matrices",
    "default_targets",
    "describe_model",
    "select_targets",
    "TASK_CLASSES",
    "load_model_and_tokenizer",
    "load_tokenizer",
]
