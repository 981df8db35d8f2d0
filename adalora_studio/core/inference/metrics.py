"""Report-card metrics from per-row probabilities (plain Python, no scikit-learn).

Accuracy and macro-F1 follow :func:`training.classification_metrics` exactly (macro-F1 averages over the classes
seen in labels or predictions, as scikit-learn does), so a report reproduces the run's own numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CALIBRATION_BINS = 10
MISTAKES_SHOWN = 10


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value (the first one on ties, as torch does)."""
    return max(range(len(values)), key=values.__getitem__)


def confusion_counts(preds: Sequence[int], labels: Sequence[int], n_classes: int) -> list[list[int]]:
    """``counts[true][predicted]``."""
    counts = [[0] * n_classes for _ in range(n_classes)]
    for p, y in zip(preds, labels, strict=True):
        counts[y][p] += 1
    return counts


def row_normalised(counts: Sequence[Sequence[int]]) -> list[list[float]]:
    """Each row divided by its sum (a row of zeros stays zeros): the share of each true class predicted as each."""
    return [[c / sum(row) if sum(row) else 0.0 for c in row] for row in counts]


def per_class(counts: Sequence[Sequence[int]], names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of every class (0 where undefined)."""
    out: dict[str, dict[str, float]] = {}
    for c, name in enumerate(names):
        tp = counts[c][c]
        predicted = sum(row[c] for row in counts)
        support = sum(counts[c])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * tp / (predicted + support) if predicted + support else 0.0
        out[name] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return out


def headline(counts: Sequence[Sequence[int]]) -> dict[str, float]:
    """Accuracy and macro-F1 over the classes present in labels or predictions."""
    n = sum(sum(row) for row in counts)
    if n == 0:
        return {"accuracy": float("nan"), "macro_f1": float("nan")}
    k = len(counts)
    present = [c for c in range(k) if sum(counts[c]) or sum(row[c] for row in counts)]
    f1s = []
    for c in present:
        denom = sum(counts[c]) + sum(row[c] for row in counts)
        f1s.append(2 * counts[c][c] / denom if denom else 0.0)
    return {"accuracy": sum(counts[c][c] for c in range(k)) / n, "macro_f1": sum(f1s) / len(f1s)}


def calibration(confidences: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Reliability bins (equal width over [0, 1]) and the expected calibration error (ECE)."""
    rows: list[dict[str, float]] = []
    n = len(confidences)
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if lo < c <= hi or (b == 0 and c == 0.0)]
        if not idx:
            rows.append({"lo": lo, "hi": hi, "count": 0, "confidence": 0.0, "accuracy": 0.0})
            continue
        conf = sum(confidences[i] for i in idx) / len(idx)
        acc = sum(1 for i in idx if correct[i]) / len(idx)
        ece += len(idx) / n * abs(acc - conf)
        rows.append({"lo": lo, "hi": hi, "count": len(idx), "confidence": conf, "accuracy": acc})
    return {"bins": rows, "ece": ece if n else float("nan")}


def confident_mistakes(texts: Sequence[str], labels: Sequence[int], probs: Sequence[Sequence[float]],
                       names: Sequence[str], limit: int = MISTAKES_SHOWN) -> list[dict[str, Any]]:
    """The wrong predictions the model was surest of, most confident first, with every class's probability."""
    wrong = [i for i, (y, p) in enumerate(zip(labels, probs, strict=True)) if argmax(p) != y]
    wrong.sort(key=lambda i: -max(probs[i]))
    return [{"row": i + 1, "text": texts[i], "true": names[labels[i]], "predicted": names[argmax(probs[i])],
             "confidence": max(probs[i]), "probabilities": dict(zip(names, probs[i], strict=True))}
            for i in wrong[:limit]]


def classification_report(texts: Sequence[str], labels: Sequence[int], probs: Sequence[Sequence[float]],
                          names: Sequence[str], losses: Sequence[float] = ()) -> dict[str, Any]:
    """Every classification section of a report: metrics, per-class table, confusion matrix, mistakes,
    calibration."""
    preds = [argmax(p) for p in probs]
    counts = confusion_counts(preds, labels, len(names))
    metrics = headline(counts)
    cal = calibration([max(p) for p in probs], [p == y for p, y in zip(preds, labels, strict=True)])
    metrics["ece"] = cal["ece"]
    if losses:
        metrics["eval_loss"] = sum(losses) / len(losses)
    return {
        "metrics": metrics,
        "per_class": per_class(counts, names),
        "confusion_matrix": {"labels": list(names), "counts": counts, "normalized": row_normalised(counts)},
        "mistakes": confident_mistakes(texts, labels, probs, names),
        "calibration": cal,
        "n_rows": len(labels),
    }
