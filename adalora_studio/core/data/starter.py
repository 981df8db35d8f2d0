"""A starting ``data`` section for a file (``adalora-studio init-config --data FILE``): read its start with the
reader the file needs and say what was detected, leaving every choice on ``auto`` so training reads it the same way.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..config import DataConfig
from .preview import preview_data
from .readers import DELIMITER_NAMES


def starting_data(path: str | Path, task: str, base: DataConfig, sheet: str = "") -> tuple[DataConfig, list[str]]:
    """``base`` pointed at ``path`` (columns detected at run time) and lines saying what was detected.

    Raises :class:`DataError` when the file cannot be read, so a config is never written for unreadable data.
    """
    preview = preview_data(path, "auto", sheet=sheet)
    data = dataclasses.replace(base, train_file=str(Path(path)), format="auto", delimiter="auto", sheet=sheet,
                               text_columns=(), label_column="", prompt_column="", response_column="")
    lines = [f"{preview.format.upper()} file, {'about ' if preview.n_rows_is_estimate else ''}{preview.n_rows:,} "
             f"rows, columns: {', '.join(preview.columns)}"]
    if preview.delimiter:
        lines.append(f"separator: {DELIMITER_NAMES.get(preview.delimiter, preview.delimiter)}")
    if preview.sheets:
        lines.append(f"sheet: {preview.sheet} (of {', '.join(preview.sheets)})")
    if task == "causal-lm":
        lines.append(f"rows are: {preview.layout or 'no conversation or prompt/response columns found'}")
    else:
        text = ", ".join(preview.guess_text_columns) or "?"
        lines.append(f"text: {text}; label: {preview.guess_label_column or '?'}")
    return data, lines
