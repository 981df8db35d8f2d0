"""From start/end logits over doc-stride windows back to an answer span in the context's characters.

Each window (feature) of an example carries its tokens' character offsets in the context (``(-1, -1)`` for
question and special tokens). Candidate spans are the ``n_best`` top start and end positions of each window
whose tokens lie in the context, end >= start, at most ``max_answer_length`` tokens long; a span's score is
start logit + end logit, and the best over all windows wins (as the transformers question-answering example
post-processes). With ``allow_null`` (SQuAD v2) the answer is empty when the best window's null score (the
first token's start + end logits) beats the best span.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SpanPrediction:
    """The predicted answer of one question: its text, character span in the context and scores."""

    text: str
    start_char: int
    end_char: int
    """Exclusive: ``context[start_char:end_char] == text``."""
    score: float
    """Start logit + end logit of the span (the null score for an empty answer)."""
    probability: float
    """Softmax of the span's score over every candidate span considered (and the null answer)."""


def _top(values: Sequence[float], k: int) -> list[int]:
    return sorted(range(len(values)), key=lambda i: values[i], reverse=True)[:k]


def best_span(context: str, windows: Sequence[tuple[Sequence[float], Sequence[float], Sequence[Sequence[int]]]],
              n_best: int = 20, max_answer_length: int = 30, allow_null: bool = False) -> SpanPrediction:
    """The best answer span of one question over its ``windows`` of (start_logits, end_logits, offsets)."""
    candidates: list[tuple[float, int, int]] = []
    null_score = math.inf
    for start_logits, end_logits, offsets in windows:
        null_score = min(null_score, float(start_logits[0]) + float(end_logits[0]))
        for s in _top(start_logits, n_best):
            if s >= len(offsets) or offsets[s][0] < 0:
                continue
            for e in _top(end_logits, n_best):
                if e >= len(offsets) or offsets[e][0] < 0 or e < s or e - s + 1 > max_answer_length:
                    continue
                candidates.append((float(start_logits[s]) + float(end_logits[e]), offsets[s][0], offsets[e][1]))
    scores = [c[0] for c in candidates] + ([null_score] if allow_null and math.isfinite(null_score) else [])
    if not scores:
        return SpanPrediction("", 0, 0, float("nan"), 0.0)
    top = max(scores)
    total = sum(math.exp(x - top) for x in scores)
    if not candidates or (allow_null and null_score > max(c[0] for c in candidates)):
        return SpanPrediction("", 0, 0, null_score, math.exp(null_score - top) / total)
    score, start, end = max(candidates, key=lambda c: c[0])
    return SpanPrediction(context[start:end], start, end, score, math.exp(score - top) / total)
