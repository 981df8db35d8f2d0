"""Evaluation of extractive question answering: span loss per window, then SQuAD EM/F1 over the questions.

The loss is the model's own: the mean of the start and end cross-entropies of each window (its label is the
answer's token span, or the first token when the answer is not in that window). Start/end logits of every
window are gathered (in dataset order, across processes), grouped by question, and mapped back to the best
character span (:func:`adalora_studio.core.metrics.best_span`); EM and F1 follow the official SQuAD script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..adalora import rank_mask_applied
from ..metrics import SpanPrediction, best_span, squad_scores


@dataclass(frozen=True)
class QAEvalData:
    """What span post-processing needs besides the logits: each window's offsets and question, the questions."""

    offsets: Sequence[Sequence[Sequence[int]]]
    example_index: Sequence[int]
    examples: Sequence[Any]
    """``core.data.squad.QAExample`` in eval order."""
    max_answer_length: int = 30
    allow_null: bool = False


def qa_eval_data(eval_ds: Any, examples: Sequence[Any], max_answer_length: int, allow_null: bool) -> QAEvalData:
    """The post-processing data of tokenised eval windows (with ``offset_mapping`` and ``example_index``)."""
    return QAEvalData(eval_ds["offset_mapping"], eval_ds["example_index"], tuple(examples), max_answer_length,
                      allow_null)


def predict_spans(data: QAEvalData, starts: Sequence[Sequence[float]],
                  ends: Sequence[Sequence[float]]) -> list[SpanPrediction]:
    """The best span of each question from the windows' start/end logits (windows in eval dataset order)."""
    windows: list[list[tuple[Any, Any, Any]]] = [[] for _ in data.examples]
    for i, ex_i in enumerate(data.example_index):
        n = len(data.offsets[i])
        windows[ex_i].append((starts[i][:n], ends[i][:n], data.offsets[i]))
    return [best_span(ex.context, w, max_answer_length=data.max_answer_length, allow_null=data.allow_null)
            for ex, w in zip(data.examples, windows, strict=True)]


def evaluate_qa(model: Any, loader: Any, data: QAEvalData, accelerator: Any | None = None) -> tuple[
        float, dict[str, float], list[SpanPrediction]]:
    """(mean window loss, ``exact_match``/``f1`` in percent, the predictions) with the current rank mask applied."""
    import torch
    import torch.nn.functional as F

    unwrapped = accelerator.unwrap_model(model) if accelerator is not None else model
    was_training = model.training
    losses: list[torch.Tensor] = []
    starts: list[list[float]] = []
    ends: list[list[float]] = []
    model.eval()
    try:
        with rank_mask_applied(unwrapped), torch.no_grad():
            for batch in loader:
                if accelerator is None:
                    device = next(unwrapped.parameters()).device
                    batch = {k: v.to(device) for k, v in batch.items()}
                inputs = {k: v for k, v in batch.items() if k not in ("start_positions", "end_positions")}
                out = model(**inputs)
                s_log, e_log = out.start_logits.float(), out.end_logits.float()
                loss = (F.cross_entropy(s_log, batch["start_positions"], reduction="none")
                        + F.cross_entropy(e_log, batch["end_positions"], reduction="none")) / 2
                if accelerator is not None:
                    loss, s_log, e_log = accelerator.gather_for_metrics(
                        (loss, accelerator.pad_across_processes(s_log, dim=1, pad_index=-1e4),
                         accelerator.pad_across_processes(e_log, dim=1, pad_index=-1e4)))
                losses.append(loss.double())
                starts.extend(s_log.tolist())
                ends.extend(e_log.tolist())
    finally:
        if was_training:
            model.train()
    if not losses:
        return float("nan"), {}, []
    preds = predict_spans(data, starts, ends)
    gold = {ex.id: list(ex.answer_texts) for ex in data.examples}
    metrics = squad_scores({ex.id: p.text for ex, p in zip(data.examples, preds, strict=True)}, gold,
                           version_2=data.allow_null)
    return float(torch.cat(losses).mean().item()), metrics, preds
