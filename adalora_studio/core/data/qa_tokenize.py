"""Doc-stride tokenisation for extractive question answering, and its padding collator.

``question [SEP] context`` is tokenised with ``truncation="only_second"``: a context longer than the window is
cut into overlapping windows (``stride = data.doc_stride`` tokens shared between neighbours), each a feature.
A feature's label is the token span of the (first) gold answer when the answer lies wholly inside that window,
else the first token (``[CLS]``: "not in this window"), as in the AdaLoRA paper's SQuAD setup. Evaluation
features keep each token's character offsets in the context (``(-1, -1)`` outside it) and the index of their
example, so predicted spans map back to characters (:func:`adalora_studio.core.metrics.best_span`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DataError
from .squad import QAExample

MODEL_KEYS = ("input_ids", "attention_mask", "token_type_ids")
LABEL_KEYS = ("start_positions", "end_positions")
OFFSETS = "offset_mapping"
EXAMPLE_INDEX = "example_index"


def _token_span(offsets: Sequence[tuple[int, int]], seq_ids: Sequence[int | None], start: int,
                end: int) -> tuple[int, int] | None:
    """Token positions (first, last) of characters [start, end) when they lie inside this window's context."""
    ctx = [i for i, s in enumerate(seq_ids) if s == 1]
    if not ctx or offsets[ctx[0]][0] > start or offsets[ctx[-1]][1] < end:
        return None
    first = next(i for i in ctx if offsets[i][1] > start)
    last = next(i for i in reversed(ctx) if offsets[i][0] < end)
    return first, last


def tokenize_qa(examples: Sequence[QAExample], tokenizer: Any, max_length: int, doc_stride: int, path: str,
                answers_column: str, keep_offsets: bool) -> dict[str, list[Any]]:
    """Features (as columns) of ``examples``; raises :class:`DataError` naming the row for a question that leaves no
    room for the context or an answer that fits in no window."""
    if not getattr(tokenizer, "is_fast", False):
        raise DataError("question answering needs a fast tokenizer (offset mapping); this model's tokenizer is not "
                        "one. Choose a model with a tokenizer.json.", file=path)
    columns: dict[str, list[Any]] = {k: [] for k in (*MODEL_KEYS, *LABEL_KEYS)}
    if keep_offsets:
        columns[OFFSETS], columns[EXAMPLE_INDEX] = [], []
    for lo in range(0, len(examples), 256):
        batch = examples[lo:lo + 256]
        for ex in batch:
            n_q = len(tokenizer(ex.question, add_special_tokens=False)["input_ids"])
            if n_q + 4 >= max_length:
                raise DataError(f"question {ex.id!r} takes {n_q} tokens and leaves no room for the context in "
                                f"data.max_length ({max_length}); raise data.max_length", file=path, row=ex.row,
                                column="question")
        enc = tokenizer([e.question for e in batch], [e.context for e in batch], truncation="only_second",
                        max_length=max_length, stride=doc_stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True)
        found = [not e.answer_texts for e in batch]
        for i, sample in enumerate(enc["overflow_to_sample_mapping"]):
            ex = batch[sample]
            seq_ids = enc.sequence_ids(i)
            offsets = enc["offset_mapping"][i]
            span = None
            if ex.answer_texts:
                start = ex.answer_starts[0]
                span = _token_span(offsets, seq_ids, start, start + len(ex.answer_texts[0]))
                found[sample] = found[sample] or span is not None
            for key in MODEL_KEYS:
                if key in enc:
                    columns[key].append(enc[key][i])
            columns["start_positions"].append(span[0] if span else 0)
            columns["end_positions"].append(span[1] if span else 0)
            if keep_offsets:
                columns[OFFSETS].append([list(o) if s == 1 else [-1, -1] for o, s in zip(offsets, seq_ids,
                                                                                          strict=True)])
                columns[EXAMPLE_INDEX].append(lo + sample)
        for sample, ok in enumerate(found):
            if not ok:
                ex = batch[sample]
                n_a = len(tokenizer(ex.answer_texts[0], add_special_tokens=False)["input_ids"])
                raise DataError(f"question {ex.id!r}: the answer {ex.answer_texts[0][:60]!r} ({n_a} tokens) fits in "
                                f"no window of data.max_length {max_length} tokens (doc stride {doc_stride}); "
                                "raise data.max_length or shorten the answer", file=path, row=ex.row,
                                column=answers_column)
    return {k: v for k, v in columns.items() if v or k in LABEL_KEYS}


@dataclass
class QACollator:
    """Pads input_ids/attention_mask/token_type_ids (tokenizer.pad), stacks start/end positions, and leaves out
    the evaluation-only offsets and example indices."""

    tokenizer: Any

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        inputs = [{k: f[k] for k in MODEL_KEYS if k in f} for f in features]
        batch = dict(self.tokenizer.pad(inputs, return_tensors="pt"))
        for key in LABEL_KEYS:
            if key in features[0]:
                batch[key] = torch.tensor([int(f[key]) for f in features], dtype=torch.long)
        return batch
