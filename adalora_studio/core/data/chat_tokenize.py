"""Causal-LM rows (any :mod:`chat` layout) to ids and labels, row checks, and plain-text chunking.

Rows are checked before tokenisation (no tokenizer needed, so ``validate`` and the wizard see the same counts):
a row that is not a usable conversation (no assistant turn, an unknown role, an empty column) is skipped, and the
skipped rows are counted and named in the summary, never dropped silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .chat import ChatLayout, row_turns
from .templates import encode_turns
from .tokenize import LENGTH_COLUMN

if TYPE_CHECKING:  # pragma: no cover
    import datasets

_BATCH = 1000


def row_problems(table: datasets.Dataset, layout: ChatLayout) -> tuple[list[int], str]:
    """0-based indices of rows that are not usable conversations, and the first one's reason."""
    columns = [c for c in layout.columns if c]
    bad: list[int] = []
    first = ""
    if layout.kind != "messages" and layout.kind != "sharegpt":
        return _blank_problems(table, layout)
    for start in range(0, len(table), _BATCH):
        batch = table.select_columns(columns)[start:start + _BATCH]
        for j in range(len(batch[columns[0]])):
            try:
                row_turns(layout, {c: batch[c][j] for c in columns})
            except ValueError as exc:
                bad.append(start + j)
                first = first or str(exc)
    return bad, first


def _blank_problems(table: datasets.Dataset, layout: ChatLayout) -> tuple[list[int], str]:
    """Rows whose required text columns are missing or blank (Arrow compute, no Python loop)."""
    import pyarrow.compute as pc

    from .arrowops import blank_mask, column_array

    required = [layout.columns[0]] if layout.kind == "text" else [layout.columns[0], layout.columns[-1]]
    blank_any = None
    first = ""
    for column in required:
        blank = blank_mask(column_array(table, column))
        if not first and pc.any(blank).as_py():
            first = f"column '{column}' is empty"
        blank_any = blank if blank_any is None else pc.or_(blank_any, blank)
    rows = pc.indices_nonzero(blank_any).to_pylist() if blank_any is not None else []
    return rows, first


def tokenize_conversations(ds: datasets.Dataset, tokenizer: Any, layout: ChatLayout, template: str,
                           max_length: int) -> datasets.Dataset:
    """Tokenise every row with ``template`` (labels -100 outside assistant turns), cut at ``max_length``.

    The full length is kept in the ``_full_length`` column, as :func:`tokenize.tokenize_causal` does.
    """
    columns = [c for c in layout.columns if c]

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"input_ids": [], "attention_mask": [], "labels": [], LENGTH_COLUMN: []}
        for j in range(len(batch[columns[0]])):
            ids, labels = encode_turns(row_turns(layout, {c: batch[c][j] for c in columns}), tokenizer, template)
            out["input_ids"].append(ids[:max_length])
            out["labels"].append(labels[:max_length])
            out["attention_mask"].append([1] * min(len(ids), max_length))
            out[LENGTH_COLUMN].append(len(ids))
        return out

    return ds.map(encode, batched=True, remove_columns=ds.column_names, desc="Tokenising")


def chunk_text(ds: datasets.Dataset, tokenizer: Any, column: str, max_length: int) -> datasets.Dataset:
    """Continued pretraining: each batch of rows joined (each row ends with the end token, else a newline) and cut
    into ``max_length``-token blocks, every token trained. A batch's last, shorter block is kept, not dropped."""
    eos = tokenizer.eos_token_id
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"]

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        stream: list[int] = []
        for i, ids in enumerate(tokenizer([str(t) for t in batch[column]], add_special_tokens=False)["input_ids"]):
            if i == 0:
                stream.extend(tokenizer("", add_special_tokens=True)["input_ids"])
            stream.extend(ids)
            stream.extend([eos] if eos is not None else newline)
        blocks = [stream[i:i + max_length] for i in range(0, len(stream), max_length)]
        return {"input_ids": blocks, "attention_mask": [[1] * len(b) for b in blocks], "labels": blocks,
                LENGTH_COLUMN: [len(b) for b in blocks]}

    return ds.map(encode, batched=True, batch_size=_BATCH, remove_columns=ds.column_names, desc="Chunking")
