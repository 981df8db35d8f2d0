"""Evaluation of the model as it will be saved: the current rank mask applied, training state untouched.

The loss is the task loss alone (computed from the logits, so peft's orthogonality term is not in it):
cross-entropy per example for classification, per target token for causal LM. Metrics are computed here
(no scikit-learn): accuracy and macro-F1, or perplexity. Per-example values are gathered across processes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..adalora import rank_mask_applied

IGNORE_INDEX = -100


@dataclass(frozen=True)
class EvalResult:
    """Task loss (mean per example, or per token for causal LM) and metrics."""

    loss: float
    metrics: dict[str, float]
    n_examples: int


def classification_metrics(preds: Sequence[int], labels: Sequence[int]) -> dict[str, float]:
    """Accuracy and macro-F1 (F1 averaged over the classes seen in labels or predictions, as scikit-learn does)."""
    n = len(labels)
    if n == 0:
        return {"accuracy": float("nan"), "macro_f1": float("nan")}
    correct = sum(1 for p, y in zip(preds, labels, strict=False) if p == y)
    f1s = []
    for c in sorted(set(labels) | set(preds)):
        tp = sum(1 for p, y in zip(preds, labels, strict=False) if p == c and y == c)
        fp = sum(1 for p, y in zip(preds, labels, strict=False) if p == c and y != c)
        fn = sum(1 for p, y in zip(preds, labels, strict=False) if p != c and y == c)
        denom = 2 * tp + fp + fn
        f1s.append(2 * tp / denom if denom else 0.0)
    return {"accuracy": correct / n, "macro_f1": sum(f1s) / len(f1s)}


def _model_inputs(batch: dict[str, Any], task: str = "") -> dict[str, Any]:
    if task == "seq2seq":  # the decoder inputs are built from the labels (the returned loss is not used)
        return batch
    return {k: v for k, v in batch.items() if k != "labels"}


def _example_losses(logits: Any, y: Any, task: str) -> tuple[Any, Any]:
    """(summed loss per example, loss-bearing positions per example) of one batch: tokens for causal LM (shifted)
    and seq2seq (decoder logits aligned with the labels), one per example for classification."""
    import torch
    import torch.nn.functional as F

    if task == "causal-lm":
        logits, y = logits[:, :-1], y[:, 1:]
    elif task != "seq2seq":
        return F.cross_entropy(logits, y, reduction="none"), torch.ones_like(y)
    token_loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=IGNORE_INDEX,
                                 reduction="none").view(y.shape)
    return token_loss.sum(dim=1), (y != IGNORE_INDEX).sum(dim=1)


def evaluate(model: Any, loader: Any, task: str, accelerator: Any | None = None) -> EvalResult:
    """Evaluate ``model`` (wrapped or not) on ``loader`` with the current rank mask applied, then restore.

    The model is put back in training mode afterwards if it was training.
    """
    import torch

    unwrapped = accelerator.unwrap_model(model) if accelerator is not None else model
    was_training = model.training
    losses: list[torch.Tensor] = []
    counts: list[torch.Tensor] = []
    preds: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    model.eval()
    try:
        with rank_mask_applied(unwrapped), torch.no_grad():
            for batch in loader:
                if accelerator is None:
                    device = next(unwrapped.parameters()).device
                    batch = {k: v.to(device) for k, v in batch.items()}
                    logits = model(**_model_inputs(batch, task)).logits.float()
                else:
                    with accelerator.autocast():
                        logits = model(**_model_inputs(batch, task)).logits.float()
                y = batch["labels"]
                per_example, count = _example_losses(logits, y, task)
                if task == "text-classification":
                    preds.append(logits.argmax(dim=-1))
                    labels.append(y)
                if accelerator is not None:
                    per_example, count = accelerator.gather_for_metrics((per_example, count))
                    if task == "text-classification":
                        preds[-1], labels[-1] = accelerator.gather_for_metrics((preds[-1], labels[-1]))
                losses.append(per_example.double())
                counts.append(count)
    finally:
        if was_training:
            model.train()
    return _result(losses, counts, preds, labels, task)


def _result(losses: list[Any], counts: list[Any], preds: list[Any], labels: list[Any], task: str) -> EvalResult:
    """The mean loss per loss-bearing position, and perplexity or the classification metrics."""
    import torch

    if not losses:
        return EvalResult(float("nan"), {}, 0)
    total_loss = torch.cat(losses).sum().item()
    total_count = int(torch.cat(counts).sum().item())
    n_examples = int(sum(t.numel() for t in losses))
    loss = total_loss / total_count if total_count else float("nan")
    if task in ("causal-lm", "seq2seq"):
        metrics = {"perplexity": math.exp(min(loss, 700.0)) if math.isfinite(loss) else float("nan")}
    else:
        metrics = classification_metrics(torch.cat(preds).tolist(), torch.cat(labels).tolist())
    return EvalResult(loss=loss, metrics=metrics, n_examples=n_examples)
