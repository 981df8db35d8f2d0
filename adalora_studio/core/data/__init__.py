"""Datasets for a run: load, preview, column roles, chat layouts and templates, checks, the split, the doctor.

Everything reads through memory-mapped Arrow tables; every error names the file, row and column.
"""

from __future__ import annotations

from .chat import LAYOUTS, ChatLayout, detect_layout, exchanges, row_turns
from .columns import ColumnSummary, label_key, sort_label_names, split_indices
from .doctor import DoctorReport, examine_dataset, run_doctor, suggest_max_length
from .eval_rows import eval_table
from .load import FORMATS, SUFFIXES, SUPPORTED_TEXT, detect_format, load_table, resolve_delimiter, resolve_format
from .prepare import DataSummary, PreparedData, inspect_dataset, prepare_data
from .preview import DataPreview, preview_data
from .qa_prepare import count_train_windows
from .readers import CANDIDATE_DELIMITERS, DELIMITER_NAMES, XLSX_INSTALL, sniff_delimiter, xlsx_sheets
from .starter import starting_data
from .templates import encode_turns, has_chat_template, prompt_text, render_tokens, resolve_template
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
    "resolve_delimiter",
    "LAYOUTS",
    "ChatLayout",
    "detect_layout",
    "row_turns",
    "exchanges",
    "DoctorReport",
    "run_doctor",
    "examine_dataset",
    "suggest_max_length",
    "CANDIDATE_DELIMITERS",
    "DELIMITER_NAMES",
    "XLSX_INSTALL",
    "sniff_delimiter",
    "xlsx_sheets",
    "encode_turns",
    "has_chat_template",
    "prompt_text",
    "render_tokens",
    "resolve_template",
    "starting_data",
    "count_train_windows",
]
