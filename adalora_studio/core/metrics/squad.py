"""SQuAD exact match and F1, following the official evaluation scripts (v1.1; v2.0's no-answer rule).

``normalize_answer`` lower-cases, removes punctuation, the articles a/an/the and extra whitespace; EM and F1 of a
prediction are the maximum over the gold answers. For SQuAD v2 a question without gold answers counts as the
single gold answer ``""``: only an empty prediction scores 1.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Mapping, Sequence

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (the official script's rule)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def f1_score(prediction: str, ground_truth: str, version_2: bool = False) -> float:
    """Token-overlap F1 of normalised texts. v1.1: no common token scores 0 (even two empty texts); v2.0: when
    either is empty, 1 if both are, else 0."""
    pred_tokens = normalize_answer(prediction).split()
    truth_tokens = normalize_answer(ground_truth).split()
    if version_2 and (not pred_tokens or not truth_tokens):
        return float(pred_tokens == truth_tokens)
    common = Counter(pred_tokens) & Counter(truth_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(truth_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match_score(prediction: str, ground_truth: str) -> float:
    """1.0 when the normalised texts are equal."""
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def squad_scores(predictions: Mapping[str, str], answers: Mapping[str, Sequence[str]],
                 version_2: bool = False) -> dict[str, float]:
    """``exact_match`` and ``f1`` in percent over the questions of ``answers`` (id -> gold texts).

    ``version_2`` follows the v2.0 script (empty answers; questions without gold answers have the gold ``""``);
    otherwise v1.1's rules.

    A question missing from ``predictions`` scores 0 (as the official script counts it). Questions with no gold
    answer (SQuAD v2) are also scored apart as ``noans_*``, the others as ``hasans_*``, when both kinds occur.
    """
    em: dict[str, float] = {}
    f1: dict[str, float] = {}
    for qid, truths in answers.items():
        pred = predictions.get(qid)
        if pred is None:
            em[qid] = f1[qid] = 0.0
            continue
        golds = list(truths) or [""]
        em[qid] = max(exact_match_score(pred, g) for g in golds)
        f1[qid] = max(f1_score(pred, g, version_2) for g in golds)
    n = max(len(answers), 1)
    out = {"exact_match": 100.0 * sum(em.values()) / n, "f1": 100.0 * sum(f1.values()) / n}
    has = [q for q, t in answers.items() if t]
    no = [q for q, t in answers.items() if not t]
    if has and no:
        for name, ids in (("hasans", has), ("noans", no)):
            out[f"{name}_exact_match"] = 100.0 * sum(em[q] for q in ids) / len(ids)
            out[f"{name}_f1"] = 100.0 * sum(f1[q] for q in ids) / len(ids)
    return out
