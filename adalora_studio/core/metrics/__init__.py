"""Task metrics in plain Python: SQuAD exact match and F1 (the official v1.1/v2.0 rules), span post-processing,
and generation metrics (ROUGE through ``rouge-score``, BLEU/chrF through ``sacrebleu``, exact match).

Every score is a percentage (0-100), as the SQuAD script and the summarisation literature report them.
"""

from __future__ import annotations

from .generation import (
    GENERATION_METRICS,
    METRIC_PACKAGES,
    generation_scores,
    metric_package_missing,
    missing_metric_message,
    per_example_score,
    resolve_metric,
)
from .qa_spans import SpanPrediction, best_span
from .squad import exact_match_score, f1_score, normalize_answer, squad_scores

__all__ = [
    "normalize_answer",
    "exact_match_score",
    "f1_score",
    "squad_scores",
    "SpanPrediction",
    "best_span",
    "GENERATION_METRICS",
    "METRIC_PACKAGES",
    "generation_scores",
    "per_example_score",
    "resolve_metric",
    "metric_package_missing",
    "missing_metric_message",
]
