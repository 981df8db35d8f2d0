"""Using a trained model: load it, classify texts, generate text, and write its evaluation report.

- :mod:`.loaded` - a run's adapter, a stopped run's last checkpoint, or any adapter folder; a small model cache;
- :mod:`.classify` - predicted label and class probabilities (long inputs cut to the run's max_length, noted);
- :mod:`.generate` - token-by-token generation with a stop request (greedy or temperature/top-p);
- :mod:`.rows`, :mod:`.evaluate`, :mod:`.metrics` - evaluation rows, metrics and report sections;
- :mod:`.report`, :mod:`.report_svg`, :mod:`.after_run` - ``report.json`` (never overwritten) and its figures.
"""

from __future__ import annotations

from .after_run import report_after_run
from .classify import Prediction, ScoredBatch, predict, score_texts, truncation_note
from .evaluate import causal_eval_loss, evaluate_causal, evaluate_classification
from .generate import Generation, GenerationSettings, format_prompt, generate, prompt_ids, stream_tokens
from .loaded import LoadedModel, ModelCache, load_for_inference
from .metrics import calibration, classification_report, confusion_counts, headline, per_class, row_normalised
from .partners import ab_partners
from .report import build_report, evaluate_run, latest_report, report_files, write_report
from .report_svg import confusion_svg, reliability_svg
from .rows import EvalRows, UnseenLabelsError, file_eval_rows, run_eval_rows
from .tasks import (
    answer_loaded,
    answer_question,
    generate_text,
    generation_report,
    qa_report,
    target_loaded,
    task_report_sections,
)

__all__ = [
    "answer_question",
    "answer_loaded",
    "target_loaded",
    "generate_text",
    "qa_report",
    "generation_report",
    "task_report_sections",
    "LoadedModel",
    "ModelCache",
    "load_for_inference",
    "Prediction",
    "ScoredBatch",
    "predict",
    "score_texts",
    "truncation_note",
    "Generation",
    "GenerationSettings",
    "format_prompt",
    "prompt_ids",
    "stream_tokens",
    "generate",
    "EvalRows",
    "UnseenLabelsError",
    "run_eval_rows",
    "file_eval_rows",
    "calibration",
    "classification_report",
    "confusion_counts",
    "headline",
    "per_class",
    "row_normalised",
    "evaluate_classification",
    "evaluate_causal",
    "causal_eval_loss",
    "build_report",
    "write_report",
    "report_files",
    "latest_report",
    "evaluate_run",
    "confusion_svg",
    "reliability_svg",
    "report_after_run",
    "ab_partners",
]
