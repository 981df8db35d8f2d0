"""Batched tokenisation (no padding at map time) and the padding collators used by the training loop."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import datasets

IGNORE_INDEX = -100
"""Label value the loss ignores: prompt tokens and padding in causal-LM examples."""
LENGTH_COLUMN = "_full_length"


def tokenize_classification(ds: datasets.Dataset, tokenizer: Any, text_columns: Sequence[str], label_column: str,
                            label_to_id: Mapping[str, int], max_length: int,
                            key: Callable[[Any], str]) -> datasets.Dataset:
    """Tokenise one text column (or a pair) with truncation to ``max_length`` and map labels to ids."""
    first = text_columns[0]
    second = text_columns[1] if len(text_columns) > 1 else None

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        texts = [str(t) for t in batch[first]]
        pairs = [str(t) for t in batch[second]] if second else None
        out = dict(tokenizer(texts, pairs, truncation=True, max_length=max_length))
        out["labels"] = [label_to_id[key(v)] for v in batch[label_column]]
        return out

    return ds.map(encode, batched=True, remove_columns=ds.column_names, desc="Tokenising")


def tokenize_causal(ds: datasets.Dataset, tokenizer: Any, prompt_column: str, response_column: str,
                    max_length: int) -> datasets.Dataset:
    """Tokenise ``prompt + "\\n" + response + eos`` with labels -100 on the prompt tokens.

    Examples longer than ``max_length`` are cut at ``max_length`` tokens; the full length is kept in the
    ``_full_length`` column so the caller can count and report them (see :func:`finish_causal`).
    """
    eos = tokenizer.eos_token_id

    def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        prompts = tokenizer([f"{p}\n" for p in batch[prompt_column]], add_special_tokens=True)["input_ids"]
        answers = tokenizer([str(r) for r in batch[response_column]], add_special_tokens=False)["input_ids"]
        ids: list[list[int]] = []
        masks: list[list[int]] = []
        labels: list[list[int]] = []
        lengths: list[int] = []
        for p, r in zip(prompts, answers, strict=False):
            full = list(p) + list(r) + ([eos] if eos is not None else [])
            target = [IGNORE_INDEX] * len(p) + full[len(p):]
            lengths.append(len(full))
            ids.append(full[:max_length])
            labels.append(target[:max_length])
            masks.append([1] * min(len(full), max_length))
        columns: dict[str, list[Any]] = {"input_ids": ids, "attention_mask": masks, "labels": labels}
        columns[LENGTH_COLUMN] = lengths
        return columns

    return ds.map(encode, batched=True, remove_columns=ds.column_names, desc="Tokenising")


def too_long_indices(ds: datasets.Dataset, max_length: int) -> list[int]:
    """0-based positions in ``ds`` (as :func:`tokenize_causal` returns it) of examples longer than ``max_length``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths = ds.with_format("arrow")[LENGTH_COLUMN]
    if isinstance(lengths, pa.ChunkedArray):
        lengths = lengths.combine_chunks()
    return pc.indices_nonzero(pc.fill_null(pc.greater(lengths, max_length), False)).to_pylist()


def finish_causal(ds: datasets.Dataset, max_length: int) -> tuple[datasets.Dataset, int, int]:
    """Drop examples with no response token left after cutting; return (dataset, n_too_long, n_dropped)."""
    import pyarrow.compute as pc

    lengths = ds.with_format("arrow")[LENGTH_COLUMN]
    too_long = int(pc.sum(pc.greater(lengths, max_length)).as_py() or 0)
    keep = ds.filter(lambda labels: any(x != IGNORE_INDEX for x in labels), input_columns="labels",
                     desc="Checking lengths") if too_long else ds
    return keep.remove_columns(LENGTH_COLUMN), too_long, len(ds) - len(keep)


@dataclass
class CausalLMCollator:
    """Right-pads ``input_ids`` with ``pad_token_id``, ``attention_mask`` with 0 and ``labels`` with -100."""

    pad_token_id: int

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
        for f in features:
            ids = list(f["input_ids"])
            gap = width - len(ids)
            batch["input_ids"].append(ids + [self.pad_token_id] * gap)
            batch["attention_mask"].append(list(f.get("attention_mask", [1] * len(ids))) + [0] * gap)
            batch["labels"].append(list(f.get("labels", ids)) + [IGNORE_INDEX] * gap)
        return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}


def make_collator(task: str, tokenizer: Any) -> Callable[[Sequence[Mapping[str, Any]]], dict[str, Any]]:
    """The batch collator for ``task``: dynamic padding to the longest example in the batch.

    text-classification: ``transformers.DataCollatorWithPadding`` (pads input_ids, attention_mask and
    token_type_ids; labels become a tensor). causal-lm: :class:`CausalLMCollator` with the tokenizer's pad id
    (its eos id, then 0, when it has none).
    """
    if task == "question-answering":
        from .qa_tokenize import QACollator

        return QACollator(tokenizer)
    if task == "seq2seq":
        from .seq2seq import seq2seq_collator

        return seq2seq_collator(tokenizer)
    if task == "causal-lm":
        pad = tokenizer.pad_token_id
        if pad is None:
            pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        return CausalLMCollator(pad_token_id=int(pad))
    from transformers import DataCollatorWithPadding

    collate: Callable[[Sequence[Mapping[str, Any]]], dict[str, Any]] = DataCollatorWithPadding(  # type: ignore[assignment]
        tokenizer=tokenizer, return_tensors="pt")
    return collate
