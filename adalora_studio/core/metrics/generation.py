"""Generation metrics: ROUGE-1/2/L (``rouge-score``), BLEU and chrF (``sacrebleu``) and exact match.

The packages are optional (``pip install 'adalora-studio[metrics]'``); :func:`metric_package_missing` tells
before a run whether the chosen metric can be computed, and :func:`missing_metric_message` says how to install
it. Scores are percentages: ROUGE as mean F-measure x 100, BLEU and chrF as sacrebleu's corpus scores, exact
match after SQuAD's answer normalisation.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from .squad import exact_match_score

GENERATION_METRICS = ("rouge", "bleu", "chrf", "exact_match")
METRIC_PACKAGES = {"rouge": ("rouge_score", "rouge-score"), "bleu": ("sacrebleu", "sacrebleu"),
                   "chrf": ("sacrebleu", "sacrebleu")}
"""Metric -> (module to import, package to install)."""


def resolve_metric(task: str, chosen: str) -> str:
    """The metric ``data.eval_metric`` means for ``task`` ("auto": squad for QA, rouge for seq2seq, else loss)."""
    if chosen != "auto":
        return chosen
    return {"question-answering": "squad", "seq2seq": "rouge"}.get(task, "loss")


def metric_package_missing(metric: str) -> bool:
    """Whether the package ``metric`` needs is not installed (False for metrics that need none)."""
    if metric not in METRIC_PACKAGES:
        return False
    return importlib.util.find_spec(METRIC_PACKAGES[metric][0]) is None


def missing_metric_message(metric: str) -> str:
    """What to do when ``metric``'s package is missing: how to install it, and the eval-loss fallback."""
    package = METRIC_PACKAGES[metric][1]
    return (f"data.eval_metric '{metric}' needs the {package} package, which is not installed. Install it with "
            f"`pip install {package}` (or `pip install 'adalora-studio[metrics]'`), or set "
            "data.metric_fallback_to_loss to true to evaluate by eval loss alone.")


def _rouge(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    from rouge_score import rouge_scorer

    keys = ("rouge1", "rouge2", "rougeL")
    scorer = rouge_scorer.RougeScorer(list(keys), use_stemmer=True)
    sums = dict.fromkeys(keys, 0.0)
    for pred, ref in zip(predictions, references, strict=True):
        scores = scorer.score(ref, pred)
        for k in keys:
            sums[k] += scores[k].fmeasure
    n = max(len(predictions), 1)
    return {k: 100.0 * v / n for k, v in sums.items()}


def generation_scores(metric: str, predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus scores of ``predictions`` against one reference each, for ``metric`` (exact match always added)."""
    n = max(len(predictions), 1)
    out = {"exact_match": 100.0 * sum(exact_match_score(p, r) for p, r in zip(predictions, references,
                                                                              strict=True)) / n}
    if metric == "rouge":
        out.update(_rouge(predictions, references))
    elif metric in ("bleu", "chrf"):
        import sacrebleu

        if metric == "bleu":
            out["bleu"] = float(sacrebleu.corpus_bleu(list(predictions), [list(references)]).score)
        else:
            out["chrf"] = float(sacrebleu.corpus_chrf(list(predictions), [list(references)]).score)
    elif metric != "exact_match":
        raise ValueError(f"unknown generation metric {metric!r}; use one of {', '.join(GENERATION_METRICS)}")
    return out


def per_example_score(metric: str, prediction: str, reference: str) -> float:
    """One example's score for ``metric`` (for ranking the worst examples in a report)."""
    if metric == "rouge":
        return _rouge([prediction], [reference])["rougeL"]
    if metric in ("bleu", "chrf"):
        import sacrebleu

        if metric == "bleu":
            return float(sacrebleu.sentence_bleu(prediction, [reference]).score)
        return float(sacrebleu.sentence_chrf(prediction, [reference]).score)
    return 100.0 * exact_match_score(prediction, reference)
