"""Datasets for a run: load, preview, column roles, checks, the seeded split and tokenisation.

Everything reads through memory-mapped Arrow tables; every error names the file, row and column.
"""

from __future__ import annotations

from .columns import ColumnSummary, label_key, sort_label_names, split_indices
from .eval_rows import eval_table
from .load import FORMATS, SUFFIXES, SUPPORTED_TEXT, detect_format, load_table, resolve_format
from .prepare import DataSummary, PreparedData, inspect_dataset, prepare_data
from .preview import DataPreview, preview_data
from .tokenize import IGNORE_INDEX, CausalLMCollator, make_collator

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "SUPPORTED_TEXT",
    "detect_format",
    "resolve_format",
    "load_table",
    "DataPreview",
    "preview_data",
    "ColumnSummary",
    "sort_label_names",
    "split_indices",
    "IGNORE_INDEX",
    "CausalLMCollator",
    "make_collator",
    "DataSummary",
    "PreparedData",
    "inspect_dataset",
    "prepare_data",
    "eval_table",
    "label_key",
]
